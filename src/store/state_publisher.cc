#include "store/state_publisher.h"

#include <utility>
#include <vector>

#include "common/log.h"

namespace gd2::store {

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
    auto [it, added] = pending_.insert_or_assign(key, std::move(value));
    (void)it;
    // A change that replaces a queued one of the same key is written in its place: count it as
    // written at once, so that WaitWritten's count stays exact.
    ++queued_;
    if (!added) ++written_;
  }
  cv_.NotifyAll();
}

bool StatePublisher::WaitWritten(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(mu_);
  const uint64_t target = queued_;
  bool waiting = true;
  while (written_ < target) {
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
  while (true) {
    std::map<std::string, std::optional<std::string>> batch;
    bool last = false;
    {
      MutexLock lock(mu_);
      while (pending_.empty() && !stopping_) cv_.Wait(mu_);
      last = stopping_;
      while (!pending_.empty() && batch.size() < kMaxBatch) {
        batch.insert(pending_.extract(pending_.begin()));
      }
    }
    if (!batch.empty()) Write(batch);
    {
      MutexLock lock(mu_);
      written_ += batch.size();
      if (last && pending_.empty()) {
        cv_.NotifyAll();
        return;
      }
    }
    cv_.NotifyAll();
  }
}

void StatePublisher::Write(const std::map<std::string, std::optional<std::string>>& batch) {
  int64_t lease = lease_ ? lease_() : 0;
  std::vector<Op> ops;
  ops.reserve(batch.size());
  for (const auto& [key, value] : batch) {
    ops.push_back(value ? Op::Put(key, *value, lease) : Op::Delete(key));
  }
  auto r = store_.Txn({}, std::move(ops));
  if (!r.ok()) {
    log::Root().Warn("cannot publish state", {{"keys", static_cast<int64_t>(batch.size())},
                                              {"first_key", batch.begin()->first},
                                              {"error", r.status()}});
  }
}

}  // namespace gd2::store
