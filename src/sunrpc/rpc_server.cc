#include "sunrpc/rpc_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdint>
#include <map>
#include <set>
#include <thread>

#include "common/connection_limits.h"
#include "common/thread_annotations.h"
#include "common/worker_pool.h"

namespace gd2::sunrpc {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using LocalProtocol = asio::local::stream_protocol;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

std::string HostOf(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

const char* TrustName(PeerTrust t) { return t == PeerTrust::kLocalProcess ? "local" : "remote"; }

}  // namespace

class RpcServer::Impl {
 public:
  Impl(const VolfileRegistry& volfiles, PortMap& portmap, RpcServerOptions options)
      : volfiles_(volfiles),
        portmap_(portmap),
        options_(options),
        log_(log::Root().With({{"component", "sunrpc"}})),
        remote_(options.max_connections, options.max_connections_per_address),
        local_(options.max_local_connections, options.max_local_connections) {}
  ~Impl() { Stop(); }

  Status Start();
  Status ListenLocal(const std::string& path);
  void Stop() GD2_EXCLUDES(mu_);
  void Adopt(int fd, std::string peer, std::string initial, PeerTrust trust);
  size_t Notify(const std::string* volume) GD2_EXCLUDES(mu_);
  std::vector<RpcConnectionInfo> Connections() const GD2_EXCLUDES(mu_);
  size_t ConnectionCount() const GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return connections_.size();
  }

  class Conn;

 private:
  // What a connection subscribed to, copied from its session for Connections() and Notify().
  struct Subscriptions {
    std::set<std::string> volumes;
    std::set<std::string> volfile_ids;
    std::set<std::string> bricks;
  };
  struct Entry {
    std::weak_ptr<Conn> conn;
    Subscriptions subscriptions;
    // Between BeginConsume and SetSubscriptions the connection's calls are being answered: a
    // GETSPEC among them may read a volume that changes meanwhile, before the connection is
    // subscribed to it. Notifications for volumes it is not subscribed to are kept for then.
    bool consuming = false;
    std::set<std::string> missed;
  };

  void AcceptLocal() GD2_EXCLUDES(mu_);
  bool Register(const std::shared_ptr<Conn>& c) GD2_EXCLUDES(mu_);
  void Unregister(Conn* c) GD2_EXCLUDES(mu_);
  void BeginConsume(Conn* c) GD2_EXCLUDES(mu_);
  // Replaces c's subscriptions after its calls were answered. Returns whether a notification
  // for one of the new subscriptions' volumes came while they were answered (BeginConsume on),
  // which c then still needs.
  bool SetSubscriptions(Conn* c, Subscriptions subscriptions) GD2_EXCLUDES(mu_);

  const VolfileRegistry& volfiles_;
  PortMap& portmap_;
  RpcServerOptions options_;
  log::Logger log_;
  std::unique_ptr<WorkerPool> workers_;
  mutable Mutex mu_;
  bool started_ GD2_GUARDED_BY(mu_) = false;
  bool stopped_ GD2_GUARDED_BY(mu_) = false;
  // Local connections (the daemon's own bricks and daemons) have a total of their own.
  ConnectionLimits remote_ GD2_GUARDED_BY(mu_);
  ConnectionLimits local_ GD2_GUARDED_BY(mu_);
  std::map<Conn*, Entry> connections_ GD2_GUARDED_BY(mu_);
  std::vector<std::thread> io_threads_;
  std::string local_path_;
  // Last, so that it is destroyed first: pending handlers own connections, whose destructors
  // unregister themselves above.
  asio::io_context io_;
  std::unique_ptr<LocalProtocol::acceptor> local_acceptor_;
  asio::steady_timer accept_retry_{io_};
};

