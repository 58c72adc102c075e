// Internal to src/store: the gRPC side of store::Store (channel, stubs, error mapping, metrics).
// Included only by src/store/*.cc; it pulls in gRPC and the generated etcd headers.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "store/store.h"

namespace gd2::store {

// A parsed endpoint: "https://host:port" -> {tls, host, port}.
struct Endpoint {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  int port = 0;
  // "host:port", with brackets for IPv6 literals.
  std::string HostPort() const;
};

// Accepts "http://h:p", "https://h:p", "h:p", "[v6]:p"; a trailing '/' is ignored.
// kInvalidArgument otherwise.
StatusOr<Endpoint> ParseEndpoint(std::string_view text);

// Maps a failed gRPC call of `op` to a gd2 Status, once, for the whole store.
Status FromGrpc(const grpc::Status& status, std::string_view op, std::string_view endpoints);

// Times one RPC into gd2_etcd_request_duration_seconds{op} and counts failures in
// gd2_etcd_request_errors_total{op}.
class RpcTimer {
 public:
  explicit RpcTimer(std::string op);
  // Records the round trip; call once with the RPC's outcome.
  void Done(bool ok);

 private:
  std::string op_;
  std::chrono::steady_clock::time_point start_;
};

struct Store::Impl {
  // Stops the channel watcher.
  ~Impl();
  // Starts a thread that keeps asking for a connection and waits on the channel's state.
  // The sync gRPC API only polls sockets while some thread waits on a call; without this,
  // a reconnect after an etcd restart progresses only at the 5 s backup-poller pace, and
  // fail-fast calls see UNAVAILABLE for that long.
  void StartChannelWatcher();

  // One channel to a set of endpoints, with its stubs. Replaced as a whole by SetEndpoints; a
  // call holds the one it started on.
  struct Conn {
    std::vector<std::string> endpoints;
    std::string endpoints_text;  // "a,b" for error messages
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };
  // Parses and checks `endpoints` (one scheme) and builds a connection to them; does not wait.
  static StatusOr<std::shared_ptr<Conn>> Dial(const Options& options,
                                              const std::vector<std::string>& endpoints);
  std::shared_ptr<Conn> conn() const GD2_EXCLUDES(conn_mu) {
    MutexLock lock(conn_mu);
    return current;
  }
  void set_conn(std::shared_ptr<Conn> c) GD2_EXCLUDES(conn_mu) {
    MutexLock lock(conn_mu);
    current = std::move(c);
  }

  Options options;
  mutable Mutex conn_mu;
  std::shared_ptr<Conn> current GD2_GUARDED_BY(conn_mu);
  std::atomic<bool> stopping{false};
  std::thread channel_watcher;

  // Sets the request deadline on a unary call's context (calls that go through Call() get theirs
  // there).
  void Prepare(grpc::ClientContext& ctx) const;
  // Asks etcd to refuse the call, or end the stream, when the member has no leader.
  static void RequireLeader(grpc::ClientContext& ctx);

  // When a failed call may be sent again. Round robin sends the next attempt to the next
  // member, so a member that is cut off, has lost its leader or whose connection went dead
  // without a reset is passed over instead of failing the call.
  enum class Retry {
    kRead,         // no effect: retried on UNAVAILABLE and after an attempt timed out
    kIdempotent,   // the same effect when applied twice (put, delete, revoke, keepalive): same
    kNotApplied,   // retried only when etcd refused it before proposing it ("no leader")
  };
  static bool Retryable(const grpc::Status& s, Retry retry, bool attempt_timed_out);
  // False if `h` comes from another etcd cluster than this store's (learnt from the first
  // answer unless Options::cluster_id set it).
  bool SameCluster(const etcdserverpb::ResponseHeader& h);
  grpc::Status OtherClusterStatus(uint64_t got) const {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "answer from another etcd cluster: cluster_id=" + std::to_string(got) +
                            " want=" + std::to_string(cluster_id.load()));
  }
  std::atomic<uint64_t> cluster_id{0};

  // Runs `call(ctx, conn)` (a gRPC call on `ctx` through `conn`'s stubs, returning its status) with
  // the store's deadline, retrying as `retry` allows until that deadline. kRead and kIdempotent
  // attempts get a third of the deadline each (at least 500 ms), so that one silent member costs
  // one attempt, not the whole deadline. Each attempt is timed as `op`. `resp` is the call's
  // response: an answer whose header names another etcd cluster (the address of a removed member
  // now serves a cluster of its own) is not taken; the call is sent again (it did not reach this
  // cluster). A cluster call about one member, named by id (defined in store.cc, its only user):
  // NOT_FOUND is kNotFound "etcd member not found"; other failures are Error(s, op).
  template <typename Response, typename Rpc>
  Status CallForMember(const char* op, Retry retry, uint64_t id, Rpc rpc);

  template <typename Resp, typename F>
  grpc::Status Call(const char* op, Retry retry, const Resp& resp, F&& call) {
    using Clock = std::chrono::system_clock;
    const auto deadline = Clock::now() + options.request_timeout;
    const auto attempt_limit = std::max<std::chrono::milliseconds>(
        options.request_timeout / 3, std::chrono::milliseconds(500));
    std::chrono::milliseconds backoff(25);
    while (true) {
      grpc::ClientContext ctx;
      auto attempt_deadline = deadline;
      if (retry != Retry::kNotApplied) attempt_deadline = std::min(deadline, Clock::now() + attempt_limit);
      ctx.set_deadline(attempt_deadline);
      RequireLeader(ctx);
      RpcTimer timer(op);
      std::shared_ptr<Conn> c = conn();
      grpc::Status s = call(ctx, *c);
      bool other_cluster = s.ok() && !SameCluster(resp.header());
      timer.Done(s.ok() && !other_cluster);
      if (s.ok() && !other_cluster) return s;
      if (other_cluster) s = OtherClusterStatus(resp.header().cluster_id());
      auto now = Clock::now();
      bool attempt_timed_out =
          s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && attempt_deadline < deadline;
      bool again = other_cluster || Retryable(s, retry, attempt_timed_out);
      if (!again || now + backoff >= deadline) return s;
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(400));
    }
  }
  Status Error(const grpc::Status& status, std::string_view op) const {
    return FromGrpc(status, op, conn()->endpoints_text);
  }
};

// Channel arguments shared by the main channel and the per-endpoint status channels: quick
// reconnects after an etcd restart, keepalive pings to notice dead connections.
grpc::ChannelArguments BaseChannelArguments();

// Converts etcd's KeyValue.
KeyValue FromProto(const mvccpb::KeyValue& kv);

}  // namespace gd2::store
