#include "daemon/plugins.h"

#include "plugins/peer/plugin.h"
#include "plugins/volume/plugin.h"

namespace gd2::daemon {

// In the order plugins register, start and serve (they stop in reverse). Plugins reach each
// other's APIs through services.apis from Start() on, so this order is not a dependency order.
std::vector<std::unique_ptr<plugins::Plugin>> AllPlugins(plugins::Services& services) {
  std::vector<std::unique_ptr<plugins::Plugin>> out;
  out.push_back(std::make_unique<plugins::peer::PeerPlugin>(services));
  out.push_back(std::make_unique<plugins::volume::VolumePlugin>(services));
  return out;
}

}  // namespace gd2::daemon
