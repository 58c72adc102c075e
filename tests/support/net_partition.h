// Network partitions between test peers on one machine. Every peer runs in a cgroup v2 group of
// its own (its daemon, etcd, bricks and anything else it starts inherit the group); a cut drops,
// with iptables, every packet that a process of one side sends to an address of the other side.
// On loopback every connection's source address is 127.0.0.1, so the sender's group, not its
// address, tells the sides apart (the iptables `cgroup --path` match on OUTPUT).
//
// All rules live in a chain of this object's own, hooked into OUTPUT; the destructor removes
// the chain, kills what is left in the groups (cgroup.kill) and removes them, also when a test
// failed halfway.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace gd2::testing {

class NetPartition {
 public:
  // Empty if partitions work here; otherwise why not (no cgroup2 mount, no iptables, no cgroup
  // match in the kernel).
  static std::string UnavailableReason();

  // Creates <cgroup2 root>/gd2test-<pid> and the chain; also removes chains that earlier test
  // processes (now dead) left behind.
  static StatusOr<std::unique_ptr<NetPartition>> Create();
  ~NetPartition();

  // The directory of group `name` (created on first use), for SpawnOptions::cgroup.
  StatusOr<std::string> Group(const std::string& name);

  struct Member {
    std::string group;  // a name given to Group()
    std::string host;   // the address the members of the other side reach it on
  };
  // Drops all traffic between the two sides (in both directions).
  Status Cut(const std::vector<Member>& a, const std::vector<Member>& b);
  // Removes every cut.
  Status Heal();

 private:
  NetPartition() = default;
  std::string root_;      // cgroup2 mount point
  std::string base_;      // gd2test-<pid>, relative to root_
  std::string chain_;     // iptables chain
  std::vector<std::string> groups_;
};

}  // namespace gd2::testing
