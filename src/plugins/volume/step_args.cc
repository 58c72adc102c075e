#include "plugins/volume/step_args.h"

#include <cctype>
#include <cstdint>
#include <filesystem>

#include "common/uuid.h"
#include "txn/engine.h"
#include "txn/record.h"

namespace gd2::plugins::volume {
bool IsUnder(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

namespace {

Status BrickPathOk(const std::string& path, const std::string& workdir) {
  GD2_RETURN_IF_ERROR(api::ValidateBrickPath(path));
  if (!workdir.empty() && (IsUnder(path, workdir) || IsUnder(workdir, path))) {
    return InvalidArgumentError("brick may not be inside the glusterd2 workdir: path=" + path);
  }
  return OkStatus();
}

// Reads an optional field of type T (absent: `fallback`); a wrong type is an error.
template <typename T>
Status Field(const nlohmann::json& args, const char* name, T* out, bool required, T fallback) {
  auto it = args.find(name);
  if (it == args.end()) {
    if (required) return InvalidArgumentError(std::string(name) + ": missing");
    *out = fallback;
    return OkStatus();
  }
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return InvalidArgumentError(std::string(name) + ": expected boolean");
  } else {
    if (!it->is_string()) return InvalidArgumentError(std::string(name) + ": expected string");
  }
  *out = it->get<T>();
  return OkStatus();
}

Status DecodeBrickSet(const nlohmann::json& args, const std::string& workdir, BrickSetArgs* a) {
  if (!args.is_object()) return InvalidArgumentError("expected an object");
  GD2_RETURN_IF_ERROR(Field<std::string>(args, "volume", &a->volume, true, ""));
  GD2_RETURN_IF_ERROR(api::ValidateVolumeName(a->volume).WithContext("volume"));
  GD2_RETURN_IF_ERROR(Field<std::string>(args, "volume_id", &a->volume_id, true, ""));
  if (!IsUuid(a->volume_id)) return InvalidArgumentError("volume_id: not a UUID");
  auto paths = args.find("paths");
  if (paths == args.end() || !paths->is_array()) return InvalidArgumentError("paths: expected array");
  if (paths->size() > kMaxStepBricks) return InvalidArgumentError("paths: too many bricks");
  for (size_t i = 0; i < paths->size(); ++i) {
    const auto& p = (*paths)[i];
    std::string where = "paths[" + std::to_string(i) + "]";
    if (!p.is_string()) return InvalidArgumentError(where + ": expected string");
    GD2_RETURN_IF_ERROR(BrickPathOk(p.get<std::string>(), workdir).WithContext(where));
    a->paths.push_back(p.get<std::string>());
  }
  GD2_RETURN_IF_ERROR(Field<std::string>(args, "host", &a->host, false, ""));
  if (!a->host.empty()) GD2_RETURN_IF_ERROR(ValidateHost(a->host).WithContext("host"));
  GD2_RETURN_IF_ERROR(Field<bool>(args, "create_dir", &a->create_dir, false, false));
  GD2_RETURN_IF_ERROR(Field<bool>(args, "reuse", &a->reuse, false, false));
  GD2_RETURN_IF_ERROR(Field<bool>(args, "allow_root_dir", &a->allow_root_dir, false, false));
  GD2_RETURN_IF_ERROR(Field<bool>(args, "allow_mount_as_brick", &a->allow_mount_as_brick, false, false));
  return OkStatus();
}

Status DecodeVolume(const nlohmann::json& args, const std::string& workdir, api::Volume* v) {
  if (!args.is_object()) return InvalidArgumentError("expected an object");
  auto it = args.find("volume");
  if (it == args.end()) return InvalidArgumentError("volume: missing");
  GD2_ASSIGN_OR_RETURN(*v, api::VolumeFromJson(*it));
  GD2_RETURN_IF_ERROR(api::ValidateVolume(*v));
  if (!IsUuid(v->id)) return InvalidArgumentError("volume.id: not a UUID");
  for (const auto& sv : v->subvols) {
    for (const auto& b : sv.bricks) {
      GD2_RETURN_IF_ERROR(txn::ValidatePeerId(b.peer_id).WithContext("brick peer"));
      GD2_RETURN_IF_ERROR(ValidateHost(b.host).WithContext("brick host"));
      GD2_RETURN_IF_ERROR(BrickPathOk(b.path, workdir));
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return InvalidArgumentError("invalid host name length");
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':' || c == '_' ||
              c == '-' || c == '[' || c == ']';
    if (!ok) return InvalidArgumentError("invalid host name: host=" + std::string(host.substr(0, 64)));
  }
  return OkStatus();
}

void to_json(nlohmann::json& j, const VolumeQueryArgs& a) { j = {{"volume", a.volume}}; }

void from_json(const nlohmann::json& j, VolumeQueryArgs& a) {
  a.volume = j.at("volume").get<std::string>();
}

BrickStateRecord ParseBrickState(std::string_view text) {
  BrickStateRecord out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  auto number = [&j](const char* f) {
    auto it = j.find(f);
    if (it == j.end() || !it->is_number_integer()) return 0;
    int64_t v = it->get<int64_t>();
    return v > 0 && v <= INT32_MAX ? static_cast<int>(v) : 0;
  };
  out.valid = true;
  out.pid = number("pid");
  out.port = number("port");
  return out;
}

std::string VolumeLockName(std::string_view volume) { return "volume." + std::string(volume); }

StatusOr<std::string> VolumeWorkDir(const std::string& workdir, std::string_view volume) {
  GD2_RETURN_IF_ERROR(api::ValidateVolumeName(volume));
  if (workdir.empty() || workdir.front() != '/') return InternalError("workdir is not absolute");
  std::string base = std::filesystem::path(workdir + "/vols").lexically_normal().string();
  std::string dir = std::filesystem::path(base + "/" + std::string(volume)).lexically_normal().string();
  if (!IsUnder(dir, base) || dir == base) {
    return InvalidArgumentError("volume directory leaves the workdir: volume=" + std::string(volume));
  }
  return dir;
}

nlohmann::json EncodeStepArgs(const BrickSetArgs& a) { return EncodeBrickSetArgs(a); }

Status DecodeStepArgs(const nlohmann::json& json, BrickSetArgs* a) {
  *a = BrickSetArgs{};
  return DecodeBrickSet(json, "", a);
}

Status CheckBrickSetArgs(const BrickSetArgs& a, const std::string& workdir) {
  for (size_t i = 0; i < a.paths.size(); ++i) {
    GD2_RETURN_IF_ERROR(
        BrickPathOk(a.paths[i], workdir).WithContext("paths[" + std::to_string(i) + "]"));
  }
  return OkStatus();
}

nlohmann::json EncodeStepArgs(const VolumeArgs& a) { return EncodeVolumeArgs(a.volume); }

Status DecodeStepArgs(const nlohmann::json& json, VolumeArgs* a) {
  return DecodeVolume(json, "", &a->volume);
}

Status CheckVolumeArgs(const VolumeArgs& a, const std::string& workdir) {
  for (const auto& sv : a.volume.subvols) {
    for (const auto& b : sv.bricks) GD2_RETURN_IF_ERROR(BrickPathOk(b.path, workdir));
  }
  return OkStatus();
}

nlohmann::json EncodeBrickSetArgs(const BrickSetArgs& a) {
  nlohmann::json j{{"volume", a.volume},
                   {"volume_id", a.volume_id},
                   {"paths", a.paths},
                   {"create_dir", a.create_dir},
                   {"reuse", a.reuse},
                   {"allow_root_dir", a.allow_root_dir},
                   {"allow_mount_as_brick", a.allow_mount_as_brick}};
  if (!a.host.empty()) j["host"] = a.host;
  return j;
}

StatusOr<BrickSetArgs> DecodeBrickSetArgs(std::string_view step, const nlohmann::json& args,
                                          const std::string& workdir) {
  BrickSetArgs a;
  Status s = DecodeBrickSet(args, workdir, &a);
  if (!s.ok()) return txn::BadArgumentsError(step, s.message());
  return a;
}

nlohmann::json EncodeVolumeArgs(const api::Volume& v) {
  return nlohmann::json{{"volume", api::VolumeToJson(v, api::JsonView::kStore)}};
}

StatusOr<api::Volume> DecodeVolumeArgs(std::string_view step, const nlohmann::json& args,
                                       const std::string& workdir) {
  api::Volume v;
  Status s = DecodeVolume(args, workdir, &v);
  if (!s.ok()) return txn::BadArgumentsError(step, s.message());
  return v;
}

std::string EncodePendingWork(const PendingWork& w) {
  return nlohmann::json{{"step", w.step}, {"args", EncodeBrickSetArgs(w.args)}}.dump();
}

StatusOr<PendingWork> DecodePendingWork(std::string_view text, const std::string& workdir) {
  if (text.size() > (1 << 20)) return txn::BadArgumentsError("pending", "record too large");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return txn::BadArgumentsError("pending", "not a JSON object");
  auto step = j.find("step");
  if (step == j.end() || !step->is_string()) return txn::BadArgumentsError("pending", "step: expected string");
  PendingWork w;
  w.step = step->get<std::string>();
  if (w.step != kDeleteBricksStep) {
    return txn::BadArgumentsError("pending", "unknown step: " + w.step.substr(0, 64));
  }
  auto args = j.find("args");
  if (args == j.end()) return txn::BadArgumentsError(w.step, "args: missing");
  GD2_ASSIGN_OR_RETURN(w.args, DecodeBrickSetArgs(w.step, *args, workdir));
  return w;
}

txn::Deadline CleanupDeadline(txn::Deadline step_deadline, txn::Deadline now) {
  if (step_deadline == txn::Deadline::max()) return step_deadline;
  if (step_deadline <= now) return now;
  auto margin =
      std::min<std::chrono::steady_clock::duration>(kCleanupMargin, (step_deadline - now) / 8);
  return step_deadline - margin;
}

}  // namespace gd2::plugins::volume
