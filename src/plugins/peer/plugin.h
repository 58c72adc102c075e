// Peers: the membership list of the cluster. This peer registers itself in the store at start;
// liveness comes from a key bound to the daemon's session lease.
#pragma once

#include <memory>

#include "plugins/plugin.h"

namespace gd2::store {
class Watcher;
}

namespace gd2::plugins::peer {

class PeerPlugin : public Plugin {
 public:
  explicit PeerPlugin(Services& services);
  ~PeerPlugin() override;
  std::string_view Name() const override { return "peer"; }
  void Register(Registrar& r) override;
  // Watches liveness keys and logs peers going online and offline.
  Status Start() override;
  void Stop() override;

 private:
  Status StartWatch();
  StatusOr<rest::Response> Add(rest::RequestContext& ctx);
  StatusOr<rest::Response> Remove(rest::RequestContext& ctx);
  StatusOr<rest::Response> Edit(rest::RequestContext& ctx);

  Services& services_;
  std::unique_ptr<store::Watcher> watcher_;
};

}  // namespace gd2::plugins::peer
