#include "client/volume_client.h"

#include <httplib.h>

#include <exception>

namespace gd2::client {
namespace {

std::string VolumePath(const std::string& name) { return "/v1/volumes/" + EscapePathSegment(name); }

Status Unexpected(const std::string& path, const std::string& why) {
  return InternalError("unexpected response from " + path + ": " + why);
}

StatusOr<api::Volume> DecodeVolume(const std::string& path, const nlohmann::json& j) {
  StatusOr<api::Volume> v = api::VolumeFromJson(j);
  if (!v.ok()) return Unexpected(path, v.status().message());
  return v;
}

// Decodes through the api type's from_json, which may throw DecodeError or nlohmann's errors.
template <typename T>
StatusOr<T> DecodeAs(const std::string& path, const nlohmann::json& j) {
  try {
    return j.get<T>();
  } catch (const std::exception& e) {
    return Unexpected(path, e.what());
  }
}

StatusOr<api::Volume> DoVolume(Client& c, std::string_view method, const std::string& path,
                               const std::optional<nlohmann::json>& body) {
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, c.Do(method, path, body));
  return DecodeVolume(path, j);
}

template <typename T>
StatusOr<T> DoAs(Client& c, std::string_view method, const std::string& path) {
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, c.Do(method, path));
  // A list endpoint may answer an empty list as null.
  if constexpr (requires { typename T::value_type; }) {
    if (j.is_null()) return T{};
  }
  return DecodeAs<T>(path, j);
}

}  // namespace

std::string EscapePathSegment(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char ch : segment) {
    bool unreserved = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
    if (unreserved) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 0x0f];
    }
  }
  return out;
}

StatusOr<api::Volume> CreateVolume(Client& c, const api::VolCreateReq& req) {
  return DoVolume(c, "POST", "/v1/volumes", nlohmann::json(req));
}

StatusOr<std::vector<api::Volume>> ListVolumes(Client& c, const std::string& key,
                                               const std::string& value) {
  std::string path = "/v1/volumes";
  httplib::Params params;
  if (!key.empty()) params.emplace("key", key);
  if (!value.empty()) params.emplace("value", value);
  if (!params.empty()) path = httplib::append_query_params(path, params);
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, c.Do("GET", path));
  if (j.is_null()) return std::vector<api::Volume>{};
  if (!j.is_array()) return Unexpected(path, "expected a JSON array");
  std::vector<api::Volume> volumes;
  volumes.reserve(j.size());
  for (const nlohmann::json& item : j) {
    GD2_ASSIGN_OR_RETURN(api::Volume v, DecodeVolume(path, item));
    volumes.push_back(std::move(v));
  }
  return volumes;
}

StatusOr<api::Volume> GetVolume(Client& c, const std::string& name) {
  return DoVolume(c, "GET", VolumePath(name), std::nullopt);
}

Status DeleteVolume(Client& c, const std::string& name) {
  return c.Do("DELETE", VolumePath(name)).status();
}

StatusOr<api::Volume> StartVolume(Client& c, const std::string& name, const api::VolStartReq& req) {
  return DoVolume(c, "POST", VolumePath(name) + "/start", nlohmann::json(req));
}

StatusOr<api::Volume> StopVolume(Client& c, const std::string& name, const api::VolStopReq& req) {
  return DoVolume(c, "POST", VolumePath(name) + "/stop", nlohmann::json(req));
}

StatusOr<api::VolumeStatusResp> VolumeStatus(Client& c, const std::string& name) {
  return DoAs<api::VolumeStatusResp>(c, "GET", VolumePath(name) + "/status");
}

StatusOr<std::vector<api::BrickStatus>> VolumeBricks(Client& c, const std::string& name) {
  return DoAs<std::vector<api::BrickStatus>>(c, "GET", VolumePath(name) + "/bricks");
}

StatusOr<api::Volume> SetOptions(Client& c, const std::string& name, const api::VolOptionReq& req) {
  return DoVolume(c, "POST", VolumePath(name) + "/options", nlohmann::json(req));
}

StatusOr<std::vector<api::OptionInfo>> GetOptions(Client& c, const std::string& name) {
  return DoAs<std::vector<api::OptionInfo>>(c, "GET", VolumePath(name) + "/options");
}

StatusOr<api::OptionInfo> GetOption(Client& c, const std::string& name, const std::string& option) {
  return DoAs<api::OptionInfo>(c, "GET",
                               VolumePath(name) + "/options/" + EscapePathSegment(option));
}

StatusOr<api::Volume> ResetOptions(Client& c, const std::string& name,
                                   const api::VolOptionResetReq& req) {
  return DoVolume(c, "DELETE", VolumePath(name) + "/options", nlohmann::json(req));
}

StatusOr<std::vector<api::BrickHealInfo>> HealInfo(Client& c, const std::string& name) {
  return DoAs<std::vector<api::BrickHealInfo>>(c, "GET", VolumePath(name) + "/heal-info");
}

}  // namespace gd2::client
