#include "peer_rpc/client.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "common/jwt.h"
#include "common/thread_annotations.h"
#include "peer/peer.grpc.pb.h"
#include "peer_rpc/join_auth.h"
#include "peer_rpc/rpc_common.h"

namespace gd2::peer_rpc {
namespace {

using Clock = std::chrono::steady_clock;

grpc::ChannelArguments ChannelArgs(const TlsOptions& tls) {
  grpc::ChannelArguments args;
  // Notice a restarted peer within about a second instead of gRPC's 120 s maximum backoff.
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS (really the connect timeout) keeps its default: with
  // gRPC 1.51 small values make reconnect attempts start with an expired deadline.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Detect a peer that vanished without closing the connection (host down, cable pulled).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return args;
}

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)) {
    auto c = internal::ClientCredentials(options.tls);
    if (c.ok()) {
      credentials = *c;
    } else {
      credentials_error = c.status();
    }
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) GD2_EXCLUDES(mu) {
    MutexLock lock(mu);
    auto it = channels.find(address);
    if (it != channels.end()) return it->second;
    // Creating a channel does no I/O; it connects on first use.
    auto channel = grpc::CreateCustomChannel(address, credentials, ChannelArgs(options.tls));
    channels.emplace(address, channel);
    return channel;
  }

  // Waits until `channel` is connected, at most dial_timeout and never past `deadline`.
  // A channel in TRANSIENT_FAILURE returns at once: the fail-fast call that follows reports
  // gRPC's reason (connection refused, ...) as UNAVAILABLE.
  Status Dial(grpc::Channel& channel, const std::string& address, Deadline deadline) const {
    Deadline dial_deadline = std::min(deadline, Clock::now() + options.dial_timeout);
    grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
    while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE) {
      if (state == GRPC_CHANNEL_SHUTDOWN) {
        return UnavailableError("peer unreachable: address=" + address + ": channel shut down");
      }
      if (!channel.WaitForStateChange(state, internal::ToSystemDeadline(dial_deadline))) {
        return UnavailableError("peer unreachable: address=" + address +
                                ": not connected within dial timeout (" +
                                std::to_string(options.dial_timeout.count()) + " ms)");
      }
      state = channel.GetState(/*try_to_connect=*/true);
    }
    return OkStatus();
  }

  // Runs one unary call: checks, dials, signs with `secret`, maps the gRPC outcome.
  // `invoke(stub, ctx)` performs the call and returns its grpc::Status.
  // `body` is what the token signs (SignedBytes of the request); an empty `secret` sends no token
  // (only JoinHello and Join, which authenticate inside the messages).
  template <typename Invoke>
  Status Call(const std::string& address, std::string_view method, const std::string& secret,
              std::string_view body, const std::string& req_id, Deadline deadline, Invoke invoke) {
    auto start = Clock::now();
    Status s = CallUnrecorded(address, method, secret, body, req_id, deadline, invoke);
    internal::RecordCall(
        "client", method, s,
        std::chrono::duration<double>(Clock::now() - start).count());
    return s;
  }

  template <typename Invoke>
  Status CallUnrecorded(const std::string& address, std::string_view method,
                        const std::string& secret, std::string_view body, const std::string& req_id,
                        Deadline deadline, Invoke invoke) {
    if (!credentials_error.ok()) return credentials_error;
    if (address.empty()) return InvalidArgumentError("peer address is empty");
    bool join = method == internal::kJoinHelloMethod || method == internal::kJoinMethod;
    if (secret.empty() && !join) {
      return FailedPreconditionError("peer rpc has no cluster secret to sign with: address=" +
                                     address);
    }
    if (deadline <= Clock::now()) {
      return DeadlineExceededError("peer call timed out before it started: address=" + address);
    }
    std::shared_ptr<grpc::Channel> channel = Channel(address);
    GD2_RETURN_IF_ERROR(Dial(*channel, address, deadline));

    grpc::ClientContext ctx;
    if (deadline != Deadline::max()) ctx.set_deadline(internal::ToSystemDeadline(deadline));
    if (!join) {
      std::string token = jwt::SignRequest(secret, {internal::kJwtMethod, method, ""}, body,
                                           std::time(nullptr), options.token_ttl.count());
      ctx.AddMetadata(std::string(internal::kAuthorizationKey), "Bearer " + token);
    }
    if (!req_id.empty()) ctx.AddMetadata(std::string(internal::kRequestIdKey), req_id);
    auto stub = gd2::peer::PeerService::NewStub(channel);
    grpc::Status status = invoke(*stub, ctx);
    if (!status.ok()) return internal::FromGrpc(status, method, address);
    return OkStatus();
  }

  std::string Secret() const { return options.secret ? options.secret() : std::string(); }

  const ClientOptions options;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  Status credentials_error;
  Mutex mu;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels GD2_GUARDED_BY(mu);
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

