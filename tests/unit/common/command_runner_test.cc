#include "common/command_runner.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/fake_command_runner.h"
#include "support/status_matchers.h"

namespace gd2 {
namespace {

using ::gd2::testing::FakeCommandRunner;
using ::gd2::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SystemCommandRunnerTest, CapturesOutputAndExitStatus) {
  SystemCommandRunner runner;
  ASSERT_OK_AND_ASSIGN(CommandResult r, runner.Run({{"sh", "-c", "echo out; echo err >&2; exit 4"}}));
  EXPECT_EQ(r.exit.code, 4);
  EXPECT_THAT(r.output, HasSubstr("out\n"));
  EXPECT_THAT(r.output, HasSubstr("err\n"));
}

TEST(SystemCommandRunnerTest, RunCheckedPutsExitStatusAndOutputTailInTheStatus) {
  SystemCommandRunner runner;
  auto r = runner.RunChecked({{"sh", "-c", "echo first; echo 'device busy' >&2; exit 32"}});
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(r.status().message(), HasSubstr("exit code 32"));
  EXPECT_THAT(r.status().message(), HasSubstr("device busy"));
  EXPECT_THAT(r.status().message(), HasSubstr("sh -c"));

  ASSERT_OK_AND_ASSIGN(std::string out, runner.RunChecked({{"echo", "fine"}}));
  EXPECT_EQ(out, "fine\n");
}

TEST(SystemCommandRunnerTest, TimeoutKillsAndSaysSo) {
  SystemCommandRunner runner;
  auto start = std::chrono::steady_clock::now();
  auto r = runner.Run({{"sleep", "30"}, std::chrono::milliseconds(100)});
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(r.status().message(), HasSubstr("sleep 30"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(SystemCommandRunnerTest, MissingProgramAndBadArgvAreErrors) {
  SystemCommandRunner runner;
  EXPECT_THAT(runner.Run({{"/nonexistent/mkfs"}}).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(runner.Run({{}}).status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(runner.Run({{"echo", std::string("a\0b", 3)}}).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(SystemCommandRunnerTest, SignalDeathIsNotSuccess) {
  SystemCommandRunner runner;
  auto r = runner.RunChecked({{"sh", "-c", "kill -TERM $$"}});
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(r.status().message(), HasSubstr("SIGTERM"));
}

TEST(FakeCommandRunnerTest, AnswersByPrefixInOrderAndRecordsCalls) {
  FakeCommandRunner fake;
  fake.Expect({"mkfs.xfs"}, {1, "mkfs.xfs: /dev/loop9 contains a mounted filesystem\n"}, 1);
  fake.Expect({"mkfs.xfs"}, {0, ""});
  fake.ExpectError({"losetup"}, NotFoundError("exec losetup: No such file or directory"));
  CommandRunner& runner = fake;

  auto first = runner.RunChecked({{"mkfs.xfs", "-f", "/dev/loop9"}});
  EXPECT_THAT(first.status().message(), HasSubstr("contains a mounted filesystem"));
  EXPECT_OK(runner.RunChecked({{"mkfs.xfs", "-f", "/dev/loop9"}}).status());
  EXPECT_THAT(runner.Run({{"losetup", "-f"}}).status(), StatusIs(StatusCode::kNotFound));
  auto unexpected = runner.Run({{"mount", "/dev/loop9", "/b"}});
  EXPECT_THAT(unexpected.status(), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(unexpected.status().message(), HasSubstr("mount /dev/loop9 /b"));
  EXPECT_THAT(fake.call_lines(), ElementsAre("mkfs.xfs -f /dev/loop9", "mkfs.xfs -f /dev/loop9",
                                             "losetup -f", "mount /dev/loop9 /b"));
}

TEST(FakeCommandRunnerTest, IsSafeToShareBetweenThreads) {
  FakeCommandRunner fake;
  fake.Expect({"true"}, {0, ""});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&fake] {
      for (int i = 0; i < 100; ++i) EXPECT_OK(fake.RunChecked({{"true"}}).status());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fake.calls().size(), 400u);
}

}  // namespace
}  // namespace gd2
