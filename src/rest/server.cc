#include "rest/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "common/connection_limits.h"
#include "common/jwt.h"
#include "common/metrics.h"
#include "common/poll.h"
#include "common/thread_annotations.h"
#include "common/uuid.h"
#include "common/worker_pool.h"
#include "rest/http_reader.h"
#include "rest/http_status.h"
#include "store/store.h"

namespace gd2::rest {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
// After an error answer the connection is closed; what the peer still sends meanwhile is read
// and dropped for at most this long and this much, so that the answer is not lost to a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = size_t{4} << 20;

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

const char* ReasonPhrase(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Header values come from handlers; a CR or LF in one would split the response.
std::string SafeHeaderValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c != '\r' && c != '\n') out += c;
  }
  return out;
}

}  // namespace

FirstByte ClassifyFirstByte(long n, int err, unsigned char first, bool tls_only) {
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) return FirstByte::kWaitAgain;
  if (n <= 0) return FirstByte::kClose;
  if ((first & 0x80) != 0) return FirstByte::kRpc;
  if (tls_only) return first == 0x16 ? FirstByte::kTls : FirstByte::kClose;
  return FirstByte::kHttp;
}

class Server::Impl {
 public:
  Impl(const ServerOptions& opts, const Router& router)
      : opts_(opts),
        router_(router),
        cluster_id_(opts.cluster_id),
        limits_(opts.max_connections, opts.max_connections_per_address),
        acceptor_(io_) {}
  ~Impl() { Stop(); }

  Status Start(int* port);
  void Stop();
  void SetClusterId(std::string id) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    cluster_id_ = std::move(id);
  }
  size_t ConnectionCount() const GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return limits_.total();
  }

  class Conn;

  // What the header of a request decided: the route, or the error to answer and close with.
  struct Admission {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::string route_name = "unmatched";
    Status error;
    int http = 0;  // for errors: 0 = from the status code
    // What the token says the body must be; checked once the body has arrived (Run).
    std::optional<jwt::BodyCheck> body_check;
  };
  Admission Admit(const HttpRequest& req) const;
  // The one place a request's token is verified: from the request line and headers, before any
  // body byte is read (method, path, query, times, signature); the body's hash follows in Run.
  StatusOr<jwt::BodyCheck> VerifyToken(const HttpRequest& req) const;
  // Runs a handler (on a worker thread).
  StatusOr<Response> Run(const Admission& a, const HttpRequest& req, RequestContext& ctx) const;
  // Renders the response, logs the access line and counts it.
  // `written`: the store revision of the handler's writes (0: none).
  std::string Finish(const HttpRequest& req, const std::string& req_id, Clock::time_point start,
                     const std::string& route_name, const StatusOr<Response>& result, int http,
                     bool keep_alive, const std::string& remote, int64_t written = 0) const;
  std::string ClusterId() const GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return cluster_id_;
  }

 private:
  void InitTls(Status* status);
  void Accept();
  bool Register(const std::string& addr, const std::shared_ptr<Conn>& c) GD2_EXCLUDES(mu_);
  void Unregister(const std::string& addr, Conn* c) GD2_EXCLUDES(mu_);

  ServerOptions opts_;
  const Router& router_;
  std::unique_ptr<WorkerPool> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};  // requests between admission to a worker and their answer written
  mutable Mutex mu_;
  std::string cluster_id_ GD2_GUARDED_BY(mu_);
  ConnectionLimits limits_ GD2_GUARDED_BY(mu_);
  std::map<Conn*, std::weak_ptr<Conn>> connections_ GD2_GUARDED_BY(mu_);
  std::unique_ptr<asio::ssl::context> tls_;
  std::vector<std::thread> io_threads_;
  bool started_ = false;
  bool stopped_ = false;
  // Last, so that it is destroyed first: pending handlers own connections, whose destructors
  // unregister themselves above.
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_{io_};
};

