// glustercli against a real glusterd2: tables, --json, secrets, exit codes and errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  RunResult Cli(std::vector<std::string> args, bool with_secret = true) {
    std::vector<std::string> argv = {DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints",
                                     daemon_->endpoint()};
    if (with_secret) {
      argv.push_back("--secret-file");
      argv.push_back(daemon_->workdir() + "/auth");
    }
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, 30s);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunResult{};
  }

  static DaemonProcess* daemon_;
};

DaemonProcess* CliTest::daemon_ = nullptr;

TEST_F(CliTest, PeerListShowsThisPeer) {
  RunResult r = Cli({"peer", "list"});
  EXPECT_EQ(r.exit.code, 0) << r.output;
  EXPECT_NE(r.output.find("ID"), std::string::npos);
  EXPECT_NE(r.output.find("PEER ADDRESSES"), std::string::npos);
  auto health = daemon_->NewClient()->Health();
  ASSERT_OK(health);
  EXPECT_NE(r.output.find(health->peer_id), std::string::npos) << r.output;
}

TEST_F(CliTest, PeerStatusShowsOnlineAndPid) {
  RunResult r = Cli({"peer", "status"});
  EXPECT_EQ(r.exit.code, 0) << r.output;
  EXPECT_NE(r.output.find("ONLINE"), std::string::npos);
  EXPECT_NE(r.output.find("yes"), std::string::npos);
  EXPECT_NE(r.output.find(std::to_string(daemon_->pid())), std::string::npos) << r.output;
}

TEST_F(CliTest, JsonIsTheApiJson) {
  RunResult r = Cli({"--json", "peer", "list"});
  ASSERT_EQ(r.exit.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.output;
  ASSERT_EQ(j.size(), 1u);
  EXPECT_TRUE(j[0].contains("peer-addresses"));
  EXPECT_TRUE(j[0].contains("client-addresses"));
  EXPECT_EQ(j[0]["online"], true);
}

TEST_F(CliTest, FilterByMetadata) {
  RunResult none = Cli({"--json", "peer", "list", "--key", "no-such-key"});
  ASSERT_EQ(none.exit.code, 0) << none.output;
  EXPECT_EQ(nlohmann::json::parse(none.output).size(), 0u);
  RunResult zone = Cli({"--json", "peer", "list", "--key", "_zone"});
  ASSERT_EQ(zone.exit.code, 0) << zone.output;
  EXPECT_EQ(nlohmann::json::parse(zone.output).size(), 1u);
}

TEST_F(CliTest, VersionAndHealthz) {
  RunResult v = Cli({"version"});
  EXPECT_EQ(v.exit.code, 0) << v.output;
  EXPECT_NE(v.output.find("glusterd2 version: " GD2_VERSION), std::string::npos) << v.output;
  RunResult h = Cli({"healthz"});
  EXPECT_EQ(h.exit.code, 0) << h.output;
  EXPECT_NE(h.output.find("healthy: yes"), std::string::npos) << h.output;
}

TEST_F(CliTest, SecretFromEnvironmentAndFlag) {
  std::string secret = daemon_->secret();
  auto r = RunCommand({"env", "GD2_AUTH_SECRET=" + secret, DaemonProcess::BuildPath("src/cli/glustercli"),
                       "--endpoints", daemon_->endpoint(), "peer", "list"},
                      30s);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit.code, 0) << r->output;
  RunResult f = Cli({"--secret", secret, "version"}, false);
  EXPECT_EQ(f.exit.code, 0) << f.output;
}

TEST_F(CliTest, WrongSecretFailsWithOneLineError) {
  RunResult r = Cli({"--secret", "not-the-secret", "peer", "list"}, false);
  EXPECT_EQ(r.exit.code, 1);
  EXPECT_EQ(r.output.rfind("Error: token signature is invalid", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("X-Request-Id"), std::string::npos) << r.output;
}

TEST_F(CliTest, UnreachableDaemonIsNamed) {
  auto r = RunCommand({DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints",
                       "http://127.0.0.1:1", "--timeout", "2", "peer", "list"},
                      30s);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit.code, 1);
  EXPECT_NE(r->output.find("cannot reach glusterd2 at http://127.0.0.1:1"), std::string::npos)
      << r->output;
}

TEST_F(CliTest, EndpointsFailOverToTheNextOne) {
  // Port 1 on loopback refuses connections; the daemon, listed second, answers.
  auto r = RunCommand({DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints",
                       "http://127.0.0.1:1, " + daemon_->endpoint(), "--secret-file",
                       daemon_->workdir() + "/auth", "peer", "status"},
                      30s);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit.code, 0) << r->output;
  EXPECT_NE(r->output.find(std::to_string(daemon_->pid())), std::string::npos) << r->output;
}

TEST_F(CliTest, BadArgumentsExitTwo) {
  RunResult r = Cli({"peer", "frobnicate"});
  EXPECT_EQ(r.exit.code, 2) << r.output;
  RunResult none = Cli({});
  EXPECT_EQ(none.exit.code, 2) << none.output;
  auto bad_ep = RunCommand(
      {DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints", "ftp://x", "peer", "list"}, 30s);
  ASSERT_OK(bad_ep);
  EXPECT_EQ(bad_ep->exit.code, 1) << bad_ep->output;
  EXPECT_NE(bad_ep->output.find("endpoint"), std::string::npos);
  RunResult help = Cli({"peer", "--help"});
  EXPECT_EQ(help.exit.code, 0);
  EXPECT_NE(help.output.find("status"), std::string::npos);
}

}  // namespace
}  // namespace gd2::testing
