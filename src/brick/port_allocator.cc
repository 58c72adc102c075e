#include "brick/port_allocator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>

namespace gd2::brick {

PortAllocator::PortAllocator(Options options)
    : options_(std::move(options)), next_(options_.base_port) {
  GD2_CHECK(options_.base_port > 0 && options_.base_port <= options_.max_port &&
            options_.max_port <= 65535);
  if (options_.random_start) {
    std::random_device rd;
    std::uniform_int_distribution<int> pick(options_.base_port, options_.max_port);
    MutexLock lock(mu_);
    next_ = pick(rd);
  }
}

bool PortAllocator::CanBind(int port) const {
  bool v6 = options_.bind_host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // glusterfsd's listener sets SO_REUSEADDR, so a port held only by TIME_WAIT connections is
  // usable for it; probe the same way.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = -1;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, options_.bind_host.c_str(), &a.sin6_addr) == 1) {
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, options_.bind_host.c_str(), &a.sin_addr) == 1) {
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
  }
  ::close(fd);
  return rc == 0;
}

StatusOr<int> PortAllocator::Allocate() {
  MutexLock lock(mu_);
  int range = options_.max_port - options_.base_port + 1;
  int port = next_;
  for (int i = 0; i < range; ++i, ++port) {
    if (port > options_.max_port) port = options_.base_port;
    if (allocated_.count(port) != 0 || !CanBind(port)) continue;
    allocated_.insert(port);
    next_ = port + 1 > options_.max_port ? options_.base_port : port + 1;
    return port;
  }
  return ResourceExhaustedError("no free brick port in range " +
                                std::to_string(options_.base_port) + "-" +
                                std::to_string(options_.max_port));
}

Status PortAllocator::Reserve(int port) {
  if (port <= 0 || port > 65535) {
    return InvalidArgumentError("invalid port: port=" + std::to_string(port));
  }
  MutexLock lock(mu_);
  if (!allocated_.insert(port).second) {
    return AlreadyExistsError("port already allocated: port=" + std::to_string(port));
  }
  return OkStatus();
}

void PortAllocator::Release(int port) {
  MutexLock lock(mu_);
  allocated_.erase(port);
}

bool PortAllocator::IsAllocated(int port) const {
  MutexLock lock(mu_);
  return allocated_.count(port) != 0;
}

}  // namespace gd2::brick
