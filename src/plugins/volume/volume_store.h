// The volume plugin's records in the store, under the key kinds it declares:
//   gluster-<cid>/volumes/<name>                       the full api::Volume (store view, with the
//                                                      brick login credentials)
//   gluster-<cid>/brickstate/<peer-id>/<brick path>    live state of one brick process ('/' as
//                                                      %2F), written by the peer running it and
//                                                      bound to its session lease
//   gluster-<cid>/pending/<peer-id>/<name>             work a peer does when it is back (brick
//                                                      cleanup of a volume deleted meanwhile)
// Internal to the volume plugin; other plugins use plugins/volume/volume_api.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/volume.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "plugins/volume/volume_api.h"
#include "store/keys.h"
#include "store/store.h"
#include "store/view.h"

namespace gd2::plugins::volume {

inline constexpr char kVolumesKind[] = "volumes";
inline constexpr char kBrickStateKind[] = "brickstate";
inline constexpr char kPendingKind[] = "pending";

// Builds the keys above; each returns kInvalidArgument for a segment store::ValidateKeySegment
// refuses. Immutable, cheap to copy, thread-safe.
class VolumeKeys {
 public:
  explicit VolumeKeys(const store::KeySpace& keys)
      : volumes_(keys, kVolumesKind),
        brickstate_(keys, kBrickStateKind),
        pending_(keys, kPendingKind) {}

  const std::string& VolumesPrefix() const { return volumes_.Prefix(); }
  StatusOr<std::string> Volume(std::string_view name) const;
  StatusOr<std::string> BrickState(std::string_view peer_id, std::string_view brick_path) const;
  StatusOr<std::string> PendingPrefix(std::string_view peer_id) const;
  StatusOr<std::string> Pending(std::string_view peer_id, std::string_view name) const;

 private:
  store::KeyKind volumes_;
  store::KeyKind brickstate_;
  store::KeyKind pending_;
};

struct StoredVolume {
  api::Volume volume;
  int64_t mod_revision = 0;  // for compare-and-swap commits
};

// kNotFound "volume not found" (the text clients match on).
StatusOr<StoredVolume> GetVolume(store::Store& store, const VolumeKeys& keys,
                                 const std::string& name);
// The same, for callers holding the cluster's KeySpace (the step code).
StatusOr<StoredVolume> GetVolume(store::Store& store, const store::KeySpace& keys,
                                 const std::string& name);
StatusOr<std::vector<StoredVolume>> ListVolumes(store::Store& store, const VolumeKeys& keys);

// Has `view` keep the volume records, decoded to StoredVolume, for the overloads below. Call
// before the view starts.
Status KeepVolumes(store::View& view, const VolumeKeys& keys);
// GetVolume and ListVolumes from a snapshot of a view that keeps them (KeepVolumes): the same
// answers and errors, no etcd round trip.
StatusOr<StoredVolume> GetVolume(const store::ViewSnapshot& view, const VolumeKeys& keys,
                                 const std::string& name);
StatusOr<std::vector<StoredVolume>> ListVolumes(const store::ViewSnapshot& view,
                                                const VolumeKeys& keys);

// Volume `name` from `view` (may be null; kept with KeepVolumes) when it serves, has reached
// `min_revision` and has the volume, which saves a round trip to etcd; from etcd otherwise (the
// view may not have seen a create yet), so a volume etcd has is never reported missing. The
// answer reflects at least `min_revision`; GetVolume's errors (kNotFound "volume not found").
StatusOr<StoredVolume> ReadVolumeAtLeast(const store::View* view, store::Store& store,
                                         const VolumeKeys& keys, const std::string& name,
                                         int64_t min_revision);
// Per volume, the revision of the newest change to its record that the volume plugin's watch
// delivered (a delete included). A read for a volfile asks the store view to have applied it
// (ReadVolumeAtLeast), since the watch tells the volume's processes to fetch their volfiles
// again after a change and what they fetch then must not predate it. Thread-safe.
class DeliveredRevisions {
 public:
  void Delivered(const std::string& volume, int64_t revision, bool deleted) GD2_EXCLUDES(mu_);
  // Changes up to `revision` were lost from etcd's history before the watch delivered them
  // (store::Watcher::OnGap): every read must reflect at least `revision` from now on.
  void RaiseFloor(int64_t revision) GD2_EXCLUDES(mu_);
  // The revision a read of `volume` must reflect: the newest change delivered for it, or the
  // floor if that is higher; 0 when neither is known.
  int64_t For(const std::string& volume) const GD2_EXCLUDES(mu_);
  // Forgets the deleted volumes whose delete is at or below `applied` (the store view's
  // revision; a view that has applied the delete answers "not found" without being told the
  // revision), so that deleted volumes do not pile up.
  void ForgetDeletedUpTo(int64_t applied) GD2_EXCLUDES(mu_);
  size_t size() const GD2_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::map<std::string, int64_t> revision_ GD2_GUARDED_BY(mu_);
  std::set<std::string> deleted_ GD2_GUARDED_BY(mu_);
  int64_t floor_ GD2_GUARDED_BY(mu_) = 0;
};

// Whether it exists, for the check before a transaction on it (whose plan reads the volume
// again under its lock, from etcd).
Status VolumeExists(const store::View* view, store::Store& store, const VolumeKeys& keys,
                    const std::string& name, int64_t min_revision);

// The commit of a changed volume: fenced on the revision it was read at.
struct VolumeCommit {
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
};
StatusOr<VolumeCommit> PutCommit(const VolumeKeys& keys, const api::Volume& v,
                                 int64_t read_revision);  // 0: must not exist yet
StatusOr<VolumeCommit> DeleteCommit(const VolumeKeys& keys, const std::string& name,
                                    int64_t read_revision);

// VolumeApi over the store: what the volume plugin offers other plugins.
class StoredVolumes : public VolumeApi {
 public:
  // `store` must outlive this object.
  StoredVolumes(store::Store& store, VolumeKeys keys) : store_(store), keys_(std::move(keys)) {}

  StatusOr<api::Volume> GetVolume(const std::string& name) const override;
  StatusOr<std::vector<api::Volume>> ListVolumes() const override;
  StatusOr<std::vector<HostedBrick>> BricksOnPeer(const std::string& peer_id) const override;

 private:
  store::Store& store_;
  const VolumeKeys keys_;
};

}  // namespace gd2::plugins::volume
