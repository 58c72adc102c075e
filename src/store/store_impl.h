// Internal to src/store: the gRPC side of store::Store (channel, stubs, error mapping, metrics).
// Included only by src/store/*.cc; it pulls in gRPC and the generated etcd headers.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
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

  Options options;
  std::string endpoints_text;  // "a,b" for error messages
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string ssl_target_override;  // set when several hosts are dialled through one channel
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  std::atomic<bool> stopping{false};
  std::thread channel_watcher;

  // Sets the request deadline on a unary call's context.
  void Prepare(grpc::ClientContext& ctx) const;
  Status Error(const grpc::Status& status, std::string_view op) const {
    return FromGrpc(status, op, endpoints_text);
  }
};

// Channel arguments shared by the main channel and the per-endpoint status channels: quick
// reconnects after an etcd restart, keepalive pings to notice dead connections.
grpc::ChannelArguments BaseChannelArguments();

// Converts etcd's KeyValue.
KeyValue FromProto(const mvccpb::KeyValue& kv);

}  // namespace gd2::store
