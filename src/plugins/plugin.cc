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

void Registrar::CheckNewStep(std::string_view name) const {
  if (steps_.Has(name)) {
    std::fprintf(stderr, "plugin %s: duplicate step %.*s\n", plugin_.c_str(), static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
}

}  // namespace gd2::plugins
