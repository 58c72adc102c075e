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

std::string EscapeKeySegment(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '/') {
      out += "%2F";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsCoreKeyKind(std::string_view kind) {
  for (std::string_view core :
       {"peers", "alive", "peeraddr", "locks", "txn", "quarantine", "cluster"}) {
    if (kind == core) return true;
  }
  return false;
}

std::string KeySpace::Prefix() const { return prefix_; }
std::string KeySpace::PeersPrefix() const { return prefix_ + "peers/"; }
std::string KeySpace::AlivePrefix() const { return prefix_ + "alive/"; }
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
StatusOr<std::string> KeySpace::Txn(std::string_view txn_id) const {
  return Join(TxnPrefix(), "txn", txn_id);
}
StatusOr<std::string> KeySpace::Lock(std::string_view name) const {
  GD2_ASSIGN_OR_RETURN(std::string dir, Join(LocksPrefix(), "lock", name));
  return dir + "/";
}

KeyKind::KeyKind(const KeySpace& keys, std::string_view kind)
    : kind_(kind), prefix_(keys.Prefix() + std::string(kind) + "/") {
  GD2_CHECK(ValidateKeySegment("key kind", kind_).ok());
}

StatusOr<std::string> KeyKind::Key(std::initializer_list<KeySegment> segments) const {
  if (segments.size() == 0) return InvalidArgumentError("no key segments for kind " + kind_);
  std::string key = prefix_;
  bool first = true;
  for (const KeySegment& s : segments) {
    GD2_RETURN_IF_ERROR(ValidateKeySegment(s.what, s.name));
    if (!first) key += '/';
    key += s.name;
    first = false;
  }
  return key;
}

StatusOr<std::string> KeyKind::Dir(std::initializer_list<KeySegment> segments) const {
  GD2_ASSIGN_OR_RETURN(std::string key, Key(segments));
  return key + "/";
}

}  // namespace gd2::store
