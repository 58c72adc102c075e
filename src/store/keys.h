// The etcd key layout of glusterd2. Every daemon key lives under "gluster-<cluster-id>/", in a
// directory named after its kind: "gluster-<cid>/<kind>/...". Core owns the kinds below; a plugin
// declares its own kinds through plugins::Registrar::AddKeyKind (volumes, brickstate and pending
// are the volume plugin's, see plugins/volume/volume_store.h) and builds their keys with KeyKind,
// so call sites never paste key strings together.
//
// Core kinds:
//   gluster-<cid>/peers/<peer-id>          peer info
//   gluster-<cid>/alive/<peer-id>          liveness key, bound to the peer's session lease
//   gluster-<cid>/peeraddr/<address>       peer address index -> peer id
//   gluster-<cid>/locks/<name>/<holder>    cluster lock waiters (see store/lock.h)
//   gluster-<cid>/txn/<txn-id>             in-flight transaction records
//   gluster-<cid>/quarantine/<key>         records set aside as unusable (see txn/quarantine.h)
//   gluster-<cid>/cluster/options          cluster-wide options
//   gluster-<cid>/cluster/etcd-members     client URLs of the etcd voting members
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::store {

// Returns kInvalidArgument unless `name` is usable as one key segment: non-empty, at most 255
// bytes, no '/', no NUL, not "." or "..". `what` names the kind in the message ("volume").
Status ValidateKeySegment(std::string_view what, std::string_view name);

// `text` with '%' as "%25" and '/' as "%2F", so that a path fits in one key segment
// ("/bricks/b1" -> "%2Fbricks%2Fb1"). Still checked by ValidateKeySegment where it is used.
std::string EscapeKeySegment(std::string_view text);

// True for the kinds core owns (the list above): no plugin may declare them.
bool IsCoreKeyKind(std::string_view kind);

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
  StatusOr<std::string> Txn(std::string_view txn_id) const;
  // The directory of one lock's waiters, with a trailing '/': "gluster-<cid>/locks/<name>/".
  StatusOr<std::string> Lock(std::string_view name) const;

 private:
  std::string cluster_id_;
  std::string prefix_;
};

// One segment of a key below its kind's directory, and what it names in error messages.
struct KeySegment {
  std::string_view what;  // "volume", "peer", ...
  std::string_view name;
};

// The keys of one kind, "gluster-<cid>/<kind>/...", built from checked segments. A plugin makes
// one for each kind it declared (plugins::Registrar::AddKeyKind). Immutable, cheap to copy,
// thread-safe.
class KeyKind {
 public:
  // Aborts if ValidateKeySegment refuses `kind` (kinds are constants in code).
  KeyKind(const KeySpace& keys, std::string_view kind);

  const std::string& kind() const { return kind_; }
  // "gluster-<cid>/<kind>/".
  const std::string& Prefix() const { return prefix_; }
  // Prefix() followed by the segments joined with '/': Key({{"volume", "gv0"}}) is
  // "gluster-<cid>/volumes/gv0". kInvalidArgument naming the segment's `what` for a segment
  // ValidateKeySegment refuses, or for an empty list.
  StatusOr<std::string> Key(std::initializer_list<KeySegment> segments) const;
  // The same with a trailing '/': the directory holding the keys below those segments.
  StatusOr<std::string> Dir(std::initializer_list<KeySegment> segments) const;

 private:
  std::string kind_;
  std::string prefix_;
};

}  // namespace gd2::store
