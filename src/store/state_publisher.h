// StatePublisher: writes the latest value of each key to the store from a background thread, so
// that whoever reports a state change (a brick came up, a process died) does not wait on etcd.
// For state whose last value is all that matters and that is rebuilt if lost: live process state
// bound to the session lease, which other peers read when this one cannot be asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/thread_annotations.h"
#include "store/store.h"

namespace gd2::store {

// Thread-safe. Changes queued before a write starts go to etcd together in one transaction (at
// most kMaxBatch keys each); a key changed several times before it is written is written once,
// with its last value. Changes to one key reach etcd in the order they were queued. A write that
// fails is logged and dropped: the owner publishes the state again when it rebuilds it (after a
// new session, for lease-bound state).
class StatePublisher {
 public:
  static constexpr size_t kMaxBatch = 64;

  // `lease` is asked for the lease to bind each Put to at the moment it is written (0: none).
  StatePublisher(Store& store, std::function<int64_t()> lease);
  ~StatePublisher();
  StatePublisher(const StatePublisher&) = delete;
  StatePublisher& operator=(const StatePublisher&) = delete;

  // Queues a write of `value` to `key` (a Put bound to the lease) or its removal. Never blocks on
  // the store. Ignored after Stop().
  void Put(const std::string& key, std::string value) GD2_EXCLUDES(mu_);
  void Delete(const std::string& key) GD2_EXCLUDES(mu_);

  // Blocks until every change queued before the call has been written (or dropped on error), or
  // `deadline` passes. Returns whether it was.
  bool WaitWritten(std::chrono::steady_clock::time_point deadline) GD2_EXCLUDES(mu_);

  // Writes what is queued (one try), then stops the thread. Idempotent.
  void Stop() GD2_EXCLUDES(mu_);

 private:
  void Queue(const std::string& key, std::optional<std::string> value) GD2_EXCLUDES(mu_);
  void Run() GD2_EXCLUDES(mu_);
  // Writes `batch` in one transaction.
  void Write(const std::map<std::string, std::optional<std::string>>& batch);

  Store& store_;
  std::function<int64_t()> lease_;
  std::mutex stop_mu_;  // one Stop() joins at a time
  Mutex mu_;
  CondVar cv_;
  // Key -> value to write (nullopt: delete). Keys are taken out as a write starts.
  std::map<std::string, std::optional<std::string>> pending_ GD2_GUARDED_BY(mu_);
  uint64_t queued_ GD2_GUARDED_BY(mu_) = 0;   // changes queued so far
  uint64_t written_ GD2_GUARDED_BY(mu_) = 0;  // of those, how many are written or dropped
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace gd2::store
