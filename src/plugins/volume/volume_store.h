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

namespace gd2::plugins::volume {

struct StoredVolume {
  api::Volume volume;
  int64_t mod_revision = 0;  // for compare-and-swap commits
};

// kNotFound "volume not found" (the text clients match on).
StatusOr<StoredVolume> GetVolume(store::Store& store, const store::KeySpace& keys,
                                 const std::string& name);
StatusOr<std::vector<StoredVolume>> ListVolumes(store::Store& store, const store::KeySpace& keys);

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
