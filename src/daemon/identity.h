// The peer's stable identity and the cluster's auth secret, kept in the workdir:
// <workdir>/uuid.toml (peer-id, cluster-id) and <workdir>/auth (hex secret, mode 0600).
#pragma once

#include <cstdint>
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

// Reads <workdir>/auth, creating a random 32-byte hex secret (mode 0600) on first start.
StatusOr<std::string> LoadOrCreateSecret(const std::string& workdir);

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
};

// kNotFound when the file does not exist.
StatusOr<StoreConfig> LoadStoreConfig(const std::string& workdir);
Status SaveStoreConfig(const std::string& workdir, const StoreConfig& sc);
Status RemoveStoreConfig(const std::string& workdir);

}  // namespace gd2::daemon
