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
