// Peers: the membership list of the cluster. This peer registers itself in the store at start;
// liveness comes from a key bound to the daemon's session lease. Offers PeerApi
// (plugins/peer/peer_api.h) to other plugins.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "api/peer.h"
#include "common/thread_annotations.h"
#include "plugins/peer/peer_store.h"
#include "plugins/plugin.h"

namespace gd2::store {
class Watcher;
}

namespace gd2::plugins::peer {

class PeerPlugin : public Plugin {
 public:
  explicit PeerPlugin(Services& services);
  ~PeerPlugin() override;
  std::string_view Name() const override { return "peer"; }
  void Register(Registrar& r) override;
  // Watches liveness keys and logs peers going online and offline.
  Status Start() override;
  // Starts rolling back the transactions of initiators that died (txn::Engine::TakeOver).
  void OnServing() override;
  void Stop() override;

 private:
  Status StartWatch();
  StatusOr<rest::Response> Add(rest::RequestContext& ctx);
  StatusOr<rest::Response> Remove(rest::RequestContext& ctx);
  StatusOr<rest::Response> Edit(rest::RequestContext& ctx);
  // After `removed` left: if the cluster has fewer etcd members than it keeps, makes an online
  // client peer a member (a transaction running store.become-member on it). Logs, never fails.
  void PromoteMember(rest::RequestContext& ctx, const api::Peer& removed);

  void WakeTakeOver();
  void TakeOverLoop();
  static constexpr std::chrono::seconds kTakeOverInterval{30};
  static constexpr std::chrono::seconds kOutcomeRetry{1};

  Services& services_;
  StoredPeers peers_;  // offered to other plugins as PeerApi
  std::unique_ptr<store::Watcher> watcher_;
  std::thread takeover_;
  Mutex takeover_mu_;
  CondVar takeover_cv_;
  bool takeover_wanted_ GD2_GUARDED_BY(takeover_mu_) = false;
  bool takeover_stopping_ GD2_GUARDED_BY(takeover_mu_) = false;
};

}  // namespace gd2::plugins::peer