// One accepted connection: demultiplexing, TLS, then HTTP requests one after another. All of
// its handlers run on its strand; a worker thread only touches `request_`/`admission_` while
// the connection waits for the answer (nothing else reads or writes them then).
class Server::Impl::Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Impl& srv, tcp::socket socket, std::string addr, std::string peer)
      : srv_(srv),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        addr_(std::move(addr)),
        peer_(std::move(peer)) {}
  ~Conn() { srv_.Unregister(addr_, this); }

  void Start() {
    ArmTimer(srv_.opts_.first_byte_timeout, "first byte");
    WaitFirstByte();
  }

  // Closes the socket at once (Stop(), timeouts).
  void CloseNow() {
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  void ArmTimer(std::chrono::milliseconds after, const char* what) {
    // A wait that was already due when re-armed may still run: the generation tells.
    uint64_t gen = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), what, gen](boost::system::error_code ec) {
      if (ec || self->closed_ || gen != self->timer_generation_) return;
      log::Root().Debug("http connection timed out",
                        {{"peer", self->peer_}, {"waiting_for", what}});
      metrics::Default()
          .GetCounter("gd2_http_connection_timeouts_total",
                      "client-port connections closed by a deadline", {{"phase", what}})
          .Inc();
      self->CloseNow();
    });
  }

  void WaitFirstByte() {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](boost::system::error_code ec) { self->OnFirstByte(ec); });
  }

  void OnFirstByte(boost::system::error_code ec) {
    if (ec || closed_) return CloseNow();
    unsigned char first = 0;
    ssize_t n;
    int err = 0;
    do {
      n = ::recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
      err = n < 0 ? errno : 0;
    } while (n < 0 && err == EINTR);
    switch (ClassifyFirstByte(n, err, first, srv_.tls_ != nullptr)) {
      case FirstByte::kWaitAgain:
        return WaitFirstByte();
      case FirstByte::kClose:
        return CloseNow();
      case FirstByte::kRpc: {
        CancelTimer();
        closed_ = true;
        if (!srv_.opts_.rpc_handler) return CloseNow();
        boost::system::error_code rec;
        int fd = socket_.release(rec);
        if (rec) return CloseNow();
        srv_.opts_.rpc_handler(fd, peer_);
        return;
      }
      case FirstByte::kHttp:
        return NextRequest(/*first=*/true);
      case FirstByte::kTls:
        break;
    }
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *srv_.tls_);
    ArmTimer(srv_.opts_.header_timeout, "tls handshake");
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this()](boost::system::error_code hec) {
                            if (hec || self->closed_) return self->CloseNow();
                            self->NextRequest(/*first=*/true);
                          });
  }

  void NextRequest(bool first) {
    HttpLimits limits;
    limits.max_header_bytes = srv_.opts_.max_header_bytes;
    limits.max_body_bytes = srv_.opts_.max_body_bytes;
    reader_ = std::make_unique<HttpRequestReader>(limits);
    admission_ = Admission();
    request_started_ = false;
    if (pending_.empty()) {
      // The first byte of the first request is already here (that is how it was recognised);
      // later requests of a keep-alive connection may take the idle timeout to start.
      if (first) {
        StartRequestClock();
      } else {
        ArmTimer(srv_.opts_.keep_alive_timeout, "keep-alive request");
      }
      return Read();
    }
    Pump();
  }

  void StartRequestClock() {
    request_started_ = true;
    start_ = Clock::now();
    ArmTimer(srv_.opts_.header_timeout, "header");
  }

  // Plain connections wait until readable and then read into a per-thread buffer, so an idle
  // connection holds no read buffer; TLS reads need a buffer of their own for the record layer.
  void Read() {
    if (tls_) {
      if (tls_rbuf_.empty()) tls_rbuf_.resize(kReadChunk);
      tls_->async_read_some(asio::buffer(tls_rbuf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->OnRead(ec, std::string_view(self->tls_rbuf_.data(), n));
                            });
      return;
    }
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](boost::system::error_code ec) {
                         if (ec) return self->OnRead(ec, {});
                         std::string_view got;
                         ec = self->ReadNow(&got);
                         if (ec == asio::error::would_block || ec == asio::error::try_again)
                           return self->Read();
                         self->OnRead(ec, got);
                       });
  }

  // One non-blocking read into this thread's buffer; `got` is valid until the next call on this
  // thread.
  boost::system::error_code ReadNow(std::string_view* got) {
    thread_local std::array<char, kReadChunk> buf;
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    size_t n = ec ? 0 : socket_.read_some(asio::buffer(buf), ec);
    *got = std::string_view(buf.data(), ec ? 0 : n);
    return ec;
  }

  void OnRead(boost::system::error_code ec, std::string_view data) {
    if (closed_) return;
    if (ec) return CloseNow();
    if (!request_started_) StartRequestClock();
    pending_.append(data);
    Pump();
  }

  // Feeds buffered bytes to the reader and acts on its phase.
  void Pump() {
    HttpRequestReader::Phase before = reader_->phase();
    auto used = reader_->Feed(pending_);
    if (used.ok()) pending_.erase(0, *used);
    HttpRequestReader::Phase phase = reader_->phase();
    if (phase == HttpRequestReader::Phase::kFailed) {
      return Refuse(used.status(), reader_->http_status());
    }
    if (before == HttpRequestReader::Phase::kHeader && phase != HttpRequestReader::Phase::kHeader) {
      if (!OnHeader()) return;
      phase = reader_->phase();
      if (phase == HttpRequestReader::Phase::kBody) {
        ArmTimer(srv_.opts_.body_timeout, "body");
        if (reader_->request().expect_continue && reader_->request().version >= 11) {
          return WriteContinue();
        }
        if (!pending_.empty()) return Pump();
      }
    }
    if (phase == HttpRequestReader::Phase::kDone) return Dispatch();
    if (pending_.size() > reader_->max_pending_bytes()) {
      return Refuse(ResourceExhaustedError("http: request header or chunk line too long"), 431);
    }
    Read();
  }

  // Routing and authentication from the header alone. False if the request was refused.
  bool OnHeader() {
    admission_ = srv_.Admit(reader_->request());
    if (!admission_.error.ok()) {
      Refuse(admission_.error, admission_.http);
      return false;
    }
    return true;
  }

  void WriteContinue() {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto handler = [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec || self->closed_) return self->CloseNow();
      if (!self->pending_.empty()) return self->Pump();
      self->Read();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(kContinue), std::move(handler));
    } else {
      asio::async_write(socket_, asio::buffer(kContinue), std::move(handler));
    }
  }

  std::string RequestId() const {
    std::string id = reader_->request().Header("X-Request-ID");
    return ValidRequestId(id) ? id : NewUuid();
  }

  // Answers an error from the header or body phase and closes the connection.
  void Refuse(const Status& error, int http) {
    CancelTimer();
    const HttpRequest& req = reader_->request();
    std::string out = srv_.Finish(req, RequestId(), request_started_ ? start_ : Clock::now(),
                                  admission_.route_name, error, http, /*keep_alive=*/false, addr_);
    Write(std::move(out), /*close=*/true, /*linger=*/true);
  }

  void CancelTimer() {
    ++timer_generation_;
    timer_.cancel();
  }

  void Dispatch() {
    CancelTimer();
    if (srv_.stopping_.load()) {
      return Refuse(UnavailableError("server is stopping"), 503);
    }
    if (admission_.route->nonblocking && AnswerHere()) return;
    srv_.busy_.fetch_add(1);
    auto self = shared_from_this();
    bool queued = srv_.workers_->TryPost([self] {
      Impl& srv = self->srv_;
      const HttpRequest& req = self->reader_->request();
      RequestContext ctx;
      ctx.remote_addr = self->addr_;
      int64_t written = 0;
      StatusOr<Response> result = [&] {
        store::WriteRevisionScope writes;
        StatusOr<Response> r = srv.Run(self->admission_, req, ctx);
        written = writes.revision();
        return r;
      }();
      // What was written is visible to reads here before the client hears of it.
      if (written > 0 && srv.opts_.await_revision) srv.opts_.await_revision(written);
      bool keep_alive = req.keep_alive && !srv.stopping_.load();
      std::string out = srv.Finish(req, ctx.req_id, self->start_, self->admission_.route_name,
                                   result, 0, keep_alive, self->addr_, written);
      asio::post(self->socket_.get_executor(), [self, out = std::move(out), keep_alive]() mutable {
        self->Write(std::move(out), !keep_alive, /*linger=*/false);
        self->srv_.busy_.fetch_sub(1);
      });
    });
    if (!queued) {
      srv_.busy_.fetch_sub(1);
      Refuse(UnavailableError("server busy: too many requests waiting"), 503);
    }
  }

  // Runs a nonblocking route's handler on this I/O thread and answers. False, with nothing
  // answered, when the handler deferred to a handler thread.
  bool AnswerHere() {
    const HttpRequest& req = reader_->request();
    RequestContext ctx;
    ctx.remote_addr = addr_;
    ctx.nonblocking = true;
    StatusOr<Response> result = srv_.Run(admission_, req, ctx);
    if (ctx.deferred) return false;
    bool keep_alive = req.keep_alive && !srv_.stopping_.load();
    Write(srv_.Finish(req, ctx.req_id, start_, admission_.route_name, result, 0, keep_alive, addr_),
          !keep_alive, /*linger=*/false);
    return true;
  }

  void Write(std::string data, bool close, bool linger) {
    if (closed_) return;
    wbuf_ = std::move(data);
    ArmTimer(srv_.opts_.write_timeout, "write");
    auto handler = [self = shared_from_this(), close, linger](boost::system::error_code ec,
                                                              size_t) {
      if (ec || self->closed_) return self->CloseNow();
      self->wbuf_.clear();
      self->wbuf_.shrink_to_fit();
      if (!close) return self->NextRequest(/*first=*/false);
      if (linger && !self->tls_) return self->Linger();
      self->CloseNow();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(wbuf_), std::move(handler));
    } else {
      asio::async_write(socket_, asio::buffer(wbuf_), std::move(handler));
    }
  }

  // Half-closes and drops what the peer still sends, briefly and boundedly, then closes.
  void Linger() {
    pending_.clear();
    pending_.shrink_to_fit();
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    ArmTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime), "linger");
    DrainSome();
  }

  void DrainSome() {
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](boost::system::error_code ec) {
                         if (self->closed_) return;
                         std::string_view got;
                         if (!ec) ec = self->ReadNow(&got);
                         if (ec == asio::error::would_block || ec == asio::error::try_again)
                           return self->DrainSome();
                         self->drained_ += got.size();
                         if (ec || self->drained_ > kLingerBytes) return self->CloseNow();
                         self->DrainSome();
                       });
  }

  Impl& srv_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::string addr_;
  std::string peer_;
  std::vector<char> tls_rbuf_;  // TLS connections only
  std::string pending_;  // read, not yet used by the reader
  std::string wbuf_;
  std::unique_ptr<HttpRequestReader> reader_;
  Admission admission_;
  bool request_started_ = false;
  Clock::time_point start_ = Clock::now();
  bool closed_ = false;
  size_t drained_ = 0;
  uint64_t timer_generation_ = 0;
};

