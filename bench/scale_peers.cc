// scale_peers: what the size of the cluster costs. One etcd (started here on loopback) holds one
// cluster in which THREE real glusterd2 daemons (--etcd-endpoints, GD2_CLUSTER_ID, one shared
// secret pre-written to each <workdir>/auth, each on a loopback address of its own) are peers
// and this process simulates all the others: for each simulated peer it writes what a starting
// daemon writes (see Daemon::Start/RegisterSelf: predecessor check, its own session lease, alive
// key, peer record) and keeps that lease alive like store::Session does (one KeepAliveOnce, then
// a wait of TTL/3, on a stream of its own per call). For each cluster size N (total peers, the
// three real daemons included; N >= 3) it prints:
//   - add:       time to register the N-3 simulated peers (leases + alive keys + records)
//   - liveness:  over an idle window, keepalive calls per second (counted here, plus the real
//                daemons' own 3/TTL each), next to etcd's /metrics: LeaseKeepAlive streams and
//                messages, raft proposals and WAL fsyncs (lease renewal is not a raft write in
//                etcd 3.4), and the CPU etcd used
//   - GET /v1/peers p50/p99 through the first real daemon (sequential, signed with the secret)
//   - the first real daemon's VmRSS/VmHWM
//   - volume create/delete through the first real daemon: a replica 3 volume with one brick on
//     each real daemon (a plain directory; the request names the daemon by its address; the volume
//     is never started), so the transaction's per-peer brick steps (volume.prepare-bricks,
//     volume.delete-bricks) run locally on the first daemon and over peer RPC, signed with the
//     shared secret, on the other two; median over --volume-ops iterations
// The aim: a volume operation should cost the same at 1000 peers as at 3. Not a test: nothing is
// asserted about timing. Every process started here is stopped by pid before exit.
//
//   scale_peers --glusterd2 PATH --workdir DIR [--sizes 3,100,1000] [--gets 200]
//               [--volume-ops 10] [--ttl 10] [--window 10] [--keepalive-threads 4]
//               [--register-threads 8] [--hosts 127.0.0.1,127.0.0.2,127.0.0.3] [--etcd PATH]
// --hosts: the three real daemons' addresses (etcd listens on the first). Bricks record their
// daemon's registered client host, so distinct addresses make the three bricks distinct hosts.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/peer.h"
#include "api/volume_req.h"
#include "client/client.h"
#include "common/files.h"
#include "common/status.h"
#include "common/subprocess.h"
#include "common/uuid.h"
#include "plugins/peer/peer_store.h"
#include "store/keys.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Args {
  std::string glusterd2;
  std::string workdir;
  std::vector<int> sizes = {3, 100, 1000};
  int gets = 200;
  int volume_ops = 10;
  int ttl_seconds = 10;  // the daemon's default --lease-ttl
  int window_seconds = 10;
  int keepalive_threads = 4;
  int register_threads = 8;
  // The three real daemons' addresses; etcd listens on the first.
  std::vector<std::string> hosts = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
  std::string etcd = "etcd";
};

constexpr int kRealDaemons = 3;

bool ParseInt(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out > 0;
}

std::optional<Args> ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--glusterd2") {
      a.glusterd2 = value;
    } else if (flag == "--workdir") {
      a.workdir = value;
    } else if (flag == "--sizes") {
      a.sizes.clear();
      while (ok && !value.empty()) {
        size_t c = value.find(',');
        int n = 0;
        ok = ParseInt(value.substr(0, c), n);
        a.sizes.push_back(n);
        value = c == std::string_view::npos ? std::string_view() : value.substr(c + 1);
      }
    } else if (flag == "--gets") {
      ok = ParseInt(value, a.gets);
    } else if (flag == "--volume-ops") {
      ok = ParseInt(value, a.volume_ops);
    } else if (flag == "--ttl") {
      ok = ParseInt(value, a.ttl_seconds);
    } else if (flag == "--window") {
      ok = ParseInt(value, a.window_seconds);
    } else if (flag == "--keepalive-threads") {
      ok = ParseInt(value, a.keepalive_threads);
    } else if (flag == "--register-threads") {
      ok = ParseInt(value, a.register_threads);
    } else if (flag == "--hosts") {
      a.hosts.clear();
      while (ok && !value.empty()) {
        size_t c = value.find(',');
        in_addr unused{};
        std::string h(value.substr(0, c));
        ok = ::inet_pton(AF_INET, h.c_str(), &unused) == 1;
        a.hosts.push_back(h);
        value = c == std::string_view::npos ? std::string_view() : value.substr(c + 1);
      }
      ok = ok && a.hosts.size() == static_cast<size_t>(kRealDaemons);
    } else if (flag == "--etcd") {
      a.etcd = value;
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (a.glusterd2.empty() || a.workdir.empty() || a.sizes.empty()) return std::nullopt;
  // The real daemons are peers too.
  if (std::any_of(a.sizes.begin(), a.sizes.end(), [](int n) { return n < kRealDaemons; })) {
    return std::nullopt;
  }
  return a;
}

