#include "store/store.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

#include "common/files.h"
#include "common/hex.h"
#include "common/metrics.h"
#include "store/store_impl.h"

namespace gd2::store {

namespace {

using Clock = std::chrono::steady_clock;

std::string JoinEndpoints(const std::vector<std::string>& endpoints) {
  std::string out;
  for (const std::string& e : endpoints) {
    if (!out.empty()) out += ',';
    out += e;
  }
  return out;
}

std::vector<Member> MembersFromProto(
    const google::protobuf::RepeatedPtrField<etcdserverpb::Member>& members) {
  std::vector<Member> out;
  out.reserve(members.size());
  for (const etcdserverpb::Member& m : members) {
    Member member;
    member.id = m.id();
    member.name = m.name();
    member.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
    member.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
    member.is_learner = m.islearner();
    out.push_back(std::move(member));
  }
  return out;
}

// Range over every key with `prefix`; the empty prefix means the whole keyspace, which etcd
// spells key="\0", range_end="\0".
template <typename Request>
void SetPrefixRange(std::string_view prefix, Request* req) {
  if (prefix.empty()) {
    req->set_key(std::string(1, '\0'));
  } else {
    req->set_key(std::string(prefix));
  }
  req->set_range_end(PrefixRangeEnd(prefix));
}

etcdserverpb::Compare ToProto(const Compare& c) {
  etcdserverpb::Compare out;
  out.set_key(c.key);
  switch (c.result) {
    case Compare::Result::kEqual:
      out.set_result(etcdserverpb::Compare::EQUAL);
      break;
    case Compare::Result::kNotEqual:
      out.set_result(etcdserverpb::Compare::NOT_EQUAL);
      break;
    case Compare::Result::kGreater:
      out.set_result(etcdserverpb::Compare::GREATER);
      break;
    case Compare::Result::kLess:
      out.set_result(etcdserverpb::Compare::LESS);
      break;
  }
  switch (c.target) {
    case Compare::Target::kValue:
      out.set_target(etcdserverpb::Compare::VALUE);
      out.set_value(c.value);
      break;
    case Compare::Target::kVersion:
      out.set_target(etcdserverpb::Compare::VERSION);
      out.set_version(c.number);
      break;
    case Compare::Target::kCreateRevision:
      out.set_target(etcdserverpb::Compare::CREATE);
      out.set_create_revision(c.number);
      break;
    case Compare::Target::kModRevision:
      out.set_target(etcdserverpb::Compare::MOD);
      out.set_mod_revision(c.number);
      break;
    case Compare::Target::kLease:
      out.set_target(etcdserverpb::Compare::LEASE);
      out.set_lease(c.number);
      break;
  }
  return out;
}

void ToProto(const Op& op, etcdserverpb::RequestOp* out) {
  switch (op.type) {
    case Op::Type::kPut: {
      etcdserverpb::PutRequest* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case Op::Type::kDelete:
      out->mutable_request_delete_range()->set_key(op.key);
      break;
    case Op::Type::kDeletePrefix:
      SetPrefixRange(op.key, out->mutable_request_delete_range());
      break;
    case Op::Type::kGet:
      out->mutable_request_range()->set_key(op.key);
      break;
    case Op::Type::kGetPrefix:
      SetPrefixRange(op.key, out->mutable_request_range());
      break;
  }
}

OpResult OpResultFromProto(const etcdserverpb::ResponseOp& r) {
  OpResult out;
  if (r.has_response_range()) {
    for (const mvccpb::KeyValue& kv : r.response_range().kvs()) out.kvs.push_back(FromProto(kv));
  } else if (r.has_response_delete_range()) {
    out.deleted = r.response_delete_range().deleted();
  }
  return out;
}

Compare MakeCompare(std::string key, Compare::Target target, Compare::Result result,
                    int64_t number) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  c.number = number;
  return c;
}

Op MakeOp(Op::Type type, std::string key) {
  Op op;
  op.type = type;
  op.key = std::move(key);
  return op;
}

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const Options& o, bool tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = o.ca_pem;
  ssl.pem_cert_chain = o.cert_pem;
  ssl.pem_private_key = o.key_pem;
  if (o.cert_file.empty() != o.key_file.empty()) {
    return InvalidArgumentError("etcd client certificate needs both cert_file and key_file");
  }
  if (!o.ca_file.empty()) {
    GD2_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(o.ca_file));
  }
  if (!o.cert_file.empty()) {
    GD2_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(o.cert_file));
  }
  if (!o.key_file.empty()) {
    GD2_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(o.key_file));
  }
  if (ssl.pem_cert_chain.empty() != ssl.pem_private_key.empty()) {
    return InvalidArgumentError("etcd client certificate needs both a certificate and its key");
  }
  return grpc::SslCredentials(ssl);
}

