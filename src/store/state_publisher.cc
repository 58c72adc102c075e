#include "store/state_publisher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/log.h"

namespace gd2::store {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(50);
constexpr auto kMaxRetry = std::chrono::seconds(2);

}  // namespace

StatePublisher::StatePublisher(Store& store, std::function<int64_t()> lease)
    : store_(store), lease_(std::move(lease)) {
  thread_ = std::thread([this] { Run(); });
}

StatePublisher::~StatePublisher() { Stop(); }

void StatePublisher::Put(const std::string& key, std::string value) {
  Queue(key, std::move(value));
}

void StatePublisher::Delete(const std::string& key) { Queue(key, std::nullopt); }

void StatePublisher::Queue(const std::string& key, std::optional<std::string> value) {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    pending_.insert_or_assign(key, Change{std::move(value), ++next_seq_});
  }
  cv_.NotifyAll();
}

uint64_t StatePublisher::LowestUnwritten() const {
  uint64_t lowest = next_seq_ + 1;
  for (const Batch* b : {&pending_, &in_flight_}) {
    for (const auto& [key, change] : *b) lowest = std::min(lowest, change.seq);
  }
  return lowest;
}

bool StatePublisher::WaitWritten(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(mu_);
  const uint64_t target = next_seq_;
  bool waiting = true;
  while (LowestUnwritten() <= target) {
    if (!waiting) return false;
    waiting = cv_.WaitUntil(mu_, deadline);
  }
  return true;
}

void StatePublisher::Stop() {
  std::lock_guard join_lock(stop_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void StatePublisher::Run() {
  auto backoff = std::chrono::steady_clock::duration(kFirstRetry);
  bool failing = false;  // the last write failed: wait `backoff` before the next
  while (true) {
    bool last = false;
    Batch batch;  // this write's changes; in_flight_ holds a copy for WaitWritten
    {
      MutexLock lock(mu_);
      if (failing) {
        auto until = std::chrono::steady_clock::now() + backoff;
        while (!stopping_ && cv_.WaitUntil(mu_, until)) {
        }
      }
      while (pending_.empty() && !stopping_) cv_.Wait(mu_);
      last = stopping_;
      if (pending_.empty()) {
        cv_.NotifyAll();
        return;
      }
      while (!pending_.empty() && batch.size() < kMaxBatch) {
        batch.insert(pending_.extract(pending_.begin()));
      }
      in_flight_ = batch;
    }
    Status s = Write(batch);
    if (!s.ok() && !failing) {
      log::Root().Warn("cannot publish state; trying again until it works",
                       {{"keys", static_cast<int64_t>(batch.size())},
                        {"first_key", batch.begin()->first},
                        {"error", s}});
    } else if (s.ok() && failing) {
      log::Root().Info("state published again");
    }
    {
      MutexLock lock(mu_);
      if (!s.ok() && !last) {
        // Tried again later, unless a newer value was queued meanwhile.
        for (auto& [key, change] : batch) pending_.try_emplace(key, std::move(change));
      }
      in_flight_.clear();
      if (last && !s.ok()) pending_.clear();  // stopping: one try only, the rest is dropped
      bool done = last && pending_.empty();
      cv_.NotifyAll();
      if (done) return;
    }
    if (s.ok()) {
      backoff = kFirstRetry;
    } else if (failing) {
      backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, kMaxRetry);
    }
    failing = !s.ok();
  }
}

Status StatePublisher::Write(const Batch& batch) {
  int64_t lease = lease_ ? lease_() : 0;
  std::vector<Op> ops;
  ops.reserve(batch.size());
  for (const auto& [key, change] : batch) {
    if (change.value && lease_ && lease == 0) {
      return UnavailableError("no session lease to bind the state to");
    }
    ops.push_back(change.value ? Op::Put(key, *change.value, lease) : Op::Delete(key));
  }
  return store_.Txn({}, std::move(ops)).status();
}

}  // namespace gd2::store
