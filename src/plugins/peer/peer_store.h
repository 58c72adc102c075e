// Reads and writes peer records (peers/<id>), their address index (peeraddr/<address>) and
// liveness keys (alive/<id>), the core key kinds of store/keys.h. Internal to the peer plugin,
// which offers what others may read as PeerApi (plugins/peer/peer_api.h, implemented by
// StoredPeers below); besides the plugin, only the daemon (registering itself, resolving the
// address a remote step is sent to) and bench/scale_peers use these functions.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "api/peer.h"
#include "common/status.h"
#include "plugins/peer/peer_api.h"
#include "store/keys.h"

namespace gd2::store {
class Store;
class View;
class ViewSnapshot;
}

namespace gd2::plugins::peer {

// Writes this peer's record (peers/<id>) and its address index entries. Idempotent.
Status PutPeer(store::Store& store, const store::KeySpace& keys, const api::Peer& peer);
// Deletes the record, the liveness key and the address index entries that still name it.
Status DeletePeer(store::Store& store, const store::KeySpace& keys, const api::Peer& peer);
// True if `who` names `p`: its id, name, or one of its addresses with or without the port.
bool PeerMatches(const api::Peer& p, const std::string& who);
// Writes alive/<id> = {"pid": pid} bound to `lease`.
Status PutAlive(store::Store& store, const store::KeySpace& keys, const std::string& peer_id,
                int64_t pid, int64_t lease);
// All peers with online/pid filled from the alive keys (two range reads).
StatusOr<std::vector<api::Peer>> ListPeers(store::Store& store, const store::KeySpace& keys);
// kNotFound "peer not found" when absent.
StatusOr<api::Peer> GetPeer(store::Store& store, const store::KeySpace& keys,
                            const std::string& peer_id);

// PeerApi over the store: what the peer plugin offers other plugins.
class StoredPeers : public PeerApi {
 public:
  // `store` must outlive this object; `self_id` is this daemon's peer ("localhost").
  StoredPeers(store::Store& store, store::KeySpace keys, std::string self_id)
      : store_(store), keys_(std::move(keys)), self_id_(std::move(self_id)) {}

  StatusOr<api::Peer> GetPeer(const std::string& peer_id) const override;
  StatusOr<api::Peer> FindPeer(const std::string& who) const override;
  StatusOr<std::map<std::string, api::Peer>> FindPeers(
      const std::vector<std::string>& whos) const override;
  StatusOr<std::vector<api::Peer>> ListPeers() const override;
  StatusOr<std::set<std::string>> OnlinePeers(
      const std::vector<std::string>& peer_ids) const override;

 private:
  store::Store& store_;
  const store::KeySpace keys_;
  const std::string self_id_;
};

// Has `view` keep the peer records (decoded to api::Peer) and the liveness keys (decoded to
// their pid), for the overloads below. Call before the view starts.
Status KeepPeers(store::View& view, const store::KeySpace& keys);
// ListPeers and GetPeer from a snapshot of a view that keeps them (KeepPeers): the same answers
// and errors, no etcd round trip.
StatusOr<std::vector<api::Peer>> ListPeers(const store::ViewSnapshot& view,
                                           const store::KeySpace& keys);
StatusOr<api::Peer> GetPeer(const store::ViewSnapshot& view, const store::KeySpace& keys,
                            const std::string& peer_id);

}  // namespace gd2::plugins::peer
