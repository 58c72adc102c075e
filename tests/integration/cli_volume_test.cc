// glustercli's volume commands against a real glusterd2: create (flags and legacy words), info,
// start, status, set/get/reset, stop and delete on bricks in plain temp directories, plus the
// exit codes and messages of bad arguments and daemon-side failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class CliVolumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(daemon_, nullptr); }

  RunResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints",
                                     daemon_->endpoint(), "--secret-file",
                                     daemon_->workdir() + "/auth"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, 60s);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunResult{};
  }

  // "127.0.0.1:<bricks>/<name>"; the directory is created so no brick flag is needed for it.
  std::string Brick(const std::string& name) {
    std::filesystem::create_directories(bricks_.path() + "/" + name);
    return "127.0.0.1:" + bricks_.path() + "/" + name;
  }

  static DaemonProcess* daemon_;
  TempDir bricks_{"gd2clivol"};
};

DaemonProcess* CliVolumeTest::daemon_ = nullptr;

TEST_F(CliVolumeTest, Lifecycle) {
  RunResult create =
      Cli({"volume", "create", "clivol1", Brick("b1"), Brick("b2"), "--allow-root-dir", "force"});
  ASSERT_EQ(create.exit.code, 0) << create.output;
  EXPECT_THAT(create.output, HasSubstr("clivol1 Volume created successfully"));
  EXPECT_THAT(create.output, HasSubstr("Volume ID: "));

  RunResult info = Cli({"volume", "info", "clivol1"});
  ASSERT_EQ(info.exit.code, 0) << info.output;
  EXPECT_THAT(info.output, HasSubstr("Volume Name: clivol1\n"));
  EXPECT_THAT(info.output, HasSubstr("Type: Distribute\n"));
  EXPECT_THAT(info.output, HasSubstr("State: Created\n"));
  EXPECT_THAT(info.output, HasSubstr("Number of Bricks: 2\n"));
  EXPECT_THAT(info.output, HasSubstr("Brick1: 127.0.0.1:" + bricks_.path() + "/b1\n"));

  RunResult list = Cli({"volume", "list"});
  ASSERT_EQ(list.exit.code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("clivol1\n"));

  RunResult start = Cli({"volume", "start", "clivol1"});
  ASSERT_EQ(start.exit.code, 0) << start.output;
  EXPECT_THAT(start.output, HasSubstr("Volume clivol1 started successfully"));
  RunResult again = Cli({"volume", "start", "clivol1"});
  EXPECT_EQ(again.exit.code, 1) << again.output;
  EXPECT_EQ(again.output.rfind("Error: ", 0), 0u) << again.output;
  EXPECT_THAT(again.output, HasSubstr("X-Request-Id"));

  RunResult status = Cli({"volume", "status", "clivol1"});
  ASSERT_EQ(status.exit.code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("BRICK ID"));
  EXPECT_THAT(status.output, HasSubstr(bricks_.path() + "/b2"));
  // Bricks sign in shortly after the start; both rows turn "yes".
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string out = Cli({"volume", "status", "clivol1"}).output;
        size_t yes = 0;
        for (size_t at = out.find("  yes  "); at != std::string::npos;
             at = out.find("  yes  ", at + 1)) {
          ++yes;
        }
        return yes == 2;
      },
      30s))
      << Cli({"volume", "status", "clivol1"}).output;
  RunResult all_status = Cli({"volume", "status"});
  ASSERT_EQ(all_status.exit.code, 0) << all_status.output;
  EXPECT_THAT(all_status.output, HasSubstr("Volume : clivol1"));

  RunResult set = Cli({"volume", "set", "clivol1", "performance.quick-read", "off"});
  ASSERT_EQ(set.exit.code, 0) << set.output;
  RunResult get = Cli({"volume", "get", "clivol1", "performance.quick-read"});
  ASSERT_EQ(get.exit.code, 0) << get.output;
  EXPECT_THAT(get.output, HasSubstr("MODIFIED"));
  EXPECT_THAT(get.output, HasSubstr("off"));
  EXPECT_THAT(get.output, HasSubstr("yes"));
  RunResult modified = Cli({"--json", "volume", "get", "clivol1", "all", "--modified"});
  ASSERT_EQ(modified.exit.code, 0) << modified.output;
  auto mj = nlohmann::json::parse(modified.output, nullptr, false);
  ASSERT_TRUE(mj.is_array()) << modified.output;
  bool found = false;
  for (const auto& o : mj) found = found || o.value("name", "") == "performance.quick-read";
  EXPECT_TRUE(found) << modified.output;
  info = Cli({"volume", "info", "clivol1"});
  EXPECT_THAT(info.output, HasSubstr("Options Reconfigured:\n"));
  EXPECT_THAT(info.output, HasSubstr("\nperformance.quick-read: off\n"));

  RunResult reset = Cli({"volume", "reset", "clivol1", "performance.quick-read"});
  ASSERT_EQ(reset.exit.code, 0) << reset.output;
  RunResult got = Cli({"--json", "volume", "get", "clivol1", "performance.quick-read"});
  ASSERT_EQ(got.exit.code, 0) << got.output;
  auto gj = nlohmann::json::parse(got.output, nullptr, false);
  EXPECT_EQ(gj.value("modified", true), false) << got.output;

  RunResult stop = Cli({"volume", "stop", "clivol1"});
  ASSERT_EQ(stop.exit.code, 0) << stop.output;
  EXPECT_THAT(stop.output, HasSubstr("Volume clivol1 stopped successfully"));

  RunResult declined = Cli({"volume", "delete", "clivol1"});  // stdin gives no "y"
  EXPECT_EQ(declined.exit.code, 1) << declined.output;
  EXPECT_EQ(Cli({"volume", "info", "clivol1"}).exit.code, 0);

  RunResult del = Cli({"-y", "volume", "delete", "clivol1"});
  ASSERT_EQ(del.exit.code, 0) << del.output;
  EXPECT_THAT(del.output, HasSubstr("Volume clivol1 deleted successfully"));
  RunResult gone = Cli({"volume", "info", "clivol1"});
  EXPECT_EQ(gone.exit.code, 1);
  EXPECT_EQ(gone.output.rfind("Error: volume not found: clivol1\n", 0), 0u) << gone.output;
  RunResult stop_gone = Cli({"volume", "stop", "clivol1"});
  EXPECT_EQ(stop_gone.exit.code, 1);
  EXPECT_EQ(stop_gone.output.rfind("Error: volume not found: clivol1\n", 0), 0u)
      << stop_gone.output;
}

