// The volume model shared by the daemon, the REST client, the CLI and volgen: volumes, their
// sub-volumes and bricks, with GlusterD2's JSON field names, plus layout validation and the
// planner that turns a flat brick list into sub-volumes the way `gluster volume create` does.
// Everything here is a pure function of its arguments; nothing does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gd2::api {

enum class VolumeType { kDistribute, kReplicate, kDisperse, kDistReplicate, kDistDisperse };
enum class SubvolType { kDistribute, kReplicate, kDisperse };
enum class BrickType { kBrick, kArbiter };
enum class VolumeState { kCreated, kStarted, kStopped };

// JSON spellings, as GlusterD2's own clients expect them: "Distribute", "Replicate",
// "Disperse", "Distributed-Replicate", "Distributed-Disperse"; "Brick", "Arbiter"; "Created",
// "Started", "Stopped". Parsing also accepts the spellings earlier versions stored
// ("DistReplicate", "VolStarted", ...), so their records still read.
std::string_view VolumeTypeName(VolumeType t);
std::string_view SubvolTypeName(SubvolType t);
std::string_view BrickTypeName(BrickType t);
std::string_view VolumeStateName(VolumeState s);
// Each returns kInvalidArgument for an unknown spelling (matching is exact).
StatusOr<VolumeType> ParseVolumeType(std::string_view s);
StatusOr<SubvolType> ParseSubvolType(std::string_view s);
StatusOr<BrickType> ParseBrickType(std::string_view s);
StatusOr<VolumeState> ParseVolumeState(std::string_view s);

struct Brick {
  std::string id;       // brick UUID
  std::string peer_id;  // UUID of the peer that hosts the brick
  std::string host;     // that peer's address, written as remote-host in client volfiles
  std::string path;     // absolute, normalised brick directory
  BrickType type = BrickType::kBrick;

  friend bool operator==(const Brick&, const Brick&) = default;
};

struct Subvol {
  std::string name;  // "<vol>-replicate-<n>", "<vol>-disperse-<n>" or "<vol>-distribute-<n>"
  SubvolType type = SubvolType::kDistribute;
  std::vector<Brick> bricks;
  int replica_count = 1;        // bricks per replica set, arbiter included (replicate only)
  int arbiter_count = 0;        // 0 or 1; 1 makes the last brick of the set the arbiter
  int disperse_count = 0;       // bricks per disperse set (disperse only)
  int disperse_redundancy = 0;  // bricks that may fail (disperse only)

  friend bool operator==(const Subvol&, const Subvol&) = default;
};

// Credentials the bricks accept from trusted clients (`auth.login.*` in brick volfiles,
// username/password in trusted client volfiles). Stored, never shown by the REST API.
struct VolumeAuth {
  std::string username;
  std::string password;

  friend bool operator==(const VolumeAuth&, const VolumeAuth&) = default;
};

struct Volume {
  std::string id;  // volume UUID
  std::string name;
  VolumeType type = VolumeType::kDistribute;
  std::string transport = "tcp";
  VolumeState state = VolumeState::kCreated;
  std::vector<Subvol> subvols;
  std::map<std::string, std::string> options;  // canonical option key -> normalised value
  std::map<std::string, std::string> metadata;
  VolumeAuth auth;
  int64_t version = 0;  // bumped on every change of the stored record

  friend bool operator==(const Volume&, const Volume&) = default;
};

// --- JSON -------------------------------------------------------------------------------------

// kPublic is the REST VolumeInfo shape; kStore adds the secrets ("auth") for the etcd record.
enum class JsonView { kPublic, kStore };

// BrickInfo: {id, path, volume-id, volume-name, peer-id, host, type}. The volume fields come from
// `volume`.
nlohmann::json BrickToJson(const Brick& brick, const Volume& volume);
// VolumeInfo: {id, name, type, transport, distribute-count, replica-count, arbiter-count,
// disperse-count, disperse-data-count, disperse-redundancy-count, options, state, subvols,
// metadata, snap-list, version} (+ auth for kStore). The *-count fields are derived from subvols.
nlohmann::json VolumeToJson(const Volume& volume, JsonView view = JsonView::kPublic);
// ADL hooks so Volume nests in other api types and works with DecodeJson<T> (api/json.h).
// to_json writes the kPublic view; from_json throws DecodeError (caught by DecodeJson).
void to_json(nlohmann::json& j, const Volume& volume);
void from_json(const nlohmann::json& j, Volume& volume);
// Serialises VolumeToJson as compact text.
std::string SerializeVolume(const Volume& volume, JsonView view = JsonView::kStore);

// Decode without throwing. Returns kInvalidArgument naming the field, e.g.
// "invalid volume json: subvols[0].bricks[1].path: expected string". Derived fields
// (distribute-count, ..., volume-id/volume-name in bricks) are ignored. Decoding does not
// validate the layout; call ValidateVolume for that.
StatusOr<Brick> BrickFromJson(const nlohmann::json& j);
StatusOr<Subvol> SubvolFromJson(const nlohmann::json& j);
StatusOr<Volume> VolumeFromJson(const nlohmann::json& j);
// Parses text (malformed JSON -> kInvalidArgument) and decodes it with VolumeFromJson.
StatusOr<Volume> ParseVolume(std::string_view text);

