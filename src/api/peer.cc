#include "api/peer.h"

#include "api/json.h"

namespace gd2::api {

void to_json(nlohmann::json& j, const Peer& p) {
  j = nlohmann::json{{"id", p.id},
                     {"name", p.name},
                     {"peer-addresses", p.peer_addresses},
                     {"client-addresses", p.client_addresses},
                     {"online", p.online},
                     {"metadata", p.metadata}};
  if (p.online) j["pid"] = p.pid;
}

void from_json(const nlohmann::json& j, Peer& p) {
  if (!j.is_object()) throw DecodeError("peer must be a JSON object");
  GetRequired(j, "id", p.id);
  GetOptional(j, "name", p.name);
  GetOptional(j, "peer-addresses", p.peer_addresses);
  GetOptional(j, "client-addresses", p.client_addresses);
  GetOptional(j, "online", p.online);
  GetOptional(j, "pid", p.pid);
  GetOptional(j, "metadata", p.metadata);
}

void to_json(nlohmann::json& j, const PeerAddReq& r) {
  j = nlohmann::json{{"addresses", r.addresses}};
  if (!r.zone.empty()) j["zone"] = r.zone;
  if (!r.metadata.empty()) j["metadata"] = r.metadata;
  if (!r.peer_secret.empty()) j["peer-secret"] = r.peer_secret;
}

void from_json(const nlohmann::json& j, PeerAddReq& r) {
  RequireObjectWithKeys(j, {"addresses", "zone", "metadata", "peer-secret"});
  GetRequired(j, "addresses", r.addresses);
  if (r.addresses.empty()) throw DecodeError("field \"addresses\" must not be empty");
  GetOptional(j, "zone", r.zone);
  GetOptional(j, "metadata", r.metadata);
  GetOptional(j, "peer-secret", r.peer_secret);
}

void to_json(nlohmann::json& j, const PeerEditReq& r) {
  j = nlohmann::json::object();
  if (!r.zone.empty()) j["zone"] = r.zone;
  if (!r.metadata.empty()) j["metadata"] = r.metadata;
}

void from_json(const nlohmann::json& j, PeerEditReq& r) {
  RequireObjectWithKeys(j, {"zone", "metadata"});
  GetOptional(j, "zone", r.zone);
  GetOptional(j, "metadata", r.metadata);
}

void to_json(nlohmann::json& j, const VersionResp& r) {
  j = nlohmann::json{{"glusterd-version", r.glusterd_version}, {"api-version", r.api_version}};
}

void from_json(const nlohmann::json& j, VersionResp& r) {
  GetRequired(j, "glusterd-version", r.glusterd_version);
  GetOptional(j, "api-version", r.api_version);
}

void to_json(nlohmann::json& j, const StoreMemberHealth& r) {
  j = nlohmann::json{{"name", r.name}, {"endpoint", r.endpoint}, {"healthy", r.healthy}};
  if (!r.version.empty()) j["version"] = r.version;
  if (!r.error.empty()) j["error"] = r.error;
}

void from_json(const nlohmann::json& j, StoreMemberHealth& r) {
  GetOptional(j, "name", r.name);
  GetOptional(j, "endpoint", r.endpoint);
  GetOptional(j, "healthy", r.healthy);
  GetOptional(j, "version", r.version);
  GetOptional(j, "error", r.error);
}

void to_json(nlohmann::json& j, const HealthResp& r) {
  j = nlohmann::json{{"healthy", r.healthy},           {"store-reachable", r.store_reachable},
                     {"peer-id", r.peer_id},           {"cluster-id", r.cluster_id},
                     {"store-mode", r.store_mode},     {"members", r.members}};
}

void from_json(const nlohmann::json& j, HealthResp& r) {
  GetOptional(j, "healthy", r.healthy);
  GetOptional(j, "store-reachable", r.store_reachable);
  GetOptional(j, "peer-id", r.peer_id);
  GetOptional(j, "cluster-id", r.cluster_id);
  GetOptional(j, "store-mode", r.store_mode);
  GetOptional(j, "members", r.members);
}

void to_json(nlohmann::json& j, const Endpoint& e) {
  j = nlohmann::json{{"name", e.name},
                     {"description", e.description},
                     {"methods", e.methods},
                     {"path", e.path},
                     {"request-type", e.request_type},
                     {"response-type", e.response_type}};
}

void from_json(const nlohmann::json& j, Endpoint& e) {
  GetOptional(j, "name", e.name);
  GetOptional(j, "description", e.description);
  GetOptional(j, "methods", e.methods);
  GetOptional(j, "path", e.path);
  GetOptional(j, "request-type", e.request_type);
  GetOptional(j, "response-type", e.response_type);
}

Status ValidateMetadata(const std::map<std::string, std::string>& md, bool allow_reserved) {
  size_t bytes = 0;
  for (const auto& [k, v] : md) {
    if (k.empty()) return InvalidArgumentError("metadata key must not be empty");
    if (!allow_reserved && k.front() == '_') {
      return InvalidArgumentError("metadata keys starting with '_' are reserved: key=" + k);
    }
    bytes += k.size() + v.size();
  }
  if (bytes > kMaxMetadataBytes) {
    return InvalidArgumentError("metadata exceeds 4 KiB: bytes=" + std::to_string(bytes));
  }
  return OkStatus();
}

}  // namespace gd2::api
