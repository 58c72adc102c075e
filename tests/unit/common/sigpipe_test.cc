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

#include "support/sigpipe_state.h"

namespace gd2 {
namespace {

using testing::SigpipeBlocked;
using testing::SigpipePending;

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
    ASSERT_TRUE(default_action_.ok());
    ASSERT_FALSE(SigpipeBlocked());
    ASSERT_FALSE(SigpipePending());
  }
  void TearDown() override { SetBlocked(false); }
  testing::DefaultSigpipeAction default_action_;
};

TEST_F(SigpipeShieldTest, AWriteToAClosedSocketFailsWithEpipeAndTheProcessGoesOn) {
  {
    SigpipeShield shield;
    EXPECT_TRUE(SigpipeBlocked());
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
    EXPECT_TRUE(SigpipePending());
  }
  EXPECT_FALSE(SigpipePending());
  EXPECT_FALSE(SigpipeBlocked());
  // Nested shields, and a second write under the outer one after the inner ended.
  {
    SigpipeShield outer;
    {
      SigpipeShield inner;
      EXPECT_EQ(WriteToClosedSocket(), EPIPE);
    }
    EXPECT_TRUE(SigpipeBlocked());
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_FALSE(SigpipePending());
  EXPECT_FALSE(SigpipeBlocked());
}

TEST_F(SigpipeShieldTest, ASigpipePendingBeforeIsLeftPending) {
  SetBlocked(true);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  ASSERT_TRUE(SigpipePending());
  {
    SigpipeShield shield;
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_TRUE(SigpipePending());
  EXPECT_TRUE(SigpipeBlocked());
  Consume();
  EXPECT_FALSE(SigpipePending());
}

TEST_F(SigpipeShieldTest, AThreadThatBlocksSigpipeItselfKeepsWhatIsRaised) {
  SetBlocked(true);
  {
    SigpipeShield shield;
    EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  }
  EXPECT_TRUE(SigpipeBlocked());
  EXPECT_TRUE(SigpipePending());
  Consume();
  EXPECT_FALSE(SigpipePending());
}

TEST_F(SigpipeShieldTest, WithoutTheShieldTheWriteRaisesSigpipe) {
  // The premise of the other tests, shown with SIGPIPE blocked so that it stays pending.
  SetBlocked(true);
  EXPECT_EQ(WriteToClosedSocket(), EPIPE);
  EXPECT_TRUE(SigpipePending());
  Consume();
}

}  // namespace
}  // namespace gd2
