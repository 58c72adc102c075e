// Request and response types of the volume ReST API (GlusterD2's shapes, see VolumeInfo in
// api/volume.h for the volume itself).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gd2::api {

// One brick of a create request: "peerid" may be a peer id or a peer address/name; the
// server resolves it.
struct BrickReq {
  std::string peer_id;
  std::string path;
  std::string type;  // "brick" (default) or "arbiter"
};

struct SubvolReq {
  std::string type;  // "distribute", "replicate" or "disperse"
  std::vector<BrickReq> bricks;
  int replica = 0;
  int arbiter = 0;
  int disperse_count = 0;
  int disperse_data = 0;
  int disperse_redundancy = 0;
};

// POST /v1/volumes (explicit layout). Decoding accepts every field of GlusterD2's VolCreateReq
// (and of its BrickReq): those of features not implemented here (smart create: "size",
// "provisioner", "distribute", "replica", placement filters, ...; brick provisioning: "vg-name",
// "size", ...) are ignored while they hold their zero value ("size": 0, "provisioner": "", false,
// [], null), as GlusterD2's client always sends some of them; any other value is refused with
// kInvalidArgument (400) "field \"size\": smart volume create ... is not supported by this
// server". Fields GlusterD2 never had are refused as unknown.
struct VolCreateReq {
  std::string name;
  std::string transport = "tcp";
  std::vector<SubvolReq> subvols;
  bool force = false;
  std::map<std::string, bool> flags;  // reuse-bricks, allow-root-dir, allow-mount-as-brick, create-brick-dir
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> metadata;
  bool allow_advanced_options = false;
  bool allow_experimental_options = false;
  bool allow_deprecated_options = false;
};

// POST /v1/volumes/{vol}/start
struct VolStartReq {
  bool force_start_bricks = false;
};

// POST /v1/volumes/{vol}/stop
struct VolStopReq {
  bool force = false;
};

// POST /v1/volumes/{vol}/options
struct VolOptionReq {
  std::map<std::string, std::string> options;
  bool allow_advanced_options = false;
  bool allow_experimental_options = false;
  bool allow_deprecated_options = false;
};

// DELETE /v1/volumes/{vol}/options
struct VolOptionResetReq {
  std::vector<std::string> options;
  bool force = false;
  bool all = false;
};

// GET /v1/volumes/{vol}/options[/{opt}]
struct OptionInfo {
  std::string name;
  std::string value;
  bool modified = false;
  std::string default_value;
  std::string option_level;
};

struct SizeInfo {
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t free = 0;
};

// One entry of GET /v1/volumes/{vol}/bricks; "info" is BrickToJson() of the brick.
struct BrickStatus {
  nlohmann::json info;
  bool online = false;
  int64_t pid = 0;
  int port = 0;
  std::string fs_type;
  std::string mount_opts;
  std::string device;
  SizeInfo size;
};

// GET /v1/volumes/{vol}/status
struct VolumeStatusResp {
  nlohmann::json info;  // VolumeInfo
  bool online = false;
  SizeInfo size;
  std::vector<BrickStatus> bricks;  // extension: the brick table in one call
};

// One entry that needs healing: its gfid, and its path on the volume ("<gfid:GFID>" when the
// brick cannot name it).
struct HealEntry {
  std::string gfid;
  std::string filename;
};

// One entry of GET /v1/volumes/{vol}/heal-info. Every count is an integer; `entries` is the
// count GlusterD2 calls "entries" (the entries listed), the entries themselves are `files`
// ("file-gfid"), at most kMaxHealEntries of them.
struct BrickHealInfo {
  static constexpr size_t kMaxHealEntries = 1000;

  std::string host_id;
  std::string name;  // host:path
  std::string status;  // "Connected" / "Transport endpoint is not connected"
  int64_t total_entries = 0;
  int64_t entries_in_heal_pending = 0;
  int64_t entries_in_split_brain = 0;
  int64_t entries_possibly_healing = 0;
  int64_t entries = 0;
  std::vector<HealEntry> files;
};

void to_json(nlohmann::json& j, const BrickReq& r);
void from_json(const nlohmann::json& j, BrickReq& r);
void to_json(nlohmann::json& j, const SubvolReq& r);
void from_json(const nlohmann::json& j, SubvolReq& r);
void to_json(nlohmann::json& j, const VolCreateReq& r);
void from_json(const nlohmann::json& j, VolCreateReq& r);
void to_json(nlohmann::json& j, const VolStartReq& r);
void from_json(const nlohmann::json& j, VolStartReq& r);
void to_json(nlohmann::json& j, const VolStopReq& r);
void from_json(const nlohmann::json& j, VolStopReq& r);
void to_json(nlohmann::json& j, const VolOptionReq& r);
void from_json(const nlohmann::json& j, VolOptionReq& r);
void to_json(nlohmann::json& j, const VolOptionResetReq& r);
void from_json(const nlohmann::json& j, VolOptionResetReq& r);
void to_json(nlohmann::json& j, const OptionInfo& r);
void from_json(const nlohmann::json& j, OptionInfo& r);
void to_json(nlohmann::json& j, const SizeInfo& r);
void from_json(const nlohmann::json& j, SizeInfo& r);
void to_json(nlohmann::json& j, const BrickStatus& r);
void from_json(const nlohmann::json& j, BrickStatus& r);
void to_json(nlohmann::json& j, const VolumeStatusResp& r);
void from_json(const nlohmann::json& j, VolumeStatusResp& r);
void to_json(nlohmann::json& j, const HealEntry& r);
void from_json(const nlohmann::json& j, HealEntry& r);
void to_json(nlohmann::json& j, const BrickHealInfo& r);
void from_json(const nlohmann::json& j, BrickHealInfo& r);

}  // namespace gd2::api
