#include "support/etcd_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/subprocess.h"
#include "support/ports.h"

namespace gd2::testing {
namespace {
bool Connectable(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

[[noreturn]] void Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::abort();
}

}  // namespace

const tls::CertAndKey& TestCa() {
  static const tls::CertAndKey ca = [] {
    auto made = tls::NewCa("gd2-test-etcd-ca");
    if (!made.ok()) Fail("cannot make the test CA", made.status());
    return *made;
  }();
  return ca;
}

EtcdProcess::EtcdProcess(std::string host)
    : host_(std::move(host)),
      client_port_(FreePort(host_)),
      peer_port_(FreePort(host_)),
      dir_("gd2etcd") {
  tls::TlsPaths paths{dir_.path() + "/tls"};
  Status s = tls::InstallCa(paths, TestCa());
  if (s.ok()) s = tls::EnsureNodeCert(paths, TestCa(), "test", {host_, tls::kStoreServerName});
  if (!s.ok()) Fail("cannot write the test etcd's certificates", s);
}

EtcdProcess::~EtcdProcess() { Stop(); }

std::string EtcdProcess::host_port() const { return host_ + ":" + std::to_string(client_port_); }
std::string EtcdProcess::endpoint() const { return "https://" + host_port(); }
std::string EtcdProcess::peer_url() const {
  return "https://" + host_ + ":" + std::to_string(peer_port_);
}

void EtcdProcess::Start() {
  std::string curl = endpoint();
  std::string purl = peer_url();
  SpawnOptions so;
  so.argv = {"etcd",
             "--name", "test",
             "--data-dir", dir_.path() + "/data",
             "--listen-client-urls", curl,
             "--advertise-client-urls", curl,
             "--listen-peer-urls", purl,
             "--initial-advertise-peer-urls", purl,
             "--initial-cluster", "test=" + purl,
             "--logger", "zap",
             "--log-outputs", dir_.path() + "/etcd.log",
             "--cert-file", cert_file(),
             "--key-file", key_file(),
             "--trusted-ca-file", ca_file(),
             "--client-cert-auth",
             "--peer-cert-file", cert_file(),
             "--peer-key-file", key_file(),
             "--peer-trusted-ca-file", ca_file(),
             "--peer-client-cert-auth",
             "--experimental-peer-skip-client-san-verification"};
  so.env["ETCD_UNSUPPORTED_ARCH"] = "";
  so.output_file = dir_.path() + "/etcd.out";
  auto pid = Spawn(so);
  if (!pid.ok()) {
    std::fprintf(stderr, "cannot start etcd: %s\n", pid.status().ToString().c_str());
    std::abort();
  }
  pid_ = *pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PollExit(pid_)) {
      std::fprintf(stderr, "etcd exited at start; see %s/etcd.log\n", dir_.path().c_str());
      std::abort();
    }
    if (Connectable(host_, client_port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::fprintf(stderr, "etcd did not come up in 20 s\n");
  std::abort();
}

void EtcdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

void EtcdProcess::Stop() {
  if (pid_ <= 0) return;
  StopProcess(pid_, std::chrono::seconds(5));
  pid_ = -1;
}

}  // namespace gd2::testing