bool IsIpLiteral(const std::string& host, int family) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(family, host.c_str(), buf) == 1;
}

// Resolves `ep` to "addr:port" strings per address family.
Status Resolve(const Endpoint& ep, std::vector<std::string>* v4, std::vector<std::string>* v6) {
  std::string port = std::to_string(ep.port);
  if (IsIpLiteral(ep.host, AF_INET)) {
    v4->push_back(ep.host + ":" + port);
    return OkStatus();
  }
  if (IsIpLiteral(ep.host, AF_INET6)) {
    v6->push_back("[" + ep.host + "]:" + port);
    return OkStatus();
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return UnavailableError("cannot resolve etcd endpoint: host=" + ep.host + ": " +
                            gai_strerror(rc));
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof(text));
      v4->push_back(std::string(text) + ":" + port);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                sizeof(text));
      v6->push_back("[" + std::string(text) + "]:" + port);
    }
  }
  freeaddrinfo(res);
  return OkStatus();
}

// One endpoint: let gRPC's DNS resolver follow the name. Several: resolve them now into one
// static address list ("ipv4:a:p,b:p") that the round_robin policy spreads calls over, skipping
// members it cannot connect to.
StatusOr<std::string> BuildTarget(const std::vector<Endpoint>& eps) {
  if (eps.size() == 1) return "dns:///" + eps[0].HostPort();
  std::vector<std::string> v4, v6;
  bool all_v4 = true, all_v6 = true;
  for (const Endpoint& ep : eps) {
    size_t n4 = v4.size(), n6 = v6.size();
    GD2_RETURN_IF_ERROR(Resolve(ep, &v4, &v6));
    all_v4 = all_v4 && v4.size() > n4;
    all_v6 = all_v6 && v6.size() > n6;
  }
  const std::vector<std::string>* chosen = nullptr;
  std::string scheme;
  if (all_v4) {
    chosen = &v4;
    scheme = "ipv4:";
  } else if (all_v6) {
    chosen = &v6;
    scheme = "ipv6:";
  } else {
    return InvalidArgumentError("etcd endpoints mix IPv4-only and IPv6-only hosts");
  }
  std::string target = scheme;
  for (size_t i = 0; i < chosen->size(); ++i) {
    if (i > 0) target += ',';
    target += (*chosen)[i];
  }
  return target;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           const std::string& ssl_target_override) {
  grpc::ChannelArguments args = BaseChannelArguments();
  if (!ssl_target_override.empty()) {
    args.SetString(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, ssl_target_override);
  }
  return grpc::CreateCustomChannel(target, creds, args);
}

// The innermost WriteRevisionScope of this thread.
thread_local WriteRevisionScope* current_write_scope = nullptr;

}  // namespace

WriteRevisionScope::WriteRevisionScope() : outer_(current_write_scope) {
  current_write_scope = this;
}

WriteRevisionScope::~WriteRevisionScope() {
  current_write_scope = outer_;
  if (outer_ != nullptr) outer_->revision_ = std::max(outer_->revision_, revision_);
}

void WriteRevisionScope::Record(int64_t revision) {
  if (current_write_scope != nullptr) {
    current_write_scope->revision_ = std::max(current_write_scope->revision_, revision);
  }
}

// ---- helpers shared with session/watcher/lock ----

std::string Endpoint::HostPort() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

