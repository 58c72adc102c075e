// The volume plugin's public surface: what other plugins may ask about volumes. Other plugins
// include only this header of the volume plugin and find the implementation with
// services.apis.Find<volume::VolumeApi>() (plugins/plugin.h); they never read volumes/ keys
// themselves. Every call reads the store as it is now (no cache) and is safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "api/volume.h"
#include "common/status.h"

namespace gd2::plugins::volume {

// One brick and the volume it belongs to.
struct HostedBrick {
  std::string volume;
  api::Brick brick;
};

class VolumeApi {
 public:
  virtual ~VolumeApi() = default;

  // The stored volume (with its brick login credentials, which callers must not show). kNotFound
  // "volume not found" when there is none; errors of the store as they are (kUnavailable,
  // kDeadlineExceeded); kInternal "corrupt volume record ..." for a record that does not parse.
  virtual StatusOr<api::Volume> GetVolume(const std::string& name) const = 0;

  // Every volume, in name order. kInternal if any record does not parse.
  virtual StatusOr<std::vector<api::Volume>> ListVolumes() const = 0;

  // The bricks `peer_id` hosts, of every volume, in volume name and brick order. Records that do
  // not parse are skipped (they cannot start bricks either).
  virtual StatusOr<std::vector<HostedBrick>> BricksOnPeer(const std::string& peer_id) const = 0;
};

}  // namespace gd2::plugins::volume
