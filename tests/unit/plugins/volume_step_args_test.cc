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

// One step for every brick peer: each path names its peer, and each peer takes its own.
TEST(StepArgsTest, PathPeersRoundTripAndEachPeerTakesItsOwn) {
  const std::string p1 = "aaaaaaaa-0000-4000-8000-000000000001";
  const std::string p2 = "aaaaaaaa-0000-4000-8000-000000000002";
  nlohmann::json j = Good();
  j["paths"] = {"/bricks/b1", "/bricks/b2", "/bricks/b3"};
  j["path_peers"] = {p1, p2, p1};
  ASSERT_OK_AND_ASSIGN(BrickSetArgs a, DecodeBrickSetArgs(kPrepareBricksStep, j, kWorkdir));
  EXPECT_EQ(a.path_peers, (std::vector<std::string>{p1, p2, p1}));
  ASSERT_OK_AND_ASSIGN(BrickSetArgs b,
                       DecodeBrickSetArgs(kPrepareBricksStep, EncodeBrickSetArgs(a), kWorkdir));
  EXPECT_EQ(b.paths, a.paths);
  EXPECT_EQ(b.path_peers, a.path_peers);

  BrickSetArgs own = OwnBricks(a, p1);
  EXPECT_EQ(own.paths, (std::vector<std::string>{"/bricks/b1", "/bricks/b3"}));
  EXPECT_TRUE(own.path_peers.empty());
  EXPECT_EQ(own.volume, "v1");
  EXPECT_TRUE(own.reuse);
  EXPECT_EQ(OwnBricks(a, p2).paths, (std::vector<std::string>{"/bricks/b2"}));
  EXPECT_TRUE(OwnBricks(a, "aaaaaaaa-0000-4000-8000-000000000009").paths.empty());
  // A delete names each path's host too; each peer takes the host of its own.
  j["path_hosts"] = {"node1", "node2", "node1"};
  ASSERT_OK_AND_ASSIGN(a, DecodeBrickSetArgs(kDeleteBricksStep, j, kWorkdir));
  ASSERT_OK_AND_ASSIGN(b, DecodeBrickSetArgs(kDeleteBricksStep, EncodeBrickSetArgs(a), kWorkdir));
  EXPECT_EQ(b.path_hosts, a.path_hosts);
  EXPECT_EQ(OwnBricks(a, p2).host, "node2");
  EXPECT_EQ(OwnBricks(a, p1).host, "node1");
  EXPECT_TRUE(OwnBricks(a, p1).path_hosts.empty());
  // Without path_peers (every record written before them): all paths are this peer's.
  ASSERT_OK_AND_ASSIGN(BrickSetArgs old, DecodeBrickSetArgs(kPrepareBricksStep, Good(), kWorkdir));
  EXPECT_FALSE(EncodeBrickSetArgs(old).contains("path_peers"));
  EXPECT_EQ(OwnBricks(old, p1).paths, old.paths);
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
      {"path_peers", "x", "path_peers: expected array"},
      {"path_peers", nlohmann::json::array(), "path_peers: expected one peer id per path"},
      {"path_peers", {"not-a-peer"}, "path_peers[0]: not a peer id"},
      {"path_peers", {7}, "path_peers[0]: not a peer id"},
      {"path_hosts", {"node1"}, "path_hosts: expected one host per path, with path_peers"},
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
  nlohmann::json j = Good();
  j["path_peers"] = {"aaaaaaaa-0000-4000-8000-000000000001"};
  for (const nlohmann::json& hosts : {nlohmann::json("node1"), nlohmann::json::array({"a b"}),
                                      nlohmann::json::array({5}), nlohmann::json::array()}) {
    j["path_hosts"] = hosts;
    auto a = DecodeBrickSetArgs(kDeleteBricksStep, j, kWorkdir);
    ASSERT_FALSE(a.ok()) << hosts.dump();
    EXPECT_THAT(a.status().message(), HasSubstr("path_hosts"));
  }
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