StatusOr<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint ep;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    ep.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return InvalidArgumentError("bad etcd endpoint scheme: endpoint=" + std::string(text));
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::string_view port_text;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return InvalidArgumentError("bad etcd endpoint: endpoint=" + std::string(text));
    }
    ep.host = std::string(rest.substr(1, close - 1));
    port_text = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || rest.find(':') != colon) {
      return InvalidArgumentError("etcd endpoint needs host:port: endpoint=" + std::string(text));
    }
    ep.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  }
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), ep.port);
  if (ep.host.empty() || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || ep.port <= 0 || ep.port > 65535) {
    return InvalidArgumentError("bad etcd endpoint: endpoint=" + std::string(text));
  }
  return ep;
}

Status FromGrpc(const grpc::Status& status, std::string_view op, std::string_view endpoints) {
  std::string what = "op=" + std::string(op) + " endpoints=" + std::string(endpoints) + ": " +
                     status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return InternalError("etcd call reported ok as an error: " + what);
    case grpc::StatusCode::UNAVAILABLE:
      return UnavailableError("etcd unreachable: " + what);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return DeadlineExceededError("etcd request timed out: " + what);
    case grpc::StatusCode::CANCELLED:
      return Status(StatusCode::kCancelled, "etcd request cancelled: " + what);
    default:
      break;
  }
  int code = static_cast<int>(status.error_code());
  // The canonical gRPC codes and StatusCode share their numbering.
  StatusCode mapped = code >= 0 && code <= static_cast<int>(StatusCode::kUnauthenticated)
                          ? static_cast<StatusCode>(code)
                          : StatusCode::kUnknown;
  return Status(mapped, "etcd request failed: " + what);
}

RpcTimer::RpcTimer(std::string op) : op_(std::move(op)), start_(Clock::now()) {}

void RpcTimer::Done(bool ok) {
  double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  metrics::Registry& reg = metrics::Default();
  reg.GetHistogram("gd2_etcd_request_duration_seconds", "Round-trip time of etcd requests.",
                   {{"op", op_}})
      .Observe(seconds);
  if (!ok) {
    reg.GetCounter("gd2_etcd_request_errors_total", "Failed etcd requests.", {{"op", op_}}).Inc();
  }
}

Store::Impl::~Impl() {
  stopping = true;
  if (channel_watcher.joinable()) channel_watcher.join();
}

void Store::Impl::StartChannelWatcher() {
  channel_watcher = std::thread([this] {
    while (!stopping) {
      std::shared_ptr<grpc::Channel> channel = conn()->channel;
      grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
      // Short waits so that ~Store does not block for long.
      channel->WaitForStateChange(
          state, std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    }
  });
}

void Store::Impl::Prepare(grpc::ClientContext& ctx) const {
  ctx.set_deadline(std::chrono::system_clock::now() + options.request_timeout);
}

void Store::Impl::RequireLeader(grpc::ClientContext& ctx) {
  // etcd's "require leader" metadata: a member that has lost its leader (it is cut off from
  // the majority) refuses the call at once with "etcdserver: no leader" instead of letting it
  // wait for the deadline, and ends such watch streams, so they resume on another member.
  ctx.AddMetadata("hasleader", "true");
}

bool Store::Impl::SameCluster(const etcdserverpb::ResponseHeader& h) {
  uint64_t want = cluster_id.load();
  if (want == 0) {
    // The first answer tells which cluster this store is.
    cluster_id.compare_exchange_strong(want, h.cluster_id());
    return true;
  }
  return h.cluster_id() == want;
}

bool Store::Impl::Retryable(const grpc::Status& s, Retry retry, bool attempt_timed_out) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // Refused before it was proposed: safe to send again, whatever the call.
    if (s.error_message().find("no leader") != std::string::npos) return true;
    return retry != Retry::kNotApplied;
  }
  return attempt_timed_out && retry != Retry::kNotApplied;
}

