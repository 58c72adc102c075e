// Volume records in the store: gluster-<cid>/volumes/<name>, the full api::Volume (store view,
// with the brick login credentials).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/volume.h"
#include "common/status.h"
#include "store/keys.h"
#include "store/store.h"
#include "store/view.h"

namespace gd2::plugins::volume {

struct StoredVolume {
  api::Volume volume;
  int64_t mod_revision = 0;  // for compare-and-swap commits
};

// kNotFound "volume not found" (the text clients match on).
StatusOr<StoredVolume> GetVolume(store::Store& store, const store::KeySpace& keys,
                                 const std::string& name);
StatusOr<std::vector<StoredVolume>> ListVolumes(store::Store& store, const store::KeySpace& keys);

// Has `view` keep the volume records, decoded to StoredVolume, for the overloads below. Call
// before the view starts.
Status KeepVolumes(store::View& view, const store::KeySpace& keys);
// GetVolume and ListVolumes from a snapshot of a view that keeps them (KeepVolumes): the same
// answers and errors, no etcd round trip.
StatusOr<StoredVolume> GetVolume(const store::ViewSnapshot& view, const store::KeySpace& keys,
                                 const std::string& name);
StatusOr<std::vector<StoredVolume>> ListVolumes(const store::ViewSnapshot& view,
                                                const store::KeySpace& keys);

// The commit of a changed volume: fenced on the revision it was read at.
struct VolumeCommit {
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
};
StatusOr<VolumeCommit> PutCommit(const store::KeySpace& keys, const api::Volume& v,
                                 int64_t read_revision);  // 0: must not exist yet
StatusOr<VolumeCommit> DeleteCommit(const store::KeySpace& keys, const std::string& name,
                                    int64_t read_revision);

}  // namespace gd2::plugins::volume
