#include "common/subprocess.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

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

}  // namespace
}  // namespace gd2
