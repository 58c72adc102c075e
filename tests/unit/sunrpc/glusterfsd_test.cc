// End to end: a real glusterfsd 10.3 brick fetches its volfile from RpcServer with GETSPEC over
// the server's local unix socket, signs in through the portmap, and signs out on SIGTERM; over
// TCP the same brick is refused. Needs root (trusted.* xattrs) and the
// glusterfs-server package; skips otherwise.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/subprocess.h"
#include "sunrpc/rpc_server.h"
#include "support/ports.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using namespace std::chrono_literals;
using ::gd2::sunrpc::testing::EveryKindRegistry;
using ::gd2::sunrpc::testing::MapVolfileProvider;

constexpr char kVolumeId[] = "5b7d4c1e-2f3a-4d5b-8c6d-7e8f9a0b1c2d";
constexpr char kVolumeIdHex[] = "5b7d4c1e2f3a4d5b8c6d7e8f9a0b1c2d";

// Listens on 127.0.0.1:port and adopts every connection into the server.
class LoopbackAcceptor {
 public:
  LoopbackAcceptor(RpcServer& server, int port) : server_(server) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    GD2_CHECK(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    GD2_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    GD2_CHECK(::listen(fd_, 64) == 0);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          return;
        }
        server_.Adopt(c, "glusterfsd");
      }
    });
  }
  ~LoopbackAcceptor() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }

 private:
  RpcServer& server_;
  int fd_ = -1;
  std::thread thread_;
};

// A reduced brick graph in the shape of the golden replica3 brick volfiles: posix at the bottom,
// io-stats named after the brick path, protocol/server on top.
std::string BrickVolfile(const std::string& vol, const std::string& brick, int port) {
  std::ostringstream v;
  v << "volume " << vol << "-posix\n    type storage/posix\n    option shared-brick-count 1\n"
    << "    option volume-id " << kVolumeId << "\n    option directory " << brick
    << "\nend-volume\n\n"
    << "volume " << vol << "-locks\n    type features/locks\n    subvolumes " << vol
    << "-posix\nend-volume\n\n"
    << "volume " << brick << "\n    type debug/io-stats\n    option unique-id " << brick
    << "\n    option volume-id " << kVolumeId << "\n    subvolumes " << vol
    << "-locks\nend-volume\n\n"
    << "volume " << vol << "-server\n    type protocol/server\n"
    << "    option auth.addr." << brick << ".allow *\n    option auth-path " << brick << "\n"
    << "    option transport.address-family inet\n    option transport-type tcp\n"
    << "    option transport.socket.listen-port " << port << "\n"
    << "    subvolumes " << brick << "\nend-volume\n";
  return v.str();
}

