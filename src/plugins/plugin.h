// The plugin interface: a feature (peers, volumes, devices, ...) is a folder under plugins/ whose
// Plugin registers in one Register() call its ReST routes, transaction steps, etcd key kinds,
// volume options and public API. daemon/plugins.cc lists every plugin; core code never includes
// a plugin.
//
// Plugins use each other only through a public API header, plugins/<name>/<name>_api.h, whose
// interface the providing plugin offers with Registrar::ProvideApi and others look up in
// Services::apis (ApiRegistry). Lookups happen from Start() on, after every plugin registered, so
// plugins are constructed and registered in any order and two plugins may use each other without
// a cycle at construction.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "common/status.h"
#include "peer_rpc/messages.h"
#include "peer_rpc/query.h"
#include "rest/router.h"
#include "store/keys.h"
#include "txn/engine.h"
#include "volgen/options.h"

namespace gd2::store {
class Store;
class Session;
class View;
class ViewSnapshot;
}  // namespace gd2::store
namespace gd2::peer_rpc {
class Client;
}
namespace gd2::sunrpc {
class RpcServer;
class PortMap;
class VolfileProvider;
class VolfileRegistry;
struct VolfileProviderKey;
}  // namespace gd2::sunrpc

namespace gd2::plugins {

// The public APIs plugins offer each other, by interface type (peer::PeerApi, volume::VolumeApi,
// ...). Filled while plugins register (Registrar::ProvideApi) and read-only afterwards, so Find()
// needs no lock; an API object lives as long as its plugin, which outlives every other plugin's
// Stop().
class ApiRegistry {
 public:
  // The plugin providing T, or nullptr if no plugin does (that plugin is not built in). Call from
  // Start() or later, never from a constructor or Register().
  template <typename T>
  T* Find() const {
    auto it = apis_.find(std::type_index(typeid(T)));
    return it == apis_.end() ? nullptr : static_cast<T*>(it->second.api);
  }

 private:
  friend class Registrar;
  struct Entry {
    void* api = nullptr;
    std::string plugin;
  };
  std::map<std::type_index, Entry> apis_;
};

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
  // The local copy of records that GET handlers read (store/view.h). Plugins choose what it
  // keeps with View::Keep in Register(); it starts before their Start(). Null in tests that
  // run without one: read etcd.
  store::View* view = nullptr;
  txn::Engine* txn = nullptr;
  sunrpc::RpcServer* rpc = nullptr;     // the Gluster RPC service on the client port
  sunrpc::PortMap* portmap = nullptr;   // brick path -> port, filled by brick SIGNIN
  peer_rpc::Client* peer_client = nullptr;  // RPC to other daemons (join, leave, steps)
  std::string secret;                        // the cluster's auth secret
  // How many etcd members the cluster keeps among its peers (embedded etcd); 0 with external
  // etcd, where peers are only clients.
  int etcd_members = 0;
  // Filled from what the plugins registered (`options` by Registrar::Finish), before any
  // plugin's Start(); read-only afterwards.
  ApiRegistry apis;
  volgen::OptionTable options;  // every volume option any plugin registered
};

// The store view snapshot a GET answers from, or null when it must read etcd instead (no view,
// the view does not serve, or it has not reached ctx.min_revision within the view's read wait).
// On an I/O thread (ctx.nonblocking) it never waits, and null means the handler must return
// ctx.Defer().
std::shared_ptr<const store::ViewSnapshot> ReadView(const Services& services,
                                                    const rest::RequestContext& ctx);

