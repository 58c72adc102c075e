#include "store/lock.h"

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "common/hex.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "store/watcher.h"

namespace gd2::store {
namespace {

using Clock = std::chrono::steady_clock;

// Makes each acquisition's key unique even when one session takes the same lock twice.
std::atomic<uint64_t> next_sequence{1};

// Wakes the waiter when a key under the lock directory is deleted.
struct WaitState {
  Mutex mu;
  CondVar cv;
  bool deleted GD2_GUARDED_BY(mu) = false;
  Status error GD2_GUARDED_BY(mu);
};

}  // namespace

LockGuard::LockGuard(Store& store, Session& session, int64_t lease, std::string name,
                     std::string key, int64_t create_revision)
    : store_(&store),
      session_(&session),
      lease_(lease),
      name_(std::move(name)),
      key_(std::move(key)),
      create_revision_(create_revision) {}

LockGuard::~LockGuard() { ReleaseOrHandOver(); }

LockGuard::LockGuard(LockGuard&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      session_(std::exchange(other.session_, nullptr)),
      lease_(std::exchange(other.lease_, 0)),
      name_(std::move(other.name_)),
      key_(std::move(other.key_)),
      create_revision_(std::exchange(other.create_revision_, 0)) {}

LockGuard& LockGuard::operator=(LockGuard&& other) noexcept {
  if (this != &other) {
    ReleaseOrHandOver();
    store_ = std::exchange(other.store_, nullptr);
    session_ = std::exchange(other.session_, nullptr);
    lease_ = std::exchange(other.lease_, 0);
    name_ = std::move(other.name_);
    key_ = std::move(other.key_);
    create_revision_ = std::exchange(other.create_revision_, 0);
  }
  return *this;
}

Compare LockGuard::FenceCompare() const {
  return Compare::CreateRevisionEquals(key_, create_revision_);
}

Op LockGuard::ReleaseOp() const { return Op::Delete(key_); }

void LockGuard::ReleasedBy(const TxnResult& result) {
  if (result.succeeded) store_ = nullptr;
}

void LockGuard::ReleaseOrHandOver() {
  if (store_ == nullptr) return;
  Status s = Release();
  if (s.ok() || session_ == nullptr) return;
  log::Root().Warn("cluster lock not released; deleting its key once etcd answers",
                   {{"name", name_}, {"key", key_}, {"error", s}});
  session_->DeleteLater(key_, lease_);
  store_ = nullptr;
}

void LockGuard::HandOver() {
  if (store_ == nullptr) return;
  if (session_ == nullptr) {
    Release().IgnoreError();  // no session to hand it to
    return;
  }
  log::Root().Info("cluster lock handed to the session; its key goes once etcd answers",
                   {{"name", name_}, {"key", key_}});
  session_->DeleteLater(key_, lease_);
  store_ = nullptr;
}

Status LockGuard::Release() {
  if (store_ == nullptr) return OkStatus();
  StatusOr<int64_t> deleted = store_->Delete(key_);
  if (!deleted.ok())
    return deleted.status().WithContext("cannot release cluster lock: name=" + name_);
  store_ = nullptr;
  return OkStatus();
}

StatusOr<LockGuard> Lock::Acquire(Store& store, Session& session, const KeySpace& keys,
                                  std::string_view name, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  GD2_ASSIGN_OR_RETURN(std::string dir, keys.Lock(name));
  int64_t lease = session.lease_id();
  if (lease == 0) {
    return UnavailableError("no etcd session lease for cluster lock: name=" + std::string(name));
  }
  std::string key = dir + HexUint(static_cast<uint64_t>(lease)) + "-" + HexUint(next_sequence++);
  // The waiter key and the first look at the other waiters in one request: the listing, taken
  // after the put in the same transaction, includes the new key.
  // (The transaction is retried like a Put; when it fails it may still have been applied, so
  // the key is deleted then.)
  StatusOr<TxnResult> put = store.Txn({}, {Op::Put(key, "", lease), Op::GetPrefix(dir)});
  if (!put.ok()) {
    if (!store.Delete(key).ok()) session.DeleteLater(key, lease);
    return put.status();
  }
  TxnResult listing = *std::move(put);
  // The key's create_revision from the listing: after a retry that applied twice it is the
  // first put's, not the transaction's revision.
  int64_t my_revision = listing.revision;
  for (const KeyValue& kv : listing.results.back().kvs) {
    if (kv.key == key) my_revision = kv.create_revision;
  }
  LockGuard guard(store, session, lease, std::string(name), key, my_revision);

  auto state = std::make_shared<WaitState>();
  Watcher watcher(store);
  bool watching = false;
  for (bool first = true;; first = false) {
    if (!first) {
      GD2_ASSIGN_OR_RETURN(listing, store.Txn({}, {Op::GetPrefix(dir)}));
    }
    bool mine_present = false;
    const KeyValue* holder = nullptr;
    for (const KeyValue& kv : listing.results.back().kvs) {
      if (kv.key == key) mine_present = true;
      if (kv.create_revision < my_revision &&
          (holder == nullptr || kv.create_revision < holder->create_revision)) {
        holder = &kv;
      }
    }
    if (!mine_present) {
      guard.store_ = nullptr;  // nothing left to delete
      return AbortedError("cluster lock lost while waiting (session lease gone): name=" +
                          std::string(name));
    }
    if (holder == nullptr) return guard;

    if (!watching) {
      // Everything after the listing; any deletion may make us the owner. Changes etcd
      // compacted before they reached us may have held one: look again.
      watcher.OnGap([state](int64_t) {
        MutexLock lock(state->mu);
        state->deleted = true;
        state->cv.NotifyAll();
      });
      GD2_RETURN_IF_ERROR(watcher.Watch(
          dir, listing.revision + 1,
          [state](const std::vector<WatchEvent>& events) {
            for (const WatchEvent& e : events) {
              if (e.type != WatchEvent::Type::kDelete) continue;
              MutexLock lock(state->mu);
              state->deleted = true;
              state->cv.NotifyAll();
              return;
            }
          },
          [state](const Status& error) {
            MutexLock lock(state->mu);
            state->error = error;
            state->cv.NotifyAll();
          }));
      watching = true;
    }
    std::string holder_key = holder->key;
    MutexLock lock(state->mu);
    while (!state->deleted && state->error.ok() && state->cv.WaitUntil(state->mu, deadline)) {
    }
    bool woke = state->deleted || !state->error.ok();
    if (!state->error.ok()) return state->error;
    if (!woke) {
      return AbortedError("cluster lock busy: name=" + std::string(name) + " holder=" + holder_key +
                          " timeout_ms=" + std::to_string(timeout.count()));
    }
    state->deleted = false;
  }
}

}  // namespace gd2::store
