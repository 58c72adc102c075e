// Runs the Debian `etcd` binary as a supervised child when no external etcd is configured:
// data under <workdir>/store, restarted with backoff if it dies, stopped on daemon exit, and
// killed by the kernel (parent-death signal) if the daemon itself is killed. By default it is
// a single-member cluster of its own; it can also start as a new member of a running cluster.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
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

  // Joining a running cluster (see store/membership.h): add the member with
  // store::PrepareMemberJoin, start with initial_cluster = JoinPlan::initial_cluster and
  // initial_cluster_state = "existing", then store::PromoteWhenReady. Once etcd has written its
  // data dir it ignores both flags, so later starts (restarts, daemon restarts) may use either
  // state; they must not wipe the data dir.
  //
  // --initial-cluster: "name1=http://h1:2380,name2=http://h2:2380", this member included as
  // name=peer_url. Empty: "name=peer_url", a cluster of one.
  std::string initial_cluster;
  // "new" (create the cluster initial_cluster describes) or "existing" (join it as the member
  // MemberAdd added for peer_url; the data dir must then be empty).
  std::string initial_cluster_state = "new";
  // With "existing": Start() deletes what the data dir holds (the data of the single-member
  // cluster this peer ran before joining) instead of refusing to start. Only for the first
  // start after PrepareMemberJoin: wiping a member that already joined breaks it.
  bool wipe_data_dir = false;
};

class EmbeddedEtcd {
 public:
  explicit EmbeddedEtcd(EmbeddedEtcdOptions opts);
  ~EmbeddedEtcd();

  // Starts etcd and waits until its client port accepts connections (up to `timeout`); when
  // joining ("existing"), also until etcd has joined and created its write-ahead log.
  // kUnavailable with the tail of etcd's log if it exits or does not come up.
  // kInvalidArgument for a bad initial_cluster/initial_cluster_state; kFailedPrecondition when
  // joining with a non-empty data dir and without wipe_data_dir. If a join fails, remove the
  // learner again (store::Store::MemberRemove).
  Status Start(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to 10 s, then SIGKILL. Idempotent.
  void Stop();
  pid_t pid() const { return pid_.load(); }
  int restarts() const { return restarts_.load(); }
  const std::string& client_url() const { return opts_.client_url; }

 private:
  Status CheckOptions() const;
  Status PrepareDataDir();
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
