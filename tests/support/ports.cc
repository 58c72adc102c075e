#include "support/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"

namespace gd2::testing {
namespace {

// Ports below the kernel's ephemeral range are never handed to outgoing connections, so a port
// picked here cannot be taken by some client's connect() before the child process binds it.
// (When that range starts at 11000 or lower, the ports go up to 32768 and may overlap it.)
constexpr int kLowestPort = 10000;
constexpr int kFallbackEphemeralLow = 32768;

int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  if (in >> low >> high && low > kLowestPort + 1000) return low;
  return kFallbackEphemeralLow;
}

bool CanBind(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  GD2_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  GD2_CHECK(::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// Test processes run in parallel (ctest -j) and each picks its own ports, so a port is also
// claimed across processes: by binding the abstract unix socket "gd2-test-port-<port>", which
// only one process can hold and which goes away with the process that holds it (nothing is left
// on disk). Returns the socket (kept open for the rest of the process) or -1 if another process
// holds the claim.
int ClaimAcrossProcesses(int port) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  GD2_CHECK(fd >= 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::string name = "gd2-test-port-" + std::to_string(port);
  GD2_CHECK(name.size() + 1 < sizeof(a.sun_path));
  // sun_path[0] stays '\0': the abstract namespace.
  std::copy(name.begin(), name.end(), a.sun_path + 1);
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    int err = errno;
    ::close(fd);
    // Only "in use" is another process's claim; anything else would make every port look taken.
    GD2_CHECK(err == EADDRINUSE && "cannot bind an abstract unix socket to claim a test port");
    return -1;
  }
  return fd;
}

}  // namespace

int FreePort(const std::string& host) {
  // One sequence per process, starting at a point that differs between processes, and never the
  // same port twice: asking the kernel for port 0 twice in a row can return the same port.
  static std::mutex mu;
  static std::set<int> handed_out;
  static const int high = EphemeralLow();
  static int next = -1;
  std::lock_guard lock(mu);
  const int span = high - kLowestPort;
  if (next < 0) {
    auto seed = static_cast<unsigned long>(::getpid()) * 7919UL +
                static_cast<unsigned long>(
                    std::chrono::steady_clock::now().time_since_epoch().count() / 1000);
    next = kLowestPort + static_cast<int>(seed % static_cast<unsigned long>(span));
  }
  for (int tried = 0; tried < span; ++tried) {
    int port = next;
    next = next + 1 >= high ? kLowestPort : next + 1;
    if (handed_out.count(port) != 0) continue;
    int claim = ClaimAcrossProcesses(port);
    if (claim < 0) continue;
    if (!CanBind(host, port)) {
      ::close(claim);
      continue;
    }
    handed_out.insert(port);  // the claim's socket stays open until the process ends
    return port;
  }
  GD2_CHECK(false && "no free TCP port below the ephemeral range");
  return 0;
}

}  // namespace gd2::testing
