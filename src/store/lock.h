// store::Lock is a cluster-wide mutex on etcd (the usual etcd recipe). Each waiter puts a key
// under "gluster-<cid>/locks/<name>/" bound to its session lease; the key with the lowest
// create_revision holds the lock. A holder that dies loses the lock when its lease expires. A
// LockGuard's FenceCompare() lets a commit transaction check it still holds the lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/keys.h"
#include "store/session.h"
#include "store/store.h"

namespace gd2::store {

// A held lock; movable, not copyable. Releases the lock when destroyed; if etcd does not answer
// then, its session deletes the key once etcd answers again (Session::DeleteLater), since the
// lease it keeps alive would otherwise hold the lock for good. The Store and Session it came from
// must outlive it. Not thread-safe (one owner at a time).
class LockGuard {
 public:
  LockGuard() = default;
  ~LockGuard();
  LockGuard(LockGuard&& other) noexcept;
  LockGuard& operator=(LockGuard&& other) noexcept;
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

  bool held() const { return store_ != nullptr; }
  const std::string& name() const { return name_; }
  // The waiter key: "gluster-<cid>/locks/<name>/<lease-hex>-<seq>".
  const std::string& key() const { return key_; }
  int64_t create_revision() const { return create_revision_; }

  // Holds only while this guard's key still exists as created: add it to a Txn's compares so
  // the transaction fails (succeeded == false) once the lock was lost or released.
  Compare FenceCompare() const;

  // Deletes the key. OK if the key is already gone or the guard holds nothing. On an etcd error
  // the guard stays held so the caller may retry; the destructor hands it to the session.
  Status Release();
  // Release(), and on an etcd error hands the key to the session at once (what the destructor
  // does): for a caller that will not retry.
  void ReleaseOrHandOver();
  // Hands the key to the session to delete once etcd answers (Session::DeleteLater) without
  // asking etcd now, for a caller that has just seen etcd not answer: no request waits for its
  // timeout again. The guard then holds nothing.
  void HandOver();
  // The same delete, to run inside a transaction of the caller's (a commit guarded by
  // FenceCompare releases the lock in the same request). After that transaction ran, pass its
  // result to ReleasedBy: when its compares held, the lock is released and the guard holds
  // nothing; otherwise the guard still holds it and Release() deletes it.
  Op ReleaseOp() const;
  void ReleasedBy(const TxnResult& result);

 private:
  friend class Lock;
  LockGuard(Store& store, Session& session, int64_t lease, std::string name, std::string key,
            int64_t create_revision);

  Store* store_ = nullptr;
  Session* session_ = nullptr;
  int64_t lease_ = 0;  // the session lease the key is bound to
  std::string name_;
  std::string key_;
  int64_t create_revision_ = 0;
};

class Lock {
 public:
  // Takes the lock `name` (a key segment, see keys.h) for `session`, waiting up to `timeout`.
  // Several acquisitions through the same session exclude each other too. Errors: kAborted
  // "cluster lock busy: name=..." on timeout, or if the waiter key vanished (the session lease
  // was lost) while waiting; kUnavailable if the session has no lease; kInvalidArgument for a
  // bad name; store errors. The waiter key is removed on every error path (best effort).
  static StatusOr<LockGuard> Acquire(Store& store, Session& session, const KeySpace& keys,
                                     std::string_view name, std::chrono::milliseconds timeout);
};

}  // namespace gd2::store
