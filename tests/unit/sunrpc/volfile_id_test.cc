#include "sunrpc/volfile_id.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/volfile_text.h"
#include "support/status_matchers.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::testing::StatusIs;

TEST(VolfileIdTest, ParsesEveryForm) {
  struct Case {
    std::string id;
    VolfileKind kind;
    std::string volume;
    std::string extra;  // daemon, brick part or transport
  };
  const std::vector<Case> cases = {
      {"/rep3", VolfileKind::kClient, "rep3", ""},
      {"rep3", VolfileKind::kClient, "rep3", ""},
      {"/rep3.tcp", VolfileKind::kClient, "rep3", "tcp"},
      {"dist_2-x", VolfileKind::kClient, "dist_2-x", ""},
      {"rep3.vm.bricks-d1-rep3", VolfileKind::kBrick, "rep3", "vm.bricks-d1-rep3"},
      {"fvol.b1", VolfileKind::kBrick, "fvol", "b1"},
      {"v.127.0.0.1.bricks-d1-v", VolfileKind::kBrick, "v", "127.0.0.1.bricks-d1-v"},
      {"shd/rep3", VolfileKind::kDaemon, "rep3", "shd"},
      {"/shd/rep3", VolfileKind::kDaemon, "rep3", "shd"},
      {"rebalance/distrep", VolfileKind::kDaemon, "distrep", "rebalance"},
      {"gfproxy-client/v", VolfileKind::kDaemon, "v", "gfproxy-client"},
  };
  for (const auto& c : cases) {
    auto id = ParseVolfileId(c.id);
    ASSERT_OK(id);
    EXPECT_EQ(id->kind, c.kind) << c.id;
    EXPECT_EQ(id->volume, c.volume) << c.id;
    std::string extra = c.kind == VolfileKind::kDaemon  ? id->daemon
                        : c.kind == VolfileKind::kBrick ? id->brick_part
                                                        : id->transport;
    EXPECT_EQ(extra, c.extra) << c.id;
    EXPECT_EQ(VolumeOfVolfileId(c.id), c.volume);
  }
}

// The snapshot forms glusterd accepts: a snapshot's client volfile by the parent (or snapshot)
// volume name, and its bricks' volfiles in the current and the older shape.
TEST(VolfileIdTest, ParsesSnapshotForms) {
  struct Case {
    std::string id;
    VolfileKind kind;
    std::string snapshot;
    std::string volume;
    std::string brick_part;
    std::string transport;
  };
  const std::vector<Case> cases = {
      {"/snaps/s1/rep3", VolfileKind::kSnapshotClient, "s1", "rep3", "", ""},
      {"snaps/s1/rep3", VolfileKind::kSnapshotClient, "s1", "rep3", "", ""},
      {"/snaps/s1/rep3.tcp", VolfileKind::kSnapshotClient, "s1", "rep3", "", "tcp"},
      {"/snaps/s1/0a1b2c/0a1b2c.vm.run-gluster-snaps-0a1b2c-brick1-b", VolfileKind::kSnapshotBrick,
       "s1", "0a1b2c", "vm.run-gluster-snaps-0a1b2c-brick1-b", ""},
      {"/snaps/s_2/0a1b2c.10.0.0.1.bricks-d1", VolfileKind::kSnapshotBrick, "s_2", "0a1b2c",
       "10.0.0.1.bricks-d1", ""},
  };
  for (const auto& c : cases) {
    auto id = ParseVolfileId(c.id);
    ASSERT_OK(id);
    EXPECT_EQ(id->kind, c.kind) << c.id;
    EXPECT_EQ(id->snapshot, c.snapshot) << c.id;
    EXPECT_EQ(id->volume, c.volume) << c.id;
    EXPECT_EQ(id->brick_part, c.brick_part) << c.id;
    EXPECT_EQ(id->transport, c.transport) << c.id;
    EXPECT_EQ(VolumeOfVolfileId(c.id), "snaps/" + c.snapshot) << c.id;
  }
  EXPECT_TRUE(IsClientVolfileKind(VolfileKind::kSnapshotClient));
  EXPECT_FALSE(IsClientVolfileKind(VolfileKind::kSnapshotBrick));

  // "/snaps" alone is the client volfile of a volume named "snaps".
  ASSERT_OK_AND_ASSIGN(VolfileId plain, ParseVolfileId("/snaps"));
  EXPECT_EQ(plain.kind, VolfileKind::kClient);
  const std::vector<std::string> bad = {
      "/snaps/",
      "/snaps/s1",
      "/snaps/s1/",
      "/snaps//rep3",
      "/snaps/s 1/rep3",
      "/snaps/s1/a/b.vm.x",    // directory and volume differ
      "/snaps/s1/a/a",         // no brick part
      "/snaps/s1/a/a.vm.x/y",  // one directory too many
      "/snaps/s1/a/b/c.vm.x",
      "/snaps/s1/../rep3",
      "/snaps/s1/rep3.",
      "/snaps/s1/.vm.x",
  };
  for (const auto& id : bad) {
    EXPECT_THAT(ParseVolfileId(id), StatusIs(StatusCode::kInvalidArgument)) << id;
    EXPECT_EQ(VolumeOfVolfileId(id), "") << id;
  }
}

TEST(VolfileIdTest, RejectsUnsafeIds) {
  const std::vector<std::string> bad = {
      "",
      "/",
      "//etc/passwd",
      "/etc/passwd",
      "../rep3",
      "rep3/../../etc",
      "rep3..vm",
      "shd/../x",
      "shd/",
      "gluster/glustershd",
      "rep3 vm",
      "rep3\n",
      std::string("rep3\0x", 6),
      "rep3.",
      ".rep3",
      "shd/rep3.x",
      "rep3/x",
      "v$(reboot)",
      std::string(2000, 'a'),
  };
  for (const auto& id : bad) {
    EXPECT_THAT(ParseVolfileId(id), StatusIs(StatusCode::kInvalidArgument)) << id;
    EXPECT_EQ(VolumeOfVolfileId(id), "");
  }
}

// Brick paths are checked with IsBrickPathChar (api::ValidateBrickPath): a character is
// allowed in a brick path exactly when a brick volfile id may hold it, so no accepted brick has
// an id GETSPEC refuses.
TEST(VolfileIdTest, BrickIdCharactersAreTheBrickPathCharacters) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    if (c == '.' || c == '/') continue;  // separators, tested above
    const std::string id = std::string("v.host.b-x") + c + "y";
    EXPECT_EQ(ParseVolfileId(id).ok(), IsBrickPathChar(c)) << "byte " << i;
  }
}

}  // namespace
}  // namespace gd2::sunrpc
