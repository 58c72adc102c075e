#include "support/daemon_process.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/files.h"
#include "common/subprocess.h"
#include "support/ports.h"

namespace gd2::testing {

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string DaemonProcess::BuildPath(const std::string& relative) {
  const char* b = std::getenv("GD2_BUILD_DIR");
  return std::string(b != nullptr ? b : ".") + "/" + relative;
}

DaemonProcess::DaemonProcess(DaemonOptions opts)
    : opts_(std::move(opts)),
      dir_("gd2daemon"),
      client_port_(opts_.client_port != 0 ? opts_.client_port : FreePort(opts_.host)),
      peer_port_(FreePort(opts_.host)),
      etcd_client_port_(FreePort(opts_.host)),
      etcd_peer_port_(FreePort(opts_.host)) {}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    pid_t etcd = EtcdPid();
    StopProcess(pid_, std::chrono::seconds(10));
    if (etcd > 0) ::kill(etcd, SIGKILL);
  }
}

std::string DaemonProcess::endpoint() const {
  return "http://" + opts_.host + ":" + std::to_string(client_port_);
}

std::string DaemonProcess::secret() const {
  auto s = ReadFile(dir_.path() + "/auth");
  return s.ok() ? *s : "";
}

namespace {
// How many starts the log records as finished.
size_t CountReady(const std::string& log) {
  size_t n = 0;
  for (size_t pos = 0; (pos = log.find("glusterd2 ready", pos)) != std::string::npos; ++pos) ++n;
  return n;
}
}  // namespace

std::string DaemonProcess::etcd_client_url() const {
  return "https://" + opts_.host + ":" + std::to_string(etcd_client_port_);
}

std::string DaemonProcess::ReadLog() const {
  auto s = ReadFile(log_path());
  return s.ok() ? *s : "";
}

bool DaemonProcess::StartWithEnv(std::map<std::string, std::string> env) {
  opts_.env = std::move(env);
  return Start();
}

bool DaemonProcess::Start() {
  SpawnOptions so;
  so.argv = {BuildPath("src/daemon/glusterd2"),
             "--workdir", dir_.path(),
             "--client-address", opts_.host + ":" + std::to_string(client_port_),
             "--peer-address", opts_.host + ":" + std::to_string(peer_port_),
             "--log-file", log_path(),
             "--log-level", "debug",
             "--lease-ttl", std::to_string(opts_.lease_ttl),
             "--rest-auth", opts_.rest_auth ? "true" : "false"};
  if (opts_.etcd_endpoints.empty()) {
    so.argv.insert(so.argv.end(),
                   {"--etcd-client-url", etcd_client_url(),
                    "--etcd-peer-url", "https://" + opts_.host + ":" + std::to_string(etcd_peer_port_)});
  } else {
    std::string eps;
    for (const auto& e : opts_.etcd_endpoints) eps += (eps.empty() ? "" : ",") + e;
    so.argv.insert(so.argv.end(), {"--etcd-endpoints", eps});
    const std::pair<const char*, const std::string*> files[] = {
        {"--etcd-ca-file", &opts_.etcd_ca_file},
        {"--etcd-cert-file", &opts_.etcd_cert_file},
        {"--etcd-key-file", &opts_.etcd_key_file}};
    for (const auto& [flag, value] : files) {
      if (!value->empty()) so.argv.insert(so.argv.end(), {flag, *value});
    }
  }
  so.argv.insert(so.argv.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  so.env = opts_.env;
  so.cgroup = opts_.cgroup;
  so.output_file = dir_.path() + "/stderr.log";
  size_t ready_before = CountReady(ReadLog());
  auto pid = Spawn(so);
  if (!pid.ok()) {
    std::fprintf(stderr, "cannot start glusterd2: %s\n", pid.status().ToString().c_str());
    return false;
  }
  pid_ = *pid;
  client::ClientOptions co;
  co.endpoints = {endpoint()};
  co.timeout = std::chrono::milliseconds(500);
  auto c = client::Client::Create(co);
  bool up = WaitFor(
      [&] {
        if (PollExit(pid_)) return true;
        return (*c)->Ping().ok();
      },
      std::chrono::seconds(30));
  if (up && !PollExit(pid_)) {
    // /ping answers before the start finishes: the recovery pass of unfinished transactions
    // and re-registration run while the port already serves. Tests expect what comes after.
    WaitFor([&] { return CountReady(ReadLog()) > ready_before || PollExit(pid_).has_value(); },
            std::chrono::seconds(30));
    return true;
  }
  std::fprintf(stderr, "glusterd2 did not come up; stderr:\n%s\nlog:\n%s\n",
               ReadFile(dir_.path() + "/stderr.log").value_or("").c_str(), ReadLog().c_str());
  return false;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  ExitInfo e = StopProcess(pid_, std::chrono::seconds(20));
  pid_ = -1;
  return e.code;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

pid_t DaemonProcess::EtcdPid() const {
  // The embedded etcd is the daemon's child running with our data dir.
  std::string want = dir_.path() + "/store";
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.rfind("etcd", 0) == 0 && cmd.find(want) != std::string::npos) {
      pid_t p = std::stoi(name);
      if (ProcessAlive(p)) return p;
    }
  }
  return -1;
}

std::unique_ptr<client::Client> DaemonProcess::NewClient() const {
  client::ClientOptions co;
  co.endpoints = {endpoint()};
  co.secret = secret();
  co.timeout = std::chrono::seconds(30);
  auto c = client::Client::Create(co);
  return c.ok() ? std::move(*c) : nullptr;
}

}  // namespace gd2::testing