// A TCP port on `host` that was free a moment ago.
int FreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  socklen_t len = sizeof(a);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool WaitFor(const std::function<bool()>& cond, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// q-quantile (nearest rank) of `v`; NaN if empty. Sorts `v`.
double Quantile(std::vector<double>& v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

// utime + stime of a process, in seconds; NaN if unreadable.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nan("");
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  // Fields after the command: state is #3; utime #14, stime #15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::strtod(f.c_str(), nullptr);
    if (i == 15) stime = std::strtod(f.c_str(), nullptr);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A "VmRSS:" style line of /proc/<pid>/status, in MiB; NaN if absent.
double StatusMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
    }
  }
  return std::nan("");
}

// Sum of every series of counter (or histogram _count) `name` whose labels contain `label`;
// std::nullopt if no such series exists.
std::optional<double> Counter(const std::string& text, const std::string& name,
                              const std::string& label = "") {
  std::istringstream in(text);
  std::string line;
  std::optional<double> sum;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || std::string_view(line.data(), name_end) != name) continue;
    size_t value_at = name_end;
    if (line[name_end] == '{') {
      size_t close = line.find('}', name_end);
      if (close == std::string::npos) continue;
      if (!label.empty() &&
          line.substr(name_end, close - name_end).find(label) == std::string::npos) {
        continue;
      }
      value_at = close + 1;
    } else if (!label.empty()) {
      continue;
    }
    sum = sum.value_or(0) + std::strtod(line.c_str() + value_at, nullptr);
  }
  return sum;
}

// One etcd member on loopback, data in <dir>/etcd.
class EtcdServer {
 public:
  EtcdServer(std::string binary, std::string host, std::string dir)
      : binary_(std::move(binary)), host_(std::move(host)), dir_(std::move(dir)) {}
  ~EtcdServer() { Stop(); }

  gd2::Status Start() {
    client_port_ = FreePort(host_);
    std::string curl = endpoint();
    std::string purl = "http://" + host_ + ":" + std::to_string(FreePort(host_));
    gd2::SpawnOptions so;
    // clang-format off
    so.argv = {binary_,
               "--name", "scale",
               "--data-dir", dir_ + "/data",
               "--listen-client-urls", curl,
               "--advertise-client-urls", curl,
               "--listen-peer-urls", purl,
               "--initial-advertise-peer-urls", purl,
               "--initial-cluster", "scale=" + purl,
               "--logger", "zap",
               "--log-outputs", dir_ + "/etcd.log"};
    // clang-format on
    so.output_file = dir_ + "/etcd.out";
    GD2_RETURN_IF_ERROR(gd2::MakeDirs(dir_));
    GD2_ASSIGN_OR_RETURN(pid_, gd2::Spawn(so));
    bool up = WaitFor(
        [&] {
          if (gd2::PollExit(pid_)) return true;
          httplib::Client c(host_, client_port_);
          c.set_connection_timeout(0, 200000);
          auto r = c.Get("/health");
          return r && r->status == 200;
        },
        std::chrono::seconds(20));
    if (!up || !gd2::ProcessAlive(pid_)) {
      return gd2::UnavailableError("etcd did not come up; see " + dir_ + "/etcd.log");
    }
    return gd2::OkStatus();
  }

  void Stop() {
    if (pid_ > 0) gd2::StopProcess(pid_, std::chrono::seconds(5));
    pid_ = -1;
  }

  std::string endpoint() const { return "http://" + host_ + ":" + std::to_string(client_port_); }
  pid_t pid() const { return pid_; }

  gd2::StatusOr<std::string> Metrics() const {
    httplib::Client c(host_, client_port_);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/metrics");
    if (!r) return gd2::UnavailableError("GET /metrics failed: " + httplib::to_string(r.error()));
    if (r->status != 200) {
      return gd2::UnavailableError("GET /metrics: HTTP " + std::to_string(r->status));
    }
    return r->body;
  }

 private:
  std::string binary_;
  std::string host_;
  std::string dir_;
  int client_port_ = 0;
  pid_t pid_ = -1;
};

