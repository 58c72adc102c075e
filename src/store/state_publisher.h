// StatePublisher: writes the latest value of each key to the store from a background thread, so
// that whoever reports a state change (a brick came up, a process died) does not wait on etcd.
// For state whose last value is all that matters: live process state bound to the session
// lease, which other peers read when this one cannot be asked.
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
// fails is tried again (after 50 ms, doubling up to 2 s) unless a newer value replaced it; so is
// a Put while the lease function says 0 (between two session leases), so that no lease-bound
// key is ever written without its lease.
class StatePublisher {
 public:
  static constexpr size_t kMaxBatch = 64;

  // `lease`, when given, is asked for the lease to bind each Put to at the moment it is written;
  // without it Puts are not bound to a lease.
  StatePublisher(Store& store, std::function<int64_t()> lease);
  ~StatePublisher();
  StatePublisher(const StatePublisher&) = delete;
  StatePublisher& operator=(const StatePublisher&) = delete;

  // Queues a write of `value` to `key` (a Put bound to the lease) or its removal. Never blocks on
  // the store. Ignored after Stop().
  void Put(const std::string& key, std::string value) GD2_EXCLUDES(mu_);
  void Delete(const std::string& key) GD2_EXCLUDES(mu_);

  // Blocks until every change queued before the call has been written (or replaced by a newer
  // change that was written, or dropped by Stop()), or `deadline` passes. Returns whether it was.
  bool WaitWritten(std::chrono::steady_clock::time_point deadline) GD2_EXCLUDES(mu_);

  // Tries once to write what is queued, then stops the thread; what still fails is dropped.
  // Idempotent.
  void Stop() GD2_EXCLUDES(mu_);

 private:
  struct Change {
    std::optional<std::string> value;  // nullopt: delete
    uint64_t seq = 0;                  // order of queueing, across all keys
  };
  using Batch = std::map<std::string, Change>;

  void Queue(const std::string& key, std::optional<std::string> value) GD2_EXCLUDES(mu_);
  void Run() GD2_EXCLUDES(mu_);
  // Writes `batch` in one transaction.
  Status Write(const Batch& batch);
  // The smallest sequence number not yet written (pending or in flight); next_seq_ + 1 if none.
  uint64_t LowestUnwritten() const GD2_REQUIRES(mu_);

  Store& store_;
  std::function<int64_t()> lease_;
  std::mutex stop_mu_;  // one Stop() joins at a time
  Mutex mu_;
  CondVar cv_;
  Batch pending_ GD2_GUARDED_BY(mu_);
  Batch in_flight_ GD2_GUARDED_BY(mu_);
  uint64_t next_seq_ GD2_GUARDED_BY(mu_) = 0;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace gd2::store