grpc::ChannelArguments BaseChannelArguments() {
  grpc::ChannelArguments args;
  // After an etcd restart reconnect within about a second instead of gRPC's 120 s maximum.
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS (really the connect timeout) keeps its 20 s default: with
  // gRPC 1.51 a small value makes every reconnect attempt start with an already expired
  // deadline ("tcp handshaker shutdown"), so the channel never comes back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A connect attempt that hangs (etcd accepts TCP before it serves gRPC while it starts up)
  // is given up after 3 s instead of 20 s, so the channel recovers soon after a restart.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 3000);
  // etcd's default --grpc-keepalive-min-time is 5 s; ping less often than that. A connection
  // that went silent (a member cut off without a reset) is dropped within 8 s; until then calls
  // that may be retried pass it over (Impl::Call).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 6000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetServiceConfigJSON(R"({"loadBalancingConfig":[{"round_robin":{}}]})");
  return args;
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

// ---- Compare / Op factories ----

Compare Compare::ValueEquals(std::string key, std::string value) {
  Compare c = MakeCompare(std::move(key), Target::kValue, Result::kEqual, 0);
  c.value = std::move(value);
  return c;
}
Compare Compare::VersionEquals(std::string key, int64_t version) {
  return MakeCompare(std::move(key), Target::kVersion, Result::kEqual, version);
}
Compare Compare::CreateRevisionEquals(std::string key, int64_t revision) {
  return MakeCompare(std::move(key), Target::kCreateRevision, Result::kEqual, revision);
}
Compare Compare::ModRevisionEquals(std::string key, int64_t revision) {
  return MakeCompare(std::move(key), Target::kModRevision, Result::kEqual, revision);
}
Compare Compare::LeaseEquals(std::string key, int64_t lease) {
  return MakeCompare(std::move(key), Target::kLease, Result::kEqual, lease);
}
Compare Compare::KeyMissing(std::string key) {
  return MakeCompare(std::move(key), Target::kVersion, Result::kEqual, 0);
}
Compare Compare::KeyExists(std::string key) {
  return MakeCompare(std::move(key), Target::kVersion, Result::kGreater, 0);
}

Op Op::Put(std::string key, std::string value, int64_t lease) {
  Op op = MakeOp(Type::kPut, std::move(key));
  op.value = std::move(value);
  op.lease = lease;
  return op;
}
Op Op::Delete(std::string key) { return MakeOp(Type::kDelete, std::move(key)); }
Op Op::DeletePrefix(std::string prefix) { return MakeOp(Type::kDeletePrefix, std::move(prefix)); }
Op Op::Get(std::string key) { return MakeOp(Type::kGet, std::move(key)); }
Op Op::GetPrefix(std::string prefix) { return MakeOp(Type::kGetPrefix, std::move(prefix)); }

// ---- Store ----

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const Options& Store::options() const { return impl_->options; }

StatusOr<std::shared_ptr<Store::Impl::Conn>> Store::Impl::Dial(
    const Options& options, const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) return InvalidArgumentError("no etcd endpoints configured");
  std::vector<Endpoint> eps;
  for (const std::string& text : endpoints) {
    GD2_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(text));
    if (!eps.empty() && ep.tls != eps.front().tls) {
      return InvalidArgumentError("etcd endpoints mix http and https: endpoints=" +
                                  JoinEndpoints(endpoints));
    }
    eps.push_back(std::move(ep));
  }
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       MakeCredentials(options, eps.front().tls));
  GD2_ASSIGN_OR_RETURN(std::string target, BuildTarget(eps));
  std::string ssl_target_override;
  if (eps.front().tls && !options.tls_server_name.empty()) {
    ssl_target_override = options.tls_server_name;
  } else if (eps.front().tls && eps.size() > 1 && !IsIpLiteral(eps.front().host, AF_INET) &&
             !IsIpLiteral(eps.front().host, AF_INET6)) {
    // Dialled by address; verify certificates against the first host name.
    ssl_target_override = eps.front().host;
  }
  auto c = std::make_shared<Conn>();
  c->endpoints = endpoints;
  c->endpoints_text = JoinEndpoints(endpoints);
  c->channel = MakeChannel(target, credentials, ssl_target_override);
  c->kv = etcdserverpb::KV::NewStub(c->channel);
  c->watch = etcdserverpb::Watch::NewStub(c->channel);
  c->lease = etcdserverpb::Lease::NewStub(c->channel);
  c->cluster = etcdserverpb::Cluster::NewStub(c->channel);
  c->maintenance = etcdserverpb::Maintenance::NewStub(c->channel);
  return c;
}