// One real daemon, on the external etcd, in the cluster `cluster_id`, with the cluster's shared
// `secret` (written to <dir>/auth before it starts: LoadOrCreateSecret keeps an existing file;
// the same secret signs peer RPC between the daemons and the ReST calls made here). Its identity
// comes from GD2_CLUSTER_ID and GD2_PEER_ID, which LoadOrCreateIdentity prefers to (and saves
// into) <dir>/uuid.toml.
class Daemon {
 public:
  Daemon(std::string binary, std::string host, std::string dir, std::string peer_id)
      : binary_(std::move(binary)),
        host_(std::move(host)),
        dir_(std::move(dir)),
        peer_id_(std::move(peer_id)) {}
  ~Daemon() { Stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  gd2::Status Start(const std::string& etcd_endpoint, const std::string& cluster_id,
                    const std::string& secret, const std::string& name, int ttl_seconds) {
    GD2_RETURN_IF_ERROR(gd2::MakeDirs(dir_));
    GD2_RETURN_IF_ERROR(gd2::WriteFileAtomic(dir_ + "/auth", secret, 0600));
    const int port = FreePort(host_);
    client_address_ = host_ + ":" + std::to_string(port);
    peer_address_ = host_ + ":" + std::to_string(FreePort(host_));
    gd2::SpawnOptions so;
    so.argv = {binary_,
               "--workdir",
               dir_,
               "--peer-name",
               name,
               "--client-address",
               client_address_,
               "--peer-address",
               peer_address_,
               "--etcd-endpoints",
               etcd_endpoint,
               "--lease-ttl",
               std::to_string(ttl_seconds),
               "--log-file",
               dir_ + "/glusterd2.log",
               "--log-level",
               "info"};
    so.env = {{"GD2_CLUSTER_ID", cluster_id}, {"GD2_PEER_ID", peer_id_}};
    so.output_file = dir_ + "/stderr.log";
    GD2_ASSIGN_OR_RETURN(pid_, gd2::Spawn(so));
    gd2::client::ClientOptions co;
    co.endpoints = {"http://" + client_address_};
    co.timeout = milliseconds(500);
    GD2_ASSIGN_OR_RETURN(auto probe, gd2::client::Client::Create(co));
    bool up = WaitFor([&] { return gd2::PollExit(pid_).has_value() || probe->Ping().ok(); },
                      std::chrono::seconds(30));
    if (!up || !gd2::ProcessAlive(pid_)) {
      return gd2::UnavailableError("glusterd2 did not come up; see " + dir_ + "/glusterd2.log");
    }
    co.secret = secret;
    co.timeout = std::chrono::seconds(60);
    GD2_ASSIGN_OR_RETURN(client_, gd2::client::Client::Create(co));
    // It must have kept the secret and taken the identity given.
    GD2_ASSIGN_OR_RETURN(std::string on_disk, gd2::ReadFile(dir_ + "/auth"));
    if (on_disk != secret) return gd2::InternalError("glusterd2 replaced " + dir_ + "/auth");
    GD2_ASSIGN_OR_RETURN(gd2::api::HealthResp h, client_->Health());
    if (h.peer_id != peer_id_ || h.cluster_id != cluster_id) {
      return gd2::InternalError("glusterd2 in " + dir_ + " is peer " + h.peer_id + " of cluster " +
                                h.cluster_id + ", not the identity it was given");
    }
    return gd2::OkStatus();
  }

  void Stop() {
    client_.reset();
    if (pid_ > 0) gd2::StopProcess(pid_, std::chrono::seconds(20));
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& host() const { return host_; }
  const std::string& peer_id() const { return peer_id_; }
  const std::string& client_address() const { return client_address_; }
  const std::string& peer_address() const { return peer_address_; }
  gd2::client::Client& client() { return *client_; }

 private:
  std::string binary_;
  std::string host_;
  std::string dir_;
  std::string peer_id_;
  std::string client_address_;
  std::string peer_address_;
  pid_t pid_ = -1;
  std::unique_ptr<gd2::client::Client> client_;
};

// What the keepalive loop saw since the last TakeStats().
struct KeepAliveStats {
  int64_t ok = 0;
  int64_t failed = 0;  // errors other than "lease not found"; retried like Session does
  int64_t lost = 0;    // kNotFound: the lease had expired (a simulated peer went "offline")
  std::vector<double> latency_ms;   // one KeepAliveOnce
  std::vector<double> lateness_ms;  // how long after its due time a call started
  std::string first_error;
};

// The simulated peers: their registration and one keepalive loop for all their leases, shared by
// a few threads. Each lease is renewed as store::Session::Run does it: KeepAliveOnce, then the
// next one TTL/3 after that call returned (250 ms after a failed one).
class SimulatedPeers {
 public:
  SimulatedPeers(gd2::store::Store& store, gd2::store::KeySpace keys, int ttl_seconds, int threads)
      : store_(store),
        keys_(std::move(keys)),
        ttl_seconds_(ttl_seconds),
        interval_(std::chrono::duration_cast<milliseconds>(std::chrono::seconds(ttl_seconds)) / 3) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back(&SimulatedPeers::Worker, this);
  }
  ~SimulatedPeers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  SimulatedPeers(const SimulatedPeers&) = delete;
  SimulatedPeers& operator=(const SimulatedPeers&) = delete;

  // Registers `count` new peers from `threads` threads; each joins the keepalive loop as soon
  // as its lease exists. Returns the first error.
  gd2::Status Add(int count, int threads) {
    std::atomic<int> next{0};
    std::mutex err_mu;
    gd2::Status first = gd2::OkStatus();
    int base = static_cast<int>(peers_size());
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        for (int i = next++; i < count; i = next++) {
          gd2::Status s = RegisterOne(base + i);
          if (!s.ok()) {
            std::lock_guard<std::mutex> lock(err_mu);
            if (first.ok()) first = s;
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    return first;
  }

  // Takes every peer out of the keepalive loop, revokes its lease (deleting its alive key) and
  // deletes its record.
  gd2::Status RemoveAll() {
    std::vector<Peer> peers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      peers.swap(peers_);
      heap_ = {};
      ++generation_;  // calls in flight are not rescheduled
    }
    for (const auto& p : peers) {
      gd2::Status s = store_.RevokeLease(p.lease);
      if (!s.ok() && s.code() != gd2::StatusCode::kNotFound) return s;
      GD2_ASSIGN_OR_RETURN(std::string key, keys_.Peer(p.id));
      GD2_RETURN_IF_ERROR(store_.Delete(key).status());
    }
    return gd2::OkStatus();
  }

  KeepAliveStats TakeStats() {
    std::lock_guard<std::mutex> lock(mu_);
    KeepAliveStats s = std::move(stats_);
    stats_ = {};
    return s;
  }

  size_t peers_size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peers_.size();
  }

 private:
  struct Peer {
    std::string id;
    int64_t lease = 0;
  };
  struct Due {
    Clock::time_point at;
    size_t index;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  // The writes and reads of one daemon's start, in Daemon::Start's order.
  gd2::Status RegisterOne(int n) {
    namespace peer = gd2::plugins::peer;
    gd2::api::Peer self;
    self.id = gd2::NewUuid();
    self.name = "sim-" + std::to_string(n);
    // Addresses nobody listens on; nothing in this benchmark sends them anything.
    self.peer_addresses = {"127.0.0.254:" + std::to_string(20000 + n)};
    self.client_addresses = {"127.0.0.254:" + std::to_string(40000 + n)};
    self.metadata[gd2::api::kZoneKey] = self.id;
    const int64_t fake_pid = 1000000 + n;
    // The predecessor check.
    GD2_ASSIGN_OR_RETURN(std::string alive_key, keys_.Alive(self.id));
    GD2_RETURN_IF_ERROR(store_.Get(alive_key).status());
    // Session::Start: the lease, then on_new_lease puts the alive key.
    GD2_ASSIGN_OR_RETURN(gd2::store::Lease lease, store_.GrantLease(ttl_seconds_));
    GD2_RETURN_IF_ERROR(peer::PutAlive(store_, keys_, self.id, fake_pid, lease.id));
    {
      std::lock_guard<std::mutex> lock(mu_);
      peers_.push_back({self.id, lease.id});
      heap_.push({Clock::now() + interval_, peers_.size() - 1});
    }
    cv_.notify_one();
    // RegisterSelf: read the record (labels), write it, put the alive key again.
    auto existing = peer::GetPeer(store_, keys_, self.id);
    if (!existing.ok() && existing.status().code() != gd2::StatusCode::kNotFound) {
      return existing.status();
    }
    GD2_RETURN_IF_ERROR(peer::PutPeer(store_, keys_, self));
    return peer::PutAlive(store_, keys_, self.id, fake_pid, lease.id);
  }

  void Worker() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (heap_.empty()) {
        cv_.wait(lock);
        continue;
      }
      Due due = heap_.top();
      if (Clock::now() < due.at) {
        cv_.wait_until(lock, due.at);
        continue;
      }
      heap_.pop();
      int64_t lease = peers_[due.index].lease;
      uint64_t generation = generation_;
      lock.unlock();
      Clock::time_point start = Clock::now();
      gd2::StatusOr<int64_t> ttl = store_.KeepAliveOnce(lease);
      Clock::time_point end = Clock::now();
      lock.lock();
      if (generation != generation_) continue;
      stats_.lateness_ms.push_back(MsBetween(due.at, start));
      stats_.latency_ms.push_back(MsBetween(start, end));
      if (ttl.ok()) {
        ++stats_.ok;
        heap_.push({end + interval_, due.index});
      } else if (ttl.status().code() == gd2::StatusCode::kNotFound) {
        ++stats_.lost;  // a real daemon would grant a new lease; here the peer stays offline
      } else {
        if (stats_.failed++ == 0) stats_.first_error = ttl.status().ToString();
        heap_.push({end + milliseconds(250), due.index});
      }
      cv_.notify_one();
    }
  }

