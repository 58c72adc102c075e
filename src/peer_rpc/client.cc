#include "peer_rpc/client.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>

#include "common/jwt.h"
#include "peer/peer.grpc.pb.h"
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

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu);
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
  template <typename Invoke>
  Status Call(const std::string& address, std::string_view method, const std::string& secret,
              const std::string& req_id, Deadline deadline, Invoke invoke) {
    auto start = Clock::now();
    Status s = CallUnrecorded(address, method, secret, req_id, deadline, invoke);
    internal::RecordCall(
        "client", method, s,
        std::chrono::duration<double>(Clock::now() - start).count());
    return s;
  }

  template <typename Invoke>
  Status CallUnrecorded(const std::string& address, std::string_view method,
                        const std::string& secret, const std::string& req_id, Deadline deadline,
                        Invoke invoke) {
    if (!credentials_error.ok()) return credentials_error;
    if (address.empty()) return InvalidArgumentError("peer address is empty");
    if (secret.empty()) {
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
    std::string token = jwt::SignRequest(secret, internal::kJwtMethod, method, std::time(nullptr),
                                         options.token_ttl.count());
    ctx.AddMetadata(std::string(internal::kAuthorizationKey), "Bearer " + token);
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
  std::mutex mu;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;  // guarded by mu
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

Status Client::RunStep(const std::string& address, const StepCall& call, Deadline deadline) {
  gd2::peer::RunStepRequest req;
  req.set_txn_id(call.txn_id);
  req.set_step(call.step);
  // Replace invalid UTF-8 instead of throwing: a step's arguments are ours, not user input.
  req.set_args_json(call.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  req.set_undo(call.undo);
  req.set_initiator(call.initiator);
  req.set_req_id(call.req_id);
  gd2::peer::RunStepResponse resp;
  auto call_once = [&] {
    return impl_->Call(address, internal::kRunStepMethod, impl_->Secret(), call.req_id, deadline,
                       [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
                         return stub.RunStep(&ctx, req, &resp);
                       });
  };
  Status s = call_once();
  if (s.code() == StatusCode::kUnavailable && std::chrono::steady_clock::now() < deadline) {
    // A cached channel to a peer that restarted may still be in reconnect backoff: one retry on
    // a fresh channel (steps are idempotent).
    Forget(address);
    s = call_once();
  }
  GD2_RETURN_IF_ERROR(s);
  return Status(internal::CodeFromWire(resp.code()), resp.message());
}

StatusOr<JoinResult> Client::Join(const std::string& address, const JoinCall& call,
                                  Deadline deadline) {
  gd2::peer::JoinRequest req;
  req.set_cluster_id(call.cluster_id);
  for (const auto& e : call.etcd_endpoints) req.add_etcd_endpoints(e);
  req.set_auth_secret(call.auth_secret);
  req.set_initiator(call.initiator);
  req.set_zone(call.zone);
  req.set_etcd_members(call.etcd_members);
  req.set_etcd_cluster_id(call.etcd_cluster_id);
  req.set_store_ca_cert(call.store_ca_cert);
  req.set_store_ca_key(call.store_ca_key);
  for (const auto& [k, v] : call.metadata) (*req.mutable_metadata())[k] = v;
  gd2::peer::JoinResponse resp;
  // Signed with the secret the request carries: the target does not know the cluster's yet.
  GD2_RETURN_IF_ERROR(impl_->Call(
      address, internal::kJoinMethod, call.auth_secret, call.req_id, deadline,
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
      address, internal::kLeaveMethod, impl_->Secret(), call.req_id, deadline,
      [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
        return stub.Leave(&ctx, req, &resp);
      }));
  return Status(internal::CodeFromWire(resp.code()), resp.message());
}

StatusOr<PeerIdentity> Client::Ping(const std::string& address, Deadline deadline) {
  gd2::peer::PingRequest req;
  gd2::peer::PingResponse resp;
  GD2_RETURN_IF_ERROR(impl_->Call(
      address, internal::kPingMethod, impl_->Secret(), "", deadline,
      [&](gd2::peer::PeerService::Stub& stub, grpc::ClientContext& ctx) {
        return stub.Ping(&ctx, req, &resp);
      }));
  return PeerIdentity{resp.peer_id(), resp.cluster_id()};
}

void Client::Forget(const std::string& address) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->channels.erase(address);
}

}  // namespace gd2::peer_rpc
