// The list of every plugin: a new feature is one folder plus one line in plugins.cc.
#pragma once

#include <memory>
#include <vector>

#include "plugins/plugin.h"

namespace gd2::daemon {

std::vector<std::unique_ptr<plugins::Plugin>> AllPlugins(plugins::Services& services);

}  // namespace gd2::daemon
