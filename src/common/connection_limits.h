// ConnectionLimits: the open connections of a listener, counted in total and per source address,
// so that one address cannot take all of them. Both network servers (the ReST port and the
// Gluster RPC) admit every new connection through one of these.
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace gd2 {

// Not thread-safe: the owning server keeps it under its own lock.
class ConnectionLimits {
 public:
  // 0 in either limit admits nothing.
  ConnectionLimits(size_t max_total, size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Counts one more connection from `address`; false (and nothing counted) when either limit is
  // reached.
  bool TryAdd(const std::string& address) {
    if (total_ >= max_total_) return false;
    auto it = per_address_.find(address);
    size_t mine = it == per_address_.end() ? 0 : it->second;
    if (mine >= max_per_address_) return false;
    if (it == per_address_.end()) {
      per_address_.emplace(address, 1);
    } else {
      ++it->second;
    }
    ++total_;
    return true;
  }

  // Forgets one connection from `address` that TryAdd counted; an address with none left is
  // forgotten too, so the table holds only addresses with open connections.
  void Remove(const std::string& address) {
    auto it = per_address_.find(address);
    if (it == per_address_.end()) return;
    --total_;
    if (--it->second == 0) per_address_.erase(it);
  }

  void Clear() {
    total_ = 0;
    per_address_.clear();
  }

  size_t total() const { return total_; }
  size_t addresses() const { return per_address_.size(); }

 private:
  size_t max_total_;
  size_t max_per_address_;
  size_t total_ = 0;
  std::map<std::string, size_t> per_address_;
};

}  // namespace gd2
