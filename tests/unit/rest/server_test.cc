// rest::Server on loopback with short deadlines: what it reads, when it answers and closes,
// and who gets a connection.
#include "rest/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "common/jwt.h"
#include "common/thread_annotations.h"
#include "support/status_matchers.h"

namespace gd2::rest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kSecret[] = "test-secret-test-secret-test-secret";

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void Send(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Reads until `until` appears in what was read, the peer closes, or `timeout`. Sets *closed.
std::string ReadUntil(int fd, const std::string& until, std::chrono::milliseconds timeout,
                      bool* closed) {
  std::string out;
  *closed = false;
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!until.empty() && out.find(until) != std::string::npos) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(router_.Add(
        {"Ping", Method::kGet, "/ping",
         [](RequestContext&) -> StatusOr<Response> { return Response::Text("pong", "text/plain"); },
         "", "", "", false}));
    ASSERT_OK(router_.Add({"Echo", Method::kPost, "/echo",
                           [this](RequestContext& ctx) -> StatusOr<Response> {
                             ++handled_;
                             return Response::Ok({{"size", ctx.body.size()}});
                           },
                           "", "", "", true}));
  }

  void StartServer(ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.secret = kSecret;
    server_ = std::make_unique<Server>(o, router_);
    ASSERT_OK(server_->Start());
  }

  Router router_;
  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST_F(ServerTest, TokenIsCheckedFromTheHeaderBeforeAnyBody) {
  StartServer();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  // A body is announced but never sent: the answer must not wait for it.
  auto start = Clock::now();
  Send(fd,
       "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad.token.here\r\n"
       "Content-Length: 500000\r\n\r\n");
  bool closed = false;
  std::string r = ReadUntil(fd, "}]}", 5s, &closed);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(r.rfind("HTTP/1.1 401 ", 0), 0u) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_NE(r.find("\"errors\""), std::string::npos);
  EXPECT_NE(r.find("X-Request-Id: "), std::string::npos);
  // And the connection ends (after a short linger), whatever the client still sends.
  ReadUntil(fd, "", 5s, &closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerTest, AuthenticatedBodiesAreReadAndConnectionsKeptAlive) {
  StartServer();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2; ++i) {
    std::string body = "{\"x\":" + std::to_string(i) + "}";
    std::string token = jwt::SignRequest(kSecret, {"POST", "/echo", ""}, body, std::time(nullptr));
    Send(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                 "\r\nTransfer-Encoding: chunked\r\n\r\n" + "3\r\n" + body.substr(0, 3) + "\r\n" +
                 std::to_string(body.size() - 3) + "\r\n" + body.substr(3) + "\r\n0\r\n\r\n");
    bool closed = false;
    std::string r = ReadUntil(fd, "{\"size\":7}", 5s, &closed);
    EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
    EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos) << r;
    EXPECT_FALSE(closed);
  }
  ::close(fd);
  EXPECT_EQ(handled_.load(), 2);
}

