// The etcd key layout of glusterd2. Every daemon key lives under "gluster-<cluster-id>/"; one
// function per kind of key builds it, so call sites never paste key strings together.
//
//   gluster-<cid>/peers/<peer-id>          peer info
//   gluster-<cid>/alive/<peer-id>          liveness key, bound to the peer's session lease
//   gluster-<cid>/volumes/<name>           volume info
//   gluster-<cid>/snapshots/<name>         snapshot info
//   gluster-<cid>/devices/<peer-id>        the devices of one peer
//   gluster-<cid>/locks/<name>/<holder>    cluster lock waiters (see store/lock.h)
//   gluster-<cid>/txn/<txn-id>             in-flight transaction records
//   gluster-<cid>/cluster/options          cluster-wide options
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::store {

// Returns kInvalidArgument unless `name` is usable as one key segment: non-empty, at most 255
// bytes, no '/', no NUL, not "." or "..". `what` names the kind in the message ("volume").
Status ValidateKeySegment(std::string_view what, std::string_view name);

// Immutable and cheap to copy; thread-safe.
class KeySpace {
 public:
  // Checks the cluster id with ValidateKeySegment.
  static StatusOr<KeySpace> Create(std::string cluster_id);
  // For ids already validated (for example read back from the daemon's own state): aborts on
  // an invalid id.
  explicit KeySpace(std::string cluster_id);

  const std::string& cluster_id() const { return cluster_id_; }

  // Prefixes end with '/', so a prefix list never matches a sibling kind.
  std::string Prefix() const;  // "gluster-<cid>/"
  std::string PeersPrefix() const;
  std::string AlivePrefix() const;
  std::string VolumesPrefix() const;
  std::string SnapshotsPrefix() const;
  std::string DevicesPrefix() const;
  std::string LocksPrefix() const;
  std::string TxnPrefix() const;
  std::string ClusterOptions() const;
  // The client URLs of the etcd cluster's voting members (a JSON array), rewritten after every
  // membership change so that peers can follow with a watch: "gluster-<cid>/cluster/etcd-members".
  std::string EtcdMembers() const;

  // Each returns kInvalidArgument for a name ValidateKeySegment rejects.
  StatusOr<std::string> Peer(std::string_view peer_id) const;
  StatusOr<std::string> Alive(std::string_view peer_id) const;
  // Index from a peer's address ("host" or "host:port", client or peer address) to its id, so
  // that a brick named by address is found without listing every peer:
  // "gluster-<cid>/peeraddr/<address>".
  StatusOr<std::string> PeerAddress(std::string_view address) const;
  StatusOr<std::string> Volume(std::string_view name) const;
  StatusOr<std::string> Snapshot(std::string_view name) const;
  StatusOr<std::string> Devices(std::string_view peer_id) const;
  StatusOr<std::string> Txn(std::string_view txn_id) const;
  // Live state of one brick process, written by the peer that runs it and bound to that peer's
  // session lease: "gluster-<cid>/brickstate/<peer-id>/<brick path, '/' as %2F>".
  StatusOr<std::string> BrickState(std::string_view peer_id, std::string_view brick_path) const;
  // Work a peer must do when it is back (e.g. brick cleanup of a volume deleted while it was
  // down): "gluster-<cid>/pending/<peer-id>/<name>".
  StatusOr<std::string> PendingPrefix(std::string_view peer_id) const;
  StatusOr<std::string> Pending(std::string_view peer_id, std::string_view name) const;
  // The directory of one lock's waiters, with a trailing '/': "gluster-<cid>/locks/<name>/".
  StatusOr<std::string> Lock(std::string_view name) const;

 private:
  std::string cluster_id_;
  std::string prefix_;
};

}  // namespace gd2::store