TEST_F(CliVolumeTest, ArbiterFromLegacyWordsWithJson) {
  RunResult create = Cli({"--json", "volume", "create", "clivol2", "replica", "2", "arbiter", "1",
                          Brick("r1"), Brick("r2"), Brick("r3"), "--allow-root-dir", "force"});
  ASSERT_EQ(create.exit.code, 0) << create.output;
  auto j = nlohmann::json::parse(create.output, nullptr, false);
  ASSERT_TRUE(j.is_object()) << create.output;
  EXPECT_EQ(j.value("name", ""), "clivol2");
  EXPECT_EQ(j.value("type", ""), "Replicate");

  RunResult info = Cli({"volume", "info", "clivol2"});
  ASSERT_EQ(info.exit.code, 0) << info.output;
  EXPECT_THAT(info.output, HasSubstr("Number of Bricks: 1 x (2 + 1) = 3\n"));
  EXPECT_THAT(info.output, HasSubstr("/r3 (arbiter)\n"));

  ASSERT_EQ(Cli({"volume", "start", "clivol2"}).exit.code, 0);
  RunResult heal = Cli({"volume", "heal", "info", "clivol2"});
  ASSERT_EQ(heal.exit.code, 0) << heal.output;
  EXPECT_THAT(heal.output, HasSubstr("Brick 127.0.0.1:" + bricks_.path() + "/r1\n"));
  EXPECT_THAT(heal.output, HasSubstr("Number of entries: "));

  EXPECT_EQ(Cli({"volume", "stop", "clivol2"}).exit.code, 0);
  RunResult del = Cli({"-y", "volume", "delete", "clivol2"});
  EXPECT_EQ(del.exit.code, 0) << del.output;
}

TEST_F(CliVolumeTest, BadArgumentsExitTwoWithoutTouchingTheDaemon) {
  RunResult count = Cli({"volume", "create", "clivol3", "replica", "3", Brick("c1"), Brick("c2")});
  EXPECT_EQ(count.exit.code, 2) << count.output;
  EXPECT_THAT(count.output, HasSubstr("brick count 2 is not a multiple of replica count 3"));
  RunResult set = Cli({"volume", "set", "clivol3", "performance.quick-read"});
  EXPECT_EQ(set.exit.code, 2) << set.output;
  RunResult reset = Cli({"volume", "reset", "clivol3"});
  EXPECT_EQ(reset.exit.code, 2) << reset.output;
  RunResult missing = Cli({"volume", "create"});
  EXPECT_EQ(missing.exit.code, 2) << missing.output;
  EXPECT_EQ(Cli({"volume", "info", "clivol3"}).exit.code, 1);
}

TEST_F(CliVolumeTest, UnknownBrickHostIsNamed) {
  RunResult r = Cli({"volume", "create", "clivol4", "no-such-node:/bricks/b1"});
  EXPECT_EQ(r.exit.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no-such-node"));
}

}  // namespace
}  // namespace gd2::testing