StatusOr<jwt::BodyCheck> Server::Impl::VerifyToken(const HttpRequest& req) const {
  auto token = jwt::BearerToken(req.Header("Authorization"));
  if (!token.ok()) return token.status();
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  return jwt::VerifyHead(*token, opts_.secret, {req.method, req.path, query}, std::time(nullptr));
}

Server::Impl::Admission Server::Impl::Admit(const HttpRequest& req) const {
  Admission a;
  std::optional<Method> method = ParseMethod(req.method);
  Router::Match m;
  if (method) m = router_.Find(*method, req.path);
  if (m.route == nullptr) {
    if (m.path_known || !method) {
      a.http = 405;
      a.error = InvalidArgumentError("method not allowed: " + req.method + " " + req.path);
    } else {
      a.error = NotFoundError("no such endpoint: " + req.path);
    }
    return a;
  }
  a.route = m.route;
  a.route_name = m.route->name;
  a.params = std::move(m.params);
  if (opts_.auth && m.route->auth) {
    StatusOr<jwt::BodyCheck> check = VerifyToken(req);
    if (!check.ok()) {
      a.error = check.status();
    } else {
      a.body_check = std::move(*check);
    }
  }
  return a;
}

StatusOr<Response> Server::Impl::Run(const Admission& a, const HttpRequest& req,
                                     RequestContext& ctx) const {
  std::string req_id = req.Header("X-Request-ID");
  if (!ValidRequestId(req_id)) req_id = NewUuid();
  ctx.req_id = req_id;
  ctx.method = *ParseMethod(req.method);
  ctx.path = req.path;
  ctx.params = a.params;
  ctx.query = req.query;
  ctx.body = req.body;
  ctx.log = log::Root().With({{"req_id", req_id}});
  if (a.body_check) GD2_RETURN_IF_ERROR(a.body_check->Verify(req.body));
  if (std::string min = req.Header(kMinRevisionHeader); !min.empty()) {
    auto [end, ec] = std::from_chars(min.data(), min.data() + min.size(), ctx.min_revision);
    if (ec != std::errc() || end != min.data() + min.size() || ctx.min_revision < 0) {
      return InvalidArgumentError(std::string("bad ") + kMinRevisionHeader + " header: " + min);
    }
  }
  return a.route->handler(ctx);
}

