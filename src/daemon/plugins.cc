#include "daemon/plugins.h"

#include "plugins/peer/plugin.h"

namespace gd2::daemon {

std::vector<std::unique_ptr<plugins::Plugin>> AllPlugins(plugins::Services& services) {
  std::vector<std::unique_ptr<plugins::Plugin>> out;
  out.push_back(std::make_unique<plugins::peer::PeerPlugin>(services));
  return out;
}

}  // namespace gd2::daemon
