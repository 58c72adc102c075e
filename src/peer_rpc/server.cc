#include "peer_rpc/server.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <stop_token>
#include <string_view>
#include <thread>

#include "common/jwt.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "peer/peer.grpc.pb.h"
#include "peer_rpc/join_auth.h"
#include "peer_rpc/rpc_common.h"

namespace gd2::peer_rpc {
namespace {

using Clock = std::chrono::steady_clock;

std::string Metadata(const grpc::ServerContext& ctx, std::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Checks the bearer token of a call to `method` with request `body` against `secret`.
Status Authenticate(const grpc::ServerContext& ctx, std::string_view method,
                    const std::string& secret, std::string_view body) {
  if (secret.empty()) return UnauthenticatedError("peer rpc has no cluster secret configured");
  GD2_ASSIGN_OR_RETURN(std::string token,
                       jwt::BearerToken(Metadata(ctx, internal::kAuthorizationKey)));
  return jwt::VerifyRequest(token, secret, {internal::kJwtMethod, method, ""}, body,
                            std::time(nullptr));
}

// The challenges JoinHello handed out, each good for one Join within kChallengeTtl. Bounded:
// an unauthenticated caller can fill it, not grow it.
class Challenges {
 public:
  static constexpr size_t kMaxPending = 64;
  static constexpr auto kChallengeTtl = std::chrono::seconds(30);

  struct Entry {
    std::string initiator_id;
    std::string initiator_nonce;
    std::string target_id;
    Clock::time_point expires;
  };

  // kResourceExhausted when kMaxPending live challenges exist.
  Status Add(const std::string& target_nonce, Entry e) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    Purge();
    if (pending_.size() >= kMaxPending) {
      return ResourceExhaustedError("too many joins in progress; try again later");
    }
    pending_[target_nonce] = std::move(e);
    return OkStatus();
  }

  // Removes and returns the challenge of `target_nonce`; nullopt if unknown or expired.
  std::optional<Entry> Take(const std::string& target_nonce) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    Purge();
    auto it = pending_.find(target_nonce);
    if (it == pending_.end()) return std::nullopt;
    Entry e = std::move(it->second);
    pending_.erase(it);
    return e;
  }

 private:
  void Purge() GD2_REQUIRES(mu_) {
    auto now = Clock::now();
    std::erase_if(pending_, [&](const auto& kv) { return kv.second.expires <= now; });
  }

  Mutex mu_;
  std::map<std::string, Entry> pending_ GD2_GUARDED_BY(mu_);
};

// Tells running RunStep calls whose caller gave up (it cancelled the call, its deadline passed,
// or its connection went) through a stop_source, which the step sees as StepContext::cancel.
// gRPC's synchronous API has no callback for that: one thread asks the contexts of the calls
// being watched every kPoll, and sleeps while there are none.
class CancelWatcher {
 public:
  static constexpr auto kPoll = std::chrono::milliseconds(100);

