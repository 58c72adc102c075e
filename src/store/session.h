// store::Session owns one etcd lease and keeps it alive from a background thread. Keys bound to
// the lease (the daemon's liveness key, lock keys) vanish when the daemon dies. If the lease is
// lost (it expired, or etcd was unreachable for a whole TTL) the session grants a new one once
// etcd answers again and tells its owner through on_new_lease, so the owner re-puts its keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace gd2::store {

struct SessionOptions {
  // Lease TTL; etcd raises values below its minimum (about 2 s with default election timing).
  std::chrono::seconds ttl{10};
  // Called with every newly granted lease (the owner puts its keys there): the first one from
  // inside Start() on the caller's thread, later ones on the session thread. An error (etcd did
  // not answer) makes the session call it again, every 250 ms while the lease lives, until it
  // succeeds. It must not call Stop() or destroy the session.
  std::function<Status(int64_t lease_id)> on_new_lease;
};

class Session {
 public:
  // `store` must outlive the session.
  Session(Store& store, SessionOptions options);
  // Stops the session (revoking its lease).
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Grants the first lease (calling on_new_lease), then starts the keepalive thread. Returns
  // the GrantLease error (e.g. kUnavailable) if etcd cannot grant it; kFailedPrecondition if
  // called twice.
  Status Start() GD2_EXCLUDES(mu_);
  // Stops the keepalive thread and revokes the lease, deleting its keys (best effort: if etcd
  // is unreachable the lease simply expires). Idempotent; any thread, but not concurrently with
  // Start().
  void Stop() GD2_EXCLUDES(mu_);

  // The current lease, or 0 while the session has none (before Start, after Stop, or while
  // the lease is lost and etcd has not granted a new one yet). Thread-safe.
  int64_t lease_id() const GD2_EXCLUDES(mu_);
  std::chrono::seconds ttl() const { return options_.ttl; }

  // A key bound to `lease` that its owner could not delete because etcd did not answer (a
  // cluster lock's key, which would otherwise hold the lock for as long as this session keeps
  // the lease alive). The session deletes it once etcd answers, trying every 250 ms, or forgets
  // it once the lease is gone (the key went with it); a key of any lease but the session's
  // current one is taken as gone. At most kMaxPendingDeletes are kept; beyond that the key is
  // logged as an error and left to the lease. Thread-safe.
  void DeleteLater(std::string key, int64_t lease) GD2_EXCLUDES(mu_);
  static constexpr size_t kMaxPendingDeletes = 4096;

 private:
  void Run() GD2_EXCLUDES(mu_);
  // Revokes `stale` (if any) and grants a new lease; returns false if etcd did not answer.
  bool Regrant(int64_t* stale) GD2_EXCLUDES(mu_);
  // on_new_lease(lease); on an error remembers the lease in unregistered_ for another try.
  void Register(int64_t lease);
  // The thread that deletes the keys of DeleteLater, apart from the keepalives (a delete etcd
  // does not answer takes up to the store's request timeout).
  void DeleteLoop() GD2_EXCLUDES(mu_);

  Store& store_;
  SessionOptions options_;
  mutable Mutex mu_;
  CondVar cv_;
  bool started_ GD2_GUARDED_BY(mu_) = false;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  int64_t lease_ GD2_GUARDED_BY(mu_) = 0;
  // Keys to delete (DeleteLater), with their lease; delete_cv_ wakes DeleteLoop for them.
  std::vector<std::pair<std::string, int64_t>> pending_deletes_ GD2_GUARDED_BY(mu_);
  CondVar delete_cv_;
  // A lease whose on_new_lease failed, called again until it succeeds; 0 if none. Written by
  // Start() before the thread exists, then by the thread alone.
  int64_t unregistered_ = 0;
  std::thread thread_;
  std::thread deleter_;
};

}  // namespace gd2::store
