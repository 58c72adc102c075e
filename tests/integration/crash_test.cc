// Crashes in the middle of a transaction (failpoints kill the daemon as kill -9 would): after a
// restart the recovery pass leaves no half-created volume, no brick state and no brick process.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/volume_req.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kHost = "127.0.0.22";

nlohmann::json Rep3(const std::string& name, const std::string& root) {
  api::VolCreateReq req;
  req.name = name;
  req.force = true;
  api::SubvolReq sv;
  sv.type = "replicate";
  sv.replica = 3;
  for (int i = 1; i <= 3; ++i) {
    std::string p = root + "/" + name + std::to_string(i);
    fs::create_directories(p);
    sv.bricks.push_back({kHost, p, ""});
  }
  req.subvols.push_back(sv);
  return req;
}

int CountBrickProcesses(const std::string& root) {
  auto r = RunCommand({"pgrep", "-f", "brick-name " + root}, 5s);
  if (!r.ok() || r->exit.code != 0) return 0;
  return static_cast<int>(std::count(r->output.begin(), r->output.end(), '\n'));
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    ASSERT_OK_AND_ASSIGN(fs_, LoopXfs::Create());
  }
  std::unique_ptr<LoopXfs> fs_;
};

TEST_F(CrashTest, CrashAfterPreparingBricksLeavesNoVolume) {
  DaemonOptions o;
  o.host = kHost;
  o.client_port = 24007;
  o.env["GD2_FAILPOINT"] = "txn.after-step:volume.prepare-bricks";
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  auto c = d.NewClient();
  nlohmann::json req = Rep3("crash1", fs_->mount_point());
  auto r = c->Do("POST", "/v1/volumes", req);
  EXPECT_FALSE(r.ok()) << "the failpoint should have killed the daemon";
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(d.pid()); }, 10s));
  // The bricks were prepared before the crash.
  EXPECT_TRUE(fs::exists(fs_->mount_point() + "/crash11/.glusterfs"));

  // Restart without the failpoint: recovery undoes the prepare, the volume never existed.
  d.Kill();
  ASSERT_TRUE(d.StartWithEnv({}));
  c = d.NewClient();
  EXPECT_THAT(c->Do("GET", "/v1/volumes/crash1"), StatusIs(StatusCode::kNotFound));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(fs::exists(fs_->mount_point() + "/crash1" + std::to_string(i) + "/.glusterfs"))
        << "brick " << i << " still prepared after recovery";
  }
  EXPECT_NE(d.ReadLog().find("rolling back unfinished transaction"), std::string::npos);
  // And the same create now succeeds.
  auto again = c->Do("POST", "/v1/volumes", req);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  auto del = c->Do("DELETE", "/v1/volumes/crash1");
  EXPECT_TRUE(del.ok()) << del.status().ToString();
}

TEST_F(CrashTest, CrashBeforeCommittingStartStopsTheBricks) {
  DaemonOptions o;
  o.host = kHost;
  o.client_port = 24007;
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  auto c = d.NewClient();
  nlohmann::json req = Rep3("crash2", fs_->mount_point());
  ASSERT_OK(c->Do("POST", "/v1/volumes", req));
  d.Kill();
  ASSERT_TRUE(d.StartWithEnv({{"GD2_FAILPOINT", "txn.before-commit"}}));
  c = d.NewClient();
  EXPECT_FALSE(c->Do("POST", "/v1/volumes/crash2/start", nlohmann::json::object()).ok());
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(d.pid()); }, 10s));
  // The bricks were started (and outlive the daemon by design) but the start never committed.
  EXPECT_EQ(CountBrickProcesses(fs_->mount_point() + "/crash2"), 3);
  d.Kill();
  ASSERT_TRUE(d.StartWithEnv({}));
  c = d.NewClient();
  ASSERT_OK_AND_ASSIGN(nlohmann::json v, c->Do("GET", "/v1/volumes/crash2"));
  EXPECT_EQ(v["state"], "Created");
  EXPECT_TRUE(WaitFor([&] { return CountBrickProcesses(fs_->mount_point() + "/crash2") == 0; }, 20s))
      << "recovery left brick processes of an uncommitted start";
  auto del = c->Do("DELETE", "/v1/volumes/crash2");
  EXPECT_TRUE(del.ok()) << del.status().ToString();
}

}  // namespace
}  // namespace gd2::testing
