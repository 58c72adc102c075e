// Preparing and releasing brick roots on this node, as glusterd's `volume create` / `delete`
// do: path checks, the trusted.glusterfs.volume-id xattr and the brick's .glusterfs directory.
// A brick path is opened one component at a time from "/" with O_NOFOLLOW and every check and
// change goes through those descriptors, so no symlink in the path is ever followed and a path
// swapped for a link halfway cannot redirect a write.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>

#include "common/status.h"

namespace gd2::brick {

inline constexpr char kVolumeIdXattr[] = "trusted.glusterfs.volume-id";
inline constexpr char kGfidXattr[] = "trusted.gfid";
// glusterd probes xattr support with this name and removes it again.
inline constexpr char kTestXattr[] = "trusted.glusterfs.test";
inline constexpr char kInternalDir[] = ".glusterfs";

struct PrepareOptions {
  bool create_dir = false;            // mkdir -p the brick directory if missing
  bool reuse = false;                 // accept a root that already has trusted.gfid (old data)
  bool allow_root_dir = false;        // accept a brick on the root filesystem ("force")
  bool allow_mount_as_brick = false;  // accept a mount point itself as the brick root
};

// api::ValidateBrickPath: absolute, normalised, allowlisted characters, bounded length.
// kInvalidArgument naming the path otherwise.
Status ValidateBrickPath(const std::string& path);

// Makes `path` a brick root of volume `volume_id` (canonical UUID). Checks:
//   kInvalidArgument     path invalid (ValidateBrickPath), volume_id not a UUID; the path is or
//                        passes through a symlink (the message names the link);
//   kFailedPrecondition  path or a parent missing (and !create_dir), or not a directory; on the
//                        root filesystem (unless allow_root_dir); a mount point itself (unless
//                        allow_mount_as_brick); the filesystem refuses trusted.* xattrs (procfs,
//                        sysfs) or is read-only;
//   kAlreadyExists       path or one of its parents carries another volume's volume-id (never
//                        overridable: clear it by hand), a parent carries trusted.gfid, or the
//                        path carries trusted.gfid without a volume-id (unless reuse);
//   kPermissionDenied    the filesystem refuses access.
// Then sets trusted.glusterfs.volume-id to the 16 raw UUID bytes and creates <path>/.glusterfs
// (mode 0600; an existing one must be a real directory), which is everything glusterd 10.3 sets
// at create time; the brick process itself adds trusted.gfid and fills .glusterfs at first
// start. On failure the directories this call created are removed again (if still empty).
// Idempotent: a root that already carries the same volume-id is accepted as it is.
// Thread-compatible; does not lock against a concurrent call on the same path.
Status PrepareBrick(const std::string& path, const std::string& volume_id,
                    const PrepareOptions& options = {});

struct UnprepareOptions {
  // Volume delete: also remove <path>/.glusterfs and every gluster xattr of the root
  // (trusted.glusterfs.*, trusted.gfid, trusted.afr.*, trusted.ec.*), so the directory can be
  // used for a new volume without `reuse`. Without it (undo of a create that never started a
  // brick, or "detach but keep"), only the volume-id xattr is removed.
  bool remove_internal_dir = false;
  // Finally rmdir the brick directory if it is then empty (undo of create_dir).
  bool remove_dir_if_empty = false;
  // A root that carries another volume's id is not this volume's to clean: leave it as it is
  // and return OK instead of kFailedPrecondition (the undo of a create that PrepareBrick refused
  // the path for, or a delete after another volume took the path).
  bool leave_other_volume = false;
  // With remove_internal_dir: stop removing once this time has passed (a .glusterfs of millions
  // of entries takes minutes), leaving the root's volume-id in place so that the next call
  // resumes where this one stopped; kDeadlineExceeded then. The default never stops.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The same when a stop is requested (the transaction gave up on the step): kCancelled.
  std::stop_token cancel{};
};

// OK while a cleanup with `options` may go on; kDeadlineExceeded once options.deadline passed
// and kCancelled once options.cancel was requested, each naming `what` and saying that the next
// cleanup resumes it.
Status CleanupMayGoOn(const UnprepareOptions& options, const std::string& what);

// Undoes PrepareBrick for volume `volume_id`. User files and their own xattrs always stay.
// OK if the path or the volume-id xattr is already gone (idempotent, also after a PrepareBrick
// that stopped halfway), and OK without touching anything when the path is now a symlink, passes
// through one or is not a directory: whatever the brick became, its volume can be deleted, and
// nothing is done through a link. .glusterfs is removed without following links inside it.
// kFailedPrecondition if the root carries another volume's id (nothing is touched; OK with
// options.leave_other_volume);
// kInvalidArgument for a bad path or id; kDeadlineExceeded if options.deadline passed, or
// kCancelled if options.cancel was requested, with .glusterfs not yet removed (the volume-id
// stays); other codes if a removal fails.
Status UnprepareBrick(const std::string& path, const std::string& volume_id,
                      const UnprepareOptions& options = {});

// Whose brick root `path` is, by its volume-id xattr: kThisVolume (it carries `volume_id`),
// kOtherVolume (another id), kNoVolume (none), kUnknown (missing, a symlink on the way, not a
// directory, or unreadable). A root that carries a volume's id cannot be taken by another volume
// (PrepareBrick refuses it) until that id is removed. Never follows a link.
enum class RootOwner { kThisVolume, kOtherVolume, kNoVolume, kUnknown };
RootOwner BrickRootOwner(const std::string& path, const std::string& volume_id);

// The start-time check glusterd makes: OK if the root carries `volume_id`; kFailedPrecondition
// if the xattr is missing or differs, or the path is or passes through a symlink or is missing
// (the brick must not be started).
Status VerifyBrickVolumeId(const std::string& path, const std::string& volume_id);

}  // namespace gd2::brick
