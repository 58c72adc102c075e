// The test support's FreePort: a port it hands out is claimed for the whole process, so another
// test binary running at the same time (ctest -j) does not get it.
#include "support/ports.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <set>
#include <string>

namespace gd2::testing {
namespace {

// Whether the abstract socket that claims `port` can be bound here (it cannot while a process,
// this one included, holds the claim).
bool ClaimIsFree(int port) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::string name = "gd2-test-port-" + std::to_string(port);
  std::copy(name.begin(), name.end(), a.sun_path + 1);
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  int r = ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  int err = errno;
  ::close(fd);
  if (r != 0) {
    EXPECT_EQ(err, EADDRINUSE);
  }
  return r == 0;
}

TEST(FreePortTest, APortHandedOutIsClaimedUntilTheProcessEnds) {
  std::set<int> ports;
  for (int i = 0; i < 20; ++i) ports.insert(FreePort());
  EXPECT_EQ(ports.size(), 20u);  // never the same port twice
  for (int port : ports) {
    EXPECT_FALSE(ClaimIsFree(port)) << port;
  }
  // A child process (as another test binary would) sees every one of them claimed; its own
  // FreePort would skip them.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int held = 0;
    for (int port : ports) held += ClaimIsFree(port) ? 0 : 1;
    ::_exit(held == static_cast<int>(ports.size()) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(FreePortTest, AClaimEndsWithTheProcessThatHeldIt) {
  // A child takes a port and exits; the claim goes with it.
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    int port = FreePort();
    bool held = !ClaimIsFree(port);
    ssize_t n = ::write(pipefd[1], &port, sizeof(port));
    ::_exit(held && n == sizeof(port) ? 0 : 1);
  }
  ::close(pipefd[1]);
  int port = 0;
  ASSERT_EQ(::read(pipefd[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  ::close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(ClaimIsFree(port));
}

}  // namespace
}  // namespace gd2::testing
