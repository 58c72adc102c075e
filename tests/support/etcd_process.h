// A real etcd server for tests: started on free loopback ports with a temporary data dir,
// killed (by pid) and removed when the object dies. It serves clients and peers over TLS only
// and admits only certificates of TestCa(), as the embedded etcd does with the cluster CA.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/tls_ca.h"
#include "support/temp_dir.h"

namespace gd2::testing {

// The CA of every EtcdProcess in this test binary (made on first use), so that one client
// certificate reaches them all, as in a cluster. Aborts if it cannot be made.
const tls::CertAndKey& TestCa();

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
  pid_t pid() const { return pid_; }
  // "https://127.0.0.1:PORT"
  std::string endpoint() const;
  std::string host_port() const;
  // "https://127.0.0.1:PORT" of the peer listener.
  std::string peer_url() const;
  const std::string& data_dir() const { return dir_.path(); }
  // PEM files: TestCa()'s certificate, and a certificate of TestCa() for the host and
  // tls::kStoreServerName that etcd serves with and that clients may present too.
  std::string ca_file() const { return dir_.path() + "/tls/ca.crt"; }
  std::string cert_file() const { return dir_.path() + "/tls/node.crt"; }
  std::string key_file() const { return dir_.path() + "/tls/node.key"; }

 private:
  std::string host_;
  int client_port_;
  int peer_port_;
  TempDir dir_;
  pid_t pid_ = -1;
};

}  // namespace gd2::testing
