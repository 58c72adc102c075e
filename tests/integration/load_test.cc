// The client port under connection exhaustion and unauthenticated uploads: the real daemon,
// stock glusterfsd bricks on loop XFS and a stock FUSE client, while this test holds thousands
// of idle, slow (one header byte a second) and stalled RPC connections against it, and streams
// a 1 GB chunked body without a token. Prints the latencies it measures.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/volume_req.h"
#include "common/jwt.h"
#include "support/daemon_process.h"
#include "support/gluster_mount.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// This suite's own loopback address (port 24007, for the stock client), and the addresses the
// attacking connections come from (each stays under the per-address limit).
constexpr const char* kHost = "127.0.0.41";
constexpr int kAttackSources = 10;
std::string AttackSource(int i) { return "127.0.0." + std::to_string(60 + i); }

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void RaiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

size_t FdLimit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
}

// A blocking TCP connection from `source` to host:port, or -1.
int ConnectFrom(const std::string& source, const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// True if the peer closed `fd` (or it failed); does not block.
bool PeerClosed(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// Keeps `idle` silent connections, `slow` ones sending one byte of an endless HTTP header each
// second, and `rpc` ones that sent one byte of an RPC record marker open against host:port,
// replacing each one the server closes, until destroyed.
class Attack {
 public:
  Attack(std::string host, int port, int idle, int slow, int rpc)
      : host_(std::move(host)), port_(port) {
    for (int i = 0; i < idle; ++i) conns_.push_back({Kind::kIdle, -1, 0});
    for (int i = 0; i < slow; ++i) conns_.push_back({Kind::kSlow, -1, 0});
    for (int i = 0; i < rpc; ++i) conns_.push_back({Kind::kRpc, -1, 0});
    for (size_t i = 0; i < conns_.size(); ++i) Open(conns_[i], static_cast<int>(i));
    thread_ = std::thread([this] { Run(); });
  }
  ~Attack() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
  }
  int open() const { return open_.load(); }
  int reconnects() const { return reconnects_.load(); }

 private:
  enum class Kind { kIdle, kSlow, kRpc };
  struct Conn {
    Kind kind;
    int fd;
    size_t sent;
  };

  void Open(Conn& c, int i) {
    c.fd = ConnectFrom(AttackSource(i % kAttackSources), host_, port_);
    c.sent = 0;
    if (c.fd < 0) return;
    ++open_;
    if (c.kind == Kind::kRpc) SendAll(c.fd, "\x80");
    if (c.kind == Kind::kSlow) SendAll(c.fd, "G");
  }

  void Run() {
    static const std::string kHeader = "GET /ping HTTP/1.1\r\nX-Slow: ";
    while (!stop_) {
      auto round = Clock::now();
      for (size_t i = 0; i < conns_.size() && !stop_; ++i) {
        Conn& c = conns_[i];
        bool gone = c.fd < 0 || PeerClosed(c.fd);
        if (!gone && c.kind == Kind::kSlow) {
          ++c.sent;
          char next = c.sent < kHeader.size() ? kHeader[c.sent] : 'a';
          gone = !SendAll(c.fd, std::string_view(&next, 1));
        }
        if (gone) {
          if (c.fd >= 0) {
            ::close(c.fd);
            --open_;
            ++reconnects_;
          }
          Open(c, static_cast<int>(i));
        }
      }
      std::this_thread::sleep_until(round + 1s);
    }
  }

  std::string host_;
  int port_;
  std::vector<Conn> conns_;
  std::atomic<bool> stop_{false};
  std::atomic<int> open_{0};
  std::atomic<int> reconnects_{0};
  std::thread thread_;
};

long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class LoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RaiseFdLimit();
    DaemonOptions o;
    o.host = kHost;
    o.client_port = 24007;
    daemon_ = new DaemonProcess(o);
    ASSERT_TRUE(daemon_->Start());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  // Milliseconds of a /ping on a fresh connection (-1 on failure).
  static double PingMs() {
    auto start = Clock::now();
    auto c = daemon_->NewClient();
    Status s = c->Ping();
    return s.ok() ? Ms(Clock::now() - start) : -1;
  }

  static DaemonProcess* daemon_;
};

DaemonProcess* LoadTest::daemon_ = nullptr;