// One connection. Its handlers run on its strand; while a Consume runs on a worker thread the
// strand leaves `session_` alone (FETCHSPEC requests wait in fetchspec_pending_).
class RpcServer::Impl::Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Impl& srv, Socket socket, std::string peer, PeerTrust trust, std::string initial)
      : srv_(srv),
        socket_(std::move(socket)),
        read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()),
        peer_(std::move(peer)),
        address_(HostOf(peer_)),
        trust_(trust),
        session_(srv.volfiles_, srv.portmap_, peer_, srv.options_.limits, trust),
        inbox_(std::move(initial)) {}
  ~Conn() { srv_.Unregister(this); }

  const std::string& peer() const { return peer_; }
  const std::string& address() const { return address_; }
  PeerTrust trust() const { return trust_; }

  void Start() {
    ArmReadTimer(srv_.options_.first_call_timeout, "first call");
    if (!inbox_.empty()) return Consume();
    Read();
  }

  // Queues a FETCHSPEC callback. Runs on the strand.
  void Fetchspec() {
    if (closed_) return;
    if (consuming_) {
      fetchspec_pending_ = true;
      return;
    }
    out_ += session_.MakeFetchspecCall();
    Flush();
  }

  void CloseNow(const char* reason) {
    if (closed_) return;
    closed_ = true;
    srv_.log_.Debug("rpc connection closed", {{"peer", peer_}, {"reason", reason}});
    boost::system::error_code ec;
    ++read_generation_;
    read_timer_.cancel();
    write_timer_.cancel();
    socket_.shutdown(Socket::shutdown_both, ec);
    socket_.close(ec);
  }

  auto executor() { return socket_.get_executor(); }

 private:
  void ArmReadTimer(std::chrono::milliseconds after, const char* what) {
    uint64_t gen = ++read_generation_;
    read_timer_.expires_after(after);
    read_timer_.async_wait([self = shared_from_this(), gen, what](boost::system::error_code ec) {
      if (ec || self->closed_ || gen != self->read_generation_) return;
      self->srv_.log_.Info("rpc connection closed: deadline passed",
                           {{"peer", self->peer_}, {"waiting_for", what}});
      self->CloseNow(what);
    });
  }

  void CancelReadTimer() {
    ++read_generation_;
    read_timer_.cancel();
  }

  // Waits until readable, then reads into a per-thread buffer: an idle connection holds no
  // read buffer.
  void Read() {
    socket_.async_wait(
        Socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
          if (self->closed_) return;
          if (ec) return self->CloseNow("read failed");
          thread_local std::array<char, kReadChunk> buf;
          self->socket_.non_blocking(true, ec);
          size_t n = ec ? 0 : self->socket_.read_some(asio::buffer(buf), ec);
          if (ec == asio::error::would_block || ec == asio::error::try_again) return self->Read();
          if (ec) return self->CloseNow(ec == asio::error::eof ? "peer closed" : "read failed");
          self->inbox_.append(buf.data(), n);
          self->Consume();
        });
  }

  void Consume() {
    consuming_ = true;
    srv_.BeginConsume(this);
    std::string data;
    data.swap(inbox_);
    auto self = shared_from_this();
    bool queued = srv_.workers_->TryPost([self, data = std::move(data)] {
      std::string out;
      Status s = self->session_.Consume(data, out);
      asio::post(self->executor(), [self, s, out = std::move(out)]() mutable {
        self->OnConsumed(s, std::move(out));
      });
    });
    if (!queued) {
      srv_.log_.Warn("rpc connection closed: server busy", {{"peer", peer_}});
      CloseNow("server busy");
    }
  }

  void OnConsumed(const Status& s, std::string replies) {
    consuming_ = false;
    if (closed_) return;
    bool answered = !replies.empty();
    answered_any_ = answered_any_ || answered;
    out_ += replies;
    bool subscribed =
        !session_.fetched_volfile_ids().empty() || !session_.signed_in_bricks().empty();
    bool missed = srv_.SetSubscriptions(
        this,
        {session_.fetched_volumes(), session_.fetched_volfile_ids(), session_.signed_in_bricks()});
    // A change announced while these calls were answered: the volfile just sent may predate it.
    if (fetchspec_pending_ || missed) {
      fetchspec_pending_ = false;
      out_ += session_.MakeFetchspecCall();
    }
    if (subscribed && !keepalive_set_) SetKeepalive();
    if (!s.ok()) {
      // Replies to the calls before the bad one still go out.
      srv_.log_.Warn("rpc connection closed on protocol error", {{"peer", peer_}, {"error", s}});
      close_after_write_ = true;
      CancelReadTimer();
      if (out_.empty() && !writing_) return CloseNow("protocol error");
      return Flush();
    }
    // Deadlines: the first call must come in time; then a started record must end in time;
    // between calls only a connection that subscribed to nothing times out.
    if (answered_any_) {
      if (session_.InRecord()) {
        if (!record_timer_armed_) {
          ArmReadTimer(srv_.options_.record_timeout, "rest of record");
          record_timer_armed_ = true;
        }
      } else {
        record_timer_armed_ = false;
        if (subscribed) {
          CancelReadTimer();
        } else if (answered) {
          ArmReadTimer(srv_.options_.idle_timeout, "next call");
        }
      }
    }
    Flush();
    Read();
  }

  void SetKeepalive() {
    keepalive_set_ = true;
    if (trust_ == PeerTrust::kLocalProcess) return;  // unix socket: the kernel knows
    int fd = socket_.native_handle();
    int one = 1;
    int idle = static_cast<int>(srv_.options_.keepalive_idle.count());
    int interval = static_cast<int>(srv_.options_.keepalive_interval.count());
    int count = srv_.options_.keepalive_count;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  }

  void Flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (close_after_write_) CloseNow("protocol error");
      return;
    }
    writing_ = true;
    wbuf_.swap(out_);
    out_.clear();
    write_timer_.expires_after(srv_.options_.send_timeout);
    write_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_ || !self->writing_) return;
      self->srv_.log_.Info("rpc connection closed: peer does not read", {{"peer", self->peer_}});
      self->CloseNow("send timeout");
    });
    asio::async_write(socket_, asio::buffer(wbuf_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        self->write_timer_.cancel();
                        if (self->closed_) return;
                        if (ec) return self->CloseNow("send failed");
                        self->wbuf_.clear();
                        self->Flush();
                      });
  }

  Impl& srv_;
  Socket socket_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  std::string peer_;
  std::string address_;
  PeerTrust trust_;
  RpcSession session_;
  std::string inbox_;  // read, not yet consumed
  std::string out_;    // to send after the write in flight
  std::string wbuf_;   // the write in flight
  bool consuming_ = false;
  bool fetchspec_pending_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
  bool answered_any_ = false;
  bool record_timer_armed_ = false;
  bool keepalive_set_ = false;
  uint64_t read_generation_ = 0;
};

