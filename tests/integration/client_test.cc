// client::Client against a real glusterd2: failover between endpoints (a closed port first),
// an HTTP error that is not failed over, read-your-writes headers, and one Client shared by many
// threads at once. The stand-in endpoint that answers with errors and revisions is a plain
// HTTP server in this process (cpp-httplib), so what the client sends can be checked.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "client/client.h"
#include "support/daemon_process.h"
#include "support/sigpipe_state.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A loopback port nothing listens on: bound once by the OS, then closed.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// An HTTP endpoint in this process: answers every GET with `status` and an error body, sets
// X-Gd2-Revision to `revision`, and records the X-Gd2-Min-Revision of each request.
class StandIn {
 public:
  StandIn(int status, int64_t revision) {
    server_.Get(".*",
                [this, status, revision](const httplib::Request& req, httplib::Response& res) {
                  {
                    std::lock_guard<std::mutex> lock(mu_);
                    min_revisions_.push_back(req.get_header_value(client::kMinRevisionHeader));
                  }
                  res.status = status;
                  res.set_header(client::kRevisionHeader, std::to_string(revision));
                  res.set_header("X-Request-Id", "stand-in");
                  res.set_content(R"({"errors":[{"code":2,"message":"stand-in says no"}]})",
                                  "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only ends a listen that has begun.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(1ms);
  }
  ~StandIn() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> min_revisions() {
    std::lock_guard<std::mutex> lock(mu_);
    return min_revisions_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> min_revisions_;
};

// A loopback listener that hangs up on its first connection, in one of two ways. kMidRequest: it
// reads the request's header, sends FIN, and then closes with the body unread (RST), so a client
// still writing the body meets a connection closed in both directions. kNotTls: it answers a TLS
// client's hello with plain text, then FIN, then RST (the hello unread), so the client's TLS
// alert is written to a connection closed in both directions. Either write raises SIGPIPE in the
// writing thread.
class HangUp {
 public:
  enum Mode { kMidRequest, kNotTls };
  explicit HangUp(Mode mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(fd_, 4) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, mode] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (mode == kMidRequest) {
        std::string got;
        char buf[4096];
        while (got.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof(buf), 0);
          if (n <= 0) break;
          got.append(buf, static_cast<size_t>(n));
        }
      } else {
        char b;
        ::recv(c, &b, 1, MSG_PEEK);  // the hello has arrived; it stays unread
        static constexpr char kPlain[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        ::send(c, kPlain, sizeof(kPlain) - 1, MSG_NOSIGNAL);
      }
      ::shutdown(c, SHUT_WR);
      if (mode == kMidRequest) std::this_thread::sleep_for(50ms);
      ::close(c);
    });
  }
  ~HangUp() {
    // Unblocks an accept() that never got its connection.
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string endpoint(const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  static std::unique_ptr<client::Client> NewClient(std::vector<std::string> endpoints) {
    client::ClientOptions co;
    co.endpoints = std::move(endpoints);
    co.secret = daemon_->secret();
    co.timeout = 5s;
    auto c = client::Client::Create(std::move(co));
    EXPECT_OK(c);
    return c.ok() ? std::move(*c) : nullptr;
  }

  static DaemonProcess* daemon_;
};

DaemonProcess* ClientTest::daemon_ = nullptr;

TEST_F(ClientTest, FailsOverFromAClosedPortAndRemembersTheGoodEndpoint) {
  int closed = ClosedPort();
  ASSERT_GT(closed, 0);
  std::string dead = "http://127.0.0.1:" + std::to_string(closed);
  auto c = NewClient({dead, daemon_->endpoint()});
  ASSERT_NE(c, nullptr);
  client::CallInfo info;
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, c->Health(&info));
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(info.endpoint, daemon_->endpoint());
  EXPECT_EQ(info.http_status, 200);
  // Every later call goes to the endpoint that answered, in any style of call.
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, c->ListPeers("", "", &info));
  EXPECT_EQ(peers.size(), 1u);
  EXPECT_EQ(info.endpoint, daemon_->endpoint());
  EXPECT_THAT(c->GetVolume("no-such-volume", &info), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(info.http_status, 404);
  EXPECT_EQ(info.endpoint, daemon_->endpoint());
  bool has_request_id = false;
  for (const auto& [k, v] : info.ids) has_request_id = has_request_id || k == "X-Request-Id";
  EXPECT_TRUE(has_request_id);

  // Nothing answers: kUnavailable naming every endpoint tried.
  auto none = NewClient({dead, "http://127.0.0.1:" + std::to_string(ClosedPort())});
  ASSERT_NE(none, nullptr);
  StatusOr<api::HealthResp> down = none->Health(&info);
  EXPECT_THAT(down, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(down.status().message(), HasSubstr(dead));
  EXPECT_EQ(info.http_status, 0);
  EXPECT_EQ(info.endpoint, "");
}

TEST_F(ClientTest, AnHttpErrorIsAnAnswerNotAFailover) {
  StandIn refusing(500, 0);
  auto c = NewClient({refusing.endpoint(), daemon_->endpoint()});
  ASSERT_NE(c, nullptr);
  client::CallInfo info;
  StatusOr<api::HealthResp> h = c->Health(&info);
  EXPECT_THAT(h, StatusIs(StatusCode::kInternal));
  EXPECT_EQ(h.status().message(), "stand-in says no");
  EXPECT_EQ(info.endpoint, refusing.endpoint());
  EXPECT_EQ(info.http_status, 500);
  ASSERT_EQ(info.ids.size(), 1u);
  EXPECT_EQ(info.ids[0].second, "stand-in");
}

TEST_F(ClientTest, SendsTheHighestRevisionSeenWithEveryRequest) {
  auto c = NewClient({daemon_->endpoint()});
  ASSERT_NE(c, nullptr);
  {
    StandIn at_42(503, 42);
    auto probe = NewClient({at_42.endpoint()});
    ASSERT_NE(probe, nullptr);
    EXPECT_EQ(probe->min_revision(), 0);
    EXPECT_THAT(probe->Ping(), StatusIs(StatusCode::kUnavailable));  // 503: still an answer
    EXPECT_EQ(probe->min_revision(), 42);
    EXPECT_THAT(probe->Ping(), StatusIs(StatusCode::kUnavailable));
    StandIn at_7(404, 7);
    auto lower = NewClient({at_7.endpoint(), at_42.endpoint()});
    ASSERT_NE(lower, nullptr);
    client::CallInfo info;
    EXPECT_THAT(lower->Ping(&info), StatusIs(StatusCode::kNotFound));
    EXPECT_EQ(info.revision, 7);
    EXPECT_THAT(lower->Ping(), StatusIs(StatusCode::kNotFound));
    EXPECT_EQ(lower->min_revision(), 7);
    // The first request carries none, later ones the highest revision seen by that client.
    EXPECT_EQ(at_42.min_revisions(), (std::vector<std::string>{"", "42"}));
    EXPECT_EQ(at_7.min_revisions(), (std::vector<std::string>{"", "7"}));
  }
  // The real daemon answers whatever it does with the header; the client keeps the highest.
  ASSERT_OK(c->Ping());
  client::CallInfo info;
  ASSERT_OK(c->ListVolumes("", "", &info));
  EXPECT_GE(c->min_revision(), info.revision);
}

TEST_F(ClientTest, OneClientServesManyThreadsAtOnce) {
  int closed = ClosedPort();
  ASSERT_GT(closed, 0);
  auto c = NewClient({"http://127.0.0.1:" + std::to_string(closed), daemon_->endpoint()});
  ASSERT_NE(c, nullptr);
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 40;
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        client::CallInfo info;
        Status s;
        switch ((t + i) % 4) {
          case 0:
            s = c->Health(&info).status();
            break;
          case 1:
            s = c->ListPeers("", "", &info).status();
            break;
          case 2:
            s = c->ListVolumes("", "", &info).status();
            break;
          default: {
            // An error answer per call, not per client.
            StatusOr<api::Volume> v = c->GetVolume("missing-" + std::to_string(t), &info);
            s = v.status().code() == StatusCode::kNotFound && info.http_status == 404
                    ? OkStatus()
                    : InternalError("expected a 404, got: " + v.status().ToString());
          }
        }
        if (s.ok() && info.endpoint == daemon_->endpoint()) {
          ++ok;
        } else {
          ++wrong;
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.empty()) first_error = s.ToString() + " via " + info.endpoint;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
  EXPECT_EQ(wrong.load(), 0) << first_error;
}

// A daemon that drops a connection while the client still writes to it (an idle keep-alive
// connection closed under a request, a restart, a port that is not the TLS endpoint) is an error
// for that call, never a signal that ends the calling process: the client runs in glustercli and
// the CSI driver, which keep SIGPIPE's default action. The thread's signal mask is left as it was.
class ClientSigpipeTest : public ClientTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(default_action_.ok());
    ASSERT_FALSE(SigpipeBlocked());
  }
  void TearDown() override {
    EXPECT_FALSE(SigpipeBlocked());
    EXPECT_FALSE(SigpipePending());
  }
  DefaultSigpipeAction default_action_;
};

TEST_F(ClientSigpipeTest, AConnectionClosedWhileTheBodyIsSentIsAnError) {
  HangUp server(HangUp::kMidRequest);
  auto c = NewClient({server.endpoint()});
  ASSERT_NE(c, nullptr);
  // Far more than the socket buffers hold, so the client is still writing when the server hangs up.
  nlohmann::json body = {{"name", "v"}, {"pad", std::string(32 << 20, 'x')}};
  EXPECT_THAT(c->Do("POST", "/v1/volumes", body), StatusIs(StatusCode::kUnavailable));
}

TEST_F(ClientSigpipeTest, AnHttpsEndpointThatAnswersInPlainTextAndHangsUpIsAnError) {
  HangUp server(HangUp::kNotTls);
  auto c = NewClient({server.endpoint("https")});
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->Ping(), StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace gd2::testing
