#include "common/subprocess.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <utility>

#include "common/poll.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2 {
namespace {

TEST(SubprocessTest, RunCapturesOutputAndExitCode) {
  ASSERT_OK_AND_ASSIGN(RunResult r, RunCommand({"sh", "-c", "echo hi; exit 3"},
                                               std::chrono::seconds(5)));
  EXPECT_EQ(r.output, "hi\n");
  EXPECT_EQ(r.exit.code, 3);
}

TEST(SubprocessTest, RunTimesOut) {
  auto r = RunCommand({"sleep", "5"}, std::chrono::milliseconds(50));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(SubprocessTest, MissingBinaryIsAnError) {
  SpawnOptions so;
  so.argv = {"/nonexistent/binary"};
  EXPECT_EQ(Spawn(so).status().code(), StatusCode::kNotFound);
}

TEST(SubprocessTest, StopProcessTerminates) {
  SpawnOptions so;
  so.argv = {"sleep", "30"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  EXPECT_TRUE(ProcessAlive(pid));
  ExitInfo e = StopProcess(pid, std::chrono::seconds(2));
  EXPECT_TRUE(e.signaled);
  EXPECT_FALSE(ProcessAlive(pid));
}

TEST(SubprocessTest, APidFdSignalsItsProcessAndBecomesReadableWhenItEnds) {
  SpawnOptions so;
  so.argv = {"sleep", "30"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  PidFd pidfd(pid);
  ASSERT_GE(pidfd.fd, 0) << "pidfd_open refused";
  pollfd pf{pidfd.fd, POLLIN, 0};
  EXPECT_EQ(::poll(&pf, 1, 0), 0);  // running: not readable
  PidFd moved(std::move(pidfd));
  EXPECT_EQ(pidfd.fd, -1);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  ASSERT_EQ(SignalPidFd(moved.fd, SIGTERM), 0);
  pf.fd = moved.fd;
  EXPECT_EQ(::poll(&pf, 1, 10'000), 1);  // ended
  ChildState st = CheckChild(pid);
  EXPECT_EQ(st.kind, ChildState::kExited);
  EXPECT_TRUE(st.exit.signaled);
  EXPECT_EQ(st.exit.code, 128 + SIGTERM);
  ReapPendingChildren();
  // Still names the ended (and now reaped) process only: signalling it is ESRCH, not a
  // stranger's signal.
  EXPECT_EQ(SignalPidFd(moved.fd, SIGTERM), -1);
  EXPECT_EQ(errno, ESRCH);
}

// CheckChild reads an exit without reaping on the caller's thread; the zombie is reaped in the
// background, and until then asking again gives the same answer.
TEST(SubprocessTest, CheckChildReportsTheExitAndReapsInTheBackground) {
  // The child runs until the test makes a file.
  gd2::testing::TempDir dir("gd2reap");
  std::string go = dir.path() + "/go";
  SpawnOptions so;
  so.argv = {"sh", "-c", "while [ ! -e '" + go + "' ]; do sleep 0.01; done; exit 7"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  EXPECT_EQ(CheckChild(pid).kind, ChildState::kRunning);
  std::ofstream(go) << "";

  ChildState state;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  EXPECT_TRUE(PollUntil(deadline, {std::chrono::microseconds(200), std::chrono::milliseconds(20)},
                        [&] { return (state = CheckChild(pid)).kind != ChildState::kRunning; }));
  ASSERT_EQ(state.kind, ChildState::kExited);
  EXPECT_EQ(state.exit.code, 7);
  EXPECT_FALSE(state.exit.signaled);
  EXPECT_FALSE(ProcessAlive(pid)) << "a zombie does not count as alive";

  // The background thread reaps it: then the pid is no child of ours any more.
  EXPECT_TRUE(
      PollUntil(deadline, {std::chrono::microseconds(200), std::chrono::milliseconds(20)}, [&] {
        state = CheckChild(pid);
        EXPECT_NE(state.kind, ChildState::kRunning);
        if (state.kind == ChildState::kExited) {
          EXPECT_EQ(state.exit.code, 7);
        }
        return state.kind == ChildState::kNotOurChild;
      }));
  EXPECT_EQ(::kill(pid, 0), -1) << "reaped: the pid is gone";
}

TEST(SubprocessTest, ReapPendingChildrenReapsWithoutTheDelay) {
  SpawnOptions so;
  so.argv = {"true"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  ChildState state;
  EXPECT_TRUE(PollUntil(std::chrono::steady_clock::now() + std::chrono::seconds(10),
                        {std::chrono::microseconds(200), std::chrono::milliseconds(20)},
                        [&] { return (state = CheckChild(pid)).kind != ChildState::kRunning; }));
  ASSERT_EQ(state.kind, ChildState::kExited);
  ReapPendingChildren();
  EXPECT_EQ(CheckChild(pid).kind, ChildState::kNotOurChild) << "reaped before returning";

  // The background thread, which was waiting for that child's time, still reaps the next one.
  ASSERT_OK_AND_ASSIGN(pid, Spawn(so));
  EXPECT_TRUE(PollUntil(std::chrono::steady_clock::now() + std::chrono::seconds(10),
                        {std::chrono::microseconds(200), std::chrono::milliseconds(20)},
                        [&] { return CheckChild(pid).kind == ChildState::kNotOurChild; }));
}

TEST(SubprocessTest, CheckChildNamesTheSignalAndKnowsStrangers) {
  SpawnOptions so;
  so.argv = {"sleep", "30"};
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ChildState state;
  EXPECT_TRUE(PollUntil(std::chrono::steady_clock::now() + std::chrono::seconds(10),
                        {std::chrono::microseconds(200), std::chrono::milliseconds(20)},
                        [&] { return (state = CheckChild(pid)).kind != ChildState::kRunning; }));
  ASSERT_EQ(state.kind, ChildState::kExited);
  EXPECT_TRUE(state.exit.signaled);
  EXPECT_EQ(state.exit.code, 128 + SIGKILL);

  EXPECT_EQ(CheckChild(1).kind, ChildState::kNotOurChild) << "init is not our child";
}

TEST(SubprocessTest, ChildRunsInItsWorkingDirectory) {
  gd2::testing::TempDir dir("gd2cwd");
  SpawnOptions so;
  so.argv = {"sh", "-c", "pwd > where"};
  so.working_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  auto e = WaitExit(pid, std::chrono::seconds(5));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/where"));

  so.working_dir = dir.path() + "/missing";
  EXPECT_FALSE(Spawn(so).ok()) << "a working directory that cannot be entered fails the spawn";
}

TEST(SubprocessTest, SignalDeathIsNamedAndItsCoreIsFound) {
  gd2::testing::TempDir dir("gd2core");
  SpawnOptions so;
  // The soft core limit is raised as far as the hard one allows, as glusterfsd does for itself.
  so.argv = {"sh", "-c", "ulimit -c unlimited 2>/dev/null; kill -SEGV $$"};
  so.working_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  auto e = WaitExit(pid, std::chrono::seconds(10));
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->signaled);
  EXPECT_EQ(e->code, 128 + SIGSEGV);
  std::string text = DescribeExit(*e, pid, dir.path());
  EXPECT_THAT(text, ::testing::HasSubstr("killed by signal 11 (SIGSEGV)"));
  if (e->core_dumped) {
    std::string where = CoreLocation(pid, dir.path());
    EXPECT_THAT(text, ::testing::HasSubstr(where));
    if (where.rfind("piped to ", 0) != 0) {
      EXPECT_TRUE(std::filesystem::exists(where)) << where;
      EXPECT_EQ(where.rfind(dir.path(), 0), 0u) << "a relative core_pattern lands in the cwd";
    }
  }
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(SignalName(77), "signal 77");
}

TEST(SubprocessTest, ADetachedChildHasItsOwnSessionAndNoneOfOurDescriptors) {
  // Bricks are started this way (no parent death signal, a new session): posix_spawn's path.
  gd2::testing::TempDir dir("gd2detach");
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(leaked, 3);
  SpawnOptions so;
  so.argv = {"sh", "-c",
             "[ -e /proc/self/fd/" + std::to_string(leaked) +
                 " ] && echo open > fd || echo closed > fd; "
                 "cut -d' ' -f6 /proc/self/stat > sid; echo $$ > pid; echo to-the-log"};
  so.parent_death_signal = 0;
  so.new_session = true;
  so.working_dir = dir.path();
  so.output_file = dir.path() + "/out.log";
  ASSERT_OK_AND_ASSIGN(pid_t pid, Spawn(so));
  ::close(leaked);
  auto e = WaitExit(pid, std::chrono::seconds(5));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 0);
  auto read = [&](const std::string& name) {
    std::ifstream in(dir.path() + "/" + name);
    std::string text;
    std::getline(in, text);
    return text;
  };
  EXPECT_EQ(read("fd"), "closed");
  EXPECT_EQ(read("sid"), read("pid")) << "the child leads its own session";
  EXPECT_EQ(read("out.log"), "to-the-log");

  so.argv = {"/nonexistent/binary"};
  EXPECT_EQ(Spawn(so).status().code(), StatusCode::kNotFound);
  so.argv = {"true"};
  so.working_dir = dir.path() + "/missing";
  EXPECT_FALSE(Spawn(so).ok()) << "a working directory that cannot be entered fails the spawn";
}

}  // namespace
}  // namespace gd2