std::string Server::Impl::Finish(const HttpRequest& req, const std::string& req_id,
                                 Clock::time_point start, const std::string& route_name,
                                 const StatusOr<Response>& result, int http, bool keep_alive,
                                 const std::string& remote, int64_t written) const {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Request-Id", req_id},
      {"X-Gluster-Peer-Id", opts_.peer_id},
      {"X-Gluster-Cluster-Id", ClusterId()},
  };
  std::string body;
  int64_t revision = written;
  if (result.ok()) revision = std::max(revision, result->revision);
  if (revision > 0) headers.emplace_back(kRevisionHeader, std::to_string(revision));
  if (result.ok()) {
    const Response& r = *result;
    http = r.status;
    for (const auto& h : r.headers) headers.push_back(h);
    if (r.json) {
      body = DumpJson(*r.json);
      headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
    } else if (!r.text.empty()) {
      body = r.text;
      headers.emplace_back("Content-Type", r.content_type);
    }
  } else {
    if (http == 0) http = HttpStatusFor(result.status().code());
    body = DumpJson(ErrorBody(result.status(), req_id));
    headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
  }

  std::string out = "HTTP/1.1 " + std::to_string(http) + " " + ReasonPhrase(http) + "\r\n";
  for (const auto& [k, v] : headers) out += SafeHeaderValue(k) + ": " + SafeHeaderValue(v) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (req.method != "HEAD") out += body;

  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  auto& reg = metrics::Default();
  reg.GetCounter("gd2_http_requests_total", "ReST requests by route and HTTP status",
                 {{"route", route_name}, {"code", std::to_string(http)}})
      .Inc();
  reg.GetHistogram("gd2_http_request_duration_seconds", "ReST request latency by route",
                   {{"route", route_name}})
      .Observe(secs);
  log::Logger l = log::Root().With({{"req_id", req_id}});
  if (result.ok()) {
    l.Info("request", {{"method", req.method},
                       {"path", req.path},
                       {"route", route_name},
                       {"status", http},
                       {"duration_ms", secs * 1000},
                       {"remote", remote}});
  } else {
    l.Info("request", {{"method", req.method},
                       {"path", req.path},
                       {"route", route_name},
                       {"status", http},
                       {"duration_ms", secs * 1000},
                       {"remote", remote},
                       {"error", result.status().message()}});
  }
  return out;
}

