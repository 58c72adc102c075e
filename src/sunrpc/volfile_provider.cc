#include "sunrpc/volfile_provider.h"

namespace gd2::sunrpc {

VolfileProviderKey VolfileProviderKey::Of(const VolfileId& id) {
  return {id.kind, id.kind == VolfileKind::kDaemon ? id.daemon : std::string()};
}

std::string VolfileProviderKey::ToString() const {
  std::string out(VolfileKindName(kind));
  if (!daemon.empty()) out += "/" + daemon;
  return out;
}

Status VolfileRegistry::Add(const VolfileProviderKey& key, VolfileProvider& provider) {
  if ((key.kind == VolfileKind::kDaemon) == key.daemon.empty()) {
    return InvalidArgumentError("volfile provider key: daemon name belongs to daemon kinds only: " +
                                key.ToString());
  }
  MutexLock lock(mu_);
  if (!providers_.emplace(key, &provider).second) {
    return AlreadyExistsError("volfile provider already registered: kind=" + key.ToString());
  }
  return OkStatus();
}

VolfileProvider* VolfileRegistry::Find(const VolfileId& id) const {
  MutexLock lock(mu_);
  auto it = providers_.find(VolfileProviderKey::Of(id));
  return it == providers_.end() ? nullptr : it->second;
}

}  // namespace gd2::sunrpc
