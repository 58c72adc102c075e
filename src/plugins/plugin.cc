#include "plugins/plugin.h"

#include <cstdio>
#include <cstdlib>

#include "store/view.h"
#include "sunrpc/volfile_provider.h"

namespace gd2::plugins {

std::shared_ptr<const store::ViewSnapshot> ReadView(const Services& services,
                                                    const rest::RequestContext& ctx) {
  if (services.view == nullptr) return nullptr;
  return ctx.nonblocking ? services.view->TryForRead(ctx.min_revision)
                         : services.view->ForRead(ctx.min_revision);
}

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
    std::fprintf(stderr, "plugin %s: duplicate step %.*s\n", plugin_.c_str(),
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
}

void Registrar::Refuse(const std::string& what) const {
  std::fprintf(stderr, "plugin %s: %s\n", plugin_.c_str(), what.c_str());
  std::abort();
}

store::KeyKind Registrar::AddKeyKind(std::string_view kind) {
  std::string name(kind);
  if (Status s = store::ValidateKeySegment("key kind", kind); !s.ok()) {
    Refuse("cannot declare key kind: " + s.message());
  }
  if (store::IsCoreKeyKind(kind)) Refuse("key kind " + name + " already declared by core");
  auto [it, inserted] = key_kinds_.emplace(name, plugin_);
  if (!inserted) Refuse("key kind " + name + " already declared by plugin " + it->second);
  return store::KeyKind(services_.keys, kind);
}

void Registrar::AddOption(volgen::OptionDef def) {
  // The checks OptionTable::Create makes of one option, here where the plugin is known.
  if (auto alone = volgen::OptionTable::Create({def}); !alone.ok()) {
    Refuse("cannot register option: " + alone.status().message());
  }
  auto [it, inserted] = options_.emplace(def.key, plugin_);
  if (!inserted) Refuse("option " + def.key + " already registered by plugin " + it->second);
  option_defs_.push_back(std::move(def));
}

void Registrar::ProvideApiOf(std::type_index type, void* api) {
  auto [it, inserted] = services_.apis.apis_.emplace(type, ApiRegistry::Entry{api, plugin_});
  if (!inserted) {
    Refuse(std::string("API ") + type.name() + " already provided by plugin " + it->second.plugin);
  }
}

void Registrar::Finish() {
  // Each option was checked alone and keys are unique, so the table builds.
  StatusOr<volgen::OptionTable> table = volgen::OptionTable::Create(option_defs_);
  GD2_CHECK(table.ok());
  services_.options = std::move(table).value();
}

void Registrar::AddVolfileProvider(const sunrpc::VolfileProviderKey& key,
                                   sunrpc::VolfileProvider& provider) {
  Status s = volfiles_.Add(key, provider);
  if (!s.ok()) {
    std::fprintf(stderr, "plugin %s: cannot register volfile provider: %s\n", plugin_.c_str(),
                 s.ToString().c_str());
    std::abort();
  }
}

void Registrar::CheckNewQuery(std::string_view name) const {
  if (auto it = query_plugins_.find(name); it != query_plugins_.end()) {
    Refuse("query " + std::string(name) + " already served by plugin " + it->second);
  }
}

}  // namespace gd2::plugins
