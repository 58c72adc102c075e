// A real glusterd2 process for integration and cluster tests: own workdir, client address on a
// loopback IP with a free port, embedded etcd on free ports unless external endpoints are
// given. Killed by pid (and its workdir removed) when the object dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "support/temp_dir.h"

namespace gd2::testing {

struct DaemonOptions {
  std::string host = "127.0.0.1";
  std::vector<std::string> etcd_endpoints;  // empty: embedded
  // With etcd_endpoints: --etcd-ca-file, --etcd-cert-file, --etcd-key-file (empty: not given).
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  bool rest_auth = true;
  int lease_ttl = 4;
  // 0: a free port. Stock clients ask the brick host's port 24007 for brick ports, so tests
  // that mount volumes use 24007 on a loopback address of their own.
  int client_port = 0;
  std::vector<std::string> extra_args;
  std::map<std::string, std::string> env;
  // A cgroup v2 directory to run in (see NetPartition); empty: the test's own.
  std::string cgroup;
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonOptions opts = {});
  ~DaemonProcess();

  // Starts glusterd2 and waits until /ping answers. Returns false (with the log tail printed)
  // if it exits or does not answer within 30 s.
  bool Start();
  // Start() with the environment replaced by `env` (e.g. to arm or clear a failpoint).
  bool StartWithEnv(std::map<std::string, std::string> env);
  // SIGTERM and wait for exit; returns the exit code.
  int Stop();
  // SIGKILL (the daemon only; children it left are the test's to check).
  void Kill();
  pid_t pid() const { return pid_; }

  std::string endpoint() const;  // http://host:port
  const std::string& workdir() const { return dir_.path(); }
  std::string secret() const;    // contents of <workdir>/auth
  std::string log_path() const { return dir_.path() + "/glusterd2.log"; }
  std::string ReadLog() const;
  int client_port() const { return client_port_; }
  std::string peer_address() const { return opts_.host + ":" + std::to_string(peer_port_); }
  const std::string& host() const { return opts_.host; }
  int etcd_client_port() const { return etcd_client_port_; }
  // https://host:port of the embedded etcd's client listener.
  std::string etcd_client_url() const;
  // pid of the embedded etcd (its child), or -1.
  pid_t EtcdPid() const;
  // A client signed with this daemon's secret.
  std::unique_ptr<client::Client> NewClient() const;

  // Path of a built binary: $GD2_BUILD_DIR/<relative>.
  static std::string BuildPath(const std::string& relative);

 private:
  DaemonOptions opts_;
  TempDir dir_;
  int client_port_;
  int peer_port_;
  int etcd_client_port_;
  int etcd_peer_port_;
  pid_t pid_ = -1;
};

// Polls `cond` every few ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace gd2::testing
