// A real etcd server for tests: started on free loopback ports with a temporary data dir,
// killed (by pid) and removed when the object dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "support/temp_dir.h"

namespace gd2::testing {

class EtcdProcess {
 public:
  explicit EtcdProcess(std::string host = "127.0.0.1");
  ~EtcdProcess();

  // Starts etcd and waits until it answers /health. Aborts the test binary on failure.
  void Start();
  // SIGKILLs etcd (data kept), so that Start() brings the same member back.
  void Kill();
  void Stop();
  bool running() const { return pid_ > 0; }
  // "http://127.0.0.1:PORT"
  std::string endpoint() const;
  std::string host_port() const;
  const std::string& data_dir() const { return dir_.path(); }

 private:
  std::string host_;
  int client_port_;
  int peer_port_;
  TempDir dir_;
  pid_t pid_ = -1;
};

}  // namespace gd2::testing
