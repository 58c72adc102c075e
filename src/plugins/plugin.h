// The plugin interface: a feature (peers, volumes, devices, ...) is a folder under plugins/ whose
// Plugin registers its ReST routes (and later transaction steps and options) in one Register()
// call. daemon/plugins.cc lists every plugin; core code never includes a plugin.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "rest/router.h"
#include "store/keys.h"

namespace gd2::store {
class Store;
}

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
};

// Collects what plugins register. Aborts startup on a duplicate, naming both plugins.
class Registrar {
 public:
  explicit Registrar(rest::Router& router) : router_(router) {}
  void SetPlugin(std::string_view name) { plugin_ = name; }
  void AddRoute(rest::Route route);

 private:
  rest::Router& router_;
  std::string plugin_;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view Name() const = 0;
  // Called once at startup, before serving.
  virtual void Register(Registrar& r) = 0;
  // Called after the store is connected, before the API serves; undone by Stop().
  virtual Status Start() { return OkStatus(); }
  virtual void Stop() {}
};

}  // namespace gd2::plugins
