// The peer's stable identity and the cluster's auth secret, kept in the workdir:
// <workdir>/uuid.toml (peer-id, cluster-id) and <workdir>/auth (hex secret, mode 0600).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gd2::daemon {

struct Identity {
  std::string peer_id;
  std::string cluster_id;
};

// Reads uuid.toml, creating it with fresh UUIDs on first start. GD2_PEER_ID / GD2_CLUSTER_ID
// environment values (UUIDs) override and are persisted. kInvalidArgument on a corrupt file.
StatusOr<Identity> LoadOrCreateIdentity(const std::string& workdir);
Status SaveIdentity(const std::string& workdir, const Identity& id);

// Reads <workdir>/auth. On first start (no such file) creates it (mode 0600) from
// `initial_secret_file` when given (the shared cluster secret; kInvalidArgument if shorter than
// 16 characters), else from a random 32-byte hex secret.
StatusOr<std::string> LoadOrCreateSecret(const std::string& workdir,
                                         const std::string& initial_secret_file = "");

}  // namespace gd2::daemon

namespace gd2::daemon {

// How this peer reaches the cluster's store after joining another peer's cluster:
// <workdir>/store.toml. Absent for a single-node cluster (its own embedded etcd).
struct StoreConfig {
  std::vector<std::string> etcd_endpoints;  // the cluster's store (this peer's member included)
  bool etcd_member = false;                 // this peer runs one of the cluster's etcd members
  // Set between accepting a join as a new etcd member and that member's first start: start it
  // with this initial cluster into an empty data dir, then promote it.
  std::string join_initial_cluster;
  uint64_t join_member_id = 0;
  // The etcd cluster's own id: answers from any other cluster are refused (0: not known yet).
  uint64_t etcd_cluster_id = 0;
};

// kNotFound when the file does not exist.
StatusOr<StoreConfig> LoadStoreConfig(const std::string& workdir);
Status SaveStoreConfig(const std::string& workdir, const StoreConfig& sc);
Status RemoveStoreConfig(const std::string& workdir);
// Loads store.toml, lets `change` edit it and saves it, all under one lock for the process, so
// that writers (membership following, promotion) never undo each other's edits. A non-OK
// status from `change` leaves the file as it was and is returned. A missing file is kNotFound,
// or starts as `if_missing` when given.
Status UpdateStoreConfig(const std::string& workdir,
                         const std::function<Status(StoreConfig&)>& change,
                         const StoreConfig* if_missing = nullptr);

}  // namespace gd2::daemon
