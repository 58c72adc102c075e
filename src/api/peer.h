// Peer, service and health types of the ReST API, with GlusterD2's JSON field names.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gd2::api {

// The metadata key holding a peer's zone; keys starting with '_' are reserved.
inline constexpr const char* kZoneKey = "_zone";
inline constexpr size_t kMaxMetadataBytes = 4096;

struct Peer {
  std::string id;
  std::string name;
  std::vector<std::string> peer_addresses;
  std::vector<std::string> client_addresses;
  bool online = false;
  int64_t pid = 0;  // only when online
  std::map<std::string, std::string> metadata;
};
void to_json(nlohmann::json& j, const Peer& p);
void from_json(const nlohmann::json& j, Peer& p);

// POST /v1/peers
struct PeerAddReq {
  std::vector<std::string> addresses;
  std::string zone;
  std::map<std::string, std::string> metadata;
  // "peer-secret": the joining peer's own secret (its <workdir>/auth). Empty: this cluster's
  // secret, for peers started with the shared cluster secret (--cluster-secret-file).
  std::string peer_secret;
};
void to_json(nlohmann::json& j, const PeerAddReq& r);
void from_json(const nlohmann::json& j, PeerAddReq& r);

// POST /v1/peers/{peerid}
struct PeerEditReq {
  std::string zone;
  std::map<std::string, std::string> metadata;
};
void to_json(nlohmann::json& j, const PeerEditReq& r);
void from_json(const nlohmann::json& j, PeerEditReq& r);

// GET /version
struct VersionResp {
  std::string glusterd_version;
  int api_version = 1;
};
void to_json(nlohmann::json& j, const VersionResp& r);
void from_json(const nlohmann::json& j, VersionResp& r);

// GET /v1/healthz
struct StoreMemberHealth {
  std::string name;
  std::string endpoint;
  bool healthy = false;
  std::string version;
  std::string error;
};
struct HealthResp {
  bool healthy = false;       // store reachable and every member answered
  bool store_reachable = false;
  std::string peer_id;
  std::string cluster_id;
  std::string store_mode;     // "embedded" or "external"
  std::vector<StoreMemberHealth> members;
};
void to_json(nlohmann::json& j, const StoreMemberHealth& r);
void from_json(const nlohmann::json& j, StoreMemberHealth& r);
void to_json(nlohmann::json& j, const HealthResp& r);
void from_json(const nlohmann::json& j, HealthResp& r);

// GET /endpoints
struct Endpoint {
  std::string name;
  std::string description;
  std::string methods;
  std::string path;
  std::string request_type;
  std::string response_type;
};
void to_json(nlohmann::json& j, const Endpoint& e);
void from_json(const nlohmann::json& j, Endpoint& e);

// Checks user metadata: size, no reserved keys unless `allow_reserved`.
Status ValidateMetadata(const std::map<std::string, std::string>& md, bool allow_reserved);

}  // namespace gd2::api
