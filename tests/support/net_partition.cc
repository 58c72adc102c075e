#include "support/net_partition.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/subprocess.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChainPrefix = "GD2T";

std::string Cgroup2Root() {
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, type, rest;
  while (in >> dev >> dir >> type && std::getline(in, rest)) {
    if (type == "cgroup2") return dir;
  }
  return "";
}

StatusOr<std::string> Iptables(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"iptables", "-w", "5"};
  argv.insert(argv.end(), args.begin(), args.end());
  GD2_ASSIGN_OR_RETURN(RunResult r, RunCommand(argv, 15s));
  if (r.exit.code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += " " + a;
    return UnavailableError("iptables failed (" + r.exit.ToString() + "):" + cmd + ": " + r.output);
  }
  return r.output;
}

void RemoveChain(const std::string& chain) {
  // Every reference from OUTPUT first (there may be more than one after a crash mid-setup).
  for (int i = 0; i < 8; ++i) {
    if (!Iptables({"-D", "OUTPUT", "-j", chain}).ok()) break;
  }
  Iptables({"-F", chain}).status().IgnoreError();
  Iptables({"-X", chain}).status().IgnoreError();
}

// Chains of test processes that died before their destructor ran.
void RemoveStaleChains() {
  auto listed = Iptables({"-S"});
  if (!listed.ok()) return;
  std::istringstream in(*listed);
  std::string line;
  while (std::getline(in, line)) {
    std::string prefix = std::string("-N ") + kChainPrefix;
    if (line.rfind(prefix, 0) != 0) continue;
    std::string chain = line.substr(3);
    int pid = std::atoi(chain.c_str() + std::string(kChainPrefix).size());
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) RemoveChain(chain);
  }
}

// Kills what is left in a group and removes it.
void RemoveGroup(const std::string& dir) {
  std::ofstream(dir + "/cgroup.kill") << "1";
  // Killed processes leave the group once they are reaped by their parents.
  for (int i = 0; i < 500 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
    std::this_thread::sleep_for(10ms);
  }
}

// Groups of test processes that died before their destructor ran (their daemons and bricks
// may still be running).
void RemoveStaleGroups(const std::string& root) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("gd2test-", 0) != 0) continue;
    int pid = std::atoi(name.c_str() + 8);
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    for (const auto& g : std::filesystem::directory_iterator(e.path(), ec)) {
      if (g.is_directory()) RemoveGroup(g.path().string());
    }
    ::rmdir(e.path().c_str());
  }
}

}  // namespace

std::string NetPartition::UnavailableReason() {
  if (::geteuid() != 0) return "network partitions need root";
  if (Cgroup2Root().empty()) return "no cgroup2 file system mounted";
  auto r = RunCommand({"iptables", "--version"}, 10s);
  if (!r.ok() || r->exit.code != 0) return "iptables is not installed";
  return "";
}

StatusOr<std::unique_ptr<NetPartition>> NetPartition::Create() {
  std::string why = UnavailableReason();
  if (!why.empty()) return UnavailableError(why);
  RemoveStaleChains();
  std::unique_ptr<NetPartition> p(new NetPartition());
  p->root_ = Cgroup2Root();
  RemoveStaleGroups(p->root_);
  p->base_ = "gd2test-" + std::to_string(::getpid());
  if (::mkdir((p->root_ + "/" + p->base_).c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("mkdir " + p->root_ + "/" + p->base_, errno);
  }
  p->chain_ = kChainPrefix + std::to_string(::getpid());
  RemoveChain(p->chain_);
  GD2_RETURN_IF_ERROR(Iptables({"-N", p->chain_}).status());
  GD2_RETURN_IF_ERROR(Iptables({"-I", "OUTPUT", "-j", p->chain_}).status());
  return p;
}

NetPartition::~NetPartition() {
  RemoveChain(chain_);
  for (const auto& g : groups_) RemoveGroup(root_ + "/" + base_ + "/" + g);
  ::rmdir((root_ + "/" + base_).c_str());
}

StatusOr<std::string> NetPartition::Group(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return InvalidArgumentError("bad group name");
  std::string dir = root_ + "/" + base_ + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir " + dir, errno);
  if (std::find(groups_.begin(), groups_.end(), name) == groups_.end()) groups_.push_back(name);
  return dir;
}

Status NetPartition::Cut(const std::vector<Member>& a, const std::vector<Member>& b) {
  auto drop = [this](const Member& from, const Member& to) {
    return Iptables({"-A", chain_, "-m", "cgroup", "--path", base_ + "/" + from.group, "-d",
                     to.host, "-j", "DROP"})
        .status();
  };
  for (const auto& x : a) {
    for (const auto& y : b) {
      GD2_RETURN_IF_ERROR(drop(x, y));
      GD2_RETURN_IF_ERROR(drop(y, x));
    }
  }
  return OkStatus();
}

Status NetPartition::Heal() { return Iptables({"-F", chain_}).status(); }

}  // namespace gd2::testing