void Server::Impl::InitTls(Status* status) {
  *status = OkStatus();
  if (opts_.cert_file.empty() && opts_.key_file.empty()) return;
  if (opts_.cert_file.empty() || opts_.key_file.empty()) {
    *status = InvalidArgumentError("TLS needs both cert-file and key-file");
    return;
  }
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* raw = ctx->native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(raw, opts_.cert_file.c_str()) != 1) {
    *status = InvalidArgumentError("cannot load TLS certificate: " + opts_.cert_file);
    return;
  }
  if (SSL_CTX_use_PrivateKey_file(raw, opts_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    *status = InvalidArgumentError("cannot load TLS key (or it does not match the certificate): " +
                                   opts_.key_file);
    return;
  }
  tls_ = std::move(ctx);
}

bool Server::Impl::Register(const std::string& addr, const std::shared_ptr<Conn>& c) {
  MutexLock lock(mu_);
  if (!limits_.TryAdd(addr)) return false;
  connections_[c.get()] = c;
  return true;
}

void Server::Impl::Unregister(const std::string& addr, Conn* c) {
  MutexLock lock(mu_);
  if (connections_.erase(c) == 0) return;
  limits_.Remove(addr);
}

void Server::Impl::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (stopping_.load()) return;
        if (ec) {
          // Out of descriptors or memory: wait a little instead of spinning.
          log::Root().Warn("accept failed", {{"error", ec.message()}});
          accept_retry_.expires_after(std::chrono::milliseconds(100));
          accept_retry_.async_wait([this](boost::system::error_code tec) {
            if (!tec && !stopping_.load()) Accept();
          });
          return;
        }
        boost::system::error_code rec;
        tcp::endpoint remote = socket.remote_endpoint(rec);
        std::string addr = rec ? std::string("?") : remote.address().to_string();
        std::string peer = addr + ":" + std::to_string(rec ? 0 : remote.port());
        socket.set_option(tcp::no_delay(true), rec);
        auto c = std::make_shared<Conn>(*this, std::move(socket), addr, peer);
        if (!Register(addr, c)) {
          metrics::Default()
              .GetCounter("gd2_http_connections_refused_total",
                          "client-port connections closed at accept by the connection limits")
              .Inc();
          c->CloseNow();
        } else {
          c->Start();
        }
        Accept();
      });
}