Status Client::RunStep(const std::string& address, const StepCall& call, Deadline deadline) {
  gd2::peer::RunStepRequest req;
  req.set_txn_id(call.txn_id);
  req.set_step(call.step);
  // Replace invalid UTF-8 instead of throwing: a step's arguments are ours, not user input.
  // Sealed: they carry brick credentials, and the peer port may be plain TCP.
  std::string args = call.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string secret = impl_->Secret();
  StatusOr<std::string> sealed = join::SealWithSecret(secret, internal::kStepArgsLabel, args);
  if (!sealed.ok()) {
    if (sealed.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError("peer rpc has no cluster secret to sign with: address=" +
                                     address);
    }
    return sealed.status();
  }
  req.set_sealed_args(*sealed);
  req.set_undo(call.undo);
  req.set_initiator(call.initiator);
  req.set_req_id(call.req_id);
  gd2::peer::RunStepResponse resp;
  auto call_once = [&] {
    return impl_->Call(address, internal::kRunStepMethod, secret, internal::SignedBytes(req),
                       call.req_id, deadline,
                       [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
                         // The peer sees the call cancelled, and so does its step.
                         std::stop_callback cancel(call.cancel, [&ctx] { ctx.TryCancel(); });
                         return stub.RunStep(&ctx, req, &resp);
                       });
  };
  Status s = call_once();
  if (s.code() == StatusCode::kUnavailable && std::chrono::steady_clock::now() < deadline &&
      !call.cancel.stop_requested()) {
    // A cached channel to a peer that restarted may still be in reconnect backoff: one retry on
    // a fresh channel (steps are idempotent).
    Forget(address);
    s = call_once();
  }
  GD2_RETURN_IF_ERROR(s);
  return Status(internal::CodeFromWire(resp.code()), resp.message());
}

