#include "sunrpc/rpc_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <set>
#include <system_error>
#include <thread>

namespace gd2::sunrpc {

struct RpcServer::Connection {
  std::string peer;
  std::string initial_bytes;
  std::thread thread;
  std::atomic<bool> done{false};

  std::mutex mu;
  // Both closed only by the connection's own thread, under mu, so other threads may use them
  // while holding mu if they are not -1.
  int fd = -1;
  int wake_fd = -1;
  bool stop = false;  // guarded by mu
  // Coalesced: several changes before the thread runs give one FETCHSPEC (peers re-fetch all).
  bool fetchspec_pending = false;  // guarded by mu
  std::set<std::string> volumes;   // guarded by mu; copies of the session's state
  std::set<std::string> volfile_ids;
  std::set<std::string> bricks;

  void Wake() {
    uint64_t one = 1;
    if (wake_fd >= 0) (void)!::write(wake_fd, &one, sizeof(one));
  }
};

namespace {

// Sends all of `data` on a blocking socket. False if the peer went away or timed out.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

RpcServer::RpcServer(VolfileProvider& provider, PortMap& portmap, RpcServerOptions options)
    : provider_(provider),
      portmap_(portmap),
      options_(options),
      log_(log::Root().With({{"component", "sunrpc"}})) {}

RpcServer::~RpcServer() { Stop(); }

Status RpcServer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return FailedPreconditionError("rpc server already started");
  started_ = true;
  return OkStatus();
}

void RpcServer::Stop() {
  std::list<std::unique_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    conns.swap(connections_);
  }
  for (auto& c : conns) {
    std::lock_guard<std::mutex> lock(c->mu);
    c->stop = true;
    // Unblocks a thread stuck in send() to a peer that does not read.
    if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    c->Wake();
  }
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void RpcServer::ReapFinishedLocked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void RpcServer::Adopt(int fd, std::string peer_addr, std::string initial_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ReapFinishedLocked();
  if (!started_ || stopped_) {
    log_.Warn("rpc connection refused: server not running", {{"peer", peer_addr}});
    ::close(fd);
    return;
  }
  if (connections_.size() >= options_.max_connections) {
    log_.Warn("rpc connection refused: too many connections",
              {{"peer", peer_addr}, {"max", options_.max_connections}});
    ::close(fd);
    return;
  }
  // The connection thread uses blocking I/O; a send timeout bounds how long a peer that stops
  // reading can hold it.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = options_.send_timeout.count() / 1000;
  tv.tv_usec = (options_.send_timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    log_.Error("rpc connection refused: eventfd failed",
               {{"peer", peer_addr}, {"error", ErrnoError("eventfd", errno)}});
    ::close(fd);
    return;
  }
  auto c = std::make_unique<Connection>();
  c->peer = std::move(peer_addr);
  c->initial_bytes = std::move(initial_bytes);
  c->fd = fd;
  c->wake_fd = wake_fd;
  Connection* raw = c.get();
  try {
    c->thread = std::thread([this, raw] { Serve(*raw); });
  } catch (const std::system_error& e) {
    log_.Error("rpc connection refused: cannot start thread",
               {{"peer", c->peer}, {"error", e.what()}});
    ::close(fd);
    ::close(wake_fd);
    return;
  }
  log_.Debug("rpc connection adopted", {{"peer", c->peer}});
  connections_.push_back(std::move(c));
}

void RpcServer::Serve(Connection& c) {
  RpcSession session(provider_, portmap_, c.peer, options_.limits);
  std::string out;
  Status status;
  if (!c.initial_bytes.empty()) {
    status = session.Consume(c.initial_bytes, out);
    c.initial_bytes.clear();
  }
  // fd and wake_fd are closed only below, by this thread, so reading them without mu is safe.
  const int fd = c.fd;
  const int wake_fd = c.wake_fd;
  std::string buf(size_t{64} * 1024, '\0');
  std::string close_reason = "peer closed";
  while (status.ok()) {
    if (!out.empty()) {
      if (!SendAll(fd, out)) {
        close_reason = "send failed";
        break;
      }
      out.clear();
    }
    {
      std::lock_guard<std::mutex> lock(c.mu);
      if (c.stop) {
        close_reason = "server stopping";
        break;
      }
    }
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      close_reason = "poll failed";
      break;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t count = 0;
      (void)!::read(wake_fd, &count, sizeof(count));
      bool pending = false;
      {
        std::lock_guard<std::mutex> lock(c.mu);
        pending = c.fetchspec_pending;
        c.fetchspec_pending = false;
      }
      if (pending) out += session.MakeFetchspecCall();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        close_reason = "recv failed";
        break;
      }
      status = session.Consume(std::string_view(buf.data(), static_cast<size_t>(n)), out);
      std::lock_guard<std::mutex> lock(c.mu);
      c.volumes = session.fetched_volumes();
      c.volfile_ids = session.fetched_volfile_ids();
      c.bricks = session.signed_in_bricks();
    }
  }
  if (!status.ok()) {
    // Replies to the calls before the bad one still go out.
    if (!out.empty()) SendAll(fd, out);
    log_.Warn("rpc connection closed on protocol error", {{"peer", c.peer}, {"error", status}});
  } else {
    log_.Debug("rpc connection closed", {{"peer", c.peer}, {"reason", close_reason}});
  }
  {
    std::lock_guard<std::mutex> lock(c.mu);
    ::close(c.fd);
    ::close(c.wake_fd);
    c.fd = -1;
    c.wake_fd = -1;
  }
  c.done.store(true);
}

size_t RpcServer::Notify(const std::string* volume) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t notified = 0;
  for (auto& c : connections_) {
    std::lock_guard<std::mutex> clock(c->mu);
    if (c->fd < 0) continue;
    if (volume != nullptr && !c->volumes.contains(*volume)) continue;
    c->fetchspec_pending = true;
    c->Wake();
    ++notified;
  }
  return notified;
}

size_t RpcServer::NotifyVolfileChanged(std::string_view volume) {
  std::string v(volume);
  size_t n = Notify(&v);
  log_.Debug("fetchspec sent", {{"volume", v}, {"connections", n}});
  return n;
}

size_t RpcServer::NotifyAll() { return Notify(nullptr); }

std::vector<RpcConnectionInfo> RpcServer::Connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RpcConnectionInfo> out;
  for (const auto& c : connections_) {
    std::lock_guard<std::mutex> clock(c->mu);
    if (c->fd < 0) continue;
    out.push_back({c->peer,
                   {c->volfile_ids.begin(), c->volfile_ids.end()},
                   {c->bricks.begin(), c->bricks.end()}});
  }
  return out;
}

size_t RpcServer::ConnectionCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& c : connections_) {
    if (!c->done.load()) ++n;
  }
  return n;
}

}  // namespace gd2::sunrpc
