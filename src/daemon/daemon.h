// The glusterd2 daemon: owns every component and starts them in named phases (see Start());
// Stop() undoes that in reverse order.
#pragma once

#include <atomic>
#include <memory>
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
class VolfileRegistry;
}  // namespace gd2::sunrpc
namespace gd2::store {
class Store;
class Session;
class View;
}  // namespace gd2::store

namespace gd2::daemon {

class EmbeddedEtcd;
class EtcdMembership;
class PeerHandler;
class PluginHost;

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Brings every component up, phase by phase, in this order:
  //   dirs      file limit, workdir/rundir/logdir, the workdir lock
  //   identity  peer and cluster ids, the secret, store.toml, the root logger
  //   etcd      the embedded etcd member (and its promotion after a join as a member)
  //   store     the store client, the etcd membership followed, the session (liveness lease)
  //   rpc       peer RPC client, transaction engine, the Gluster RPC service
  //   plugins   every plugin registered and started
  //   peer-rpc  the peer RPC service (steps, join, leave)
  //   serve     the ReST server, recovery of unfinished transactions, this peer registered
  // A failure is returned as "start phase <name>: <error>" and logged with the phase; the
  // caller then calls Stop(), which stops whatever was started.
  Status Start();
  // Stops accepting requests, finishes in-flight ones, stops plugins, the session (the peer
  // shows offline at once) and the embedded etcd. Idempotent.
  void Stop();

  const Identity& identity() const { return identity_; }
  int client_port() const;

 private:
  Status StartDirs();
  Status StartIdentity();
  Status StartEtcd();
  Status StartStore();
  Status StartRpc();
  Status StartPlugins();
  Status StartPeerRpc();
  Status StartServing();
  Status RegisterSelf();
  void AddCoreRoutes(plugins::Registrar& r);

  Config config_;
  // Follows the cluster's etcd membership: set when this peer joined a cluster (store.toml), or
  // for the peer that founded it on its embedded etcd.
  std::unique_ptr<EtcdMembership> membership_;
  bool external_store_ = false;  // configured with --etcd-endpoints
  store::Options store_options_;  // how to reach the store, built by the etcd phase
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
  std::unique_ptr<sunrpc::VolfileRegistry> volfiles_;  // filled by plugins' Register()
  std::unique_ptr<sunrpc::RpcServer> rpc_;
  std::unique_ptr<peer_rpc::Client> peer_client_;
  std::unique_ptr<peer_rpc::RemoteStepRunner> remote_steps_;
  std::unique_ptr<PeerHandler> peer_handler_;
  std::unique_ptr<peer_rpc::Server> peer_server_;
  peer_rpc::QueryRegistry queries_;      // what plugins registered to answer the peer RPC's Query
  std::unique_ptr<PluginHost> plugins_;  // kept until the session has stopped
  // plugins_ for the session thread (renewals), set once plugins_ exists.
  std::atomic<PluginHost*> renewals_{nullptr};
  std::unique_ptr<rest::Server> server_;
};

}  // namespace gd2::daemon