Status Server::Impl::Start(int* port) {
  Status tls;
  InitTls(&tls);
  GD2_RETURN_IF_ERROR(tls);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(opts_.host, ec);
  if (ec) return InvalidArgumentError("bad client address host: " + opts_.host);
  tcp::endpoint ep(address, static_cast<unsigned short>(opts_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot bind ReST server on " + opts_.host + ":" +
                            std::to_string(opts_.port) + " (address in use?): " + ec.message());
  }
  *port = acceptor_.local_endpoint().port();
  workers_ = std::make_unique<WorkerPool>(static_cast<size_t>(std::max(1, opts_.threads)),
                                          opts_.max_queued_requests);
  started_ = true;
  Accept();
  for (int i = 0; i < std::max(1, opts_.io_threads); ++i) {
    io_threads_.emplace_back([this] { io_.run(); });
  }
  return OkStatus();
}

void Server::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
  });
  // In-flight requests finish and their answers go out, for a few seconds at most.
  PollUntil(Clock::now() + std::chrono::seconds(5),
            {std::chrono::milliseconds(10), std::chrono::milliseconds(10)},
            [this] { return busy_.load() == 0; });
  workers_->Stop();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  std::vector<std::shared_ptr<Conn>> open;
  {
    MutexLock lock(mu_);
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) c->CloseNow();
}

Server::Server(ServerOptions opts, const Router& router)
    : opts_(std::move(opts)), router_(router), impl_(std::make_unique<Impl>(opts_, router_)) {}

Server::~Server() { Stop(); }

void Server::SetClusterId(std::string id) { impl_->SetClusterId(std::move(id)); }

size_t Server::ConnectionCount() const { return impl_->ConnectionCount(); }

Status Server::Start() { return impl_->Start(&port_); }

void Server::Stop() { impl_->Stop(); }

}  // namespace gd2::rest
