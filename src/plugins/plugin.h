// The plugin interface: a feature (peers, volumes, devices, ...) is a folder under plugins/ whose
// Plugin registers its ReST routes (and later transaction steps and options) in one Register()
// call. daemon/plugins.cc lists every plugin; core code never includes a plugin.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "peer_rpc/messages.h"
#include "rest/router.h"
#include "store/keys.h"
#include "txn/engine.h"

namespace gd2::store {
class Store;
class Session;
}  // namespace gd2::store
namespace gd2::peer_rpc {
class Client;
}
namespace gd2::sunrpc {
class RpcServer;
class PortMap;
class VolfileProvider;
}  // namespace gd2::sunrpc

namespace gd2::plugins {

// The daemon's services a plugin may use. Owned by the daemon; outlive every plugin.
struct Services {
  store::Store* store = nullptr;
  store::KeySpace keys{"unset"};
  std::string peer_id;
  std::string cluster_id;
  std::string peer_name;
  std::string workdir;
  std::string rundir;
  std::string logdir;
  std::string client_host;  // the address clients and bricks reach this peer on
  int client_port = 24007;
  int lease_ttl_seconds = 10;
  store::Session* session = nullptr;
  txn::Engine* txn = nullptr;
  sunrpc::RpcServer* rpc = nullptr;     // the Gluster RPC service on the client port
  sunrpc::PortMap* portmap = nullptr;   // brick path -> port, filled by brick SIGNIN
  peer_rpc::Client* peer_client = nullptr;  // RPC to other daemons (join, leave, steps)
  std::string secret;                        // the cluster's auth secret
  // How many etcd members the cluster keeps among its peers (embedded etcd); 0 with external
  // etcd, where peers are only clients.
  int etcd_members = 0;
  // Installs the provider that answers GETSPEC (the volume plugin's). Call from Start().
  std::function<void(sunrpc::VolfileProvider*)> set_volfile_provider;
};

// Collects what plugins register. Aborts startup on a duplicate, naming both plugins.
class Registrar {
 public:
  Registrar(rest::Router& router, txn::StepRegistry& steps) : router_(router), steps_(steps) {}
  void SetPlugin(std::string_view name) { plugin_ = name; }
  void AddRoute(rest::Route route);
  // Registers a transaction step "plugin.verb" with its undo.
  void AddStep(const std::string& name, txn::StepFunc do_fn, txn::StepFunc undo_fn);
  // Answers the peer RPC's HealInfo on this peer (other peers ask it for its bricks' heal
  // info). One plugin may; a second aborts startup.
  void ServeHealInfo(peer_rpc::HealInfoFunc fn);
  // What ServeHealInfo registered (empty if nothing), for the peer RPC server.
  const peer_rpc::HealInfoFunc& heal_info() const { return heal_info_; }

 private:
  rest::Router& router_;
  txn::StepRegistry& steps_;
  std::string plugin_;
  peer_rpc::HealInfoFunc heal_info_;
  std::string heal_info_plugin_;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view Name() const = 0;
  // Called once at startup, before serving.
  virtual void Register(Registrar& r) = 0;
  // Called after the store is connected, before the API serves; undone by Stop().
  virtual Status Start() { return OkStatus(); }
  // Called once the API and RPC service answer (e.g. to start bricks, which sign in over RPC).
  virtual void OnServing() {}
  // Called after the store session was lost and a new lease granted (etcd restart, a network
  // partition): lease-bound keys are gone and the cluster may have changed meanwhile.
  virtual void OnSessionRenewed() {}
  virtual void Stop() {}
};

}  // namespace gd2::plugins
