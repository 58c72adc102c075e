// SigpipeShield with SIGPIPE's default action in force, so a SIGPIPE that got through would end
// this test binary: a write to a closed socket under the shield fails with EPIPE and the process
// goes on; the thread's mask is restored; a SIGPIPE pending before, or raised in a thread that
// blocks SIGPIPE itself, is left pending.
#include "common/sigpipe.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <gtest/gtest.h>

namespace gd2 {
namespace {

bool Blocked() {
  sigset_t now;
  sigemptyset(&now);
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, SIGPIPE) == 1;
}

bool Pending() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

void Consume() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  timespec now{};
  sigtimedwait(&pipe, nullptr, &now);
}

void SetBlocked(bool blocked) {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &pipe, nullptr);
}

// A write on a socket whose peer is gone: -1/EPIPE, and SIGPIPE raised in this thread.
int WriteToClosedSocket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return -1;
  ::close(fds[1]);
  errno = 0;
  ssize_t n = ::write(fds[0], "x", 1);
  int err = n < 0 ? errno : 0;
  ::close(fds[0]);
  return err;
}

class SigpipeShieldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old_), 0);
    ASSERT_FALSE(Blocked());
    ASSERT_FALSE(Pending());
  }
  void TearDown() override {
    SetBlocked(false);
    ::sigaction(SIGPIPE, &old_, nullptr);
  }
  struct sigaction old_ {};
};

TEST_F(SigpipeShieldTest, AWriteToAClosedSocketFailsWithEpipeAndTheProcessGoesOn) {
  {
    SigpipeShield shield;
    EXPECT_TRUE(Blocked());
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
    EXPECT_TRUE(Pending());
  }
  EXPECT_FALSE(Pending());
  EXPECT_FALSE(Blocked());
  // Nested shields, and a second write under the outer one after the inner ended.
  {
    SigpipeShield outer;
    {
      SigpipeShield inner;
      EXPECT_EQ(WriteToClosedSocket(), EPIPE);
    }
    EXPECT_TRUE(Blocked());
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_FALSE(Pending());
  EXPECT_FALSE(Blocked());
}

TEST_F(SigpipeShieldTest, ASigpipePendingBeforeIsLeftPending) {
  SetBlocked(true);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  ASSERT_TRUE(Pending());
  {
    SigpipeShield shield;
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_TRUE(Pending());
  EXPECT_TRUE(Blocked());
  Consume();
  EXPECT_FALSE(Pending());
}

TEST_F(SigpipeShieldTest, AThreadThatBlocksSigpipeItselfKeepsWhatIsRaised) {
  SetBlocked(true);
  {
    SigpipeShield shield;
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_TRUE(Blocked());
  EXPECT_TRUE(Pending());
  Consume();
  EXPECT_FALSE(Pending());
}

TEST_F(SigpipeShieldTest, WithoutTheShieldTheWriteRaisesSigpipe) {
  // The premise of the other tests, shown with SIGPIPE blocked so that it stays pending.
  SetBlocked(true);
  EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  EXPECT_TRUE(Pending());
  Consume();
}

}  // namespace
}  // namespace gd2