struct Latencies {
  double ping_max = 0;
  double ping_median = 0;
  double create = -1;
  double start = -1;
  double mount = -1;
};

// 2,000 idle, 200 slowloris and 1,100 stalled RPC connections (spread over 10 source
// addresses) leave /ping, a volume create and start, and a stock client's mount (GETSPEC,
// PORTBYBRICK, brick connects) answering as fast as without them.
TEST_F(LoadTest, IdleSlowAndStalledConnectionsDoNotDelayClients) {
  ASSERT_NE(daemon_, nullptr);
  constexpr int kIdle = 2000, kSlow = 200, kRpc = 1100;
  if (FdLimit() < kIdle + kSlow + kRpc + 200) GTEST_SKIP() << "descriptor limit " << FdLimit();
  std::unique_ptr<LoopXfs> fs;
  if (LoopXfs::UnavailableReason().empty()) {
    auto made = LoopXfs::Create();
    ASSERT_OK(made);
    fs = std::move(*made);
  } else {
    std::printf("loop XFS unavailable (%s): measuring /ping only\n",
                LoopXfs::UnavailableReason().c_str());
  }
  auto client = daemon_->NewClient();
  std::vector<std::string> created;
  struct Cleanup {
    client::Client& c;
    std::vector<std::string>& names;
    ~Cleanup() {
      for (const auto& n : names) {
        c.Do("POST", "/v1/volumes/" + n + "/stop", nlohmann::json::object()).status().IgnoreError();
        c.Do("DELETE", "/v1/volumes/" + n).status().IgnoreError();
      }
    }
  } cleanup{*client, created};

  auto measure = [&](const std::string& name) {
    Latencies l;
    std::vector<double> pings;
    for (int i = 0; i < 20; ++i) pings.push_back(PingMs());
    std::sort(pings.begin(), pings.end());
    l.ping_median = pings[pings.size() / 2];
    l.ping_max = pings.front() < 0 ? 1e9 : pings.back();
    if (!fs) return l;
    std::string dir = fs->mount_point() + "/" + name;
    std::filesystem::create_directories(dir);
    api::VolCreateReq req;
    req.name = name;
    req.force = true;
    api::SubvolReq sv;
    sv.type = "distribute";
    sv.bricks.push_back({kHost, dir, ""});
    req.subvols.push_back(sv);
    auto t0 = Clock::now();
    auto r = client->Do("POST", "/v1/volumes", req);
    EXPECT_OK(r);
    if (!r.ok()) return l;
    created.push_back(name);
    l.create = Ms(Clock::now() - t0);
    t0 = Clock::now();
    auto started = client->Do("POST", "/v1/volumes/" + name + "/start", nlohmann::json::object());
    EXPECT_OK(started);
    if (!started.ok()) return l;
    l.start = Ms(Clock::now() - t0);
    t0 = Clock::now();
    auto m = GlusterMount::Mount(kHost, 24007, name);
    EXPECT_OK(m);
    if (!m.ok()) return l;
    l.mount = Ms(Clock::now() - t0);
    std::ofstream((*m)->path() + "/f") << "data";
    EXPECT_TRUE(std::filesystem::exists(dir + "/f"));
    return l;
  };

  Latencies quiet = measure("loadquiet");
  Latencies loaded;
  int open = 0;
  int reconnects = 0;
  {
    Attack attack(kHost, 24007, kIdle, kSlow, kRpc);
    open = attack.open();
    // Long enough for the server's deadlines to close and the attack to reopen connections.
    std::this_thread::sleep_for(12s);
    loaded = measure("loadbusy");
    reconnects = attack.reconnects();
  }
  std::printf(
      "attack: %d idle + %d slowloris + %d stalled rpc connections (%d open at start, %d "
      "reopened after the server closed them)\n",
      kIdle, kSlow, kRpc, open, reconnects);
  std::printf("latency ms      quiet    under attack\n");
  std::printf("ping median  %8.1f  %8.1f\n", quiet.ping_median, loaded.ping_median);
  std::printf("ping max     %8.1f  %8.1f\n", quiet.ping_max, loaded.ping_max);
  std::printf("create       %8.1f  %8.1f\n", quiet.create, loaded.create);
  std::printf("start        %8.1f  %8.1f\n", quiet.start, loaded.start);
  std::printf("mount        %8.1f  %8.1f\n", quiet.mount, loaded.mount);
  EXPECT_GE(open, kIdle + kSlow + kRpc - 10);
  EXPECT_GT(reconnects, 0) << "the server never closed an idle or slow connection";
  EXPECT_LT(loaded.ping_max, 1000);
  if (fs) {
    EXPECT_LT(loaded.create, quiet.create + 2000);
    EXPECT_LT(loaded.start, quiet.start + 5000);
    EXPECT_LT(loaded.mount, quiet.mount + 5000);
  }
}