  gd2::store::Store& store_;
  const gd2::store::KeySpace keys_;
  const int ttl_seconds_;
  const milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                                            // guarded by mu_
  uint64_t generation_ = 0;                                          // guarded by mu_
  std::vector<Peer> peers_;                                          // guarded by mu_
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;  // guarded by mu_
  KeepAliveStats stats_;                                             // guarded by mu_
  std::vector<std::thread> workers_;
};

struct Row {
  int n = 0;
  double add_ms = 0;
  double add_proposals = std::nan("");
  // Liveness over the idle window.
  double window_s = 0;
  double keepalive_per_s = 0;  // simulated peers' calls + the real daemon's 3/TTL
  double expected_per_s = 0;
  double etcd_ka_streams_per_s = std::nan("");
  double etcd_renewed_per_s = std::nan("");
  double proposals_per_s = std::nan("");
  double fsyncs_per_s = std::nan("");
  double etcd_cpu_pct = std::nan("");
  double daemon_cpu_pct = std::nan("");
  double ka_p50_ms = std::nan(""), ka_p99_ms = std::nan(""), late_max_ms = 0;
  int64_t ka_failed = 0, ka_lost = 0;
  // Reads through the daemon.
  size_t listed = 0;
  size_t body_bytes = 0;
  double get_p50_ms = 0, get_p99_ms = 0;
  int get_errors = 0;
  double rss_mib = 0, hwm_mib = 0;
  double create_ms = std::nan(""), delete_ms = std::nan("");
  int vol_errors = 0;
  std::string first_error;
};