Status RpcServer::Impl::Start() {
  MutexLock lock(mu_);
  if (started_ || stopped_) return FailedPreconditionError("rpc server already started");
  started_ = true;
  workers_ = std::make_unique<WorkerPool>(static_cast<size_t>(std::max(1, options_.workers)),
                                          options_.max_queued_calls);
  io_threads_.emplace_back([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
  return OkStatus();
}

Status RpcServer::Impl::ListenLocal(const std::string& path) {
  {
    MutexLock lock(mu_);
    if (!started_ || stopped_) return FailedPreconditionError("rpc server not running");
  }
  sockaddr_un probe{};
  if (path.empty() || path.size() >= sizeof(probe.sun_path)) {
    return InvalidArgumentError("unix socket path empty or too long: " + path);
  }
  // A socket file left by an earlier run; anything else at the path is not ours to remove.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return FailedPreconditionError("not a socket, refusing to replace: " + path);
    }
    ::unlink(path.c_str());
  }
  auto acceptor = std::make_unique<LocalProtocol::acceptor>(io_);
  boost::system::error_code ec;
  LocalProtocol::endpoint ep(path);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (ec) return UnavailableError("cannot bind unix socket " + path + ": " + ec.message());
  // Before listen(): nobody can connect until the mode is right.
  if (::chmod(path.c_str(), 0600) != 0) {
    return ErrnoError("chmod " + path, errno);
  }
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on unix socket " + path + ": " + ec.message());
  local_path_ = path;
  asio::post(io_, [this, a = acceptor.release()] {
    local_acceptor_.reset(a);
    AcceptLocal();
  });
  log_.Info("rpc service listening on local socket", {{"path", path}});
  return OkStatus();
}

void RpcServer::Impl::AcceptLocal() {
  local_acceptor_->async_accept([this](boost::system::error_code ec, LocalProtocol::socket s) {
    {
      MutexLock lock(mu_);
      if (stopped_) return;
    }
    if (ec) {
      log_.Warn("local accept failed", {{"error", ec.message()}});
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](boost::system::error_code tec) {
        if (!tec) AcceptLocal();
      });
      return;
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    bool ok = ::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
    if (!ok || (cred.uid != 0 && cred.uid != ::geteuid())) {
      log_.Warn("local rpc connection refused: not the daemon's user",
                {{"pid", ok ? cred.pid : -1}, {"uid", ok ? static_cast<int64_t>(cred.uid) : -1}});
      boost::system::error_code cec;
      s.close(cec);
    } else {
      boost::system::error_code rec;
      int fd = s.release(rec);
      if (!rec) {
        Adopt(fd, "local:pid=" + std::to_string(cred.pid), {}, PeerTrust::kLocalProcess);
      }
    }
    AcceptLocal();
  });
}

bool RpcServer::Impl::Register(const std::shared_ptr<Conn>& c) {
  MutexLock lock(mu_);
  if (!started_ || stopped_) return false;
  ConnectionLimits& limits = c->trust() == PeerTrust::kLocalProcess ? local_ : remote_;
  if (!limits.TryAdd(c->address())) return false;
  Entry e;
  e.conn = c;
  connections_[c.get()] = std::move(e);
  return true;
}

