#include "daemon/etcd_membership.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "store/membership.h"
#include "store/watcher.h"

namespace gd2::daemon {

EtcdMembership::EtcdMembership(Options options, StoreConfig config)
    : options_(std::move(options)), config_(std::move(config)) {}

EtcdMembership::~EtcdMembership() { Stop(); }

StoreConfig EtcdMembership::config() const {
  MutexLock lock(mu_);
  return config_;
}

Status EtcdMembership::CompleteJoin(store::Options cluster_options,
                                    std::chrono::milliseconds timeout) {
  StoreConfig sc = config();
  cluster_options.endpoints = sc.etcd_endpoints;
  cluster_options.cluster_id = sc.etcd_cluster_id;
  GD2_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> cluster,
                       store::Store::Connect(cluster_options));
  // Until it is promoted our learner serves no clients.
  GD2_RETURN_IF_ERROR(store::PromoteWhenReady(*cluster, sc.join_member_id, timeout));
  Status published = store::PublishMembers(*cluster, options_.members_key);
  if (!published.ok()) log::Root().Warn("cannot publish the etcd members", {{"error", published}});
  sc.etcd_endpoints.insert(sc.etcd_endpoints.begin(), options_.own_client_url);
  sc.join_initial_cluster.clear();
  sc.join_member_id = 0;
  GD2_RETURN_IF_ERROR(SaveStoreConfig(options_.workdir, sc));
  {
    MutexLock lock(mu_);
    config_ = sc;
  }
  log::Root().Info("etcd member promoted", {{"client_url", options_.own_client_url}});
  return OkStatus();
}

void EtcdMembership::FollowMemberList() {
  auto members = store_->MemberList();
  if (members.ok()) {
    Follow(store::VotingClientUrls(*members));
  } else {
    log::Root().Warn("cannot list the etcd members", {{"error", members.status()}});
  }
}

void EtcdMembership::ResyncLoop() {
  while (true) {
    {
      MutexLock lock(resync_mu_);
      auto until = std::chrono::steady_clock::now() + options_.resync_interval;
      while (!stopping_ && resync_cv_.WaitUntil(resync_mu_, until)) {
      }
      if (stopping_) return;
    }
    FollowMemberList();
  }
}

Status EtcdMembership::Start(store::Store& store) {
  store_ = &store;
  FollowMemberList();
  // Moves the store off a removed member's address before it can serve a cluster of its own.
  watcher_ = std::make_unique<store::Watcher>(store);
  const std::string key = options_.members_key;
  // A change of the members lost from etcd's history: the members as they are now.
  watcher_->OnGap([this](int64_t) { FollowMemberList(); });
  resync_ = std::thread([this] { ResyncLoop(); });
  return watcher_->Watch(key, 0, [this, key](const std::vector<store::WatchEvent>& events) {
    for (const auto& e : events) {
      if (e.type != store::WatchEvent::Type::kPut || e.kv.key != key) continue;
      nlohmann::json j = nlohmann::json::parse(e.kv.value, nullptr, false);
      if (!j.is_array()) continue;
      std::vector<std::string> urls;
      for (const auto& u : j) {
        if (u.is_string()) urls.push_back(u.get<std::string>());
      }
      Follow(urls);
    }
  });
}

void EtcdMembership::Stop() {
  {
    MutexLock lock(resync_mu_);
    stopping_ = true;
  }
  resync_cv_.NotifyAll();
  if (resync_.joinable()) resync_.join();
  if (watcher_) {
    watcher_->Stop();
    watcher_.reset();
  }
}

void EtcdMembership::Follow(const std::vector<std::string>& voting) {
  // One call at a time, so the copy taken here is still current when it is written back; mu_
  // only keeps config() readers consistent.
  MutexLock follow(follow_mu_);
  StoreConfig sc = config();
  std::vector<std::string> urls;
  if (sc.etcd_member) urls.push_back(options_.own_client_url);
  for (const auto& u : voting) {
    if (std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
  }
  if (sc.etcd_cluster_id == 0) {
    // Written by a version that did not record it: ask the cluster.
    auto id = store_->ClusterId();
    if (id.ok()) {
      sc.etcd_cluster_id = *id;
      MutexLock lock(mu_);
      config_.etcd_cluster_id = *id;
    }
  }
  if (voting.empty() || urls == sc.etcd_endpoints) return;
  // Edit the file rather than write the configuration back: a promotion may have rewritten it
  // meanwhile (and the restart that follows must find that).
  uint64_t cluster_id = sc.etcd_cluster_id;
  Status saved = UpdateStoreConfig(
      options_.workdir,
      [&](StoreConfig& file) {
        if (!file.join_initial_cluster.empty())
          return AbortedError("a restart as an etcd member is pending");
        file.etcd_endpoints = urls;
        if (file.etcd_cluster_id == 0) file.etcd_cluster_id = cluster_id;
        return OkStatus();
      },
      &sc);
  if (!saved.ok()) {
    log::Root().Info("store endpoints not changed", {{"reason", saved}});
    return;
  }
  Status s = store_->SetEndpoints(urls);
  if (!s.ok()) {
    log::Root().Warn("cannot move the store to the current etcd members", {{"error", s}});
    return;
  }
  {
    MutexLock lock(mu_);
    config_.etcd_endpoints = urls;
  }
  std::string list;
  for (const auto& u : urls) list += (list.empty() ? "" : ",") + u;
  log::Root().Info("store endpoints follow the etcd membership", {{"endpoints", list}});
}

}  // namespace gd2::daemon