  ~CancelWatcher() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
      cv_.NotifyAll();
    }
    if (thread_.joinable()) thread_.join();
  }

  // While the returned Watch lives, `stop` is requested once `ctx` reports the call cancelled.
  class Watch {
   public:
    Watch(CancelWatcher& w, uint64_t id) : watcher_(w), id_(id) {}
    ~Watch() { watcher_.Remove(id_); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    CancelWatcher& watcher_;
    uint64_t id_;
  };

  Watch Add(grpc::ServerContext* ctx, std::stop_source* stop) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    const uint64_t id = ++last_id_;
    watched_[id] = {ctx, stop};
    cv_.NotifyAll();
    return Watch(*this, id);
  }

 private:
  struct Watched {
    grpc::ServerContext* ctx;
    std::stop_source* stop;
  };

  // Once this returns, `id`'s context is not looked at any more (polls happen under mu_).
  void Remove(uint64_t id) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    watched_.erase(id);
  }

  void Loop() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!stopping_) {
      if (watched_.empty()) {
        cv_.Wait(mu_);
        continue;
      }
      cv_.WaitUntil(mu_, Clock::now() + kPoll);
      for (auto it = watched_.begin(); it != watched_.end();) {
        if (it->second.ctx->IsCancelled()) {
          it->second.stop->request_stop();
          it = watched_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  Mutex mu_;
  CondVar cv_;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  uint64_t last_id_ GD2_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Watched> watched_ GD2_GUARDED_BY(mu_);
  std::thread thread_;  // started by the first Add (under mu_), joined by the destructor
};

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

// Each method: authenticate, give up if the caller's deadline already passed, call the Handler,
// log one line. Handler errors go into the response; the gRPC status carries only
// authentication, request-shape and deadline failures.
class Server::Service final : public gd2::peer::PeerService::Service {
 public:
  Service(const ServerOptions& options, Handler& handler) : options_(options), handler_(handler) {}

  grpc::Status RunStep(grpc::ServerContext* ctx, const gd2::peer::RunStepRequest* req,
                       gd2::peer::RunStepResponse* resp) override {
    auto start = Clock::now();
    log::Logger log = CallLog(*ctx, internal::kRunStepMethod, req->req_id())
                          .With({{"txn_id", req->txn_id()},
                                 {"step", req->step()},
                                 {"undo", req->undo()},
                                 {"initiator", req->initiator()}});
    std::string secret = Secret();
    Status pre = Admit(*ctx, internal::kRunStepMethod, secret, internal::SignedBytes(*req));
    if (!pre.ok()) return Reject(log, internal::kRunStepMethod, pre, start);

    StepCall call;
    call.txn_id = req->txn_id();
    call.step = req->step();
    call.undo = req->undo();
    call.initiator = req->initiator();
    call.req_id = req->req_id();
    call.deadline = internal::FromSystemDeadline(ctx->deadline());
    std::stop_source cancel;
    call.cancel = cancel.get_token();
    CancelWatcher::Watch watch = cancel_watcher_.Add(ctx, &cancel);
    Status result = [&]() -> Status {
      if (call.step.empty()) return InvalidArgumentError("step name is empty");
      std::string args_json = req->args_json();
      if (!req->sealed_args().empty()) {
        StatusOr<std::string> opened =
            join::OpenWithSecret(secret, internal::kStepArgsLabel, req->sealed_args());
        if (!opened.ok()) {
          return InvalidArgumentError("sealed step arguments do not open: step=" + call.step +
                                      ": " + opened.status().message());
        }
        args_json = std::move(*opened);
      }
      call.args = args_json.empty() ? nlohmann::json::object()
                                    : nlohmann::json::parse(args_json, nullptr, false);
      if (call.args.is_discarded()) {
        return InvalidArgumentError("step arguments are not valid JSON: step=" + call.step);
      }
      // Given up while it waited for a thread: its caller may have sent the undo already.
      if (ctx->IsCancelled()) {
        return Status(StatusCode::kCancelled,
                      "step call cancelled before it ran: step=" + call.step);
      }
      return handler_.RunStep(call);
    }();
    resp->set_code(static_cast<int32_t>(result.code()));
    resp->set_message(result.message());
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kRunStepMethod, result, ms / 1000);
    if (result.ok()) {
      log.Info(call.undo ? "remote step undone" : "remote step done", {{"duration_ms", ms}});
    } else {
      // The initiator handles (and logs as an error) the failure; here it is a warning.
      log.Warn("remote step failed", {{"duration_ms", ms}, {"error", result}});
    }
    return grpc::Status::OK;
  }

  grpc::Status JoinHello(grpc::ServerContext* ctx, const gd2::peer::JoinHelloRequest* req,
                         gd2::peer::JoinHelloResponse* resp) override {
    auto start = Clock::now();
    log::Logger log =
        CallLog(*ctx, internal::kJoinHelloMethod).With({{"initiator", req->initiator()}});
    // Unauthenticated by design: it reveals only this node's peer id and a proof that cannot be
    // checked (or reused) without this node's secret.
    Status pre = CheckDeadline(*ctx);
    if (!pre.ok()) return Reject(log, internal::kJoinHelloMethod, pre, start);
    std::string secret = Secret();
    join::Transcript t{req->initiator(), handler_.Identity().peer_id, req->initiator_nonce(),
                       join::NewNonce()};
    Status result = secret.empty() ? UnauthenticatedError("peer rpc has no secret configured")
                                   : join::CheckTranscript(t);
    if (result.ok()) {
      result = challenges_.Add(t.target_nonce, {t.initiator_id, t.initiator_nonce, t.target_id,
                                                Clock::now() + Challenges::kChallengeTtl});
    }
    if (result.ok()) {
      resp->set_peer_id(t.target_id);
      resp->set_target_nonce(t.target_nonce);
      resp->set_target_proof(join::TargetProof(secret, t));
    }
    resp->set_code(static_cast<int32_t>(result.code()));
    resp->set_message(result.message());
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kJoinHelloMethod, result, ms / 1000);
    if (result.ok()) {
      log.Info("join challenge issued", {{"duration_ms", ms}});
    } else {
      log.Warn("join challenge refused", {{"duration_ms", ms}, {"error", result}});
    }
    return grpc::Status::OK;
  }

  grpc::Status Join(grpc::ServerContext* ctx, const gd2::peer::JoinRequest* req,
                    gd2::peer::JoinResponse* resp) override {
    auto start = Clock::now();
    log::Logger log = CallLog(*ctx, internal::kJoinMethod).With({{"initiator", req->initiator()}});
    Status pre = CheckDeadline(*ctx);
    if (!pre.ok()) return Reject(log, internal::kJoinMethod, pre, start);
    // The initiator proves it knows THIS node's secret for the challenge we issued; only then is
    // the grant opened. Every failure here is the same kUnauthenticated for the caller.
    StatusOr<JoinCall> opened = OpenJoin(*ctx, *req);
    if (!opened.ok()) return Reject(log, internal::kJoinMethod, opened.status(), start);
    JoinCall& call = *opened;
    log = log.With({{"cluster_id", call.cluster_id}});
    StatusOr<JoinResult> result = [&]() -> StatusOr<JoinResult> {
      if (call.cluster_id.empty()) return InvalidArgumentError("join grant has no cluster id");
      if (call.etcd_endpoints.empty())
        return InvalidArgumentError("join grant has no etcd endpoints");
      return handler_.Join(call);
    }();
    if (result.ok()) {
      resp->set_peer_id(result->peer_id);
      resp->set_peer_name(result->peer_name);
      for (const auto& a : result->peer_addresses) resp->add_peer_addresses(a);
      for (const auto& a : result->client_addresses) resp->add_client_addresses(a);
    }
    resp->set_code(static_cast<int32_t>(result.status().code()));
    resp->set_message(result.status().message());
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kJoinMethod, result.status(), ms / 1000);
    if (result.ok()) {
      log.Info("joined cluster", {{"duration_ms", ms}});
    } else {
      log.Warn("join refused", {{"duration_ms", ms}, {"error", result.status()}});
    }
    return grpc::Status::OK;
  }

  grpc::Status Leave(grpc::ServerContext* ctx, const gd2::peer::LeaveRequest* req,
                     gd2::peer::LeaveResponse* resp) override {
    auto start = Clock::now();
    log::Logger log = CallLog(*ctx, internal::kLeaveMethod)
                          .With({{"cluster_id", req->cluster_id()},
                                 {"initiator", req->initiator()}});
    Status pre = Admit(*ctx, internal::kLeaveMethod, Secret(), internal::SignedBytes(*req));
    if (!pre.ok()) return Reject(log, internal::kLeaveMethod, pre, start);

    LeaveCall call;
    call.cluster_id = req->cluster_id();
    call.initiator = req->initiator();
    call.req_id = Metadata(*ctx, internal::kRequestIdKey);
    call.deadline = internal::FromSystemDeadline(ctx->deadline());
    Status result = call.cluster_id.empty()
                        ? InvalidArgumentError("leave request has no cluster id")
                        : handler_.Leave(call);
    resp->set_code(static_cast<int32_t>(result.code()));
    resp->set_message(result.message());
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kLeaveMethod, result, ms / 1000);
    if (result.ok()) {
      log.Info("left cluster", {{"duration_ms", ms}});
    } else {
      log.Warn("leave refused", {{"duration_ms", ms}, {"error", result}});
    }
    return grpc::Status::OK;
  }

  grpc::Status Query(grpc::ServerContext* ctx, const gd2::peer::QueryRequest* req,
                     gd2::peer::QueryResponse* resp) override {
    auto start = Clock::now();
    std::string name = req->name().substr(0, kMaxQueryNameBytes);
    log::Logger log = CallLog(*ctx, internal::kQueryMethod).With({{"query", name}});
    Status pre = Admit(*ctx, internal::kQueryMethod, Secret(), internal::SignedBytes(*req));
    if (!pre.ok()) return Reject(log, internal::kQueryMethod, pre, start);

    QueryContext qctx;
    qctx.req_id = Metadata(*ctx, internal::kRequestIdKey);
    qctx.deadline = internal::FromSystemDeadline(ctx->deadline());
    StatusOr<std::string> result = [&]() -> StatusOr<std::string> {
      if (req->name().empty() || req->name().size() > kMaxQueryNameBytes) {
        return InvalidArgumentError("query name empty or too long");
      }
      if (options_.queries == nullptr) {
        return UnimplementedError("no query " + name + " on this peer");
      }
      return options_.queries->Answer(req->name(), qctx, req->args_json());
    }();
    if (result.ok()) resp->set_answer_json(std::move(*result));
    resp->set_code(static_cast<int32_t>(result.status().code()));
    resp->set_message(result.status().message());
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kQueryMethod, result.status(), ms / 1000);
    if (result.ok()) {
      log.Debug("query answered", {{"duration_ms", ms}, {"bytes", resp->answer_json().size()}});
    } else {
      log.Warn("query failed", {{"duration_ms", ms}, {"error", result.status()}});
    }
    return grpc::Status::OK;
  }

  grpc::Status Ping(grpc::ServerContext* ctx, const gd2::peer::PingRequest* req,
                    gd2::peer::PingResponse* resp) override {
    auto start = Clock::now();
    log::Logger log = CallLog(*ctx, internal::kPingMethod);
    Status pre = Admit(*ctx, internal::kPingMethod, Secret(), internal::SignedBytes(*req));
    if (!pre.ok()) return Reject(log, internal::kPingMethod, pre, start);
    PeerIdentity self = handler_.Identity();
    resp->set_peer_id(self.peer_id);
    resp->set_cluster_id(self.cluster_id);
    double ms = MillisSince(start);
    internal::RecordCall("server", internal::kPingMethod, OkStatus(), ms / 1000);
    log.Debug("ping answered", {{"duration_ms", ms}});
    return grpc::Status::OK;
  }

 private:
  std::string Secret() const { return options_.secret ? options_.secret() : std::string(); }

  // Checks the initiator's proof against the challenge `req` answers and opens the grant.
  StatusOr<JoinCall> OpenJoin(const grpc::ServerContext& ctx, const gd2::peer::JoinRequest& req) {
    std::optional<Challenges::Entry> challenge = challenges_.Take(req.target_nonce());
    if (!challenge || challenge->initiator_id != req.initiator() ||
        challenge->initiator_nonce != req.initiator_nonce()) {
      return UnauthenticatedError("join refused: no such join challenge (expired or used)");
    }
    std::string secret = Secret();
    if (secret.empty()) return UnauthenticatedError("peer rpc has no secret configured");
    join::Transcript t{challenge->initiator_id, challenge->target_id, challenge->initiator_nonce,
                       req.target_nonce()};
    if (!join::ProofMatches(join::InitiatorProof(secret, t), req.initiator_proof())) {
      return UnauthenticatedError("join refused: the initiator does not know this peer's secret");
    }
    GD2_ASSIGN_OR_RETURN(std::string plain, join::Open(secret, t, req.sealed_grant()));
    gd2::peer::JoinGrant grant;
    bool parsed = grant.ParseFromString(plain);
    OPENSSL_cleanse(plain.data(), plain.size());
    if (!parsed) return InvalidArgumentError("join grant does not parse");
    JoinCall call;
    call.cluster_id = grant.cluster_id();
    call.etcd_endpoints.assign(grant.etcd_endpoints().begin(), grant.etcd_endpoints().end());
    call.auth_secret = grant.auth_secret();
    call.store_ca_cert = grant.store_ca_cert();
    call.store_ca_key = grant.store_ca_key();
    call.initiator = req.initiator();
    call.zone = grant.zone();
    call.etcd_members = grant.etcd_members();
    call.etcd_cluster_id = grant.etcd_cluster_id();
    call.metadata.insert(grant.metadata().begin(), grant.metadata().end());
    call.req_id = Metadata(ctx, internal::kRequestIdKey);
    call.deadline = internal::FromSystemDeadline(ctx.deadline());
    return call;
  }

  // A logger for one call: method, caller address and the req_id (from the request when it
  // has one, else from metadata).
  static log::Logger CallLog(const grpc::ServerContext& ctx, std::string_view method,
                             std::string req_id = "") {
    log::Logger log = log::Root().With(
        {{"rpc", method.substr(method.rfind('/') + 1)}, {"remote", ctx.peer()}});
    if (req_id.empty()) req_id = Metadata(ctx, internal::kRequestIdKey);
    return req_id.empty() ? log : log.With({{"req_id", req_id}});
  }

  // Authentication, then the caller's deadline: a call whose caller already gave up is not run.
  static Status Admit(const grpc::ServerContext& ctx, std::string_view method,
                      const std::string& secret, std::string_view body) {
    GD2_RETURN_IF_ERROR(Authenticate(ctx, method, secret, body));
    return CheckDeadline(ctx);
  }

  static Status CheckDeadline(const grpc::ServerContext& ctx) {
    if (ctx.IsCancelled() ||
        internal::FromSystemDeadline(ctx.deadline()) <= std::chrono::steady_clock::now()) {
      return DeadlineExceededError("caller's deadline passed before the call started");
    }
    return OkStatus();
  }

  static grpc::Status Reject(const log::Logger& log, std::string_view method, const Status& s,
                             Clock::time_point start) {
    internal::RecordCall("server", method, s, MillisSince(start) / 1000);
    log.Warn("peer rpc call rejected", {{"error", s}});
    return internal::ToGrpc(s);
  }

  const ServerOptions& options_;
  Handler& handler_;
  Challenges challenges_;
  CancelWatcher cancel_watcher_;
};

