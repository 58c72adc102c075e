// The arguments of the volume plugin's transaction steps and of its pending/ records, decoded
// and validated in one place. Arguments reach a step from the store (transaction records read
// back by recovery or takeover, pending work) or from another peer: each is checked as strictly
// as the API checks a request (volume names, brick paths, UUIDs, host names) before a step acts
// on it, and a path is only ever built from checked parts. Decoding never throws; a failure is
// txn::BadArgumentsError naming the step and the field.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/volume.h"
#include "api/volume_req.h"
#include "common/status.h"
#include "peer_rpc/query.h"
#include "txn/step.h"

namespace gd2::plugins::volume {

inline constexpr char kPrepareBricksStep[] = "volume.prepare-bricks";
inline constexpr char kStartBricksStep[] = "volume.start-bricks";
inline constexpr char kStopBricksStep[] = "volume.stop-bricks";
inline constexpr char kDeleteBricksStep[] = "volume.delete-bricks";

struct BrickSetArgs;
struct VolumeArgs;
// The steps, each tied to its argument type.
inline constexpr txn::StepId<BrickSetArgs> kPrepareBricks{kPrepareBricksStep};
inline constexpr txn::StepId<VolumeArgs> kStartBricks{kStartBricksStep};
inline constexpr txn::StepId<VolumeArgs> kStopBricks{kStopBricksStep};
inline constexpr txn::StepId<BrickSetArgs> kDeleteBricks{kDeleteBricksStep};

inline constexpr size_t kMaxStepBricks = 4096;
inline constexpr size_t kMaxHostLength = 255;

// A brick cleanup (removing .glusterfs) stops early enough before its step's deadline to
// answer: at the deadline the initiator gives up and lets the volume's lock go. The margin is
// kCleanupMargin, or an eighth of the time left if that is shorter; no deadline stays none.
inline constexpr std::chrono::seconds kCleanupMargin{2};
txn::Deadline CleanupDeadline(txn::Deadline step_deadline,
                              txn::Deadline now = std::chrono::steady_clock::now());

// This peer's bricks of one volume: volume.prepare-bricks (do; undo of volume.delete-bricks)
// and volume.delete-bricks (do; undo of volume.prepare-bricks), and pending deletes.
struct BrickSetArgs {
  std::string volume;     // api::ValidateVolumeName
  std::string volume_id;  // canonical UUID
  std::vector<std::string> paths;  // api::ValidateBrickPath each, none inside or above the workdir
  std::string host;       // optional; the bricks' host name as written in their volfile ids
  bool create_dir = false;
  bool reuse = false;
  bool allow_root_dir = false;
  bool allow_mount_as_brick = false;
};

// The step argument mapping (txn/step.h): every field's type and syntax; DecodeStepArgs does not
// know the workdir, CheckBrickSetArgs adds that check (the registry runs both).
nlohmann::json EncodeStepArgs(const BrickSetArgs& a);
Status DecodeStepArgs(const nlohmann::json& json, BrickSetArgs* a);
// kInvalidArgument naming the path for a brick inside (or containing) `workdir`.
Status CheckBrickSetArgs(const BrickSetArgs& a, const std::string& workdir);

nlohmann::json EncodeBrickSetArgs(const BrickSetArgs& a);
// `workdir` is the daemon's: a brick path inside it (or containing it) is refused, as at create.
StatusOr<BrickSetArgs> DecodeBrickSetArgs(std::string_view step, const nlohmann::json& args,
                                          const std::string& workdir);

// volume.start-bricks / volume.stop-bricks: the whole volume record. Decoded with
// api::VolumeFromJson and checked with api::ValidateVolume, plus UUIDs for the volume and every
// brick's peer, host names, and no brick inside or above the workdir.
// Each peer of the step acts on its own bricks of it.
struct VolumeArgs {
  api::Volume volume;
};
nlohmann::json EncodeStepArgs(const VolumeArgs& a);
Status DecodeStepArgs(const nlohmann::json& json, VolumeArgs* a);
// kInvalidArgument naming the path for a brick inside (or containing) `workdir`.
Status CheckVolumeArgs(const VolumeArgs& a, const std::string& workdir);

nlohmann::json EncodeVolumeArgs(const api::Volume& v);
StatusOr<api::Volume> DecodeVolumeArgs(std::string_view step, const nlohmann::json& args,
                                       const std::string& workdir);

// A pending/<peer>/<name> record: work a peer does when it is back (a volume delete's brick
// cleanup). Only volume.delete-bricks is known.
struct PendingWork {
  std::string step;
  BrickSetArgs args;
};
std::string EncodePendingWork(const PendingWork& w);
// Malformed text, an unknown step or bad arguments: txn::BadArgumentsError.
StatusOr<PendingWork> DecodePendingWork(std::string_view text, const std::string& workdir);

// The arguments of the volume plugin's peer queries: the volume asked about.
struct VolumeQueryArgs {
  std::string volume;
};
void to_json(nlohmann::json& j, const VolumeQueryArgs& a);
void from_json(const nlohmann::json& j, VolumeQueryArgs& a);  // throws on a missing name

// Peer queries (peer_rpc/query.h), answered by the peer about its own bricks of the volume:
// their full status (state, port, filesystem, device, mount options, size), and their heal
// info (counted on that peer). The answering peer reads the volume from the store.
inline constexpr peer_rpc::QueryId<VolumeQueryArgs, std::vector<api::BrickStatus>>
    kBrickStatusQuery{"volume.brick-status"};
inline constexpr peer_rpc::QueryId<VolumeQueryArgs, std::vector<api::BrickHealInfo>> kHealInfoQuery{
    "volume.heal-info"};

// A brickstate/<peer>/<brick> record, written by the peer running the brick: {"pid", "port"}.
// Fields of another type read as 0; `valid` is false for anything but a JSON object.
struct BrickStateRecord {
  bool valid = false;
  int pid = 0;
  int port = 0;
};
BrickStateRecord ParseBrickState(std::string_view text);

// kInvalidArgument unless `host` is 1..255 of [A-Za-z0-9.:_-] or a bracketed IPv6 literal's
// characters ([ ] and hex digits with ':').
Status ValidateHost(std::string_view host);

// The cluster lock of one volume ("volume.<name>"): every change of the volume's record and of
// its bricks' processes and metadata happens while it is held.
std::string VolumeLockName(std::string_view volume);
// Taken by every volume create (with the name's own lock; sorted, this one first): brick paths
// are claimed under it. (A deleted volume's bricks are released as their cleanup removes their
// volume id, which a create refuses while it is there: see VolumePlugin::CleanDeletedBricks.)
inline constexpr char kBrickClaimLock[] = "volume-bricks";

// True if `path` is `dir` or lies below it (by its components: "/b10" is not below "/b1").
bool IsUnder(const std::string& path, const std::string& dir);

// <workdir>/vols/<volume> for a valid volume name, checked to stay under <workdir>/vols.
StatusOr<std::string> VolumeWorkDir(const std::string& workdir, std::string_view volume);

}  // namespace gd2::plugins::volume