// Collects what plugins register. Aborts startup on a duplicate, naming both plugins. Used by
// the daemon's start-up thread only.
class Registrar {
 public:
  // `services` receives the APIs and, at Finish(), the option table; `volfiles` the volfile
  // providers.
  Registrar(rest::Router& router, txn::StepRegistry& steps, Services& services,
            sunrpc::VolfileRegistry& volfiles)
      : router_(router), steps_(steps), services_(services), volfiles_(volfiles) {}
  void SetPlugin(std::string_view name) { plugin_ = name; }
  void AddRoute(rest::Route route);
  // Registers the transaction step `id` ("plugin.verb") with its do and undo actions (either may
  // be nullptr) and an optional check of its decoded arguments (see txn::StepRegistry::Add).
  template <typename Args>
  void AddStep(const txn::StepId<Args>& id, std::type_identity_t<txn::StepAction<Args>> do_fn,
               std::type_identity_t<txn::StepAction<Args>> undo_fn,
               std::type_identity_t<txn::ArgsCheck<Args>> check = nullptr) {
    CheckNewStep(id.name());
    steps_.Add(id, std::move(do_fn), std::move(undo_fn), std::move(check));
  }
  // Declares the cluster locks step `id`, added before, runs under
  // (txn::StepRegistry::RequireLocks).
  template <typename Args>
  void RequireLocks(
      const txn::StepId<Args>& id,
      std::type_identity_t<std::function<std::vector<std::string>(const Args& args)>> locks) {
    steps_.RequireLocks(id, std::move(locks));
  }
  // Lets step `id`, added before, be a finish step (txn::Commit::finish;
  // StepRegistry::AllowAsFinish).
  template <typename Args>
  void AllowAsFinishStep(const txn::StepId<Args>& id) {
    steps_.AllowAsFinish(id);
  }

  // Declares the etcd key kind "gluster-<cid>/<kind>/" as this plugin's and returns its key
  // builder. Aborts for a kind another plugin declared, a core kind (store::IsCoreKeyKind) or a
  // name store::ValidateKeySegment refuses.
  store::KeyKind AddKeyKind(std::string_view kind);
  // Adds a volume option to the daemon's table (volgen::OptionTable). Aborts for a key another
  // plugin (or this one) registered already, or an option OptionTable::Create refuses (a bad
  // key, a default that is not its own normalised value).
  void AddOption(volgen::OptionDef def);
  // Offers `api`, this plugin's implementation of its public interface T
  // (plugins/<name>/<name>_api.h), to the other plugins through Services::apis. `api` must live
  // as long as the plugin. Aborts if another plugin provides T.
  template <typename T>
  void ProvideApi(T& api) {
    ProvideApiOf(std::type_index(typeid(T)), &api);
  }
  // Makes `provider` answer GETSPEC for volfile ids of `key` (sunrpc/volfile_provider.h), e.g.
  // {VolfileKind::kClient} or VolfileProviderKey::Daemon("shd"). The provider is not owned and
  // must live as long as the plugin. GETSPEC may call it as soon as this returns (before
  // Start()), and after Stop() until the daemon's RPC service stops.
  void AddVolfileProvider(const sunrpc::VolfileProviderKey& key, sunrpc::VolfileProvider& provider);
  // Makes this peer answer the query `id` (peer_rpc/query.h) that other peers ask over the peer
  // RPC about this peer's own state. `fn` runs on peer RPC threads, so it must be thread-safe;
  // the peer RPC serves it from before Start() until the daemon stops. Aborts if another plugin
  // serves a query of this name.
  template <typename Args, typename Result>
  void ServeQuery(peer_rpc::QueryId<Args, Result> id,
                  std::function<StatusOr<Result>(const peer_rpc::QueryContext&, const Args&)> fn) {
    CheckNewQuery(id.name);
    if (!queries_.Add(id, std::move(fn))) Refuse("bad query name: " + std::string(id.name));
    query_plugins_.emplace(std::string(id.name), plugin_);
  }
  // What ServeQuery registered, for the peer RPC server.
  const peer_rpc::QueryRegistry& queries() const { return queries_; }

  // After every plugin's Register(): builds Services::options from the registered options
  // (each was checked by AddOption, so this cannot fail).
  void Finish();

 private:
  // Aborts startup if a step of this name is registered already, naming the plugin.
  void CheckNewStep(std::string_view name) const;
  // Aborts startup if another plugin serves a query of this name, naming it.
  void CheckNewQuery(std::string_view name) const;
  void ProvideApiOf(std::type_index type, void* api);
  [[noreturn]] void Refuse(const std::string& what) const;  // "plugin <name>: <what>", abort

  rest::Router& router_;
  txn::StepRegistry& steps_;
  Services& services_;
  sunrpc::VolfileRegistry& volfiles_;
  std::string plugin_;
  std::map<std::string, std::string> key_kinds_;  // kind -> plugin
  std::map<std::string, std::string> options_;    // option key -> plugin
  std::vector<volgen::OptionDef> option_defs_;
  peer_rpc::QueryRegistry queries_;
  std::map<std::string, std::string, std::less<>> query_plugins_;  // query name -> plugin
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