void RpcServer::Impl::BeginConsume(Conn* c) {
  MutexLock lock(mu_);
  auto it = connections_.find(c);
  if (it != connections_.end()) it->second.consuming = true;
}

bool RpcServer::Impl::SetSubscriptions(Conn* c, Subscriptions subscriptions) {
  MutexLock lock(mu_);
  auto it = connections_.find(c);
  if (it == connections_.end()) return false;
  Entry& e = it->second;
  bool missed = std::any_of(e.missed.begin(), e.missed.end(), [&](const std::string& v) {
    return subscriptions.volumes.contains(v);
  });
  e.subscriptions = std::move(subscriptions);
  e.consuming = false;
  e.missed.clear();
  return missed;
}

void RpcServer::Impl::Unregister(Conn* c) {
  MutexLock lock(mu_);
  if (connections_.erase(c) == 0) return;
  (c->trust() == PeerTrust::kLocalProcess ? local_ : remote_).Remove(c->address());
}

void RpcServer::Impl::Adopt(int fd, std::string peer, std::string initial, PeerTrust trust) {
  int domain = 0;
  socklen_t len = sizeof(domain);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
    ::close(fd);
    return;
  }
  Socket socket(asio::make_strand(io_));
  boost::system::error_code ec;
  socket.assign(asio::generic::stream_protocol(domain, 0), fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  auto c =
      std::make_shared<Conn>(*this, std::move(socket), std::move(peer), trust, std::move(initial));
  if (!Register(c)) {
    log_.Warn("rpc connection refused: server not running or too many connections",
              {{"peer", c->peer()}, {"trust", TrustName(trust)}});
    c->CloseNow("refused");
    return;
  }
  log_.Debug("rpc connection adopted", {{"peer", c->peer()}, {"trust", TrustName(trust)}});
  asio::post(c->executor(), [c] { c->Start(); });
}

size_t RpcServer::Impl::Notify(const std::string* volume) {
  std::vector<std::shared_ptr<Conn>> targets;
  {
    MutexLock lock(mu_);
    for (auto& [raw, entry] : connections_) {
      if (volume != nullptr && !entry.subscriptions.volumes.contains(*volume)) {
        if (entry.consuming) entry.missed.insert(*volume);
        continue;
      }
      if (auto c = entry.conn.lock()) targets.push_back(std::move(c));
    }
  }
  for (auto& c : targets) asio::post(c->executor(), [c] { c->Fetchspec(); });
  return targets.size();
}

std::vector<RpcConnectionInfo> RpcServer::Impl::Connections() const {
  MutexLock lock(mu_);
  std::vector<RpcConnectionInfo> out;
  for (const auto& [raw, entry] : connections_) {
    const Subscriptions& subs = entry.subscriptions;
    out.push_back({raw->peer(),
                   raw->trust(),
                   {subs.volfile_ids.begin(), subs.volfile_ids.end()},
                   {subs.bricks.begin(), subs.bricks.end()}});
  }
  return out;
}

void RpcServer::Impl::Stop() {
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!started_) return;
  }
  workers_->Stop();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  std::vector<std::shared_ptr<Conn>> open;
  {
    MutexLock lock(mu_);
    for (auto& [raw, entry] : connections_) {
      if (auto c = entry.conn.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) c->CloseNow("server stopping");
  {
    MutexLock lock(mu_);
    connections_.clear();
    remote_.Clear();
    local_.Clear();
  }
  open.clear();
  boost::system::error_code ec;
  if (local_acceptor_) local_acceptor_->close(ec);
  if (!local_path_.empty()) ::unlink(local_path_.c_str());
}

RpcServer::RpcServer(const VolfileRegistry& volfiles, PortMap& portmap, RpcServerOptions options)
    : impl_(std::make_unique<Impl>(volfiles, portmap, options)) {}

RpcServer::~RpcServer() { Stop(); }

Status RpcServer::Start() { return impl_->Start(); }

Status RpcServer::ListenLocal(const std::string& path) { return impl_->ListenLocal(path); }

void RpcServer::Stop() { impl_->Stop(); }

void RpcServer::Adopt(int fd, std::string peer_addr, std::string initial_bytes, PeerTrust trust) {
  impl_->Adopt(fd, std::move(peer_addr), std::move(initial_bytes), trust);
}

size_t RpcServer::NotifyVolfileChanged(std::string_view volume) {
  std::string v(volume);
  return impl_->Notify(&v);
}

size_t RpcServer::NotifyAll() { return impl_->Notify(nullptr); }

std::vector<RpcConnectionInfo> RpcServer::Connections() const { return impl_->Connections(); }

size_t RpcServer::ConnectionCount() const { return impl_->ConnectionCount(); }

}  // namespace gd2::sunrpc
