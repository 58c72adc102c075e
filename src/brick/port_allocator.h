// Hands out TCP ports for brick processes: the lowest-numbered free port at or after the last
// one handed out (wrapping within [base, max]), skipping ports already handed out and ports
// some other process has bound, which bind() finds out.
#pragma once

#include <set>
#include <string>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace gd2::brick {

class PortAllocator {
 public:
  struct Options {
    std::string bind_host = "0.0.0.0";  // where bricks listen; the bind() probe uses it
    int base_port = 49152;              // glusterd's base-port
    int max_port = 60999;               // Debian glusterd.vol's max-port
    // Start the first scan at a random port of the range instead of base_port, as glusterd
    // does: daemons sharing a host (or restarted) then rarely race for the same port.
    bool random_start = false;
  };

  explicit PortAllocator(Options options);
  PortAllocator() : PortAllocator(Options{}) {}

  // Returns a port that is not handed out and could be bound a moment ago, and marks it handed
  // out. Scans upwards from just after the previously allocated port (so a port just released
  // is not reused at once; glusterd picks a random start for the same reason), wrapping at
  // max_port. kResourceExhausted if no port in the range is free. Thread-safe.
  StatusOr<int> Allocate();

  // Marks a port known from persisted state as handed out (it may lie outside the range).
  // kInvalidArgument if not in 1..65535, kAlreadyExists if it is already handed out.
  // Thread-safe.
  Status Reserve(int port);

  // Returns a port to the pool; releasing a port not handed out is a no-op. Thread-safe.
  void Release(int port);

  // True if the port is currently handed out. Thread-safe.
  bool IsAllocated(int port) const;
  // True if `port` could be bound on bind_host a moment ago (the probe Allocate uses; false if
  // another process holds it). Thread-safe.
  bool CanBind(int port) const;

 private:
  const Options options_;
  mutable Mutex mu_;
  std::set<int> allocated_ GD2_GUARDED_BY(mu_);
  int next_ GD2_GUARDED_BY(mu_);
};

}  // namespace gd2::brick