std::string Fmt(double v, const char* format = "%.1f") {
  if (std::isnan(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

class Bench {
 public:
  // `daemons`: the real ones; the first serves the reads, memory figures and volume requests.
  Bench(const Args& args, EtcdServer& etcd, std::vector<Daemon*> daemons, gd2::store::Store& store,
        const gd2::store::KeySpace& keys)
      : args_(args),
        etcd_(etcd),
        daemons_(std::move(daemons)),
        daemon_(*daemons_.front()),
        sim_(store, keys, args.ttl_seconds, args.keepalive_threads) {}

  gd2::StatusOr<Row> Measure(int n) {
    Row row;
    row.n = n;
    GD2_RETURN_IF_ERROR(sim_.RemoveAll());
    sim_.TakeStats();
    const int simulated = n - static_cast<int>(daemons_.size());
    std::fprintf(stderr, "scale_peers: N=%d: registering %d simulated peers\n", n, simulated);

    GD2_ASSIGN_OR_RETURN(std::string m0, etcd_.Metrics());
    Clock::time_point t0 = Clock::now();
    GD2_RETURN_IF_ERROR(sim_.Add(simulated, args_.register_threads));
    row.add_ms = MsBetween(t0, Clock::now());
    GD2_ASSIGN_OR_RETURN(std::string m1, etcd_.Metrics());
    row.add_proposals = Delta(m1, m0, "etcd_server_proposals_committed_total");

    // The first daemon sees all N online (the real daemons' alive keys included).
    bool all = WaitFor(
        [&] {
          auto peers = daemon_.client().ListPeers();
          if (!peers.ok() || peers->size() != static_cast<size_t>(n)) return false;
          return std::all_of(peers->begin(), peers->end(), [](const auto& p) { return p.online; });
        },
        std::chrono::seconds(30));
    if (!all)
      return gd2::DeadlineExceededError("daemon does not list all peers online: N=" +
                                        std::to_string(n));

    std::fprintf(stderr, "scale_peers: N=%d: %d s liveness window\n", n, args_.window_seconds);
    GD2_RETURN_IF_ERROR(LivenessWindow(n, row));
    std::fprintf(stderr, "scale_peers: N=%d: %d x GET /v1/peers\n", n, args_.gets);
    GetPeers(n, row);
    row.rss_mib = StatusMiB(daemon_.pid(), "VmRSS");
    row.hwm_mib = StatusMiB(daemon_.pid(), "VmHWM");
    std::fprintf(stderr, "scale_peers: N=%d: %d x volume create+delete\n", n, args_.volume_ops);
    VolumeOps(n, row);
    KeepAliveStats late = sim_.TakeStats();
    row.ka_lost += late.lost;
    return row;
  }

  gd2::Status Cleanup() { return sim_.RemoveAll(); }

 private:
  static double Delta(const std::string& after, const std::string& before, const std::string& name,
                      const std::string& label = "") {
    auto a = Counter(after, name, label);
    auto b = Counter(before, name, label);
    if (!a) return std::nan("");
    return *a - b.value_or(0);
  }

  gd2::Status LivenessWindow(int n, Row& row) {
    sim_.TakeStats();
    GD2_ASSIGN_OR_RETURN(std::string m0, etcd_.Metrics());
    double etcd_cpu0 = CpuSeconds(etcd_.pid());
    double daemon_cpu0 = CpuSeconds(daemon_.pid());
    Clock::time_point t0 = Clock::now();
    // The measurement is a window of wall time: nothing to wait for but the clock. A whole number
    // of keepalive intervals, so each lease is renewed the same number of times in it whatever
    // its phase (the leases were granted within moments of each other: their calls come in
    // bursts).
    const milliseconds interval =
        std::chrono::duration_cast<milliseconds>(std::chrono::seconds(args_.ttl_seconds)) / 3;
    const auto rounds =
        std::max<int64_t>(1, std::llround(std::chrono::seconds(args_.window_seconds) /
                                          std::chrono::duration<double>(interval)));
    std::this_thread::sleep_for(interval * rounds);
    KeepAliveStats ks = sim_.TakeStats();
    double etcd_cpu1 = CpuSeconds(etcd_.pid());
    double daemon_cpu1 = CpuSeconds(daemon_.pid());
    GD2_ASSIGN_OR_RETURN(std::string m1, etcd_.Metrics());
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    row.window_s = secs;
    // The real daemons' own Sessions.
    const double daemons_rate = static_cast<double>(daemons_.size()) * 3.0 / args_.ttl_seconds;
    row.keepalive_per_s = static_cast<double>(ks.ok + ks.failed + ks.lost) / secs + daemons_rate;
    row.expected_per_s = n * 3.0 / args_.ttl_seconds;
    const std::string ka = "grpc_method=\"LeaseKeepAlive\"";
    row.etcd_ka_streams_per_s = Delta(m1, m0, "grpc_server_handled_total", ka) / secs;
    row.etcd_renewed_per_s = Delta(m1, m0, "etcd_debugging_lease_renewed_total") / secs;
    row.proposals_per_s = Delta(m1, m0, "etcd_server_proposals_committed_total") / secs;
    row.fsyncs_per_s = Delta(m1, m0, "etcd_disk_wal_fsync_duration_seconds_count") / secs;
    row.etcd_cpu_pct = (etcd_cpu1 - etcd_cpu0) / secs * 100;
    row.daemon_cpu_pct = (daemon_cpu1 - daemon_cpu0) / secs * 100;
    row.ka_p50_ms = Quantile(ks.latency_ms, 0.50);
    row.ka_p99_ms = Quantile(ks.latency_ms, 0.99);
    row.late_max_ms = ks.lateness_ms.empty() ? 0 : Quantile(ks.lateness_ms, 1.0);
    row.ka_failed = ks.failed;
    row.ka_lost = ks.lost;
    if (!ks.first_error.empty() && row.first_error.empty()) row.first_error = ks.first_error;
    return gd2::OkStatus();
  }

  void GetPeers(int n, Row& row) {
    std::vector<double> ms;
    for (int i = 0; i < args_.gets; ++i) {
      Clock::time_point t0 = Clock::now();
      auto r = daemon_.client().Do("GET", "/v1/peers");
      double dt = MsBetween(t0, Clock::now());
      if (!r.ok() || !r->is_array() || r->size() != static_cast<size_t>(n)) {
        if (row.get_errors++ == 0 && row.first_error.empty()) {
          row.first_error = r.ok() ? "GET /v1/peers: wrong peer count" : r.status().ToString();
        }
        continue;
      }
      if (i == 0) {
        row.listed = r->size();
        row.body_bytes = r->dump().size();
      }
      ms.push_back(dt);
    }
    row.get_p50_ms = Quantile(ms, 0.50);
    row.get_p99_ms = Quantile(ms, 0.99);
  }

  // A replica 3 volume with one brick on each real daemon, created and deleted through the first.
  void VolumeOps(int n, Row& row) {
    auto fail = [&](const std::string& what) {
      if (row.vol_errors++ == 0 && row.first_error.empty()) row.first_error = what;
    };
    std::vector<double> creates, deletes;
    for (int i = 0; i < args_.volume_ops; ++i) {
      std::string name = "scale-n" + std::to_string(n) + "-" + std::to_string(i);
      gd2::api::VolCreateReq req;
      req.name = name;
      req.force = true;
      req.flags["allow-root-dir"] = true;
      gd2::api::SubvolReq sv;
      sv.type = "replicate";
      sv.replica = static_cast<int>(daemons_.size());
      for (size_t d = 0; d < daemons_.size(); ++d) {
        std::string dir = args_.workdir + "/bricks/gd2-" + std::to_string(d + 1) + "/" + name;
        std::error_code ec;
        fs::create_directories(dir, ec);
        // By address, as admins and the CLI name bricks: resolved through the address index
        // (one key and one record), not by listing every peer.
        sv.bricks.push_back({daemons_[d]->host(), dir, ""});
      }
      req.subvols.push_back(sv);
      Clock::time_point t0 = Clock::now();
      auto created = daemon_.client().Do("POST", "/v1/volumes", nlohmann::json(req));
      Clock::time_point t1 = Clock::now();
      if (!created.ok()) {
        fail("volume create: " + created.status().ToString());
        continue;
      }
      // Not timed: the volume is what was asked for, one brick on each daemon under its host.
      std::string layout = CheckLayout(*created);
      auto deleted = daemon_.client().Do("DELETE", "/v1/volumes/" + name);
      Clock::time_point t2 = Clock::now();
      if (!deleted.ok()) {
        fail("volume delete: " + deleted.status().ToString());
        continue;
      }
      if (!layout.empty()) {
        fail("volume create: " + layout);
        continue;
      }
      creates.push_back(MsBetween(t0, t1));
      deletes.push_back(MsBetween(t1, t2));
    }
    row.create_ms = Quantile(creates, 0.5);
    row.delete_ms = Quantile(deletes, 0.5);
  }

  // "" if `v` (a created volume) is one replica subvolume whose i-th brick is on daemons_[i] with
  // that daemon's host; otherwise what differs.
  std::string CheckLayout(const nlohmann::json& v) const {
    const size_t want = daemons_.size();
    if (v.value("type", "") != "Replicate") return "type " + v.value("type", "?");
    if (v.value("replica-count", 0) != static_cast<int>(want)) {
      return "replica-count " + std::to_string(v.value("replica-count", 0));
    }
    const nlohmann::json subvols = v.value("subvols", nlohmann::json::array());
    const nlohmann::json bricks =
        subvols.size() == 1 ? subvols[0].value("bricks", nlohmann::json::array()) : nullptr;
    if (!bricks.is_array() || bricks.size() != want) {
      return "not one subvolume of " + std::to_string(want) + " bricks";
    }
    for (size_t d = 0; d < want; ++d) {
      std::string peer = bricks[d].value("peer-id", "");
      std::string host = bricks[d].value("host", "");
      if (peer != daemons_[d]->peer_id() || host != daemons_[d]->host()) {
        return "brick " + std::to_string(d + 1) + " is on " + host + " (peer " + peer + "), not " +
               daemons_[d]->host() + " (peer " + daemons_[d]->peer_id() + ")";
      }
    }
    return "";
  }

  const Args& args_;
  EtcdServer& etcd_;
  const std::vector<Daemon*> daemons_;
  Daemon& daemon_;  // the first of daemons_
  SimulatedPeers sim_;
};

void PrintReport(const Args& args, const std::vector<Row>& rows) {
  std::printf(
      "\nscale_peers: one etcd and three real glusterd2 daemons (--etcd-endpoints, one cluster id\n"
      "and secret) on %s, %s and %s (etcd on the first), and N-3\n"
      "simulated peers in one process; lease TTL %d s, keepalive every TTL/3 per lease (as\n"
      "store::Session). N counts every peer, the three real daemons included. Aim: a volume\n"
      "operation costs the same at 1000 peers as at 3.\n",
      args.hosts[0].c_str(), args.hosts[1].c_str(), args.hosts[2].c_str(), args.ttl_seconds);

  std::printf(
      "\n1. registration and what liveness costs (idle window: %.1f s, a whole number of\n"
      "   keepalive intervals)\n",
      rows.empty() ? 0.0 : rows.front().window_s);
  std::printf("%6s %9s %8s | %9s %9s %9s %9s %9s %8s %8s | %8s %8s %8s %6s\n", "N", "add_ms",
              "add_prop", "ka/s", "expect/s", "etcd_ka/s", "renew/s", "prop/s", "fsync/s",
              "etcd_cpu", "ka_p50", "ka_p99", "late_max", "lost");
  for (const Row& r : rows) {
    // ka_p50/ka_p99 are n/a at N=3: no simulated peer, no keepalive timed here.
    std::printf("%6d %9.0f %8s | %9.1f %9.1f %9s %9s %9s %8s %7s%% | %8s %8s %8.0f %6lld\n", r.n,
                r.add_ms, Fmt(r.add_proposals, "%.0f").c_str(), r.keepalive_per_s, r.expected_per_s,
                Fmt(r.etcd_ka_streams_per_s).c_str(), Fmt(r.etcd_renewed_per_s).c_str(),
                Fmt(r.proposals_per_s, "%.2f").c_str(), Fmt(r.fsyncs_per_s, "%.2f").c_str(),
                Fmt(r.etcd_cpu_pct).c_str(), Fmt(r.ka_p50_ms, "%.2f").c_str(),
                Fmt(r.ka_p99_ms, "%.2f").c_str(), r.late_max_ms, static_cast<long long>(r.ka_lost));
  }
  std::printf(
      "add_ms: registering the N-3 simulated peers, %d at a time (per peer: get alive key, grant\n"
      "  lease, put alive, get record + alive, put record, put alive); add_prop: raft proposals\n"
      "  etcd committed meanwhile. ka/s: keepalive calls counted here + 3/TTL for each of the 3\n"
      "  real daemons (their own sessions, not counted); expect/s: 3/TTL for each of the N peers;\n"
      "  etcd_ka/s: etcd's grpc_server_handled_total{LeaseKeepAlive} (one stream per call);\n"
      "  renew/s: etcd_debugging_lease_renewed_total; prop/s and fsync/s: raft proposals and WAL\n"
      "  fsyncs per second while only liveness ran; etcd_cpu: etcd's CPU (100%% = one core).\n"
      "  ka_p50/ka_p99: one KeepAliveOnce, ms; late_max: worst delay past a due time, ms;\n"
      "  lost: leases found expired.\n",
      args.register_threads);

  std::printf("\n2. through the first real daemon (%s): reads, memory and a volume operation\n",
              args.hosts[0].c_str());
  std::printf("%6s %8s %9s %9s %9s %6s | %8s %8s %8s | %10s %10s %6s\n", "N", "listed", "body_kB",
              "get_p50", "get_p99", "errors", "rss_MiB", "hwm_MiB", "gd2_cpu", "create_p50",
              "delete_p50", "errors");
  for (const Row& r : rows) {
    std::printf("%6d %8zu %9.1f %9.2f %9.2f %6d | %8.1f %8.1f %7s%% | %10s %10s %6d\n", r.n,
                r.listed, static_cast<double>(r.body_bytes) / 1024.0, r.get_p50_ms, r.get_p99_ms,
                r.get_errors, r.rss_mib, r.hwm_mib, Fmt(r.daemon_cpu_pct).c_str(),
                Fmt(r.create_ms, "%.2f").c_str(), Fmt(r.delete_ms, "%.2f").c_str(), r.vol_errors);
    if (!r.first_error.empty()) std::printf("       first error: %s\n", r.first_error.c_str());
  }
  std::printf(
      "get_p50/get_p99: %d sequential GET /v1/peers (client::Client, JWT per request, JSON "
      "parsed),\n"
      "  ms, while the keepalives run. rss/hwm: VmRSS/VmHWM of that daemon after the reads.\n"
      "  gd2_cpu: its CPU in the idle window. create/delete: medians over %d volume create +\n"
      "  delete sent to it, ms: replica 3, one brick (a temp dir) on each of the 3 real daemons,\n"
      "  so each transaction runs its brick step locally on the first daemon and over peer RPC\n"
      "  (signed with the shared secret) on the other two; the volume is never started.\n"
      "  Simulated peers host no bricks and serve no peer RPC.\n",
      args.gets, args.volume_ops);
  if (rows.size() >= 2) {
    const Row& a = rows.front();
    const Row& b = rows.back();
    std::printf(
        "\nN=%d vs N=%d: GET /v1/peers p50 x%.1f, volume create p50 x%s, delete p50 x%s,"
        " first daemon's RSS %+.1f MiB\n",
        b.n, a.n, b.get_p50_ms / a.get_p50_ms, Fmt(b.create_ms / a.create_ms, "%.2f").c_str(),
        Fmt(b.delete_ms / a.delete_ms, "%.2f").c_str(), b.rss_mib - a.rss_mib);
  }
}

int Main(int argc, char** argv) {
  std::optional<Args> args = ParseArgs(argc, argv);
  if (!args) {
    std::fprintf(stderr,
                 "usage: %s --glusterd2 PATH --workdir DIR [--sizes 3,100,1000] [--gets N]\n"
                 "         [--volume-ops N] [--ttl S] [--window S] [--keepalive-threads N]\n"
                 "         [--register-threads N] [--hosts IP,IP,IP] [--etcd PATH]\n"
                 "  (every size at least 3: the three real daemons are peers too)\n",
                 argv[0]);
    return 2;
  }
  EtcdServer etcd(args->etcd, args->hosts[0], args->workdir + "/etcd");
  if (gd2::Status s = etcd.Start(); !s.ok()) {
    std::fprintf(stderr, "scale_peers: %s\n", s.ToString().c_str());
    return 1;
  }
  // One cluster: the same id and secret for every real daemon. Declared after etcd, so on any
  // early return they are stopped (by pid) before it.
  const std::string cluster_id = gd2::NewUuid();
  const std::string secret = gd2::RandomHex(32);
  std::vector<std::unique_ptr<Daemon>> daemons;
  std::vector<Daemon*> real;
  for (int i = 0; i < kRealDaemons; ++i) {
    const std::string name = "gd2-" + std::to_string(i + 1);
    daemons.push_back(std::make_unique<Daemon>(args->glusterd2, args->hosts[i],
                                               args->workdir + "/" + name, gd2::NewUuid()));
    real.push_back(daemons.back().get());
    gd2::Status s =
        daemons.back()->Start(etcd.endpoint(), cluster_id, secret, name, args->ttl_seconds);
    if (!s.ok()) {
      std::fprintf(stderr, "scale_peers: %s: %s\n", name.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  gd2::store::Options so;
  so.endpoints = {etcd.endpoint()};
  auto store = gd2::store::Store::Connect(so);
  if (!store.ok()) {
    std::fprintf(stderr, "scale_peers: %s\n", store.status().ToString().c_str());
    return 1;
  }
  gd2::store::KeySpace keys(cluster_id);
  std::printf("scale_peers: etcd %s (pid %d), cluster %s\n", etcd.endpoint().c_str(), etcd.pid(),
              cluster_id.c_str());
  for (const Daemon* d : real) {
    std::printf("scale_peers: glusterd2 pid %d, peer %s, client %s, peer RPC %s\n", d->pid(),
                d->peer_id().c_str(), d->client_address().c_str(), d->peer_address().c_str());
  }
  std::fflush(stdout);

  std::vector<Row> rows;
  int rc = 0;
  {
    Bench bench(*args, etcd, real, **store, keys);
    for (int n : args->sizes) {
      auto row = bench.Measure(n);
      if (!row.ok()) {
        std::fprintf(stderr, "scale_peers: N=%d: %s\n", n, row.status().ToString().c_str());
        rc = 1;
        break;
      }
      rows.push_back(*row);
    }
    bench.Cleanup().IgnoreError();
  }
  PrintReport(*args, rows);
  for (auto it = daemons.rbegin(); it != daemons.rend(); ++it) (*it)->Stop();
  store->reset();
  etcd.Stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