StatusOr<std::unique_ptr<Store>> Store::Connect(Options options) {
  auto impl = std::make_unique<Impl>();
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<Impl::Conn> c, Impl::Dial(options, options.endpoints));
  if (!c->channel->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout)) {
    return UnavailableError("etcd unreachable: endpoints=" + c->endpoints_text +
                            " dial_timeout_ms=" + std::to_string(options.dial_timeout.count()));
  }
  impl->set_conn(std::move(c));
  impl->cluster_id = options.cluster_id;
  impl->options = std::move(options);
  impl->StartChannelWatcher();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::SetEndpoints(const std::vector<std::string>& endpoints) {
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<Impl::Conn> c, Impl::Dial(impl_->options, endpoints));
  if (c->endpoints_text == impl_->conn()->endpoints_text) return OkStatus();
  impl_->set_conn(std::move(c));
  return OkStatus();
}

std::vector<std::string> Store::endpoints() const { return impl_->conn()->endpoints; }

StatusOr<std::optional<KeyValue>> Store::Get(std::string_view key) {
  etcdserverpb::RangeRequest req;
  req.set_key(std::string(key));
  etcdserverpb::RangeResponse resp;
  grpc::Status s = impl_->Call("get", Impl::Retry::kRead, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->Range(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "get");
  if (resp.kvs_size() == 0) return std::optional<KeyValue>();
  return std::optional<KeyValue>(FromProto(resp.kvs(0)));
}

StatusOr<std::vector<KeyValue>> Store::List(std::string_view prefix, int64_t limit) {
  etcdserverpb::RangeRequest req;
  SetPrefixRange(prefix, &req);
  req.set_limit(limit);
  etcdserverpb::RangeResponse resp;
  grpc::Status s = impl_->Call("list", Impl::Retry::kRead, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->Range(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "list");
  std::vector<KeyValue> out;
  out.reserve(resp.kvs_size());
  for (const mvccpb::KeyValue& kv : resp.kvs()) out.push_back(FromProto(kv));
  return out;
}

StatusOr<int64_t> Store::Put(std::string_view key, std::string_view value, int64_t lease) {
  etcdserverpb::PutRequest req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  req.set_lease(lease);
  etcdserverpb::PutResponse resp;
  grpc::Status s = impl_->Call("put", Impl::Retry::kIdempotent, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->Put(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "put");
  WriteRevisionScope::Record(resp.header().revision());
  return resp.header().revision();
}

StatusOr<int64_t> Store::Delete(std::string_view key) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(std::string(key));
  etcdserverpb::DeleteRangeResponse resp;
  grpc::Status s = impl_->Call("delete", Impl::Retry::kIdempotent, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->DeleteRange(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "delete");
  WriteRevisionScope::Record(resp.header().revision());
  return resp.deleted();
}

StatusOr<int64_t> Store::DeletePrefix(std::string_view prefix) {
  etcdserverpb::DeleteRangeRequest req;
  SetPrefixRange(prefix, &req);
  etcdserverpb::DeleteRangeResponse resp;
  grpc::Status s = impl_->Call("delete", Impl::Retry::kIdempotent, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->DeleteRange(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "delete");
  WriteRevisionScope::Record(resp.header().revision());
  return resp.deleted();
}

StatusOr<TxnResult> Store::Txn(std::vector<Compare> compares, std::vector<Op> then_ops,
                               std::vector<Op> else_ops) {
  etcdserverpb::TxnRequest req;
  for (const Compare& c : compares) *req.add_compare() = ToProto(c);
  for (const Op& op : then_ops) ToProto(op, req.add_success());
  for (const Op& op : else_ops) ToProto(op, req.add_failure());
  // Without compares the transaction always runs then_ops: one of reads only is retried like a
  // Get, one of puts, deletes and reads like a Put (applying it twice has the same effect). A
  // conditional one is retried only when etcd refused it before proposing it.
  auto is_read = [](const Op& op) {
    return op.type == Op::Type::kGet || op.type == Op::Type::kGetPrefix;
  };
  auto is_plain = [&is_read](const Op& op) {
    return is_read(op) || op.type == Op::Type::kPut || op.type == Op::Type::kDelete;
  };
  Impl::Retry retry = Impl::Retry::kNotApplied;
  if (compares.empty() && else_ops.empty()) {
    if (std::all_of(then_ops.begin(), then_ops.end(), is_read)) {
      retry = Impl::Retry::kRead;
    } else if (std::all_of(then_ops.begin(), then_ops.end(), is_plain)) {
      retry = Impl::Retry::kIdempotent;
    }
  }
  etcdserverpb::TxnResponse resp;
  grpc::Status s = impl_->Call("txn", retry, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->Txn(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "txn");
  TxnResult out;
  out.succeeded = resp.succeeded();
  out.revision = resp.header().revision();
  const std::vector<Op>& ran = out.succeeded ? then_ops : else_ops;
  bool writes = std::any_of(ran.begin(), ran.end(), [](const Op& op) {
    return op.type != Op::Type::kGet && op.type != Op::Type::kGetPrefix;
  });
  if (writes) WriteRevisionScope::Record(out.revision);
  out.results.reserve(resp.responses_size());
  for (const etcdserverpb::ResponseOp& r : resp.responses())
    out.results.push_back(OpResultFromProto(r));
  return out;
}

Status Store::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  etcdserverpb::CompactionResponse resp;
  grpc::Status s = impl_->Call("compact", Impl::Retry::kNotApplied, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.kv->Compact(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "compact");
  return OkStatus();
}

StatusOr<Lease> Store::GrantLease(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) {
    return InvalidArgumentError("lease ttl must be positive: ttl=" + std::to_string(ttl_seconds));
  }
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse resp;
  grpc::Status s = impl_->Call("lease_grant", Impl::Retry::kNotApplied, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.lease->LeaseGrant(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "lease_grant");
  if (!resp.error().empty()) return InternalError("etcd lease grant failed: " + resp.error());
  return Lease{resp.id(), resp.ttl()};
}

Status Store::RevokeLease(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse resp;
  grpc::Status s = impl_->Call("lease_revoke", Impl::Retry::kIdempotent, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.lease->LeaseRevoke(&ctx, req, &resp);
  });
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return NotFoundError("lease not found: lease=" + HexUint(static_cast<uint64_t>(lease_id)));
  }
  if (!s.ok()) return impl_->Error(s, "lease_revoke");
  WriteRevisionScope::Record(resp.header().revision());
  return OkStatus();
}

StatusOr<int64_t> Store::KeepAliveOnce(int64_t lease_id) {
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseKeepAliveResponse resp;
  grpc::Status s = impl_->Call("lease_keepalive", Impl::Retry::kIdempotent, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                             etcdserverpb::LeaseKeepAliveResponse>>
        stream = c.lease->LeaseKeepAlive(&ctx);
    bool got = stream->Write(req) && stream->WritesDone() && stream->Read(&resp);
    grpc::Status st = stream->Finish();
    if (!got && st.ok()) st = grpc::Status(grpc::StatusCode::UNAVAILABLE, "keepalive stream closed");
    return got ? grpc::Status::OK : st;
  });
  if (!s.ok()) return impl_->Error(s, "lease_keepalive");
  if (resp.ttl() <= 0)
    return NotFoundError("lease not found: lease=" + HexUint(static_cast<uint64_t>(lease_id)));
  return resp.ttl();
}

StatusOr<std::vector<Member>> Store::MemberList() {
  etcdserverpb::MemberListRequest req;
  etcdserverpb::MemberListResponse resp;
  grpc::Status s = impl_->Call("member_list", Impl::Retry::kRead, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.cluster->MemberList(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "member_list");
  return MembersFromProto(resp.members());
}

StatusOr<uint64_t> Store::ClusterId() {
  if (impl_->cluster_id.load() == 0) GD2_RETURN_IF_ERROR(MemberList().status());
  return impl_->cluster_id.load();
}

StatusOr<MemberAddResult> Store::MemberAdd(std::vector<std::string> peer_urls, bool learner) {
  if (peer_urls.empty()) return InvalidArgumentError("etcd member add needs a peer url");
  etcdserverpb::MemberAddRequest req;
  for (std::string& url : peer_urls) req.add_peerurls(std::move(url));
  req.set_islearner(learner);
  etcdserverpb::MemberAddResponse resp;
  grpc::Status s = impl_->Call("member_add", Impl::Retry::kNotApplied, resp, [&](grpc::ClientContext& ctx, Impl::Conn& c) {
    return c.cluster->MemberAdd(&ctx, req, &resp);
  });
  if (!s.ok()) return impl_->Error(s, "member_add");
  MemberAddResult out;
  out.id = resp.member().id();
  out.members = MembersFromProto(resp.members());
  return out;
}

template <typename Response, typename Rpc>
Status Store::Impl::CallForMember(const char* op, Retry retry, uint64_t id, Rpc rpc) {
  Response resp;
  grpc::Status s = Call(op, retry, resp, [&](grpc::ClientContext& ctx, Conn& c) {
    return rpc(*c.cluster, &ctx, &resp);
  });
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return NotFoundError("etcd member not found: member_id=" + HexUint(id));
  }
  if (!s.ok()) return Error(s, op);
  return OkStatus();
}

Status Store::MemberUpdate(uint64_t id, std::vector<std::string> peer_urls) {
  if (peer_urls.empty()) return InvalidArgumentError("etcd member update needs a peer url");
  etcdserverpb::MemberUpdateRequest req;
  req.set_id(id);
  for (std::string& url : peer_urls) req.add_peerurls(std::move(url));
  return impl_->CallForMember<etcdserverpb::MemberUpdateResponse>(
      "member_update", Impl::Retry::kIdempotent, id,
      [&](auto& cluster, grpc::ClientContext* ctx, auto* resp) {
        return cluster.MemberUpdate(ctx, req, resp);
      });
}

Status Store::MemberRemove(uint64_t id) {
  etcdserverpb::MemberRemoveRequest req;
  req.set_id(id);
  return impl_->CallForMember<etcdserverpb::MemberRemoveResponse>(
      "member_remove", Impl::Retry::kNotApplied, id,
      [&](auto& cluster, grpc::ClientContext* ctx, auto* resp) {
        return cluster.MemberRemove(ctx, req, resp);
      });
}

Status Store::MemberPromote(uint64_t id) {
  etcdserverpb::MemberPromoteRequest req;
  req.set_id(id);
  return impl_->CallForMember<etcdserverpb::MemberPromoteResponse>(
      "member_promote", Impl::Retry::kNotApplied, id,
      [&](auto& cluster, grpc::ClientContext* ctx, auto* resp) {
        return cluster.MemberPromote(ctx, req, resp);
      });
}

StatusOr<EndpointStatus> Store::EndpointStatus(std::string_view endpoint) {
  GD2_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(endpoint));
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (ep.tls) {
    GD2_ASSIGN_OR_RETURN(creds, MakeCredentials(impl_->options, true));
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  std::shared_ptr<grpc::Channel> channel =
      MakeChannel("dns:///" + ep.HostPort(), creds, ep.tls ? impl_->options.tls_server_name : "");
  std::unique_ptr<etcdserverpb::Maintenance::Stub> stub =
      etcdserverpb::Maintenance::NewStub(channel);
  etcdserverpb::StatusRequest req;
  etcdserverpb::StatusResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(ctx);
  RpcTimer timer("status");
  grpc::Status s = stub->Status(&ctx, req, &resp);
  timer.Done(s.ok());
  if (!s.ok()) return FromGrpc(s, "status", endpoint);
  store::EndpointStatus out;
  out.endpoint = std::string(endpoint);
  out.version = resp.version();
  out.member_id = resp.header().member_id();
  out.leader = resp.leader();
  out.raft_index = resp.raftindex();
  out.raft_term = resp.raftterm();
  out.db_size = resp.dbsize();
  out.errors.assign(resp.errors().begin(), resp.errors().end());
  return out;
}

}  // namespace gd2::store
