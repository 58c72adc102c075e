#include "api/volume_req.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "api/json.h"
#include "common/volfile_text.h"

namespace gd2::api {
namespace {

// Layout counts above this are refused while decoding, so sums of counts cannot overflow.
constexpr int kMaxLayoutCount = 1024;
// A peer id (36), or a peer's name or address with an optional port.
constexpr size_t kMaxPeerRefLength = 270;

void RequireOneOf(const char* field, const std::string& value,
                  std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (std::string_view a : allowed) {
    if (value == a) return;
    if (a.empty()) continue;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw DecodeError(std::string("field \"") + field + "\": unknown value " +
                    PrintableText(value, 64) + " (allowed: " + list + ")");
}

void RequireCount(const char* field, int value) {
  if (value < 0 || value > kMaxLayoutCount) {
    throw DecodeError(std::string("field \"") + field + "\": out of range 0.." +
                      std::to_string(kMaxLayoutCount));
  }
}

// A peer id, name or address: what FindPeer can resolve, and nothing a volfile cannot hold.
void RequirePeerRef(const std::string& value) {
  const bool ok = !value.empty() && value.size() <= kMaxPeerRefLength &&
                  std::all_of(value.begin(), value.end(), [](char c) {
                    return IsVolumeNameChar(c) || c == '.' || c == ':' || c == '[' || c == ']';
                  });
  if (!ok) {
    throw DecodeError("field \"peerid\": not a peer id, name or address: " +
                      PrintableText(value, 64));
  }
}

// Fields of GlusterD2's requests that belong to features not implemented here: smart volume
// create (a size and placement filters instead of subvols) and the brick provisioning fields
// its planner fills in.
constexpr const char* kSmartCreateFields[] = {"size",
                                              "distribute",
                                              "replica",
                                              "arbiter",
                                              "disperse",
                                              "disperse-data",
                                              "disperse-redundancy",
                                              "snapshot",
                                              "snapshot-reserve-factor",
                                              "limit-peers",
                                              "limit-zones",
                                              "exclude-peers",
                                              "exclude-zones",
                                              "subvolume-zones-overlap",
                                              "subvolume-type",
                                              "provisioner",
                                              "max-brick-size",
                                              "average-file-size"};
constexpr const char* kBrickProvisioningFields[] = {
    "vg-name",       "thinpool-name", "logical-volume", "size",
    "thinpool-size", "metadata-size", "total-size",     "root-device",
    "device-path",   "mnt-opts",      "fs-type",        "brick-dir-suffix"};

// Such fields are accepted and ignored while they hold their zero value (GlusterD2's client
// always sends "size": 0 and "provisioner": ""); any other value is refused, naming the field,
// rather than quietly creating something other than was asked for. Returns `j` without them,
// for the check of the remaining keys.
nlohmann::json WithoutUnimplemented(const nlohmann::json& j, std::span<const char* const> fields,
                                    const char* feature) {
  if (!j.is_object()) return j;
  nlohmann::json rest = j;
  for (const char* f : fields) {
    auto it = j.find(f);
    if (it == j.end()) continue;
    const nlohmann::json& v = *it;
    bool zero = v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
                (v.is_number() && v.get<double>() == 0) ||
                (v.is_string() && v.get_ref<const std::string&>().empty()) ||
                ((v.is_array() || v.is_object()) && v.empty());
    if (!zero) {
      throw DecodeError(std::string("field \"") + f + "\": " + feature +
                        " is not supported by this server");
    }
    rest.erase(f);
  }
  return rest;
}

}  // namespace

void to_json(nlohmann::json& j, const BrickReq& r) {
  j = nlohmann::json{{"peerid", r.peer_id}, {"path", r.path}};
  if (!r.type.empty()) j["type"] = r.type;
}

void from_json(const nlohmann::json& j, BrickReq& r) {
  RequireObjectWithKeys(WithoutUnimplemented(j, kBrickProvisioningFields, "brick provisioning"),
                        {"peerid", "path", "type"});
  GetRequired(j, "peerid", r.peer_id);
  GetRequired(j, "path", r.path);
  GetOptional(j, "type", r.type);
  RequirePeerRef(r.peer_id);
  RequireOneOf("type", r.type, {"", "brick", "arbiter"});
}

void to_json(nlohmann::json& j, const SubvolReq& r) {
  j = nlohmann::json{{"type", r.type}, {"bricks", r.bricks}};
  if (r.replica != 0) j["replica"] = r.replica;
  if (r.arbiter != 0) j["arbiter"] = r.arbiter;
  if (r.disperse_count != 0) j["disperse-count"] = r.disperse_count;
  if (r.disperse_data != 0) j["disperse-data"] = r.disperse_data;
  if (r.disperse_redundancy != 0) j["disperse-redundancy"] = r.disperse_redundancy;
}

void from_json(const nlohmann::json& j, SubvolReq& r) {
  RequireObjectWithKeys(j, {"type", "bricks", "replica", "arbiter", "disperse-count",
                            "disperse-data", "disperse-redundancy", "subvols"});
  GetOptional(j, "type", r.type);
  GetRequired(j, "bricks", r.bricks);
  GetOptional(j, "replica", r.replica);
  GetOptional(j, "arbiter", r.arbiter);
  GetOptional(j, "disperse-count", r.disperse_count);
  GetOptional(j, "disperse-data", r.disperse_data);
  GetOptional(j, "disperse-redundancy", r.disperse_redundancy);
  RequireOneOf("type", r.type, {"", "distribute", "replicate", "disperse"});
  RequireCount("replica", r.replica);
  RequireCount("arbiter", r.arbiter);
  RequireCount("disperse-count", r.disperse_count);
  RequireCount("disperse-data", r.disperse_data);
  RequireCount("disperse-redundancy", r.disperse_redundancy);
}

void to_json(nlohmann::json& j, const VolCreateReq& r) {
  j = nlohmann::json{{"name", r.name}, {"transport", r.transport}, {"subvols", r.subvols}};
  if (r.force) j["force"] = true;
  if (!r.flags.empty()) j["flags"] = r.flags;
  if (!r.options.empty()) j["options"] = r.options;
  if (!r.metadata.empty()) j["metadata"] = r.metadata;
  if (r.allow_advanced_options) j["allow-advanced-options"] = true;
  if (r.allow_experimental_options) j["allow-experimental-options"] = true;
  if (r.allow_deprecated_options) j["allow-deprecated-options"] = true;
}

void from_json(const nlohmann::json& j, VolCreateReq& r) {
  RequireObjectWithKeys(
      WithoutUnimplemented(j, kSmartCreateFields,
                           "smart volume create (a size instead of subvols)"),
      {"name", "transport", "subvols", "force", "flags", "options", "metadata",
       "allow-advanced-options", "allow-experimental-options", "allow-deprecated-options"});
  GetRequired(j, "name", r.name);
  GetOptional(j, "transport", r.transport);
  GetRequired(j, "subvols", r.subvols);
  GetOptional(j, "force", r.force);
  GetOptional(j, "flags", r.flags);
  GetOptional(j, "options", r.options);
  GetOptional(j, "metadata", r.metadata);
  GetOptional(j, "allow-advanced-options", r.allow_advanced_options);
  GetOptional(j, "allow-experimental-options", r.allow_experimental_options);
  GetOptional(j, "allow-deprecated-options", r.allow_deprecated_options);
}

void to_json(nlohmann::json& j, const VolStartReq& r) {
  j = nlohmann::json::object();
  if (r.force_start_bricks) j["force-start-bricks"] = true;
}

void from_json(const nlohmann::json& j, VolStartReq& r) {
  RequireObjectWithKeys(j, {"force-start-bricks"});
  GetOptional(j, "force-start-bricks", r.force_start_bricks);
}

void to_json(nlohmann::json& j, const VolStopReq& r) {
  j = nlohmann::json::object();
  if (r.force) j["force"] = true;
}

void from_json(const nlohmann::json& j, VolStopReq& r) {
  RequireObjectWithKeys(j, {"force"});
  GetOptional(j, "force", r.force);
}

void to_json(nlohmann::json& j, const VolOptionReq& r) {
  j = nlohmann::json{{"options", r.options}};
  if (r.allow_advanced_options) j["allow-advanced-options"] = true;
  if (r.allow_experimental_options) j["allow-experimental-options"] = true;
  if (r.allow_deprecated_options) j["allow-deprecated-options"] = true;
}

void from_json(const nlohmann::json& j, VolOptionReq& r) {
  RequireObjectWithKeys(j, {"options", "allow-advanced-options", "allow-experimental-options",
                            "allow-deprecated-options"});
  GetRequired(j, "options", r.options);
  GetOptional(j, "allow-advanced-options", r.allow_advanced_options);
  GetOptional(j, "allow-experimental-options", r.allow_experimental_options);
  GetOptional(j, "allow-deprecated-options", r.allow_deprecated_options);
}

void to_json(nlohmann::json& j, const VolOptionResetReq& r) {
  j = nlohmann::json{{"options", r.options}};
  if (r.force) j["force"] = true;
  if (r.all) j["all"] = true;
}

void from_json(const nlohmann::json& j, VolOptionResetReq& r) {
  RequireObjectWithKeys(j, {"options", "force", "all"});
  GetOptional(j, "options", r.options);
  GetOptional(j, "force", r.force);
  GetOptional(j, "all", r.all);
}

void to_json(nlohmann::json& j, const OptionInfo& r) {
  j = nlohmann::json{{"name", r.name},
                     {"value", r.value},
                     {"modified", r.modified},
                     {"default-value", r.default_value},
                     {"option-level", r.option_level}};
}

void from_json(const nlohmann::json& j, OptionInfo& r) {
  GetOptional(j, "name", r.name);
  GetOptional(j, "value", r.value);
  GetOptional(j, "modified", r.modified);
  GetOptional(j, "default-value", r.default_value);
  GetOptional(j, "option-level", r.option_level);
}

void to_json(nlohmann::json& j, const SizeInfo& r) {
  j = nlohmann::json{{"capacity", r.capacity}, {"used", r.used}, {"free", r.free}};
}

void from_json(const nlohmann::json& j, SizeInfo& r) {
  GetOptional(j, "capacity", r.capacity);
  GetOptional(j, "used", r.used);
  GetOptional(j, "free", r.free);
}

void to_json(nlohmann::json& j, const BrickStatus& r) {
  j = nlohmann::json{{"info", r.info},         {"online", r.online},         {"pid", r.pid},
                     {"port", r.port},         {"fs-type", r.fs_type},       {"mount-opts", r.mount_opts},
                     {"device", r.device},     {"size", r.size}};
}

void from_json(const nlohmann::json& j, BrickStatus& r) {
  GetOptional(j, "info", r.info);
  GetOptional(j, "online", r.online);
  GetOptional(j, "pid", r.pid);
  GetOptional(j, "port", r.port);
  GetOptional(j, "fs-type", r.fs_type);
  GetOptional(j, "mount-opts", r.mount_opts);
  GetOptional(j, "device", r.device);
  GetOptional(j, "size", r.size);
}

void to_json(nlohmann::json& j, const VolumeStatusResp& r) {
  j = nlohmann::json{{"info", r.info}, {"online", r.online}, {"size", r.size}, {"bricks", r.bricks}};
}

void from_json(const nlohmann::json& j, VolumeStatusResp& r) {
  GetOptional(j, "info", r.info);
  GetOptional(j, "online", r.online);
  GetOptional(j, "size", r.size);
  GetOptional(j, "bricks", r.bricks);
}

void to_json(nlohmann::json& j, const HealEntry& r) {
  j = nlohmann::json{{"gfid", r.gfid}, {"filename", r.filename}};
}

void from_json(const nlohmann::json& j, HealEntry& r) {
  GetOptional(j, "gfid", r.gfid);
  GetOptional(j, "filename", r.filename);
}

void to_json(nlohmann::json& j, const BrickHealInfo& r) {
  j = nlohmann::json{{"host-id", r.host_id},
                     {"name", r.name},
                     {"status", r.status},
                     {"total-entries", r.total_entries},
                     {"entries-in-heal-pending", r.entries_in_heal_pending},
                     {"entries-in-split-brain", r.entries_in_split_brain},
                     {"entries-possibly-healing", r.entries_possibly_healing},
                     {"entries", r.entries},
                     {"file-gfid", r.files}};
}

void from_json(const nlohmann::json& j, BrickHealInfo& r) {
  GetOptional(j, "host-id", r.host_id);
  GetOptional(j, "name", r.name);
  GetOptional(j, "status", r.status);
  GetOptional(j, "total-entries", r.total_entries);
  GetOptional(j, "entries-in-heal-pending", r.entries_in_heal_pending);
  GetOptional(j, "entries-in-split-brain", r.entries_in_split_brain);
  GetOptional(j, "entries-possibly-healing", r.entries_possibly_healing);
  GetOptional(j, "entries", r.entries);
  GetOptional(j, "file-gfid", r.files);
}

}  // namespace gd2::api