// --- validation ---
//
// Everything in a volume record that reaches a volfile (volume name and id, brick paths and hosts,
// option keys and values, credentials) is checked against the allowlists of
// common/volfile_text.h: by the API before anything is stored, by the volume plugin again before
// it serves a volfile built from a stored record, and by the volfile serializer (volgen) before
// any text is written. Steps that act on names and paths from records use the same functions.

inline constexpr size_t kMaxVolumeNameLength = 64;
// A brick's log file is <logdir>/bricks/<dashed path>.log; the dashed path is one character
// shorter than the path, so 250 keeps that name within NAME_MAX (255).
inline constexpr size_t kMaxBrickPathLength = 250;
inline constexpr size_t kMaxHostLength = 253;
// The pid file of a brick is <rundir>/vols/<vol>/<host>-<dashed path>.pid (NAME_MAX).
inline constexpr size_t kMaxBrickFileNameLength = 255;

// 1..64 characters of [A-Za-z0-9_-], not starting with '-' and not a volfile keyword ("type",
// "volume", ...: the client graph's top xlator is named after the volume). kInvalidArgument
// otherwise.
Status ValidateVolumeName(std::string_view name);
// Absolute and normalised: starts with '/', is not "/" itself, has no empty, "." or ".."
// component and no trailing '/'; components of IsBrickPathChar characters ([A-Za-z0-9._:+@-]),
// the first not starting with '.', no ".." anywhere (a brick's volfile id, "<vol>.<host>.<dashed
// path>", may not contain ".."); at most kMaxBrickPathLength characters. kInvalidArgument naming
// the path otherwise. What passes always gives a brick volfile id sunrpc::ParseVolfileId
// accepts.
Status ValidateBrickPath(std::string_view path);
// A host as written into volfiles (remote-host) and brick volfile ids: a DNS name (labels of
// [A-Za-z0-9_-], 1..63 characters, not starting or ending with '-'), a dotted IPv4 address or an
// IPv6 address without brackets; at most kMaxHostLength characters; not a volfile keyword.
// kInvalidArgument naming the host otherwise.
Status ValidateHost(std::string_view host);
// Checks a complete volume: every field above (the id must be a UUID; option keys and values,
// brick ids, peer ids, subvol names and the credentials must be volfile tokens), the transport,
// and the layout: non-empty sub-volumes whose type matches the volume type and whose counts fit
// their brick lists (replica N needs N bricks, arbiter only with replica 3 and only as the last
// brick, disperse needs 2*redundancy < count), equal-sized sub-volumes, no duplicate brick (same
// peer and path), no brick path inside another brick path on the same peer, and the brick's pid
// file name within kMaxBrickFileNameLength. Returns kInvalidArgument with a message such as
// "subvol v-replicate-0 has 2 bricks but replica count 3", or kAlreadyExists naming both bricks
// when two bricks would share a name (see CheckBrickConflicts).
Status ValidateVolume(const Volume& volume);

// "/bricks/d1/rep3" -> "bricks-d1-rep3": glusterd's name for a brick in its volfile id, pid file
// and log file. Not reversible ("/b/d-x" and "/b/d/x" give the same), hence the checks below.
std::string DashedBrickPath(std::string_view brick_path);

// Bricks on one peer share its run and log directories, where their files are named after the
// dashed path; bricks of a volume share the volume's volfile ids, named after host and dashed
// path. Returns kAlreadyExists naming both bricks if a brick of `volume` would share such a name
// with another brick of `volume` or of one of `others` (same peer, or same host, different
// path, same dashed path), or if a brick path of `volume` equals, contains or lies inside a
// brick path of one of `others` on the same peer ("brick path in use by volume ...").
// `others` must not contain `volume` itself.
Status CheckBrickConflicts(const Volume& volume, const std::vector<const Volume*>& others);

// The volume type implied by a list of sub-volumes (one Replicate -> Replicate, several ->
// DistReplicate, ...). An empty list gives Distribute.
VolumeType VolumeTypeFor(const std::vector<Subvol>& subvols);

// --- planning ---------------------------------------------------------------------------------

// What `gluster volume create <vol> [replica N [arbiter 1]] [disperse N [redundancy R]]` asks for.
// Zero means "not given".
struct LayoutRequest {
  int replica_count = 0;  // with arbiter 1: 3 (glusterd's form) or 2 (counted without arbiter)
  int arbiter_count = 0;
  int disperse_count = 0;
  int disperse_data_count = 0;
  int disperse_redundancy = 0;
};

// Splits `bricks` (in the order given) into sub-volumes as glusterd does: consecutive bricks
// form a replica or disperse set, the last brick of each replica set is the arbiter when
// arbiter_count is 1, and plain distribute puts all bricks in one Distribute sub-volume.
// Sub-volume names are "<vol>-replicate-<n>", "<vol>-disperse-<n>", "<vol>-distribute-0".
// When only disperse_count is given the redundancy is the smallest r >= 1 with 2r < count and
// count - r a power of two (1 if there is none). Returns kInvalidArgument for impossible
// requests ("brick count 4 is not a multiple of replica count 3"). Paths are not checked here.
StatusOr<std::vector<Subvol>> PlanSubvols(std::string_view volume_name, std::vector<Brick> bricks,
                                          const LayoutRequest& request);

// Name of the protocol/client xlator for the brick at `index` in volume order: "<vol>-client-<n>".
std::string ClientXlatorName(std::string_view volume_name, size_t index);

}  // namespace gd2::api
