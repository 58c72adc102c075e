#include "plugins/volume/volume_store.h"

#include <algorithm>

#include <utility>

namespace gd2::plugins::volume {

StatusOr<std::string> VolumeKeys::Volume(std::string_view name) const {
  return volumes_.Key({{"volume", name}});
}

StatusOr<std::string> VolumeKeys::BrickState(std::string_view peer_id,
                                             std::string_view brick_path) const {
  const std::string escaped = store::EscapeKeySegment(brick_path);
  return brickstate_.Key({{"peer", peer_id}, {"brick", escaped}});
}

StatusOr<std::string> VolumeKeys::PendingPrefix(std::string_view peer_id) const {
  return pending_.Dir({{"peer", peer_id}});
}

StatusOr<std::string> VolumeKeys::Pending(std::string_view peer_id, std::string_view name) const {
  return pending_.Key({{"peer", peer_id}, {"pending work", name}});
}

StatusOr<StoredVolume> GetVolume(store::Store& store, const VolumeKeys& keys,
                                 const std::string& name) {
  auto key = keys.Volume(name);
  if (!key.ok()) return NotFoundError("volume not found");
  GD2_ASSIGN_OR_RETURN(std::optional<store::KeyValue> kv, store.Get(*key));
  if (!kv) return NotFoundError("volume not found");
  auto v = api::ParseVolume(kv->value);
  if (!v.ok()) return InternalError("corrupt volume record " + name + ": " + v.status().message());
  return StoredVolume{std::move(*v), kv->mod_revision};
}

StatusOr<StoredVolume> GetVolume(store::Store& store, const store::KeySpace& keys,
                                 const std::string& name) {
  return GetVolume(store, VolumeKeys(keys), name);
}

StatusOr<std::vector<StoredVolume>> ListVolumes(store::Store& store, const VolumeKeys& keys) {
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

Status KeepVolumes(store::View& view, const VolumeKeys& keys) {
  return view.Keep(keys.VolumesPrefix(), [](const store::KeyValue& kv) -> std::any {
    auto v = api::ParseVolume(kv.value);
    if (!v.ok()) return {};  // readers report the corrupt record
    return StoredVolume{std::move(*v), kv.mod_revision};
  });
}

StatusOr<StoredVolume> GetVolume(const store::ViewSnapshot& view, const VolumeKeys& keys,
                                 const std::string& name) {
  auto key = keys.Volume(name);
  if (!key.ok()) return NotFoundError("volume not found");
  const store::ViewEntry* e = view.Get(*key);
  if (e == nullptr) return NotFoundError("volume not found");
  return VolumeFromView(*e, name);
}

StatusOr<std::vector<StoredVolume>> ListVolumes(const store::ViewSnapshot& view,
                                                const VolumeKeys& keys) {
  std::vector<const store::ViewEntry*> entries = view.List(keys.VolumesPrefix());
  std::vector<StoredVolume> out;
  out.reserve(entries.size());
  for (const store::ViewEntry* e : entries) {
    GD2_ASSIGN_OR_RETURN(StoredVolume sv, VolumeFromView(*e, e->kv.key));
    out.push_back(std::move(sv));
  }
  return out;
}

StatusOr<StoredVolume> ReadVolumeAtLeast(const store::View* view, store::Store& store,
                                         const VolumeKeys& keys, const std::string& name,
                                         int64_t min_revision) {
  if (view != nullptr) {
    std::shared_ptr<const store::ViewSnapshot> snap = view->TryForRead(min_revision);
    if (snap != nullptr) {
      StatusOr<StoredVolume> sv = GetVolume(*snap, keys, name);
      if (sv.ok()) return sv;
    }
  }
  return GetVolume(store, keys, name);
}

void DeliveredRevisions::Delivered(const std::string& volume, int64_t revision, bool deleted) {
  MutexLock lock(mu_);
  int64_t& r = revision_[volume];
  r = std::max(r, revision);
  if (deleted) {
    deleted_.insert(volume);
  } else {
    deleted_.erase(volume);
  }
}

void DeliveredRevisions::RaiseFloor(int64_t revision) {
  MutexLock lock(mu_);
  floor_ = std::max(floor_, revision);
  // Entries at or below the floor add nothing (and may be of volumes whose delete was lost).
  for (auto it = revision_.begin(); it != revision_.end();) {
    if (it->second > floor_) {
      ++it;
      continue;
    }
    deleted_.erase(it->first);
    it = revision_.erase(it);
  }
}

int64_t DeliveredRevisions::For(const std::string& volume) const {
  MutexLock lock(mu_);
  auto it = revision_.find(volume);
  return std::max(floor_, it == revision_.end() ? int64_t{0} : it->second);
}

void DeliveredRevisions::ForgetDeletedUpTo(int64_t applied) {
  MutexLock lock(mu_);
  for (auto it = deleted_.begin(); it != deleted_.end();) {
    auto r = revision_.find(*it);
    if (r != revision_.end() && r->second > applied) {
      ++it;
      continue;
    }
    if (r != revision_.end()) revision_.erase(r);
    it = deleted_.erase(it);
  }
}

size_t DeliveredRevisions::size() const {
  MutexLock lock(mu_);
  return revision_.size();
}

Status VolumeExists(const store::View* view, store::Store& store, const VolumeKeys& keys,
                    const std::string& name, int64_t min_revision) {
  return ReadVolumeAtLeast(view, store, keys, name, min_revision).status();
}

StatusOr<VolumeCommit> PutCommit(const VolumeKeys& keys, const api::Volume& v,
                                 int64_t read_revision) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Volume(v.name));
  VolumeCommit c;
  c.compares.push_back(read_revision == 0 ? store::Compare::KeyMissing(key)
                                          : store::Compare::ModRevisionEquals(key, read_revision));
  c.ops.push_back(store::Op::Put(key, api::SerializeVolume(v, api::JsonView::kStore)));
  return c;
}

StatusOr<VolumeCommit> DeleteCommit(const VolumeKeys& keys, const std::string& name,
                                    int64_t read_revision) {
  GD2_ASSIGN_OR_RETURN(std::string key, keys.Volume(name));
  VolumeCommit c;
  c.compares.push_back(store::Compare::ModRevisionEquals(key, read_revision));
  c.ops.push_back(store::Op::Delete(key));
  return c;
}

StatusOr<api::Volume> StoredVolumes::GetVolume(const std::string& name) const {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, volume::GetVolume(store_, keys_, name));
  return std::move(sv.volume);
}

StatusOr<std::vector<api::Volume>> StoredVolumes::ListVolumes() const {
  GD2_ASSIGN_OR_RETURN(std::vector<StoredVolume> all, volume::ListVolumes(store_, keys_));
  std::vector<api::Volume> out;
  out.reserve(all.size());
  for (auto& sv : all) out.push_back(std::move(sv.volume));
  return out;
}

StatusOr<std::vector<HostedBrick>> StoredVolumes::BricksOnPeer(const std::string& peer_id) const {
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> kvs, store_.List(keys_.VolumesPrefix()));
  std::vector<HostedBrick> out;
  for (const auto& kv : kvs) {
    auto v = api::ParseVolume(kv.value);
    if (!v.ok()) continue;
    for (const auto& sv : v->subvols) {
      for (const auto& b : sv.bricks) {
        if (b.peer_id == peer_id) out.push_back(HostedBrick{v->name, b});
      }
    }
  }
  return out;
}

}  // namespace gd2::plugins::volume