// A 1 GB chunked POST without a token is answered 401 from its header, the daemon reads on
// only briefly before closing, and its memory does not grow. An authenticated chunked body
// over the limit gets 413.
TEST_F(LoadTest, UnauthenticatedChunkedUploadIsRefusedFromTheHeader) {
  ASSERT_NE(daemon_, nullptr);
  long rss_before = RssKb(daemon_->pid());
  ASSERT_GT(rss_before, 0);

  auto upload = [&](const std::string& auth_header, uint64_t total, std::string* response,
                    uint64_t* sent, double* answer_ms) {
    int fd = ConnectFrom("127.0.0.1", kHost, 24007);
    ASSERT_GE(fd, 0);
    std::string head =
        "POST /v1/volumes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth_header +
        "Transfer-Encoding: chunked\r\n\r\n";
    auto start = Clock::now();
    ASSERT_TRUE(SendAll(fd, head));
    std::string chunk(1 << 20, 'a');
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
    std::string framed = size_line + chunk + "\r\n";
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    *sent = 0;
    size_t offset = 0;
    bool closed = false;
    auto deadline = start + 60s;
    while (!closed && Clock::now() < deadline) {
      pollfd p{fd, static_cast<short>(POLLIN | (*sent < total ? POLLOUT : 0)), 0};
      ::poll(&p, 1, 100);
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
          if (response->empty()) *answer_ms = Ms(Clock::now() - start);
          response->append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          closed = true;
        }
      }
      if (!closed && *sent < total && (p.revents & POLLOUT)) {
        ssize_t n = ::send(fd, framed.data() + offset, framed.size() - offset, MSG_NOSIGNAL);
        if (n > 0) {
          *sent += static_cast<uint64_t>(n);
          offset = (offset + static_cast<size_t>(n)) % framed.size();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          // The server closed; what it answered is still to be read.
          *sent = total;
        }
      }
    }
    ::close(fd);
    EXPECT_TRUE(closed) << "the daemon kept the connection open";
  };

  std::string response;
  uint64_t sent = 0;
  double answer_ms = -1;
  upload("", uint64_t{1} << 30, &response, &sent, &answer_ms);
  long rss_after = RssKb(daemon_->pid());
  std::printf(
      "unauthenticated 1 GB chunked upload: answered after %.1f ms, %llu bytes taken "
      "before the close, daemon RSS %ld -> %ld kB\n",
      answer_ms, static_cast<unsigned long long>(sent), rss_before, rss_after);
  EXPECT_EQ(response.rfind("HTTP/1.1 401 ", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_LT(answer_ms, 1000);
  EXPECT_LT(sent, uint64_t{64} << 20);
  EXPECT_LT(rss_after - rss_before, 50 * 1024);

  // With a valid token the chunked body counts against the body limit (1 MiB).
  // (Signed for a small body: the limit stops the upload before its hash could be compared.)
  std::string token =
      jwt::SignRequest(daemon_->secret(), {"POST", "/v1/volumes", ""}, "{}", std::time(nullptr));
  response.clear();
  upload("Authorization: Bearer " + token + "\r\n", uint64_t{8} << 20, &response, &sent,
         &answer_ms);
  std::printf("authenticated 8 MB chunked upload: answered after %.1f ms\n", answer_ms);
  EXPECT_EQ(response.rfind("HTTP/1.1 413 ", 0), 0u) << response.substr(0, 200);
  EXPECT_LT(RssKb(daemon_->pid()) - rss_before, 50 * 1024);
  // The daemon still serves.
  EXPECT_GE(PingMs(), 0);
}

}  // namespace
}  // namespace gd2::testing
