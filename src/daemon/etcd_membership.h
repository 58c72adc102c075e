// EtcdMembership keeps a peer's store client on the cluster's current etcd members. The members
// change (a peer joins as a member, a removed peer's member leaves); whoever changes them
// publishes the voting members' client URLs at KeySpace::EtcdMembers (store::PublishMembers),
// and every peer that runs on the cluster's embedded etcd follows that key: it moves its
// store::Store to the new URLs and records them in store.toml, before a removed member's
// address can serve a cluster of its own. It also completes this peer's own join as a member
// (promoting the learner it started).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "daemon/identity.h"
#include "store/store.h"

namespace gd2::store {
class Watcher;
}

namespace gd2::daemon {

class EtcdMembership {
 public:
  struct Options {
    std::string workdir;         // holds store.toml
    std::string own_client_url;  // this peer's member, listed first while config.etcd_member
    std::string members_key;     // KeySpace::EtcdMembers() of the cluster
    // How often the member list is read to catch what the members key missed (a publication
    // that failed, a move of the store that failed).
    std::chrono::milliseconds resync_interval{30000};
  };

  // `config`: the store configuration this peer started with (store.toml, or for the peer that
  // founded the cluster its own member, kept in memory until the membership changes).
  EtcdMembership(Options options, StoreConfig config);
  // Stop().
  ~EtcdMembership();
  EtcdMembership(const EtcdMembership&) = delete;
  EtcdMembership& operator=(const EtcdMembership&) = delete;

  // A copy of the configuration as it stands. Thread-safe.
  StoreConfig config() const GD2_EXCLUDES(mu_);

  // For a peer whose first start as a new member is pending (config().join_initial_cluster
  // set), once its etcd runs: promotes that learner through a store on the other members
  // (`cluster_options`, endpoints and cluster id taken from the configuration) when it has
  // caught up, publishes the new membership, and saves store.toml with this peer's member first
  // and the join no longer pending. Blocks up to `timeout` for the promotion. Errors: those of
  // Store::Connect, store::PromoteWhenReady (kDeadlineExceeded: not promoted in time, the
  // learner removed again) and SaveStoreConfig; a failure to publish is only logged (the other
  // peers also learn the membership from its next change). Call before Start().
  Status CompleteJoin(store::Options cluster_options, std::chrono::milliseconds timeout)
      GD2_EXCLUDES(mu_);

  // Moves `store` to the current voting members (a failed member list is logged and skipped),
  // then follows the members key with Follow() (and, after changes lost from etcd's history,
  // the member list again), and reads the member list every resync_interval, so that a change
  // the key never told, or a move that failed, is caught up with. Errors of
  // store::Watcher::Watch. `store` must outlive Stop(). Call once.
  Status Start(store::Store& store) GD2_EXCLUDES(mu_, resync_mu_);
  // Stops following (joins the watch and resync threads). Idempotent.
  void Stop() GD2_EXCLUDES(resync_mu_);

  // Moves the store to `voting` (client URLs of the voting members; this peer's own member
  // goes first while it runs one) and records them in store.toml, unless store.toml has a
  // restart as a member pending. Nothing changes for an empty list or the current one. Calls
  // are serialised (the watch and the resync thread both call it).
  void Follow(const std::vector<std::string>& voting) GD2_EXCLUDES(mu_, follow_mu_);

 private:
  // Follow() with the current voting members; a failed member list is logged.
  void FollowMemberList() GD2_EXCLUDES(mu_, follow_mu_);
  void ResyncLoop() GD2_EXCLUDES(resync_mu_);

  const Options options_;
  store::Store* store_ = nullptr;  // set by Start()
  std::unique_ptr<store::Watcher> watcher_;
  mutable Mutex mu_;
  StoreConfig config_ GD2_GUARDED_BY(mu_);
  Mutex follow_mu_;  // one Follow() at a time
  Mutex resync_mu_;
  CondVar resync_cv_;
  bool stopping_ GD2_GUARDED_BY(resync_mu_) = false;
  std::thread resync_;
};

}  // namespace gd2::daemon
