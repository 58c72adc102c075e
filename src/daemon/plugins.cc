#include "daemon/plugins.h"

#include "plugins/peer/plugin.h"
#include "plugins/volume/plugin.h"

namespace gd2::daemon {

std::vector<std::unique_ptr<plugins::Plugin>> AllPlugins(plugins::Services& services) {
  std::vector<std::unique_ptr<plugins::Plugin>> out;
  out.push_back(std::make_unique<plugins::peer::PeerPlugin>(services));
  out.push_back(std::make_unique<plugins::volume::VolumePlugin>(services));
  return out;
}

}  // namespace gd2::daemon
