#include "plugins/plugin.h"

#include <cstdio>
#include <cstdlib>

namespace gd2::plugins {

void Registrar::AddRoute(rest::Route route) {
  std::string name = route.name;
  Status s = router_.Add(std::move(route));
  if (!s.ok()) {
    std::fprintf(stderr, "plugin %s: cannot register route %s: %s\n", plugin_.c_str(), name.c_str(),
                 s.ToString().c_str());
    std::abort();
  }
}

void Registrar::AddStep(const std::string& name, txn::StepFunc do_fn, txn::StepFunc undo_fn) {
  if (steps_.Find(name) != nullptr) {
    std::fprintf(stderr, "plugin %s: duplicate step %s\n", plugin_.c_str(), name.c_str());
    std::abort();
  }
  steps_.Add(name, std::move(do_fn), std::move(undo_fn));
}

void Registrar::ServeHealInfo(peer_rpc::HealInfoFunc fn) {
  if (heal_info_) {
    std::fprintf(stderr, "plugins %s and %s both serve heal info\n", heal_info_plugin_.c_str(),
                 plugin_.c_str());
    std::abort();
  }
  heal_info_ = std::move(fn);
  heal_info_plugin_ = plugin_;
}

}  // namespace gd2::plugins
