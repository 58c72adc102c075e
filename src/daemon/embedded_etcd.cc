#include "daemon/embedded_etcd.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include "common/files.h"
#include "common/log.h"
#include "common/poll.h"
#include "common/sigpipe.h"
#include "common/subprocess.h"
#include "common/tls_ca.h"

namespace gd2::daemon {
namespace {

// A TCP connection to the host and port of `url` (http[s]://host:port), or -1.
int ConnectTo(const std::string& url) {
  std::string rest = url.substr(url.find("//") + 2);
  auto colon = rest.rfind(':');
  std::string host = rest.substr(0, colon);
  std::string port = rest.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

// Asks whether etcd serves its client URL. With TLS, a connection counts once its handshake
// (with this node's client certificate) completed: etcd logs every connection that closes
// before that as a "rejected connection" warning, which a bare connect would add to its log
// at every start. Without TLS files, a TCP connect.
class ClientUrlProbe {
 public:
  explicit ClientUrlProbe(const EmbeddedEtcdOptions& o) : url_(o.client_url) {
    if (o.ca_file.empty()) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return;  // then a connect counts, as without TLS
    // Files etcd was started with; if one cannot be read, the handshake fails and the wait
    // ends in its timeout with etcd's own log.
    SSL_CTX_use_certificate_chain_file(ctx_, o.cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ~ClientUrlProbe() { SSL_CTX_free(ctx_); }
  ClientUrlProbe(const ClientUrlProbe&) = delete;
  ClientUrlProbe& operator=(const ClientUrlProbe&) = delete;

  bool Answers() const {
    int fd = ConnectTo(url_);
    if (fd < 0) return false;
    bool ok = ctx_ == nullptr || Handshake(fd);
    ::close(fd);
    return ok;
  }

 private:
  bool Handshake(int fd) const {
    // A server that accepted but never answers must not hold the wait past its deadline.
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SigpipeShield shield;  // etcd may close first; the close_notify must not end the daemon
    SSL* ssl = SSL_new(ctx_);
    if (ssl == nullptr) return false;
    SSL_set_fd(ssl, fd);
    bool ok = SSL_connect(ssl) == 1;
    if (ok) SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    return ok;
  }

  std::string url_;
  SSL_CTX* ctx_ = nullptr;  // null: no TLS files (or no TLS context could be made), a connect
};

std::string Tail(const std::string& path, size_t bytes) {
  auto text = ReadFile(path);
  if (!text.ok()) return "";
  return text->size() > bytes ? text->substr(text->size() - bytes) : *text;
}

bool IsJoin(const EmbeddedEtcdOptions& o) { return o.initial_cluster_state == "existing"; }

// etcd creates <data-dir>/member/wal only after it has joined (fetched and validated the
// cluster from the other members); its client port is open well before.
bool HasWal(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::is_directory(data_dir + "/member/wal", ec);
}

}  // namespace

EmbeddedEtcd::EmbeddedEtcd(EmbeddedEtcdOptions opts)
    : opts_(std::move(opts)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

EmbeddedEtcd::~EmbeddedEtcd() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string UrlHost(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    return close == std::string_view::npos ? "" : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.rfind(':')));
}

std::vector<std::string> EtcdCertHosts(std::string_view client_url, std::string_view peer_url) {
  return {UrlHost(client_url), UrlHost(peer_url), tls::kStoreServerName};
}

StatusOr<EtcdTlsFiles> PrepareEtcdTls(const std::string& workdir, const std::string& peer_id,
                                      const std::string& cluster_id,
                                      std::string_view client_url, std::string_view peer_url) {
  tls::TlsPaths paths = tls::TlsPathsIn(workdir);
  bool created = false;
  GD2_ASSIGN_OR_RETURN(tls::CertAndKey ca,
                       tls::EnsureCa(paths, "glusterd2-cluster-" + cluster_id, &created));
  if (created) log::Root().Info("cluster CA created", {{"path", paths.ca_cert()}});
  bool issued = false;
  GD2_RETURN_IF_ERROR(
      tls::EnsureNodeCert(paths, ca, peer_id, EtcdCertHosts(client_url, peer_url), &issued));
  if (issued) log::Root().Info("node certificate issued", {{"path", paths.node_cert()}});
  return EtcdTlsFiles{paths.ca_cert(), paths.node_cert(), paths.node_key()};
}

Status EmbeddedEtcd::CheckOptions() const {
  bool tls = !opts_.cert_file.empty();
  if (opts_.ca_file.empty() != !tls || opts_.key_file.empty() != !tls) {
    return InvalidArgumentError("embedded etcd TLS needs a CA, a certificate and a key");
  }
  for (const std::string* url : {&opts_.client_url, &opts_.peer_url}) {
    if (url->starts_with("https://") != tls) {
      return InvalidArgumentError(
          tls ? "embedded etcd with TLS needs https:// URLs, got: " + *url
              : "embedded etcd without TLS files cannot serve https: " + *url);
    }
  }
  if (opts_.initial_cluster_state != "new" && opts_.initial_cluster_state != "existing") {
    return InvalidArgumentError("bad etcd initial cluster state: state=" +
                                opts_.initial_cluster_state);
  }
  if (opts_.initial_cluster.empty()) {
    if (IsJoin(opts_)) return InvalidArgumentError("joining an etcd cluster needs its members");
    return OkStatus();
  }
  // etcd would refuse to start too, with a less direct message in its own log.
  std::string self = opts_.name + "=" + opts_.peer_url;
  std::string_view rest = opts_.initial_cluster;
  while (true) {
    size_t comma = rest.find(',');
    if (rest.substr(0, comma) == self) return OkStatus();
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return InvalidArgumentError("etcd initial cluster lacks this member: member=" + self +
                              " initial_cluster=" + opts_.initial_cluster);
}

Status EmbeddedEtcd::PrepareDataDir() {
  if (IsJoin(opts_)) {
    std::error_code ec;
    bool empty = !std::filesystem::exists(opts_.data_dir, ec) ||
                 std::filesystem::is_empty(opts_.data_dir, ec);
    if (ec) {
      return InternalError("cannot read etcd data dir: path=" + opts_.data_dir + ": " +
                           ec.message());
    }
    if (!empty && !opts_.wipe_data_dir) {
      // etcd would restart from that data and ignore the cluster it is told to join.
      return FailedPreconditionError("etcd data dir not empty, cannot join a cluster: path=" +
                                     opts_.data_dir);
    }
    if (!empty) {
      std::filesystem::remove_all(opts_.data_dir, ec);
      if (ec) {
        return InternalError("cannot wipe etcd data dir: path=" + opts_.data_dir + ": " +
                             ec.message());
      }
      log::Root().Info("embedded etcd data wiped to join a cluster", {{"path", opts_.data_dir}});
    }
  }
  return MakeDirs(opts_.data_dir, 0700);
}

StatusOr<pid_t> EmbeddedEtcd::SpawnOnce() {
  std::string initial_cluster =
      opts_.initial_cluster.empty() ? opts_.name + "=" + opts_.peer_url : opts_.initial_cluster;
  SpawnOptions so;
  // One flag and its value per line.
  // clang-format off
  so.argv = {opts_.binary,
             "--name", opts_.name,
             "--data-dir", opts_.data_dir,
             "--listen-client-urls", opts_.client_url,
             "--advertise-client-urls", opts_.client_url,
             "--listen-peer-urls", opts_.peer_url,
             "--initial-advertise-peer-urls", opts_.peer_url,
             "--initial-cluster", initial_cluster,
             "--initial-cluster-state", opts_.initial_cluster_state,
             "--logger", "zap",
             "--log-outputs", opts_.log_file,
             // Old revisions go (every 5 minutes, all but the last kCompactionRetention), so the
             // store does not grow with every write until it reaches etcd's space quota; watches
             // that fall further behind are told of the gap (store::Watcher::OnGap).
             "--auto-compaction-mode", "revision",
             "--auto-compaction-retention", std::to_string(kCompactionRetention)};
  if (!opts_.cert_file.empty()) {
    // Clients and peers alike must present a certificate of the cluster CA. Peers are not
    // also held to connecting from an address their certificate names (etcd's default): every
    // holder of a node certificate holds the CA key too, so that check would add nothing, and
    // a connection's source address is not the peer's own on loopback or behind NAT.
    so.argv.insert(so.argv.end(),
                   {"--cert-file", opts_.cert_file,
                    "--key-file", opts_.key_file,
                    "--trusted-ca-file", opts_.ca_file,
                    "--client-cert-auth",
                    "--peer-cert-file", opts_.cert_file,
                    "--peer-key-file", opts_.key_file,
                    "--peer-trusted-ca-file", opts_.ca_file,
                    "--peer-client-cert-auth",
                    "--experimental-peer-skip-client-san-verification"});
  }
  // clang-format on
  so.output_file = opts_.log_file;
  // The daemon's death (even SIGKILL) takes etcd with it.
  so.parent_death_signal = SIGKILL;
  return Spawn(so);
}

Status EmbeddedEtcd::WaitReady(pid_t pid, std::chrono::milliseconds timeout) {
  std::optional<ExitInfo> exited;
  ClientUrlProbe probe(opts_);
  bool ready = PollUntil(std::chrono::steady_clock::now() + timeout,
                         {std::chrono::milliseconds(5), std::chrono::milliseconds(5)}, [&] {
                           exited = PollExit(pid);
                           return exited ||
                                  (probe.Answers() && (!IsJoin(opts_) || HasWal(opts_.data_dir)));
                         });
  if (exited) {
    return UnavailableError("embedded etcd exited (" + exited->ToString() + "); log " +
                            opts_.log_file + " ends with: " + Tail(opts_.log_file, 400));
  }
  if (ready) return OkStatus();
  StopProcess(pid, std::chrono::seconds(2));
  return UnavailableError("embedded etcd did not accept connections on " + opts_.client_url +
                          " in time; log " + opts_.log_file + " ends with: " +
                          Tail(opts_.log_file, 400));
}

Status EmbeddedEtcd::Start(std::chrono::milliseconds timeout) {
  GD2_RETURN_IF_ERROR(CheckOptions());
  GD2_RETURN_IF_ERROR(PrepareDataDir());
  GD2_ASSIGN_OR_RETURN(pid_t pid, SpawnOnce());
  GD2_RETURN_IF_ERROR(WaitReady(pid, timeout));
  pid_ = pid;
  log::Root().Info("embedded etcd started", {{"pid", pid},
                                             {"client_url", opts_.client_url},
                                             {"cluster_state", opts_.initial_cluster_state}});
  monitor_ = std::thread([this] { Monitor(); });
  return OkStatus();
}

void EmbeddedEtcd::Monitor() {
  constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    if (pid_t pid = pid_.load(); pid > 0) {
      std::optional<ExitInfo> e = WaitForExit(pid);
      if (!e) return;  // Stop()
      log::Root().Warn("embedded etcd died, restarting",
                       {{"pid", pid}, {"exit", e->ToString()}, {"backoff_ms", backoff.count()}});
      pid_ = -1;
    }
    // Not running: it died, or the last restart failed. Tried again after the backoff, for as
    // long as the daemon runs.
    if (!Sleep(backoff)) return;
    auto next = std::min(backoff * 2, kMaxBackoff);
    auto np = SpawnOnce();
    Status started = np.ok() ? WaitReady(*np, std::chrono::seconds(30)) : np.status();
    if (!started.ok()) {
      log::Root().Error("embedded etcd restart failed; trying again",
                        {{"error", started}, {"retry_in_ms", next.count()}});
      backoff = next;
      continue;
    }
    pid_ = *np;
    restarts_++;
    backoff = std::chrono::milliseconds(100);
    log::Root().Info("embedded etcd restarted", {{"pid", *np}});
  }
}

std::optional<ExitInfo> EmbeddedEtcd::WaitForExit(pid_t pid) {
  // On the process's pidfd, which becomes readable when it ends; Stop() wakes the wait through
  // wake_fd_. Without either, a look every 50 ms.
  PidFd fd(pid);
  while (!stopping_) {
    if (fd.fd >= 0 && wake_fd_ >= 0) {
      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd.fd, POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno != EINTR) fd = PidFd();
      if (stopping_) return std::nullopt;
      if (n > 0 && fds[1].revents != 0) {
        if (auto e = PollExit(pid)) return e;
        fd = PidFd();  // readable but not reaped (not expected): looked at every 50 ms instead
      }
      continue;
    }
    if (!Sleep(std::chrono::milliseconds(50))) return std::nullopt;
    if (auto e = PollExit(pid)) return e;
  }
  return std::nullopt;
}

bool EmbeddedEtcd::Sleep(std::chrono::milliseconds duration) {
  MutexLock lock(mu_);
  auto wake = CondVar::Clock::now() + duration;
  while (!stopping_ && cv_.WaitUntil(mu_, wake)) {
  }
  return !stopping_;
}

void EmbeddedEtcd::Stop() {
  {
    // Under the lock, so that a Sleep() between its check and its wait is woken.
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t r = ::write(wake_fd_, &one, sizeof(one));
    (void)r;  // a full counter wakes it as well
  }
  // Stop etcd before joining the monitor: a restarted etcd has the monitor thread as its
  // parent-death trigger and would otherwise get SIGKILL instead of a clean SIGTERM.
  for (int round = 0; round < 2; ++round) {
    pid_t pid = pid_.exchange(-1);
    if (pid > 0) {
      ExitInfo e = StopProcess(pid, std::chrono::seconds(10));
      log::Root().Info("embedded etcd stopped", {{"pid", pid}, {"exit", e.ToString()}});
    }
    if (monitor_.joinable()) monitor_.join();
  }
}

}  // namespace gd2::daemon