// Runs a real brick against RpcServer: over the server's local socket (`local`), as the daemon
// starts its bricks, or over TCP as any other process could connect.
void RunBrick(bool local) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for trusted.* xattrs";
  std::error_code ec;
  if (!std::filesystem::exists("/usr/sbin/glusterfsd", ec)) {
    GTEST_SKIP() << "glusterfsd not installed";
  }
  gd2::testing::TempDir dir("gd2sunrpc");
  const std::string brick = dir.path() + "/brick";
  std::filesystem::create_directories(brick + "/.glusterfs");
  std::string id_bytes = testing::Hex(kVolumeIdHex);
  if (::setxattr(brick.c_str(), "trusted.glusterfs.volume-id", id_bytes.data(), id_bytes.size(),
                 0) != 0) {
    GTEST_SKIP() << "cannot set trusted xattrs under " << dir.path();
  }

  // "<vol>.<host>.<brick path without leading / and other / as ->".
  std::string dashed = brick.substr(1);
  std::replace(dashed.begin(), dashed.end(), '/', '-');
  const std::string vol = "sunrpce2e";
  const std::string volfile_id = vol + ".127.0.0.1." + dashed;
  const int brick_port = gd2::testing::FreePort();
  const int mgmt_port = gd2::testing::FreePort();

  MapVolfileProvider provider;
  EveryKindRegistry volfiles(provider);
  provider.Set(volfile_id, BrickVolfile(vol, brick, brick_port));
  PortMap portmap;
  std::mutex mu;
  std::condition_variable cv;
  bool signed_out = false;
  portmap.Subscribe([&](PortMapEvent e, const std::string& b, const PortMapEntry&) {
    std::lock_guard<std::mutex> lock(mu);
    if (e == PortMapEvent::kSignout && b == brick) signed_out = true;
    cv.notify_all();
  });
  RpcServer server(volfiles, portmap);
  ASSERT_OK(server.Start());
  LoopbackAcceptor acceptor(server, mgmt_port);
  const std::string socket_path = dir.path() + "/gd2.socket";
  ASSERT_OK(server.ListenLocal(socket_path));
  struct stat st {};
  ASSERT_EQ(::stat(socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> source = {"-s", "127.0.0.1", "--volfile-server-port",
                                     std::to_string(mgmt_port)};
  if (local) source = {"-s", socket_path, "--volfile-server-transport", "unix"};

  uint64_t gen = portmap.Generation();
  SpawnOptions so;
  so.argv = {"/usr/sbin/glusterfsd", "-N"};
  so.argv.insert(so.argv.end(), source.begin(), source.end());
  so.argv.insert(so.argv.end(), {"--volfile-id", volfile_id, "-p", dir.path() + "/brick.pid", "-S",
                                 dir.path() + "/brick.socket", "--brick-name", brick, "-l",
                                 dir.path() + "/brick.log", "--process-name", "brick",
                                 "--brick-port", std::to_string(brick_port), "--xlator-option",
                                 vol + "-server.listen-port=" + std::to_string(brick_port)});
  so.output_file = dir.path() + "/brick.out";
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  struct Reaper {
    pid_t pid;
    ~Reaper() { StopProcess(pid, std::chrono::seconds(5)); }
  } reaper{pid};

  if (!local) {
    // A process on the TCP port is not known to be ours: no brick volfile, no sign-in.
    EXPECT_FALSE(portmap.WaitSignin(brick, std::chrono::steady_clock::now() + 10s, gen));
    EXPECT_EQ(provider.calls(), 0);
    EXPECT_EQ(portmap.PortOf(brick), std::nullopt);
    return;
  }
  bool signed_in = portmap.WaitSignin(brick, std::chrono::steady_clock::now() + 60s, gen);
  if (!signed_in) {
    std::ifstream log(dir.path() + "/brick.log");
    std::stringstream text;
    text << log.rdbuf();
    FAIL() << "no SIGNIN from glusterfsd; brick log:\n" << text.str();
  }
  auto entry = portmap.Lookup(brick);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->port, brick_port);
  EXPECT_EQ(entry->pid, pid);
  EXPECT_EQ(provider.last_xdata().GetString("brick_name"), brick);

  // The brick's management connection fetched a volfile of the volume, so it is notified, and
  // it answers the FETCHSPEC by fetching its volfile again.
  int fetches = provider.calls();
  EXPECT_EQ(server.NotifyVolfileChanged(vol), 1u);
  EXPECT_TRUE(provider.WaitCalls(fetches + 1, 30s));

  // SIGTERM makes the brick sign out on its management connection.
  ExitInfo exit = StopProcess(pid, std::chrono::seconds(10));
  (void)exit;
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return signed_out; }));
  EXPECT_EQ(portmap.PortOf(brick), std::nullopt);
}

TEST(GlusterfsdTest, BrickOnTheLocalSocketFetchesVolfileAndSignsIn) { RunBrick(/*local=*/true); }

TEST(GlusterfsdTest, BrickOverTcpGetsNoVolfileAndCannotSignIn) { RunBrick(/*local=*/false); }

}  // namespace
}  // namespace gd2::sunrpc
