// RpcServer behind a small loopback acceptor, driven by the reference probe
// (reference/tools/glprobe.py) and by a C++ client.
#include "sunrpc/rpc_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/subprocess.h"
#include "sunrpc/messages.h"
#include "sunrpc/record.h"
#include "support/status_matchers.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::sunrpc::testing::EveryKindRegistry;
using ::gd2::sunrpc::testing::Hex;
using ::gd2::sunrpc::testing::MapVolfileProvider;
using ::gd2::sunrpc::testing::TestRpcClient;
using namespace std::chrono_literals;

// Accepts TCP connections on 127.0.0.1:<ephemeral> and hands each to RpcServer::Adopt, as the
// daemon's shared HTTP/RPC listener does.
class Acceptor {
 public:
  // `trust`: what the daemon knows of the connections (TCP: kRemote; its local socket:
  // kLocalProcess). Tests that play a brick adopt as kLocalProcess.
  explicit Acceptor(RpcServer& server, PeerTrust trust = PeerTrust::kLocalProcess)
      : server_(server), trust_(trust) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    GD2_CHECK(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    GD2_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    GD2_CHECK(::listen(fd_, SOMAXCONN) == 0);
    socklen_t len = sizeof(a);
    GD2_CHECK(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Acceptor() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  void Run() {
    while (true) {
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      char host[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host));
      server_.Adopt(c, std::string(host) + ":" + std::to_string(ntohs(peer.sin_port)), {}, trust_);
    }
  }

  RpcServer& server_;
  PeerTrust trust_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// A provider whose "slow" volfile blocks until released, to show other connections go on.
class BlockingProvider : public MapVolfileProvider {
 public:
  StatusOr<std::string> GetVolfile(std::string_view id, const Dict& xdata) override {
    if (id == "slow") {
      std::unique_lock<std::mutex> lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return MapVolfileProvider::GetVolfile(id, xdata);
  }
  bool WaitEntered(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

const char kClientVolfile[] =
    "volume rep3-client-0\n    type protocol/client\n    option remote-subvolume /bricks/d1/rep3\n"
    "end-volume\n";

class RpcServerTest : public ::testing::Test {
 protected:
  RpcServerTest() : server_(volfiles_, portmap_) {
    provider_.Set("rep3", kClientVolfile);
    provider_.Set("other", "volume other\nend-volume\n");
    provider_.Set("slow", "volume slow\nend-volume\n");
    provider_.Set("shd/rep3", "volume shd\nend-volume\n");
    EXPECT_OK(server_.Start());
    acceptor_ = std::make_unique<Acceptor>(server_);
  }
  ~RpcServerTest() override {
    provider_.Release();
    acceptor_.reset();
    server_.Stop();
  }

  std::unique_ptr<TestRpcClient> Connect() {
    auto c = std::make_unique<TestRpcClient>();
    EXPECT_OK(c->Connect("127.0.0.1", acceptor_->port()));
    return c;
  }

  // Runs glprobe.py against the server; skips the test if the reference tools are missing.
  std::string Probe(std::vector<std::string> args) {
    const char* src = std::getenv("GD2_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe): no setenv
    std::filesystem::path tool = std::filesystem::path(src ? src : ".") / ".." / "shared" /
                                 "reference" / "tools" / "glprobe.py";
    std::error_code ec;
    if (!std::filesystem::exists(tool, ec)) {
      skipped_ = true;
      return "";
    }
    std::vector<std::string> argv = {"python3", tool.string(),
                                     "127.0.0.1:" + std::to_string(acceptor_->port())};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, 20s);
    EXPECT_OK(r);
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit.code, 0) << r->output;
    return r->output;
  }

  BlockingProvider provider_;
  EveryKindRegistry volfiles_{provider_};
  PortMap portmap_;
  RpcServer server_;
  std::unique_ptr<Acceptor> acceptor_;
  bool skipped_ = false;
};

#define SKIP_IF_NO_PROBE()                                    \
  if (skipped_)                                               \
  GTEST_SKIP() << "reference/tools/glprobe.py not found via " \
                  "$GD2_SOURCE_DIR/../shared"

TEST_F(RpcServerTest, ProbeDump) {
  std::string out = Probe({"dump"});
  SKIP_IF_NO_PROBE();
  EXPECT_NE(out.find("DUMP op_ret=0 op_errno=0"), std::string::npos) << out;
  EXPECT_NE(out.find("Gluster Portmap"), std::string::npos) << out;
  EXPECT_NE(out.find("prog=34123456 vers=1"), std::string::npos) << out;
  EXPECT_NE(out.find("prog=14398633 vers=2"), std::string::npos) << out;
  EXPECT_EQ(out.find("prog=1298437"), std::string::npos) << out;
}

TEST_F(RpcServerTest, ProbePing) {
  std::string out = Probe({"ping"});
  SKIP_IF_NO_PROBE();
  EXPECT_NE(out.find("PING op_ret=0 op_errno=0 rest=00000000"), std::string::npos) << out;
}

TEST_F(RpcServerTest, ProbeGetspec) {
  std::string out = Probe({"getspec", "/rep3", "--flags", "1"});
  SKIP_IF_NO_PROBE();
  std::string want = "GETSPEC op_ret=" + std::to_string(sizeof(kClientVolfile) - 1) +
                     " op_errno=0 spec_len=" + std::to_string(sizeof(kClientVolfile) - 1);
  EXPECT_NE(out.find(want), std::string::npos) << out;
  out = Probe({"getspec", "shd/rep3"});
  EXPECT_NE(out.find("'pidfile': '/var/run/gluster/shd/rep3/rep3-shd.pid'"), std::string::npos)
      << out;
  out = Probe({"getspec", "nosuchvol"});
  EXPECT_NE(out.find("GETSPEC op_ret=-1 op_errno=2 spec_len=0"), std::string::npos) << out;
  out = Probe({"getspec", "../../etc/passwd"});
  EXPECT_NE(out.find("GETSPEC op_ret=-1 op_errno=22 spec_len=0"), std::string::npos) << out;
}

TEST_F(RpcServerTest, ProbePortmap) {
  std::string out = Probe({"portbybrick", "/bricks/d1/rep3"});
  SKIP_IF_NO_PROBE();
  EXPECT_NE(out.find("PORTBYBRICK op_ret=-1 op_errno=0 status=0 port=0"), std::string::npos) << out;
  out = Probe({"signin", "/bricks/d1/rep3", "54070", "12473"});
  EXPECT_NE(out.find("SIGNIN op_ret=0 op_errno=0"), std::string::npos) << out;
  out = Probe({"portbybrick", "/bricks/d1/rep3"});
  EXPECT_NE(out.find("PORTBYBRICK op_ret=0 op_errno=0 status=0 port=54070"), std::string::npos)
      << out;
  out = Probe({"signout", "/bricks/d1/rep3", "54070"});
  EXPECT_NE(out.find("SIGNOUT op_ret=0 op_errno=0"), std::string::npos) << out;
  EXPECT_EQ(portmap_.PortOf("/bricks/d1/rep3"), std::nullopt);
}

TEST_F(RpcServerTest, SigninThenPortByBrick) {
  uint64_t gen = portmap_.Generation();
  auto brick = Connect();
  XdrWriter args;
  Encode(SigninReq{"/bricks/d2/rep3", 50661, 12489}, args);
  ASSERT_OK_AND_ASSIGN(auto reply, brick->Call(kPortmapProgram, 1, kPortmapSignin, args.data()));
  EXPECT_EQ(reply.first.accept_stat, 0u);
  XdrReader r(reply.second);
  ASSERT_OK_AND_ASSIGN(PmapRsp signin, DecodePmapRsp(r));
  EXPECT_EQ(signin.op_ret, 0);
  EXPECT_TRUE(portmap_.WaitSignin("/bricks/d2/rep3", std::chrono::steady_clock::now() + 10s, gen));

  auto client = Connect();
  XdrWriter q;
  Encode(PortByBrickReq{"/bricks/d2/rep3"}, q);
  ASSERT_OK_AND_ASSIGN(auto pbb, client->Call(kPortmapProgram, 1, kPortmapPortByBrick, q.data()));
  XdrReader pr(pbb.second);
  ASSERT_OK_AND_ASSIGN(PortByBrickRsp rsp, DecodePortByBrickRsp(pr));
  EXPECT_EQ(rsp.op_ret, 0);
  EXPECT_EQ(rsp.port, 50661);

  bool found = false;
  for (const auto& info : server_.Connections()) {
    for (const auto& b : info.bricks) found = found || b == "/bricks/d2/rep3";
  }
  EXPECT_TRUE(found);
}

Status Getspec(TestRpcClient& c, const std::string& key) {
  XdrWriter args;
  Encode(GetspecReq{0, key, {}}, args);
  GD2_ASSIGN_OR_RETURN(auto reply, c.Call(kHandshakeProgram, 2, kHandshakeGetspec, args.data()));
  XdrReader r(reply.second);
  GD2_ASSIGN_OR_RETURN(GetspecRsp rsp, DecodeGetspecRsp(r));
  if (rsp.op_ret < 0) return NotFoundError("getspec failed: key=" + key);
  return OkStatus();
}

Status Ping(TestRpcClient& c) {
  GD2_ASSIGN_OR_RETURN(auto reply, c.Call(kDumpProgram, 1, kDumpPing, ""));
  if (reply.first.accept_stat != 0) return InternalError("ping refused");
  return OkStatus();
}

TEST_F(RpcServerTest, FetchspecGoesToConnectionsOfTheVolume) {
  auto fuse = Connect();
  auto other = Connect();
  auto idle = Connect();
  ASSERT_OK(Getspec(*fuse, "/rep3"));
  ASSERT_OK(Getspec(*other, "other"));
  ASSERT_OK(Ping(*idle));

  EXPECT_EQ(server_.NotifyVolfileChanged("rep3"), 1u);
  ASSERT_OK_AND_ASSIGN(CallHeader cb, fuse->WaitCallback(10s));
  EXPECT_EQ(cb.program, kCallbackProgram);
  EXPECT_EQ(cb.version, kCallbackVersion);
  EXPECT_EQ(cb.procedure, kCallbackFetchspec);
  EXPECT_EQ(cb.xid, 1u);
  EXPECT_EQ(cb.cred_flavor, kAuthNull);
  // The client re-fetches on the same connection, as glusterfs does.
  ASSERT_OK(Getspec(*fuse, "/rep3"));

  // `other` got nothing for rep3: its first callback is the one for its own volume.
  EXPECT_EQ(server_.NotifyVolfileChanged("other"), 1u);
  ASSERT_OK_AND_ASSIGN(CallHeader ocb, other->WaitCallback(10s));
  EXPECT_EQ(ocb.xid, 1u);
  ASSERT_OK(Ping(*other));
  EXPECT_EQ(other->callbacks(), 0);

  EXPECT_EQ(server_.NotifyVolfileChanged("nosuchvol"), 0u);
  EXPECT_EQ(server_.NotifyAll(), 3u);
  ASSERT_OK(idle->WaitCallback(10s).status());
}

TEST_F(RpcServerTest, AChangeAnnouncedWhileAGetspecIsAnsweredReachesThatClientAfterItsReply) {
  // The provider is reading "slow" (as a volume record is read from the store) when the change
  // is announced: the connection is not subscribed yet, so it is not counted now, but it gets
  // the FETCHSPEC after its reply, since what it was sent may predate the change.
  auto slow = Connect();
  auto bystander = Connect();
  ASSERT_OK(Ping(*bystander));  // answered, subscribed to nothing
  std::thread t([&] { EXPECT_OK(Getspec(*slow, "slow")); });
  ASSERT_TRUE(provider_.WaitEntered(10s));
  EXPECT_EQ(server_.NotifyVolfileChanged("slow"), 0u);
  EXPECT_EQ(server_.NotifyVolfileChanged("rep3"), 0u);  // not its volume: nothing later either
  provider_.Release();
  t.join();
  ASSERT_OK_AND_ASSIGN(CallHeader cb, slow->WaitCallback(10s));
  EXPECT_EQ(cb.procedure, kCallbackFetchspec);
  ASSERT_OK(Getspec(*slow, "slow"));
  ASSERT_OK(Ping(*slow));
  EXPECT_EQ(slow->callbacks(), 0);  // one callback, for "slow" only
  ASSERT_OK(Ping(*bystander));
  EXPECT_EQ(bystander->callbacks(), 0);
}

TEST_F(RpcServerTest, SlowProviderDoesNotBlockOtherConnections) {
  auto slow = Connect();
  std::thread t([&] { EXPECT_OK(Getspec(*slow, "slow")); });
  ASSERT_TRUE(provider_.WaitEntered(10s));
  auto brick = Connect();
  XdrWriter args;
  Encode(SigninReq{"/bricks/d9/x", 49200, 1}, args);
  auto reply = brick->Call(kPortmapProgram, 1, kPortmapSignin, args.data(), 10s);
  EXPECT_OK(reply);
  EXPECT_EQ(portmap_.PortOf("/bricks/d9/x"), 49200);
  // A notification for the slow connection's volume does not wait for it either.
  server_.NotifyAll();
  provider_.Release();
  t.join();
}

TEST_F(RpcServerTest, HostileConnectionIsClosedOthersContinue) {
  auto bad = Connect();
  ASSERT_OK(bad->SendRaw(Hex("ffffffff")));
  EXPECT_TRUE(bad->WaitClosed(10s));
  auto bad2 = Connect();
  ASSERT_OK(bad2->SendRaw(EncodeRecord(Hex("00000001 00000007"))));
  EXPECT_TRUE(bad2->WaitClosed(10s));
  auto good = Connect();
  EXPECT_OK(Ping(*good));
}

TEST_F(RpcServerTest, UnknownProgramGetsProgUnavail) {
  auto c = Connect();
  ASSERT_OK_AND_ASSIGN(auto reply, c->Call(1298437, 400, 14, ""));
  EXPECT_EQ(reply.first.accept_stat, static_cast<uint32_t>(AcceptStat::kProgUnavail));
  EXPECT_OK(Ping(*c));
}

TEST_F(RpcServerTest, StopClosesConnections) {
  auto c = Connect();
  ASSERT_OK(Ping(*c));
  EXPECT_EQ(server_.ConnectionCount(), 1u);
  server_.Stop();
  EXPECT_TRUE(c->WaitClosed(10s));
  EXPECT_EQ(server_.ConnectionCount(), 0u);
  // Adopt after Stop closes the socket.
  auto late = Connect();
  EXPECT_TRUE(late->WaitClosed(10s));
}

TEST(RpcServerAdoptTest, InitialBytesAreProcessedFirst) {
  MapVolfileProvider provider;
  EveryKindRegistry volfiles(provider);
  PortMap portmap;
  RpcServer server(volfiles, portmap);
  ASSERT_OK(server.Start());
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  CallHeader h;
  h.xid = 42;
  h.program = kDumpProgram;
  h.version = 1;
  h.procedure = kDumpPing;
  XdrWriter w;
  EncodeCallHeader(h, w);
  std::string rec = EncodeRecord(w.data());
  // The daemon read the first 3 bytes while sniffing the protocol; the rest is in the socket.
  ASSERT_EQ(::write(sv[1], rec.data() + 3, rec.size() - 3), static_cast<ssize_t>(rec.size() - 3));
  server.Adopt(sv[0], "unix", rec.substr(0, 3));
  char buf[64];
  ssize_t n = ::read(sv[1], buf, sizeof(buf));
  ASSERT_EQ(n, 4 + 24 + 12);
  EXPECT_EQ(std::string(buf + 4, 4), Hex("0000002a"));
  server.Stop();
  ::close(sv[1]);
}

}  // namespace
}  // namespace gd2::sunrpc

namespace gd2::sunrpc {
namespace {

// Raises the soft descriptor limit to the hard one (many sockets on both ends in one process).
void RaiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

size_t FdLimit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
}

// 1,100 connections that each sent one byte of a record (more than the old limit of 1,024
// threads) neither stop a new connection from being served at once nor stay open past the
// first-call deadline.
TEST(RpcServerLimitsTest, ManyStalledConnectionsDoNotBlockANewOne) {
  RaiseFdLimit();
  constexpr size_t kStalled = 1100;
  if (FdLimit() < 2 * kStalled + 100) GTEST_SKIP() << "descriptor limit too low: " << FdLimit();
  MapVolfileProvider provider;
  EveryKindRegistry volfiles(provider);
  PortMap portmap;
  RpcServerOptions o;
  o.first_call_timeout = 15s;  // long enough for all of them to be open at once
  o.max_connections_per_address = 2 * kStalled;
  RpcServer server(volfiles, portmap, o);
  ASSERT_OK(server.Start());
  Acceptor acceptor(server, PeerTrust::kRemote);

  std::vector<std::unique_ptr<TestRpcClient>> stalled;
  for (size_t i = 0; i < kStalled; ++i) {
    auto c = std::make_unique<TestRpcClient>();
    ASSERT_OK(c->Connect("127.0.0.1", acceptor.port()));
    ASSERT_OK(c->SendRaw(Hex("80")));
    stalled.push_back(std::move(c));
  }
  ASSERT_TRUE(WaitUntil([&] { return server.ConnectionCount() >= kStalled; }, 10s))
      << server.ConnectionCount();

  auto start = std::chrono::steady_clock::now();
  TestRpcClient fresh;
  ASSERT_OK(fresh.Connect("127.0.0.1", acceptor.port()));
  ASSERT_OK(fresh.Call(kDumpProgram, kDumpVersion, kDumpPing, "", 2s).status());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  std::printf("rpc ping with %zu stalled connections open: %lld ms\n", kStalled,
              static_cast<long long>(ms.count()));
  EXPECT_LT(ms, 1000ms);

  // The stalled ones are closed by the first-call deadline; the fresh one, which answered a
  // call, stays.
  for (auto& c : stalled) EXPECT_TRUE(c->WaitClosed(30s));
  ASSERT_OK(fresh.Call(kDumpProgram, kDumpVersion, kDumpPing, "", 2s).status());
}

// A record started but never finished is cut after record_timeout, even after good calls; a
// connection that only pinged is closed after idle_timeout; one that fetched a volfile stays.
TEST(RpcServerLimitsTest, RecordAndIdleDeadlines) {
  MapVolfileProvider provider;
  EveryKindRegistry volfiles(provider);
  provider.Set("rep3", kClientVolfile);
  PortMap portmap;
  RpcServerOptions o;
  o.record_timeout = 1s;
  o.idle_timeout = 2s;
  RpcServer server(volfiles, portmap, o);
  ASSERT_OK(server.Start());
  Acceptor acceptor(server, PeerTrust::kRemote);

  TestRpcClient slow, pinger, client;
  for (auto* c : {&slow, &pinger, &client}) ASSERT_OK(c->Connect("127.0.0.1", acceptor.port()));
  ASSERT_OK(slow.Call(kDumpProgram, kDumpVersion, kDumpPing, "").status());
  ASSERT_OK(pinger.Call(kDumpProgram, kDumpVersion, kDumpPing, "").status());
  XdrWriter args;
  Encode(GetspecReq{0, "/rep3", {}}, args);
  ASSERT_OK(
      client.Call(kHandshakeProgram, kHandshakeVersion, kHandshakeGetspec, args.data()).status());
  ASSERT_OK(slow.SendRaw(Hex("80 00 00")));
  EXPECT_TRUE(slow.WaitClosed(5s));
  EXPECT_TRUE(pinger.WaitClosed(6s));
  // The subscribed client outlived both deadlines and still gets its FETCHSPEC.
  EXPECT_EQ(server.NotifyVolfileChanged("rep3"), 1u);
  EXPECT_OK(client.WaitCallback(5s).status());
}

// Beyond max_connections_per_address, new connections from that address are closed at once.
TEST(RpcServerLimitsTest, PerAddressLimit) {
  MapVolfileProvider provider;
  EveryKindRegistry volfiles(provider);
  PortMap portmap;
  RpcServerOptions o;
  o.max_connections_per_address = 5;
  RpcServer server(volfiles, portmap, o);
  ASSERT_OK(server.Start());
  Acceptor acceptor(server, PeerTrust::kRemote);
  std::vector<std::unique_ptr<TestRpcClient>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<TestRpcClient>());
    ASSERT_OK(held.back()->Connect("127.0.0.1", acceptor.port()));
    ASSERT_OK(held.back()->Call(kDumpProgram, kDumpVersion, kDumpPing, "").status());
  }
  TestRpcClient extra;
  ASSERT_OK(extra.Connect("127.0.0.1", acceptor.port()));
  EXPECT_TRUE(extra.WaitClosed(5s));
  held.pop_back();
  ASSERT_TRUE(WaitUntil([&] { return server.ConnectionCount() == 4; }, 5s));
  TestRpcClient again;
  ASSERT_OK(again.Connect("127.0.0.1", acceptor.port()));
  EXPECT_OK(again.Call(kDumpProgram, kDumpVersion, kDumpPing, "").status());
}

}  // namespace
}  // namespace gd2::sunrpc