// A nonblocking route runs on the I/O thread that read the request; when its handler defers, it
// runs again on a handler thread, which answers.
TEST_F(ServerTest, NonblockingRouteAnswersOnTheIoThreadOrDefers) {
  struct Run {
    bool nonblocking;
    std::thread::id thread;
  };
  Mutex mu;
  std::vector<Run> runs;
  Route maybe{"Maybe",
              Method::kGet,
              "/maybe",
              [&](RequestContext& ctx) -> StatusOr<Response> {
                {
                  MutexLock lock(mu);
                  runs.push_back({ctx.nonblocking, std::this_thread::get_id()});
                }
                if (ctx.nonblocking && ctx.Query("defer") == "1") return ctx.Defer();
                return Response::Text(ctx.nonblocking ? "here" : "worker", "text/plain");
              },
              "",
              "",
              "",
              false};
  maybe.nonblocking = true;
  ASSERT_OK(router_.Add(std::move(maybe)));
  StartServer();
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);

  Send(fd, "GET /maybe HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  std::string r = ReadUntil(fd, "here", 5s, &closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
  {
    MutexLock lock(mu);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_TRUE(runs[0].nonblocking);
    runs.clear();
  }

  Send(fd, "GET /maybe?defer=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  r = ReadUntil(fd, "worker", 5s, &closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
  EXPECT_NE(r.find("worker"), std::string::npos) << r;
  EXPECT_EQ(r.find("deferred"), std::string::npos) << "the deferral is never an answer: " << r;
  EXPECT_FALSE(closed);
  ::close(fd);
  MutexLock lock(mu);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_TRUE(runs[0].nonblocking);
  EXPECT_FALSE(runs[1].nonblocking);
  EXPECT_NE(runs[0].thread, runs[1].thread) << "the second run is on a handler thread";
}

TEST_F(ServerTest, DeadlinesCloseIdleAndSlowConnections) {
  ServerOptions o;
  o.first_byte_timeout = 300ms;
  o.header_timeout = 300ms;
  o.keep_alive_timeout = 300ms;
  StartServer(o);
  int idle = Connect(server_->port());
  int slow = Connect(server_->port());
  int kept = Connect(server_->port());
  Send(slow, "GET /pi");
  Send(kept, "GET /ping HTTP/1.1\r\n\r\n");
  bool closed = false;
  EXPECT_NE(ReadUntil(kept, "pong", 2s, &closed).find("pong"), std::string::npos);
  auto start = Clock::now();
  for (int fd : {idle, slow, kept}) {
    ReadUntil(fd, "", 3s, &closed);
    EXPECT_TRUE(closed);
    ::close(fd);
  }
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST_F(ServerTest, ConnectionsPerAddressAreLimited) {
  ServerOptions o;
  o.max_connections_per_address = 3;
  StartServer(o);
  int held[3];
  for (int& fd : held) fd = Connect(server_->port());
  ASSERT_TRUE([&] {
    for (int i = 0; i < 200 && server_->ConnectionCount() < 3; ++i)
      std::this_thread::sleep_for(10ms);
    return server_->ConnectionCount() == 3;
  }());
  int extra = Connect(server_->port());
  bool closed = false;
  ReadUntil(extra, "", 2s, &closed);
  EXPECT_TRUE(closed);
  ::close(extra);
  // The held ones still work.
  Send(held[0], "GET /ping HTTP/1.1\r\n\r\n");
  EXPECT_NE(ReadUntil(held[0], "pong", 2s, &closed).find("pong"), std::string::npos);
  for (int fd : held) ::close(fd);
}

TEST_F(ServerTest, RecordMarkerHandsTheSocketOverUnread) {
  std::atomic<int> got{-1};
  ServerOptions o;
  o.rpc_handler = [&](int fd, std::string) { got = fd; };
  StartServer(o);
  int fd = Connect(server_->port());
  Send(fd, std::string("\x80\x00\x00\x04ping", 8));
  for (int i = 0; i < 200 && got.load() < 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(got.load(), 0);
  char buf[8];
  ASSERT_EQ(::recv(got.load(), buf, sizeof(buf), MSG_WAITALL), 8);
  EXPECT_EQ(std::string(buf, 4), std::string("\x80\x00\x00\x04", 4));
  ::close(got.load());
  ::close(fd);
}

// A wait for the first byte that ends with nothing to read yet (EAGAIN) waits again: closing
// there dropped TLS clients whose hello was still on its way (they read EOF in their handshake,
// and answered with an alert into the closed socket).
TEST(FirstByteTest, NothingToReadYetWaitsAgainAndEachFirstByteGoesItsWay) {
  EXPECT_EQ(ClassifyFirstByte(-1, EAGAIN, 0, false), FirstByte::kWaitAgain);
  EXPECT_EQ(ClassifyFirstByte(-1, EWOULDBLOCK, 0, true), FirstByte::kWaitAgain);
  EXPECT_EQ(ClassifyFirstByte(0, 0, 0, false), FirstByte::kClose);  // closed before a byte
  EXPECT_EQ(ClassifyFirstByte(-1, ECONNRESET, 0, true), FirstByte::kClose);
  EXPECT_EQ(ClassifyFirstByte(1, 0, 0x80, false), FirstByte::kRpc);
  EXPECT_EQ(ClassifyFirstByte(1, 0, 0x80, true), FirstByte::kRpc);
  EXPECT_EQ(ClassifyFirstByte(1, 0, 0x16, true), FirstByte::kTls);
  EXPECT_EQ(ClassifyFirstByte(1, 0, 'G', true), FirstByte::kClose);  // plain HTTP, HTTPS only
  EXPECT_EQ(ClassifyFirstByte(1, 0, 'G', false), FirstByte::kHttp);
}

}  // namespace
}  // namespace gd2::rest