StatusOr<JoinResult> Client::Join(const std::string& address, const JoinCall& call,
                                  std::string_view target_secret, Deadline deadline) {
  if (target_secret.empty()) {
    return InvalidArgumentError("joining a peer needs that peer's secret");
  }
  // 1. Nonces both ways; the target proves it knows target_secret. Nothing secret is sent.
  gd2::peer::JoinHelloRequest hello;
  hello.set_initiator(call.initiator);
  hello.set_initiator_nonce(join::NewNonce());
  gd2::peer::JoinHelloResponse challenge;
  GD2_RETURN_IF_ERROR(
      impl_->Call(address, internal::kJoinHelloMethod, "", "", call.req_id, deadline,
                  [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
                    return stub.JoinHello(&ctx, hello, &challenge);
                  }));
  Status refused(internal::CodeFromWire(challenge.code()), challenge.message());
  if (!refused.ok()) return refused;
  join::Transcript t{call.initiator, challenge.peer_id(), hello.initiator_nonce(),
                     challenge.target_nonce()};
  Status shape = join::CheckTranscript(t);
  if (!shape.ok()) {
    return UnauthenticatedError("peer at " + address + " sent a malformed join challenge: " +
                                shape.message() + "; nothing was sent to it");
  }
  if (!join::ProofMatches(join::TargetProof(target_secret, t), challenge.target_proof())) {
    return UnauthenticatedError("peer at " + address +
                                " did not prove it knows the peer secret given for it (another "
                                "secret, or not a glusterd2 peer); nothing was sent to it");
  }
  // 2. Our proof and the grant, sealed with a key only the target can derive.
  gd2::peer::JoinGrant grant;
  grant.set_cluster_id(call.cluster_id);
  for (const auto& e : call.etcd_endpoints) grant.add_etcd_endpoints(e);
  grant.set_auth_secret(call.auth_secret);
  grant.set_zone(call.zone);
  grant.set_etcd_members(call.etcd_members);
  grant.set_etcd_cluster_id(call.etcd_cluster_id);
  grant.set_store_ca_cert(call.store_ca_cert);
  grant.set_store_ca_key(call.store_ca_key);
  for (const auto& [k, v] : call.metadata) (*grant.mutable_metadata())[k] = v;
  std::string plain = grant.SerializeAsString();
  StatusOr<std::string> sealed = join::Seal(target_secret, t, plain);
  OPENSSL_cleanse(plain.data(), plain.size());
  GD2_RETURN_IF_ERROR(sealed.status());
  gd2::peer::JoinRequest req;
  req.set_initiator(call.initiator);
  req.set_initiator_nonce(t.initiator_nonce);
  req.set_target_nonce(t.target_nonce);
  req.set_initiator_proof(join::InitiatorProof(target_secret, t));
  req.set_sealed_grant(*sealed);
  gd2::peer::JoinResponse resp;
  GD2_RETURN_IF_ERROR(
      impl_->Call(address, internal::kJoinMethod, "", "", call.req_id, deadline,
                  [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
                    return stub.Join(&ctx, req, &resp);
                  }));
  Status remote(internal::CodeFromWire(resp.code()), resp.message());
  if (!remote.ok()) return remote;
  JoinResult out;
  out.peer_id = resp.peer_id();
  out.peer_name = resp.peer_name();
  out.peer_addresses.assign(resp.peer_addresses().begin(), resp.peer_addresses().end());
  out.client_addresses.assign(resp.client_addresses().begin(), resp.client_addresses().end());
  return out;
}

Status Client::Leave(const std::string& address, const LeaveCall& call, Deadline deadline) {
  gd2::peer::LeaveRequest req;
  req.set_cluster_id(call.cluster_id);
  req.set_initiator(call.initiator);
  gd2::peer::LeaveResponse resp;
  GD2_RETURN_IF_ERROR(impl_->Call(
      address, internal::kLeaveMethod, impl_->Secret(), internal::SignedBytes(req), call.req_id,
      deadline, [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
        return stub.Leave(&ctx, req, &resp);
      }));
  return Status(internal::CodeFromWire(resp.code()), resp.message());
}

StatusOr<PeerIdentity> Client::Ping(const std::string& address, Deadline deadline) {
  gd2::peer::PingRequest req;
  gd2::peer::PingResponse resp;
  GD2_RETURN_IF_ERROR(
      impl_->Call(address, internal::kPingMethod, impl_->Secret(), internal::SignedBytes(req), "",
                  deadline, [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
                    return stub.Ping(&ctx, req, &resp);
                  }));
  return PeerIdentity{resp.peer_id(), resp.cluster_id()};
}

StatusOr<std::string> Client::Query(const std::string& address, const QueryCall& call,
                                    Deadline deadline) {
  gd2::peer::QueryRequest req;
  req.set_name(call.name);
  req.set_args_json(call.args_json);
  gd2::peer::QueryResponse resp;
  GD2_RETURN_IF_ERROR(impl_->Call(
      address, internal::kQueryMethod, impl_->Secret(), internal::SignedBytes(req), call.req_id,
      deadline, [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
        return stub.Query(&ctx, req, &resp);
      }));
  Status remote(internal::CodeFromWire(resp.code()), resp.message());
  if (!remote.ok()) return remote;
  return std::move(*resp.mutable_answer_json());
}

void Client::Forget(const std::string& address) {
  MutexLock lock(impl_->mu);
  impl_->channels.erase(address);
}

}  // namespace gd2::peer_rpc
