#include "rest/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <ctime>

#include <httplib.h>

#include "common/jwt.h"
#include "common/metrics.h"
#include "common/uuid.h"
#include "rest/http_status.h"

namespace gd2::rest {
namespace {

// Polls fd for `events` up to timeout_ms. Returns >0 ready, 0 timeout, <0 error.
int PollFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && (p.revents & (POLLERR | POLLNVAL)) != 0 && (p.revents & events) == 0) return -1;
    return r;
  }
}

std::string PeerAddress(int fd, int* port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  char buf[INET6_ADDRSTRLEN] = {0};
  *port = 0;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    *port = ntohs(a->sin6_port);
  }
  return buf;
}

std::string LocalAddress(int fd, int* port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  char buf[INET6_ADDRSTRLEN] = {0};
  *port = 0;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    *port = ntohs(a->sin_port);
  }
  return buf;
}

// A connection as httplib sees it: plain socket or TLS over it, with timeouts.
class ConnStream : public httplib::Stream {
 public:
  ConnStream(int fd, SSL* ssl, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), ssl_(ssl), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override {
    if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
    return PollFd(fd_, POLLIN, read_timeout_ms_) > 0;
  }
  bool is_writable() const override { return PollFd(fd_, POLLOUT, write_timeout_ms_) > 0; }
  ssize_t read(char* ptr, size_t size) override {
    if (!is_readable()) return -1;
    if (ssl_ != nullptr) {
      int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
      return n > 0 ? n : -1;
    }
    ssize_t n;
    do {
      n = ::recv(fd_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    if (ssl_ != nullptr) {
      int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
      return n > 0 ? n : -1;
    }
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = PeerAddress(fd_, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = LocalAddress(fd_, &port);
  }
  socket_t socket() const override { return fd_; }

 private:
  int fd_;
  SSL* ssl_;
  int read_timeout_ms_;
  int write_timeout_ms_;
};

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// httplib's server with our own connection handling: demultiplexes RPC and TLS by the first
// byte and runs httplib's request parser on our stream.
class Server::Impl : public httplib::Server {
 public:
  Impl(const ServerOptions& opts, const Router& router) : opts_(opts), router_(router) {
    cluster_id_ = opts.cluster_id;
    auto h = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
    Get(".*", h);
    Post(".*", h);
    Put(".*", h);
    Delete(".*", h);
    Patch(".*", h);
    Options(".*", h);
    set_payload_max_length(opts.max_body_bytes);
    set_read_timeout(opts.read_timeout_sec, 0);
    set_write_timeout(opts.write_timeout_sec, 0);
    set_keep_alive_timeout(5);
    set_keep_alive_max_count(1000);
    int threads = opts.threads;
    new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  }

  ~Impl() override {
    if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  }

  Status InitTls() {
    if (opts_.cert_file.empty() && opts_.key_file.empty()) return OkStatus();
    if (opts_.cert_file.empty() || opts_.key_file.empty()) {
      return InvalidArgumentError("TLS needs both cert-file and key-file");
    }
    ssl_ctx_ = SSL_CTX_new(TLS_server_method());
    if (ssl_ctx_ == nullptr) return InternalError("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, opts_.cert_file.c_str()) != 1) {
      return InvalidArgumentError("cannot load TLS certificate: " + opts_.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx_, opts_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl_ctx_) != 1) {
      return InvalidArgumentError("cannot load TLS key (or it does not match the certificate): " +
                                  opts_.key_file);
    }
    return OkStatus();
  }

  void SetClusterId(std::string id) {
    std::lock_guard<std::mutex> lock(mu_);
    cluster_id_ = std::move(id);
  }

 private:
  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }

  // Waits until the connection has data, up to the keep-alive timeout, giving up early when
  // the server stops.
  bool WaitForRequest(int fd, SSL* ssl) {
    if (ssl != nullptr && SSL_pending(ssl) > 0) return true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (!stopping()) {
      int r = PollFd(fd, POLLIN, 100);
      if (r != 0) return r > 0;
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return false;
  }

  bool process_and_close_socket(socket_t sock) override {
    int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    unsigned char first = 0;
    ssize_t n = -1;
    if (PollFd(sock, POLLIN, opts_.read_timeout_sec * 1000) > 0) {
      do {
        n = ::recv(sock, &first, 1, MSG_PEEK);
      } while (n < 0 && errno == EINTR);
    }
    if (n <= 0) {
      ::close(sock);
      return true;
    }
    if ((first & 0x80) != 0) {
      if (opts_.rpc_handler) {
        int port = 0;
        std::string peer = PeerAddress(sock, &port);
        opts_.rpc_handler(sock, peer + ":" + std::to_string(port));
      } else {
        ::close(sock);
      }
      return true;
    }
    SSL* ssl = nullptr;
    if (ssl_ctx_ != nullptr) {
      if (first != 0x16) {  // plain HTTP on a TLS-only API
        ::close(sock);
        return true;
      }
      ssl = SSL_new(ssl_ctx_);
      SSL_set_fd(ssl, sock);
      timeval tv{opts_.read_timeout_sec, 0};
      ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        ::close(sock);
        return true;
      }
    }
    ConnStream strm(sock, ssl, opts_.read_timeout_sec * 1000, opts_.write_timeout_sec * 1000);
    size_t count = keep_alive_max_count_;
    while (count > 0 && WaitForRequest(sock, ssl)) {
      bool closed = false;
      bool ok = process_request(strm, count == 1 || stopping(), closed, nullptr);
      if (!ok || closed) break;
      --count;
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
      ERR_clear_error();
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    std::string req_id = req.get_header_value("X-Request-ID");
    if (!ValidRequestId(req_id)) req_id = NewUuid();
    std::string cluster_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cluster_id = cluster_id_;
    }
    res.set_header("X-Request-Id", req_id);
    res.set_header("X-Gluster-Peer-Id", opts_.peer_id);
    res.set_header("X-Gluster-Cluster-Id", cluster_id);

    RequestContext ctx;
    ctx.req_id = req_id;
    ctx.path = req.path;
    ctx.body = req.body;
    ctx.remote_addr = req.remote_addr;
    for (const auto& [k, v] : req.params) ctx.query.emplace(k, v);
    ctx.log = log::Root().With({{"req_id", req_id}});

    std::string route_name = "unmatched";
    int http = 200;
    StatusOr<Response> result = Dispatch(req, ctx, &route_name, &http);
    if (result.ok()) {
      Response& r = *result;
      http = r.status;
      for (auto& [k, v] : r.headers) res.set_header(k, v);
      if (r.json) {
        res.set_content(r.json->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json; charset=UTF-8");
      } else if (!r.text.empty()) {
        res.set_content(r.text, r.content_type);
      }
    } else {
      if (http == 200) http = HttpStatusFor(result.status().code());
      res.set_content(ErrorBody(result.status(), req_id).dump(-1, ' ', false,
                                                              nlohmann::json::error_handler_t::replace),
                      "application/json; charset=UTF-8");
    }
    res.status = http;

    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto& reg = metrics::Default();
    reg.GetCounter("gd2_http_requests_total", "ReST requests by route and HTTP status",
                   {{"route", route_name}, {"code", std::to_string(http)}})
        .Inc();
    reg.GetHistogram("gd2_http_request_duration_seconds", "ReST request latency by route",
                     {{"route", route_name}})
        .Observe(secs);
    if (result.ok()) {
      ctx.log.Info("request", {{"method", req.method}, {"path", req.path}, {"route", route_name},
                               {"status", http}, {"duration_ms", secs * 1000},
                               {"remote", req.remote_addr}});
    } else {
      ctx.log.Info("request", {{"method", req.method}, {"path", req.path}, {"route", route_name},
                               {"status", http}, {"duration_ms", secs * 1000},
                               {"remote", req.remote_addr}, {"error", result.status().message()}});
    }
  }

  StatusOr<Response> Dispatch(const httplib::Request& req, RequestContext& ctx,
                              std::string* route_name, int* http) {
    std::optional<Method> method = ParseMethod(req.method);
    Router::Match m;
    if (method) m = router_.Find(*method, req.path);
    if (m.route == nullptr) {
      if (m.path_known || !method) {
        *http = 405;
        return InvalidArgumentError("method not allowed: " + req.method + " " + req.path);
      }
      return NotFoundError("no such endpoint: " + req.path);
    }
    *route_name = m.route->name;
    ctx.method = *method;
    ctx.params = std::move(m.params);
    if (opts_.auth && m.route->auth) {
      auto token = jwt::BearerToken(req.get_header_value("Authorization"));
      if (!token.ok()) return token.status();
      // httplib has read the body already; the event-driven server runs VerifyHead before
      // reading it and BodyCheck::Verify after.
      std::string_view target = req.target;
      size_t q = target.find('?');
      std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
      query = query.substr(0, query.find('#'));
      Status s = jwt::VerifyRequest(*token, opts_.secret, {req.method, req.path, query}, req.body,
                                    std::time(nullptr));
      if (!s.ok()) return s;
    }
    return m.route->handler(ctx);
  }

  ServerOptions opts_;
  const Router& router_;
  SSL_CTX* ssl_ctx_ = nullptr;
  std::mutex mu_;
  std::string cluster_id_;
};

Server::Server(ServerOptions opts, const Router& router)
    : opts_(std::move(opts)), router_(router), impl_(std::make_unique<Impl>(opts_, router_)) {}

Server::~Server() { Stop(); }

void Server::SetClusterId(std::string id) { impl_->SetClusterId(std::move(id)); }

Status Server::Start() {
  GD2_RETURN_IF_ERROR(impl_->InitTls());
  if (opts_.port == 0) {
    port_ = impl_->bind_to_any_port(opts_.host);
    if (port_ <= 0) return UnavailableError("cannot bind ReST server on " + opts_.host);
  } else {
    if (!impl_->bind_to_port(opts_.host, opts_.port)) {
      return UnavailableError("cannot bind ReST server on " + opts_.host + ":" +
                              std::to_string(opts_.port) + " (address in use?)");
    }
    port_ = opts_.port;
  }
  thread_ = std::thread([this] { impl_->listen_after_bind(); });
  return OkStatus();
}

void Server::Stop() {
  if (!thread_.joinable()) return;
  impl_->stop();
  thread_.join();
}

}  // namespace gd2::rest
