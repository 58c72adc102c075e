#include "store/session.h"

#include <utility>

#include "common/log.h"

namespace gd2::store {
namespace {

using Clock = std::chrono::steady_clock;

// How often to retry while etcd does not answer.
constexpr std::chrono::milliseconds kRetryInterval{250};

}  // namespace

Session::Session(Store& store, SessionOptions options)
    : store_(store), options_(std::move(options)) {}

Session::~Session() { Stop(); }

int64_t Session::lease_id() const {
  MutexLock lock(mu_);
  return lease_;
}

Status Session::Start() {
  {
    MutexLock lock(mu_);
    if (started_) return FailedPreconditionError("session already started");
    started_ = true;
  }
  StatusOr<Lease> lease = store_.GrantLease(options_.ttl.count());
  if (!lease.ok()) {
    MutexLock lock(mu_);
    started_ = false;
    return lease.status().WithContext("cannot start etcd session");
  }
  {
    MutexLock lock(mu_);
    lease_ = lease->id;
  }
  log::Root().Info("etcd session started", {{"lease", lease->id}, {"ttl_s", lease->ttl_seconds}});
  Register(lease->id);
  thread_ = std::thread(&Session::Run, this);
  deleter_ = std::thread(&Session::DeleteLoop, this);
  return OkStatus();
}

void Session::Stop() {
  int64_t lease = 0;
  {
    MutexLock lock(mu_);
    if (stopping_ || !started_) return;
    stopping_ = true;
    lease = lease_;
    lease_ = 0;
  }
  cv_.NotifyAll();
  delete_cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  if (deleter_.joinable()) deleter_.join();
  if (lease != 0) {
    Status s = store_.RevokeLease(lease);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      log::Root().Warn("cannot revoke session lease", {{"lease", lease}, {"error", s}});
    }
  }
}

bool Session::Regrant(int64_t* stale) {
  if (*stale != 0) {
    // The old lease may still exist (etcd kept it while we could not reach it); its keys must
    // not outlive our belief that it is gone, or two leases would claim the same keys.
    Status s = store_.RevokeLease(*stale);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return false;
    *stale = 0;
  }
  StatusOr<Lease> lease = store_.GrantLease(options_.ttl.count());
  if (!lease.ok()) return false;
  bool stopping;
  {
    MutexLock lock(mu_);
    stopping = stopping_;
    if (!stopping) lease_ = lease->id;
  }
  if (stopping) {
    // Stop() has already taken the lease it revokes; this one is ours to drop.
    store_.RevokeLease(lease->id).IgnoreError();
    return true;
  }
  log::Root().Info("etcd session lease renewed", {{"lease", lease->id}});
  Register(lease->id);
  return true;
}

void Session::Register(int64_t lease) {
  if (!options_.on_new_lease) return;
  Status s = options_.on_new_lease(lease);
  if (s.ok()) {
    if (unregistered_ != 0)
      log::Root().Info("keys of the session lease written", {{"lease", lease}});
    unregistered_ = 0;
    return;
  }
  if (unregistered_ != lease) {
    log::Root().Warn("cannot write the keys of the session lease; trying again",
                     {{"lease", lease}, {"error", s}});
  }
  unregistered_ = lease;
}

void Session::DeleteLater(std::string key, int64_t lease) {
  bool queued = false;
  {
    MutexLock lock(mu_);
    if (pending_deletes_.size() < kMaxPendingDeletes) {
      pending_deletes_.emplace_back(key, lease);
      queued = true;
    }
  }
  if (!queued) {
    log::Root().Error("too many keys waiting for deletion; this one stays until its lease ends",
                      {{"key", key}, {"lease", lease}});
    return;
  }
  delete_cv_.NotifyAll();
}

void Session::DeleteLoop() {
  while (true) {
    std::vector<std::pair<std::string, int64_t>> pending;
    int64_t lease = 0;
    {
      MutexLock lock(mu_);
      while (!stopping_ && pending_deletes_.empty()) delete_cv_.Wait(mu_);
      if (stopping_) return;
      pending.swap(pending_deletes_);
      lease = lease_;
    }
    // Keys of a lease that is no longer the session's went with it (a lost lease is revoked
    // before the next is granted). The first delete etcd does not answer ends the pass.
    std::vector<std::pair<std::string, int64_t>> kept;
    bool answering = true;
    for (auto& [key, key_lease] : pending) {
      if (key_lease != lease) continue;
      if (answering) {
        StatusOr<int64_t> deleted = store_.Delete(key);
        if (deleted.ok()) {
          log::Root().Info("deleted a key its owner could not", {{"key", key}});
          continue;
        }
        answering = false;
      }
      kept.emplace_back(std::move(key), key_lease);
    }
    if (kept.empty()) continue;
    MutexLock lock(mu_);
    for (auto& k : kept) {
      if (pending_deletes_.size() < kMaxPendingDeletes) pending_deletes_.push_back(std::move(k));
    }
    auto until = Clock::now() + kRetryInterval;
    while (!stopping_ && delete_cv_.WaitUntil(mu_, until)) {
    }
  }
}

void Session::Run() {
  const auto keepalive_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.ttl) / 3;
  Clock::time_point last_ok = Clock::now();
  int64_t stale = 0;
  bool retrying = false;
  while (true) {
    int64_t lease = 0;
    {
      MutexLock lock(mu_);
      bool soon = retrying || unregistered_ != 0;
      auto wake = Clock::now() + (soon ? kRetryInterval : keepalive_interval);
      while (!stopping_ && cv_.WaitUntil(mu_, wake)) {
      }
      if (stopping_) return;
      lease = lease_;
    }
    if (lease == 0) {
      retrying = !Regrant(&stale);
      if (!retrying) last_ok = Clock::now();
      continue;
    }
    StatusOr<int64_t> ttl = store_.KeepAliveOnce(lease);
    if (ttl.ok()) {
      if (retrying) log::Root().Info("etcd session lease kept alive again", {{"lease", lease}});
      last_ok = Clock::now();
      retrying = false;
      if (unregistered_ == lease) Register(lease);
      continue;
    }
    bool expired = ttl.status().code() == StatusCode::kNotFound;
    bool too_long = Clock::now() - last_ok >= options_.ttl;
    if (!expired && !too_long) {
      if (!retrying) {
        log::Root().Warn("etcd session keepalive failed, retrying",
                         {{"lease", lease}, {"error", ttl.status()}});
      }
      retrying = true;
      continue;
    }
    log::Root().Warn("etcd session lease lost",
                     {{"lease", lease}, {"reason", expired ? "expired" : "unreachable"}});
    {
      MutexLock lock(mu_);
      lease_ = 0;
    }
    if (!expired) stale = lease;
    retrying = !Regrant(&stale);
    if (!retrying) last_ok = Clock::now();
  }
}

}  // namespace gd2::store
