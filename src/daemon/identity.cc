#include "daemon/identity.h"

#include <cstdlib>

#include <toml++/toml.h>

#include "common/files.h"
#include "common/uuid.h"

namespace gd2::daemon {

Status SaveIdentity(const std::string& workdir, const Identity& id) {
  std::string text = "peer-id = \"" + id.peer_id + "\"\ncluster-id = \"" + id.cluster_id + "\"\n";
  return WriteFileAtomic(workdir + "/uuid.toml", text, 0644);
}

StatusOr<Identity> LoadOrCreateIdentity(const std::string& workdir) {
  std::string path = workdir + "/uuid.toml";
  Identity id;
  auto text = ReadFile(path);
  bool dirty = false;
  if (text.ok()) {
    toml::table tbl;
    try {
      tbl = toml::parse(*text, path);
    } catch (const toml::parse_error& e) {
      return InvalidArgumentError("corrupt " + path + ": " + std::string(e.description()));
    }
    id.peer_id = tbl["peer-id"].value_or(std::string());
    id.cluster_id = tbl["cluster-id"].value_or(std::string());
    if (!IsUuid(id.peer_id) || !IsUuid(id.cluster_id)) {
      return InvalidArgumentError("corrupt " + path + ": peer-id and cluster-id must be UUIDs");
    }
  } else if (text.status().code() == StatusCode::kNotFound) {
    id.peer_id = NewUuid();
    id.cluster_id = NewUuid();
    dirty = true;
  } else {
    return text.status();
  }
  if (const char* p = std::getenv("GD2_PEER_ID"); p != nullptr && *p != '\0') {
    if (!IsUuid(p)) return InvalidArgumentError("GD2_PEER_ID is not a UUID: " + std::string(p));
    dirty |= id.peer_id != p;
    id.peer_id = p;
  }
  if (const char* c = std::getenv("GD2_CLUSTER_ID"); c != nullptr && *c != '\0') {
    if (!IsUuid(c)) return InvalidArgumentError("GD2_CLUSTER_ID is not a UUID: " + std::string(c));
    dirty |= id.cluster_id != c;
    id.cluster_id = c;
  }
  if (dirty) GD2_RETURN_IF_ERROR(SaveIdentity(workdir, id));
  return id;
}

StatusOr<std::string> LoadOrCreateSecret(const std::string& workdir) {
  std::string path = workdir + "/auth";
  auto text = ReadFile(path);
  if (text.ok()) {
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() < 16) return InvalidArgumentError("auth secret in " + path + " is too short");
    return s;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status();
  std::string secret = RandomHex(32);
  GD2_RETURN_IF_ERROR(WriteFileAtomic(path, secret, 0600));
  return secret;
}

}  // namespace gd2::daemon
