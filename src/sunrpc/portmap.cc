#include "sunrpc/portmap.h"

namespace gd2::sunrpc {

PortMap::SubscriptionId PortMap::Subscribe(ChangeCallback cb) {
  MutexLock lock(cb_mu_);
  SubscriptionId id = next_subscription_++;
  callbacks_.emplace(id, std::move(cb));
  return id;
}

void PortMap::Unsubscribe(SubscriptionId id) {
  MutexLock lock(cb_mu_);
  callbacks_.erase(id);
}

void PortMap::Notify(PortMapEvent event, const std::string& brick, const PortMapEntry& entry) {
  MutexLock lock(cb_mu_);
  for (const auto& [id, cb] : callbacks_) {
    if (cb) cb(event, brick, entry);
  }
}

bool PortMap::Signin(const std::string& brick, int port, int pid) {
  PortMapEntry entry;
  {
    MutexLock lock(mu_);
    if (entries_.size() >= kMaxEntries && entries_.find(brick) == entries_.end()) return false;
    if (last_signin_.size() >= 2 * kMaxEntries) {
      // Bound the history: forget sign-ins of bricks no longer registered.
      for (auto it = last_signin_.begin(); it != last_signin_.end();) {
        it = entries_.contains(it->first) ? std::next(it) : last_signin_.erase(it);
      }
    }
    entry = PortMapEntry{port, pid, ++generation_};
    entries_[brick] = entry;
    last_signin_[brick] = entry.generation;
  }
  cv_.NotifyAll();
  Notify(PortMapEvent::kSignin, brick, entry);
  return true;
}

bool PortMap::Signout(std::string_view brick, int port) {
  PortMapEntry entry;
  {
    MutexLock lock(mu_);
    auto it = entries_.find(brick);
    if (it == entries_.end() || (port != 0 && it->second.port != port)) return false;
    entry = it->second;
    entries_.erase(it);
    ++generation_;
  }
  Notify(PortMapEvent::kSignout, std::string(brick), entry);
  return true;
}

void PortMap::Set(const std::string& brick, int port) {
  MutexLock lock(mu_);
  entries_[brick] = PortMapEntry{port, 0, ++generation_};
}

bool PortMap::Remove(std::string_view brick) {
  PortMapEntry entry;
  {
    MutexLock lock(mu_);
    auto it = entries_.find(brick);
    if (it == entries_.end()) return false;
    entry = it->second;
    entries_.erase(it);
    ++generation_;
  }
  Notify(PortMapEvent::kRemoved, std::string(brick), entry);
  return true;
}

std::optional<PortMapEntry> PortMap::Lookup(std::string_view brick) const {
  MutexLock lock(mu_);
  auto it = entries_.find(brick);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::optional<int> PortMap::PortOf(std::string_view brick) const {
  auto e = Lookup(brick);
  if (!e) return std::nullopt;
  return e->port;
}

uint64_t PortMap::Generation() const {
  MutexLock lock(mu_);
  return generation_;
}

bool PortMap::WaitSignin(std::string_view brick, std::chrono::steady_clock::time_point deadline,
                         uint64_t after_generation) const {
  MutexLock lock(mu_);
  bool waiting = true;  // false once the deadline passed: one last look
  while (true) {
    auto it = last_signin_.find(brick);
    if (it != last_signin_.end() && it->second > after_generation) return true;
    if (!waiting) return false;
    waiting = cv_.WaitUntil(mu_, deadline);
  }
}

bool PortMap::WaitPort(std::string_view brick, int port,
                       std::chrono::steady_clock::time_point deadline) const {
  MutexLock lock(mu_);
  bool waiting = true;  // false once the deadline passed: one last look
  while (true) {
    auto it = entries_.find(brick);
    if (it != entries_.end() && it->second.port == port) return true;
    if (!waiting) return false;
    waiting = cv_.WaitUntil(mu_, deadline);
  }
}

std::map<std::string, PortMapEntry, std::less<>> PortMap::Snapshot() const {
  MutexLock lock(mu_);
  return entries_;
}

}  // namespace gd2::sunrpc
