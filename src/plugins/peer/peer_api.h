// The peer plugin's public surface: what other plugins may ask about the cluster's peers. Other
// plugins include only this header of the peer plugin and find the implementation with
// services.apis.Find<peer::PeerApi>() (plugins/plugin.h); they never read peers/ or alive/ keys
// themselves. Every call reads the store as it is now (no cache) and is safe from any thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/peer.h"
#include "common/status.h"

namespace gd2::plugins::peer {

class PeerApi {
 public:
  virtual ~PeerApi() = default;

  // The peer with this id, with `online` and `pid` from its liveness key. kNotFound
  // "peer not found" when there is none (also for a string that cannot be a peer id); errors of
  // the store as they are (kUnavailable, kDeadlineExceeded), kInternal for a damaged record.
  virtual StatusOr<api::Peer> GetPeer(const std::string& peer_id) const = 0;

  // The peer `who` names: its id, its name, or one of its client or peer addresses with or
  // without the port ("host", "host:port"); "localhost" is this daemon's own peer. kNotFound
  // "peer not found: <who>" when no peer matches. An id or an indexed address costs one or two
  // reads; only a name reads the whole peer list.
  virtual StatusOr<api::Peer> FindPeer(const std::string& who) const = 0;

  // FindPeer for each of `whos` at once: two store requests however many peers they name (plus
  // one list read if some name no id or indexed address). The answer maps each of `whos` to its
  // peer; kNotFound "peer not found: <who>" for the first that matches none.
  virtual StatusOr<std::map<std::string, api::Peer>> FindPeers(
      const std::vector<std::string>& whos) const = 0;

  // Every peer, with online state (two range reads).
  virtual StatusOr<std::vector<api::Peer>> ListPeers() const = 0;

  // Those of `peer_ids` that are online now: one read per id given, so the cost follows the
  // peers an operation involves, not the size of the cluster. Ids of no peer are not online.
  virtual StatusOr<std::set<std::string>> OnlinePeers(
      const std::vector<std::string>& peer_ids) const = 0;
};

// The host part of a peer's first client address ("10.0.0.1:24007" -> "10.0.0.1"), the name
// its bricks are known by; `fallback` when the peer has no client address.
inline std::string ClientHost(const api::Peer& peer, const std::string& fallback) {
  const std::string& a = peer.client_addresses.empty() ? fallback : peer.client_addresses.front();
  return a.substr(0, a.rfind(':'));
}

}  // namespace gd2::plugins::peer
