#include "plugins/volume/volume_store.h"

namespace gd2::plugins::volume {

StatusOr<StoredVolume> GetVolume(store::Store& store, const store::KeySpace& keys,
                                 const std::string& name) {
  auto key = keys.Volume(name);
  if (!key.ok()) return NotFoundError("volume not found");
  GD2_ASSIGN_OR_RETURN(std::optional<store::KeyValue> kv, store.Get(*key));
  if (!kv) return NotFoundError("volume not found");
  auto v = api::ParseVolume(kv->value);
  if (!v.ok()) return InternalError("corrupt volume record " + name + ": " + v.status().message());
  return StoredVolume{std::move(*v), kv->mod_revision};
}

StatusOr<std::vector<StoredVolume>> ListVolumes(store::Store& store, const store::KeySpace& keys) {
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> kvs, store.List(keys.VolumesPrefix()));
  std::vector<StoredVolume> out;
  out.reserve(kvs.size());
  for (const auto& kv : kvs) {
    auto v = api::ParseVolume(kv.value);
    if (!v.ok()) return InternalError("corrupt volume record " + kv.key + ": " + v.status().message());
    out.push_back(StoredVolume{std::move(*v), kv.mod_revision});
  }
  return out;
}

namespace {

// `what` names the record in the error, as the etcd reads do.
StatusOr<StoredVolume> VolumeFromView(const store::ViewEntry& e, const std::string& what) {
  if (const StoredVolume* sv = e.As<StoredVolume>(); sv != nullptr) return *sv;
  auto v = api::ParseVolume(e.kv.value);
  if (!v.ok()) return InternalError("corrupt volume record " + what + ": " + v.status().message());
  return StoredVolume{std::move(*v), e.kv.mod_revision};
}

}  // namespace

Status KeepVolumes(store::View& view, const store::KeySpace& keys) {
  return view.Keep(keys.VolumesPrefix(), [](const store::KeyValue& kv) -> std::any {
    auto v = api::ParseVolume(kv.value);
    if (!v.ok()) return {};  // readers report the corrupt record
    return StoredVolume{std::move(*v), kv.mod_revision};
  });
}

StatusOr<StoredVolume> GetVolume(const store::ViewSnapshot& view, const store::KeySpace& keys,
                                 const std::string& name) {
  auto key = keys.Volume(name);
  if (!key.ok()) return NotFoundError("volume not found");
  const store::ViewEntry* e = view.Get(*key);
  if (e == nullptr) return NotFoundError("volume not found");
  return VolumeFromView(*e, name);
}

StatusOr<std::vector<StoredVolume>> ListVolumes(const store::ViewSnapshot& view,
                                                const store::KeySpace& keys) {
  std::vector<const store::ViewEntry*> entries = view.List(keys.VolumesPrefix());
  std::vector<StoredVolume> out;
  out.reserve(entries.size());
  for (const store::ViewEntry* e : entries) {
    GD2_ASSIGN_OR_RETURN(StoredVolume sv, VolumeFromView(*e, e->kv.key));
    out.push_back(std::move(sv));
  }
  return out;
}

StatusOr<VolumeCommit> PutCommit(const store::KeySpace& keys, const api::Volume& v,
                                 int64_t read_revision) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Volume(v.name));
  VolumeCommit c;
  c.compares.push_back(read_revision == 0 ? store::Compare::KeyMissing(key)
                                          : store::Compare::ModRevisionEquals(key, read_revision));
  c.ops.push_back(store::Op::Put(key, api::SerializeVolume(v, api::JsonView::kStore)));
  return c;
}

StatusOr<VolumeCommit> DeleteCommit(const store::KeySpace& keys, const std::string& name,
                                    int64_t read_revision) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Volume(name));
  VolumeCommit c;
  c.compares.push_back(store::Compare::ModRevisionEquals(key, read_revision));
  c.ops.push_back(store::Op::Delete(key));
  return c;
}

}  // namespace gd2::plugins::volume
