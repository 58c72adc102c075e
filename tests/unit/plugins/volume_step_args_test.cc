#include "plugins/volume/step_args.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"
#include "txn/engine.h"

namespace gd2::plugins::volume {
namespace {

using ::testing::HasSubstr;

constexpr char kWorkdir[] = "/var/lib/glusterd2";
const std::string kId = "bbbbbbbb-0000-4000-8000-000000000002";

nlohmann::json Good() {
  return {{"volume", "v1"}, {"volume_id", kId}, {"paths", {"/bricks/b1"}}, {"host", "node1"}, {"reuse", true}};
}

TEST(StepArgsTest, BrickSetArgumentsRoundTrip) {
  ASSERT_OK_AND_ASSIGN(BrickSetArgs a, DecodeBrickSetArgs(kPrepareBricksStep, Good(), kWorkdir));
  EXPECT_EQ(a.volume, "v1");
  EXPECT_TRUE(a.reuse);
  EXPECT_FALSE(a.create_dir);
  ASSERT_OK_AND_ASSIGN(BrickSetArgs b, DecodeBrickSetArgs(kPrepareBricksStep, EncodeBrickSetArgs(a), kWorkdir));
  EXPECT_EQ(b.paths, a.paths);
  EXPECT_EQ(b.host, a.host);
}

TEST(StepArgsTest, BadBrickSetArgumentsAreRefusedNamingTheField) {
  struct Case {
    const char* field;
    nlohmann::json value;
    const char* message;
  };
  std::vector<Case> cases = {
      {"volume", "../../victim", "volume"},
      {"volume", 42, "volume: expected string"},
      {"volume_id", "x", "volume_id"},
      {"volume_id", false, "volume_id"},
      {"paths", "/", "paths: expected array"},
      {"paths", {"relative"}, "paths[0]"},
      {"paths", {"/a/../etc"}, "paths[0]"},
      {"paths", {"/var/lib/glusterd2/store"}, "workdir"},
      {"paths", {"/var"}, "workdir"},
      {"paths", {1}, "paths[0]: expected string"},
      {"host", "a b", "host"},
      {"reuse", "yes", "reuse: expected boolean"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = Good();
    j[c.field] = c.value;
    auto a = DecodeBrickSetArgs(kDeleteBricksStep, j, kWorkdir);
    ASSERT_FALSE(a.ok()) << c.field << "=" << c.value.dump();
    EXPECT_TRUE(txn::IsBadArguments(a.status())) << a.status().ToString();
    EXPECT_THAT(a.status().message(), HasSubstr(c.message));
    EXPECT_THAT(a.status().message(), HasSubstr(kDeleteBricksStep));
  }
  EXPECT_FALSE(DecodeBrickSetArgs(kPrepareBricksStep, nlohmann::json::array(), kWorkdir).ok());
}

TEST(StepArgsTest, VolumeWorkDirStaysUnderVols) {
  ASSERT_OK_AND_ASSIGN(std::string d, VolumeWorkDir(kWorkdir, "v1"));
  EXPECT_EQ(d, "/var/lib/glusterd2/vols/v1");
  for (const char* bad : {"..", "../../victim", "", "a/b", "."}) {
    EXPECT_FALSE(VolumeWorkDir(kWorkdir, bad).ok()) << bad;
  }
}

TEST(StepArgsTest, PendingWorkOnlyKnowsBrickCleanup) {
  PendingWork w{kDeleteBricksStep, *DecodeBrickSetArgs(kDeleteBricksStep, Good(), kWorkdir)};
  ASSERT_OK_AND_ASSIGN(PendingWork back, DecodePendingWork(EncodePendingWork(w), kWorkdir));
  EXPECT_EQ(back.args.paths, w.args.paths);
  for (const char* bad : {"", "not json", "[]", R"({"step": 7})", R"({"step": "volume.prepare-bricks", "args": {}})",
                          R"({"step": "volume.delete-bricks"})", R"({"step": "volume.delete-bricks", "args": {"volume": 1}})"}) {
    auto d = DecodePendingWork(bad, kWorkdir);
    EXPECT_FALSE(d.ok()) << bad;
    EXPECT_TRUE(txn::IsBadArguments(d.status())) << d.status().ToString();
  }
}

TEST(StepArgsTest, ACleanupEndsBeforeItsStepsDeadline) {
  using std::chrono::minutes;
  using std::chrono::seconds;
  const txn::Deadline now = std::chrono::steady_clock::now();
  // A step's two minutes: the cleanup stops kCleanupMargin before the initiator gives up.
  EXPECT_EQ(CleanupDeadline(now + minutes(2), now), now + minutes(2) - kCleanupMargin);
  // A short deadline keeps most of its time (an eighth is the margin).
  EXPECT_EQ(CleanupDeadline(now + seconds(8), now), now + seconds(7));
  // Passed already: nothing more is removed; none at all: never stops.
  EXPECT_EQ(CleanupDeadline(now - seconds(1), now), now);
  EXPECT_EQ(CleanupDeadline(txn::Deadline::max(), now), txn::Deadline::max());
}

TEST(StepArgsTest, BrickStateFieldsOfAnotherTypeReadAsZero) {
  BrickStateRecord ok = ParseBrickState(R"({"pid": 12, "port": 49152})");
  EXPECT_TRUE(ok.valid);
  EXPECT_EQ(ok.pid, 12);
  EXPECT_EQ(ok.port, 49152);
  BrickStateRecord typed = ParseBrickState(R"({"pid": "12", "port": -4})");
  EXPECT_TRUE(typed.valid);
  EXPECT_EQ(typed.pid, 0);
  EXPECT_EQ(typed.port, 0);
  EXPECT_FALSE(ParseBrickState("[1]").valid);
}

}  // namespace
}  // namespace gd2::plugins::volume
