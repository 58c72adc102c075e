// The glusterd2 daemon: owns every component and starts them in order (workdir, logging,
// identity, embedded etcd, store, session, plugins, ReST/RPC server); Stop() undoes that in
// reverse order.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/config.h"
#include "daemon/identity.h"
#include "plugins/plugin.h"
#include "rest/router.h"
#include "store/store.h"
#include "store/watcher.h"

namespace gd2::rest {
class Server;
}
namespace gd2::peer_rpc {
class Server;
class Client;
class RemoteStepRunner;
}  // namespace gd2::peer_rpc
namespace gd2::sunrpc {
class RpcServer;
class PortMap;
}  // namespace gd2::sunrpc
namespace gd2::store {
class Store;
class Session;
class View;
}  // namespace gd2::store

namespace gd2::daemon {

class EmbeddedEtcd;
class PeerHandler;

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Brings every component up. On failure, whatever was started is stopped again.
  Status Start();
  // Stops accepting requests, finishes in-flight ones, stops plugins, the session (the peer
  // shows offline at once) and the embedded etcd. Idempotent.
  void Stop();

  const Identity& identity() const { return identity_; }
  int client_port() const;

 private:
  Status StartStore();
  // For a peer that joined a cluster: moves the store (and store.toml) to `voting`, the client
  // URLs of the current voting members (this peer's own member first if it runs one).
  void FollowMembers(const std::vector<std::string>& voting);
  // Follows KeySpace::EtcdMembers with FollowMembers (joined peers).
  Status WatchMembers();
  Status RegisterSelf();
  void AddCoreRoutes(plugins::Registrar& r);

  Config config_;
  // The cluster's etcd as store.toml has it: set when this peer joined a cluster, or (in
  // memory, written once the membership changes) for the peer that founded it; etcd_member:
  // it runs one of its members.
  std::optional<StoreConfig> joined_;
  std::mutex joined_mu_;  // joined_ once serving (FollowMembers runs on a watcher thread)
  std::unique_ptr<store::Watcher> members_watcher_;
  bool external_store_ = false;  // configured with --etcd-endpoints
  Identity identity_;
  std::string secret_;
  int lock_fd_ = -1;
  std::unique_ptr<EmbeddedEtcd> etcd_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Session> session_;
  std::unique_ptr<store::View> view_;  // what GET handlers read (plugins choose what it keeps)
  plugins::Services services_;
  rest::Router router_;
  txn::StepRegistry steps_;
  std::unique_ptr<txn::Engine> engine_;
  std::unique_ptr<sunrpc::PortMap> portmap_;
  class ForwardingProvider;
  std::unique_ptr<ForwardingProvider> volfiles_;
  std::unique_ptr<sunrpc::RpcServer> rpc_;
  std::unique_ptr<peer_rpc::Client> peer_client_;
  std::unique_ptr<peer_rpc::RemoteStepRunner> remote_steps_;
  std::unique_ptr<PeerHandler> peer_handler_;
  std::unique_ptr<peer_rpc::Server> peer_server_;
  std::vector<std::unique_ptr<plugins::Plugin>> plugins_;
  size_t started_plugins_ = 0;
  std::atomic<bool> serving_{false};
  std::unique_ptr<rest::Server> server_;
};

}  // namespace gd2::daemon
