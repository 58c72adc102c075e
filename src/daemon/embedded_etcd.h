// Runs the Debian `etcd` binary as a supervised child when no external etcd is configured:
// data under <workdir>/store, restarted with backoff if it dies, stopped on daemon exit, and
// killed by the kernel (parent-death signal) if the daemon itself is killed. By default it is
// a single-member cluster of its own; it can also start as a new member of a running cluster.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/subprocess.h"
#include "common/thread_annotations.h"

namespace gd2::daemon {

struct EmbeddedEtcdOptions {
  std::string name;        // member name (the peer id)
  std::string data_dir;    // <workdir>/store
  std::string log_file;    // etcd's own log
  std::string client_url;  // https://host:2379 (http:// only without TLS files)
  std::string peer_url;    // https://host:2380 (http:// only without TLS files)
  std::string binary = "etcd";
  // TLS for clients and peers alike (see PrepareEtcdTls): etcd serves with cert_file/key_file
  // and accepts only clients and peers whose certificate ca_file signed. All three or none
  // (plain http, for tests of the unprotected case only).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

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

// The TLS files of a node's embedded etcd and of its store client (<workdir>/tls).
struct EtcdTlsFiles {
  std::string ca_file;    // the cluster CA
  std::string cert_file;  // this node's certificate: etcd's server and peer certificate, and
  std::string key_file;   // the store client's certificate
};

// The names a node's certificate carries: the hosts of its etcd client and peer URLs, and
// tls::kStoreServerName.
std::vector<std::string> EtcdCertHosts(std::string_view client_url, std::string_view peer_url);

// Readies <workdir>/tls at start: the cluster CA (made now when there is none: the first start
// of a node creates its cluster's; a joining node has received the cluster's before it
// restarts), and this node's certificate for EtcdCertHosts, issued again when the CA or the
// hosts changed. `cluster_id` names a new CA. Errors: kInvalidArgument for a broken CA or a bad
// host, file errors.
StatusOr<EtcdTlsFiles> PrepareEtcdTls(const std::string& workdir, const std::string& peer_id,
                                      const std::string& cluster_id,
                                      std::string_view client_url, std::string_view peer_url);

// The host of "scheme://host:port" ("[v6]" without the brackets); "" if there is none.
std::string UrlHost(std::string_view url);

// Revisions the embedded etcd keeps when it compacts its history (a stop and a start of a
// volume write about ten).
inline constexpr int kCompactionRetention = 10000;

class EmbeddedEtcd {
 public:
  explicit EmbeddedEtcd(EmbeddedEtcdOptions opts);
  ~EmbeddedEtcd();

  // Starts etcd and waits until its client port accepts connections (up to `timeout`); when
  // joining ("existing"), also until etcd has joined and created its write-ahead log.
  // kUnavailable with the tail of etcd's log if it exits or does not come up.
  // kInvalidArgument for a bad initial_cluster/initial_cluster_state, for TLS files without
  // https URLs or https URLs without TLS files; kFailedPrecondition when
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
  // Watches etcd and restarts it when it dies, with a backoff (100 ms doubling to 5 s) between
  // tries, until Stop().
  void Monitor();
  // Waits until `pid` ends (its exit) or Stop() is called (nullopt).
  std::optional<ExitInfo> WaitForExit(pid_t pid);
  // Waits `duration` or until Stop(); false if stopping.
  bool Sleep(std::chrono::milliseconds duration) GD2_EXCLUDES(mu_);

  EmbeddedEtcdOptions opts_;
  std::atomic<pid_t> pid_{-1};
  std::atomic<int> restarts_{0};
  std::atomic<bool> stopping_{false};
  const int wake_fd_;  // eventfd: Stop() wakes WaitForExit(); -1 if none (it polls instead)
  Mutex mu_;  // for cv_: Stop() wakes Sleep()
  CondVar cv_;
  std::thread monitor_;
};

}  // namespace gd2::daemon
