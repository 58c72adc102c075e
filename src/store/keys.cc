#include "store/keys.h"

#include <utility>

namespace gd2::store {
namespace {

constexpr size_t kMaxSegment = 255;

StatusOr<std::string> Join(const std::string& dir, std::string_view what, std::string_view name) {
  GD2_RETURN_IF_ERROR(ValidateKeySegment(what, name));
  return dir + std::string(name);
}

}  // namespace

Status ValidateKeySegment(std::string_view what, std::string_view name) {
  std::string shown(name.substr(0, 64));
  if (name.empty()) return InvalidArgumentError(std::string(what) + " name is empty");
  if (name.size() > kMaxSegment) {
    return InvalidArgumentError(std::string(what) + " name longer than 255 bytes: name=" + shown);
  }
  if (name.find('/') != std::string_view::npos) {
    return InvalidArgumentError(std::string(what) + " name contains '/': name=" + shown);
  }
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgumentError(std::string(what) + " name contains NUL");
  }
  if (name == "." || name == "..") {
    return InvalidArgumentError(std::string(what) + " name is reserved: name=" + shown);
  }
  return OkStatus();
}

StatusOr<KeySpace> KeySpace::Create(std::string cluster_id) {
  GD2_RETURN_IF_ERROR(ValidateKeySegment("cluster", cluster_id));
  return KeySpace(std::move(cluster_id));
}

KeySpace::KeySpace(std::string cluster_id)
    : cluster_id_(std::move(cluster_id)), prefix_("gluster-" + cluster_id_ + "/") {
  GD2_CHECK(ValidateKeySegment("cluster", cluster_id_).ok());
}

std::string KeySpace::Prefix() const { return prefix_; }
std::string KeySpace::PeersPrefix() const { return prefix_ + "peers/"; }
std::string KeySpace::AlivePrefix() const { return prefix_ + "alive/"; }
std::string KeySpace::VolumesPrefix() const { return prefix_ + "volumes/"; }
std::string KeySpace::SnapshotsPrefix() const { return prefix_ + "snapshots/"; }
std::string KeySpace::DevicesPrefix() const { return prefix_ + "devices/"; }
std::string KeySpace::LocksPrefix() const { return prefix_ + "locks/"; }
std::string KeySpace::TxnPrefix() const { return prefix_ + "txn/"; }
std::string KeySpace::ClusterOptions() const { return prefix_ + "cluster/options"; }
std::string KeySpace::EtcdMembers() const { return prefix_ + "cluster/etcd-members"; }

StatusOr<std::string> KeySpace::PeerAddress(std::string_view address) const {
  return Join(prefix_ + "peeraddr/", "peer address", address);
}
StatusOr<std::string> KeySpace::Peer(std::string_view peer_id) const {
  return Join(PeersPrefix(), "peer", peer_id);
}
StatusOr<std::string> KeySpace::Alive(std::string_view peer_id) const {
  return Join(AlivePrefix(), "peer", peer_id);
}
StatusOr<std::string> KeySpace::Volume(std::string_view name) const {
  return Join(VolumesPrefix(), "volume", name);
}
StatusOr<std::string> KeySpace::Snapshot(std::string_view name) const {
  return Join(SnapshotsPrefix(), "snapshot", name);
}
StatusOr<std::string> KeySpace::Devices(std::string_view peer_id) const {
  return Join(DevicesPrefix(), "peer", peer_id);
}
StatusOr<std::string> KeySpace::Txn(std::string_view txn_id) const {
  return Join(TxnPrefix(), "txn", txn_id);
}
StatusOr<std::string> KeySpace::Lock(std::string_view name) const {
  GD2_ASSIGN_OR_RETURN(std::string dir, Join(LocksPrefix(), "lock", name));
  return dir + "/";
}

StatusOr<std::string> KeySpace::PendingPrefix(std::string_view peer_id) const {
  GD2_RETURN_IF_ERROR(ValidateKeySegment("peer", peer_id));
  return prefix_ + "pending/" + std::string(peer_id) + "/";
}

StatusOr<std::string> KeySpace::Pending(std::string_view peer_id, std::string_view name) const {
  GD2_ASSIGN_OR_RETURN(std::string dir, PendingPrefix(peer_id));
  GD2_RETURN_IF_ERROR(ValidateKeySegment("pending work", name));
  return dir + std::string(name);
}

StatusOr<std::string> KeySpace::BrickState(std::string_view peer_id,
                                           std::string_view brick_path) const {
  GD2_RETURN_IF_ERROR(ValidateKeySegment("peer", peer_id));
  std::string seg;
  for (char c : brick_path) {
    if (c == '/') {
      seg += "%2F";
    } else if (c == '%') {
      seg += "%25";
    } else {
      seg += c;
    }
  }
  GD2_RETURN_IF_ERROR(ValidateKeySegment("brick", seg));
  return prefix_ + "brickstate/" + std::string(peer_id) + "/" + seg;
}

}  // namespace gd2::store
