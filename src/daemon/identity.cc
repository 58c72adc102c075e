#include "daemon/identity.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <toml++/toml.h>

#include "common/files.h"
#include "common/thread_annotations.h"
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

StatusOr<std::string> LoadOrCreateSecret(const std::string& workdir,
                                         const std::string& initial_secret_file) {
  std::string path = workdir + "/auth";
  auto trimmed = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  auto text = ReadFile(path);
  if (text.ok()) {
    std::string s = trimmed(*text);
    if (s.size() < 16) return InvalidArgumentError("auth secret in " + path + " is too short");
    return s;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status();
  std::string secret = RandomHex(32);
  if (!initial_secret_file.empty()) {
    GD2_ASSIGN_OR_RETURN(std::string given, ReadFile(initial_secret_file));
    secret = trimmed(given);
    if (secret.size() < 16 || secret.size() > 4096) {
      return InvalidArgumentError("cluster-secret-file: the secret in " + initial_secret_file +
                                  " must have 16..4096 characters");
    }
  }
  GD2_RETURN_IF_ERROR(WriteFileAtomic(path, secret, 0600));
  return secret;
}

}  // namespace gd2::daemon

namespace gd2::daemon {

StatusOr<StoreConfig> LoadStoreConfig(const std::string& workdir) {
  std::string path = workdir + "/store.toml";
  GD2_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  toml::table tbl;
  try {
    tbl = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError("corrupt " + path + ": " + std::string(e.description()));
  }
  StoreConfig sc;
  if (const toml::array* a = tbl["etcd-endpoints"].as_array()) {
    for (const auto& e : *a) {
      if (auto s = e.value<std::string>()) sc.etcd_endpoints.push_back(*s);
    }
  }
  if (sc.etcd_endpoints.empty()) return InvalidArgumentError("corrupt " + path + ": no etcd-endpoints");
  sc.etcd_member = tbl["etcd-member"].value_or(false);
  sc.join_initial_cluster = tbl["join-initial-cluster"].value_or(std::string());
  std::string id = tbl["join-member-id"].value_or(std::string());
  if (!id.empty()) sc.join_member_id = std::strtoull(id.c_str(), nullptr, 10);
  std::string cid = tbl["etcd-cluster-id"].value_or(std::string());
  if (!cid.empty()) sc.etcd_cluster_id = std::strtoull(cid.c_str(), nullptr, 10);
  return sc;
}

Status SaveStoreConfig(const std::string& workdir, const StoreConfig& sc) {
  std::string text = "# the cluster's etcd as this peer knows it; removed when it leaves the cluster\netcd-endpoints = [";
  for (size_t i = 0; i < sc.etcd_endpoints.size(); ++i) {
    text += (i ? ", \"" : "\"") + sc.etcd_endpoints[i] + "\"";
  }
  text += "]\n";
  text += std::string("etcd-member = ") + (sc.etcd_member ? "true" : "false") + "\n";
  if (sc.etcd_cluster_id != 0) text += "etcd-cluster-id = \"" + std::to_string(sc.etcd_cluster_id) + "\"\n";
  if (!sc.join_initial_cluster.empty()) {
    text += "join-initial-cluster = \"" + sc.join_initial_cluster + "\"\n";
    text += "join-member-id = \"" + std::to_string(sc.join_member_id) + "\"\n";
  }
  return WriteFileAtomic(workdir + "/store.toml", text, 0644);
}

Status UpdateStoreConfig(const std::string& workdir,
                         const std::function<Status(StoreConfig&)>& change,
                         const StoreConfig* if_missing) {
  static Mutex mu;
  MutexLock lock(mu);
  StatusOr<StoreConfig> loaded = LoadStoreConfig(workdir);
  if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound && if_missing != nullptr) {
    loaded = *if_missing;
  }
  GD2_ASSIGN_OR_RETURN(StoreConfig sc, std::move(loaded));
  GD2_RETURN_IF_ERROR(change(sc));
  return SaveStoreConfig(workdir, sc);
}

Status RemoveStoreConfig(const std::string& workdir) {
  std::string path = workdir + "/store.toml";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + path, errno);
  return OkStatus();
}

}  // namespace gd2::daemon