struct Server::Impl {
  Impl(ServerOptions o, Handler& h) : options(std::move(o)), handler(h) {}

  ServerOptions options;
  Handler& handler;
  Mutex mu;  // serializes Start and Stop
  std::unique_ptr<Service> service GD2_GUARDED_BY(mu);
  std::unique_ptr<grpc::Server> server GD2_GUARDED_BY(mu);
  std::atomic<int> port{0};
};

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  MutexLock lock(impl_->mu);
  if (impl_->server) return FailedPreconditionError("peer rpc server already started");
  if (!impl_->options.secret) {
    return InvalidArgumentError("peer rpc server needs a cluster secret function");
  }
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                       internal::ServerCredentials(impl_->options.tls));
  std::string address = internal::JoinHostPort(impl_->options.host, impl_->options.port);
  auto service = std::make_unique<Service>(impl_->options, impl_->handler);
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(address, creds, &selected);
  builder.RegisterService(service.get());
  // gRPC sets SO_REUSEPORT by default, which would let two daemons share the peer port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Accept the clients' keepalive pings (they detect dead peers on idle connections).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected == 0) {
    return UnavailableError("cannot listen on peer address: address=" + address);
  }
  impl_->service = std::move(service);
  impl_->server = std::move(server);
  impl_->port = selected;
  log::Root().Info("peer rpc serving",
                   {{"address", internal::JoinHostPort(impl_->options.host, selected)},
                    {"tls", !impl_->options.tls.cert_file.empty()}});
  return OkStatus();
}

void Server::Stop() {
  MutexLock lock(impl_->mu);
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + impl_->options.shutdown_grace);
  impl_->server->Wait();
  impl_->server.reset();
  impl_->service.reset();
  impl_->port = 0;
  log::Root().Info("peer rpc stopped");
}

int Server::port() const { return impl_->port.load(); }

}  // namespace gd2::peer_rpc
