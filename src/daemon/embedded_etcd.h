// Runs the Debian `etcd` binary as a supervised child when no external etcd is configured:
// data under <workdir>/store, restarted with backoff if it dies, stopped on daemon exit, and
// killed by the kernel (parent-death signal) if the daemon itself is killed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace gd2::daemon {

struct EmbeddedEtcdOptions {
  std::string name;        // member name (the peer id)
  std::string data_dir;    // <workdir>/store
  std::string log_file;    // etcd's own log
  std::string client_url;  // http://host:2379
  std::string peer_url;    // http://host:2380
  std::string binary = "etcd";
};

class EmbeddedEtcd {
 public:
  explicit EmbeddedEtcd(EmbeddedEtcdOptions opts);
  ~EmbeddedEtcd();

  // Starts etcd and waits until its client port accepts connections (up to `timeout`).
  // kUnavailable with the tail of etcd's log if it exits or does not come up.
  Status Start(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to 10 s, then SIGKILL. Idempotent.
  void Stop();
  pid_t pid() const { return pid_.load(); }
  int restarts() const { return restarts_.load(); }
  const std::string& client_url() const { return opts_.client_url; }

 private:
  StatusOr<pid_t> SpawnOnce();
  Status WaitReady(pid_t pid, std::chrono::milliseconds timeout);
  void Monitor();

  EmbeddedEtcdOptions opts_;
  std::atomic<pid_t> pid_{-1};
  std::atomic<int> restarts_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread monitor_;
};

}  // namespace gd2::daemon
