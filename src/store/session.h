// store::Session owns one etcd lease and keeps it alive from a background thread. Keys bound to
// the lease (the daemon's liveness key, lock keys) vanish when the daemon dies. If the lease is
// lost (it expired, or etcd was unreachable for a whole TTL) the session grants a new one once
// etcd answers again and tells its owner through on_new_lease, so the owner re-puts its keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace gd2::store {

struct SessionOptions {
  // Lease TTL; etcd raises values below its minimum (about 2 s with default election timing).
  std::chrono::seconds ttl{10};
  // Called with every newly granted lease: the first one from inside Start() on the caller's
  // thread, later ones on the session thread. It must not call Stop() or destroy the session.
  std::function<void(int64_t lease_id)> on_new_lease;
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

 private:
  void Run() GD2_EXCLUDES(mu_);
  // Revokes `stale` (if any) and grants a new lease; returns false if etcd did not answer.
  bool Regrant(int64_t* stale) GD2_EXCLUDES(mu_);

  Store& store_;
  SessionOptions options_;
  mutable Mutex mu_;
  CondVar cv_;
  bool started_ GD2_GUARDED_BY(mu_) = false;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  int64_t lease_ GD2_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace gd2::store
