#include "brick/mountinfo.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::StatusIs;

TEST(MountInfoTest, ParsesLineWithOptionalFields) {
  ASSERT_OK_AND_ASSIGN(
      MountEntry e,
      ParseMountInfoLine("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:7 - ext3 "
                         "/dev/root rw,errors=continue"));
  EXPECT_EQ(e.mount_id, 36);
  EXPECT_EQ(e.parent_id, 35);
  EXPECT_EQ(e.device_number, "98:0");
  EXPECT_EQ(e.root, "/mnt1");
  EXPECT_EQ(e.mount_point, "/mnt/parent");
  EXPECT_EQ(e.mount_options, "rw,noatime");
  EXPECT_EQ(e.optional_fields, (std::vector<std::string>{"master:1", "shared:7"}));
  EXPECT_EQ(e.fs_type, "ext3");
  EXPECT_EQ(e.source, "/dev/root");
  EXPECT_EQ(e.super_options, "rw,errors=continue");
}

TEST(MountInfoTest, UnescapesOctalSequences) {
  ASSERT_OK_AND_ASSIGN(MountEntry e,
                       ParseMountInfoLine("100 1 7:3 / /srv/my\\040bricks\\011x\\134y rw - xfs "
                                          "/dev/loop\\0403 rw,attr2"));
  EXPECT_EQ(e.mount_point, "/srv/my bricks\tx\\y");
  EXPECT_EQ(e.source, "/dev/loop 3");
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"},     {"a\\040b", "a b"},   {"\\012", "\n"},
      {"\\134\\134", "\\\\"}, {"\\04", "\\04"},  // too short: kept
      {"\\0a0", "\\0a0"},                        // not octal: kept
      {"\\777", "\\777"},                        // beyond a byte: kept
      {"end\\", "end\\"},     {"\\101\\102", "AB"},
  };
  for (const auto& c : cases) EXPECT_EQ(UnescapeMountField(c.in), c.out) << c.in;
}

TEST(MountInfoTest, RefusesMalformedLines) {
  const std::vector<std::string> bad = {
      "",
      "36 35 98:0 /mnt1 /mnt/parent rw",                               // too few fields
      "36 35 98:0 /mnt1 /mnt/parent rw master:1 ext3 /dev/root rw x",  // no separator
      "x 35 98:0 / /mnt rw - ext3 /dev/root rw",                       // id not a number
      "36 -1 98:0 / /mnt rw - ext3 /dev/root rw",
      "36 35 980 / /mnt rw - ext3 /dev/root rw",      // no major:minor
      "36 35 98:0 / mnt rw - ext3 /dev/root rw",      // relative mount point
      "36 35 98:0 / /mnt rw a b c - ext3 /dev/root",  // too few after separator
      "36 35 98:0 / /mnt rw - ext3 /dev/root rw " + std::string(kMaxMountInfoLineBytes, 'o'),
  };
  for (const auto& line : bad) {
    EXPECT_THAT(ParseMountInfoLine(line), StatusIs(StatusCode::kInvalidArgument)) << line;
  }
}

TEST(MountInfoTest, SkipsBadLinesAndBoundsTheInput) {
  ASSERT_OK_AND_ASSIGN(std::vector<MountEntry> mounts,
                       ParseMountInfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                      "garbage\n"
                                      "2 1 7:0 / /b rw - xfs /dev/loop0 rw\n"));
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[1].mount_point, "/b");

  std::string many;
  for (size_t i = 0; i <= kMaxMountInfoLines; ++i) many += "\n";
  EXPECT_THAT(ParseMountInfo(many), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(ParseMountInfo(std::string(kMaxMountInfoBytes + 1, 'x')),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(MountInfoTest, FindsTheMountHoldingAPath) {
  ASSERT_OK_AND_ASSIGN(std::vector<MountEntry> mounts,
                       ParseMountInfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                      "2 1 7:0 / /bricks rw - xfs /dev/loop0 rw\n"
                                      "3 2 7:1 / /bricks/d1 rw,noatime - xfs /dev/loop1 rw,attr2\n"
                                      "4 2 7:2 / /bricks/d1 rw - xfs /dev/loop2 rw\n"
                                      "5 1 7:3 / /bricks/d10 rw - xfs /dev/loop3 rw\n"
                                      "6 1 7:4 / /my\\040dir rw - xfs /dev/loop4 rw\n"));
  struct Case {
    std::string path;
    std::string source;
  };
  const std::vector<Case> cases = {
      {"/", "/dev/sda1"},
      {"/etc/passwd", "/dev/sda1"},
      {"/bricks", "/dev/loop0"},
      {"/bricks/d2", "/dev/loop0"},
      {"/bricks/d1/vol", "/dev/loop2"},  // mounted over loop1
      {"/bricks/d1", "/dev/loop2"},
      {"/bricks/d10/b", "/dev/loop3"},  // not /bricks/d1
      {"/bricks/d1x", "/dev/loop0"},
      {"/my dir/b", "/dev/loop4"},
  };
  for (const auto& c : cases) {
    auto m = MountContaining(mounts, c.path);
    ASSERT_TRUE(m.has_value()) << c.path;
    EXPECT_EQ(m->source, c.source) << c.path;
  }
  EXPECT_FALSE(MountContaining(mounts, "relative").has_value());
  EXPECT_FALSE(MountContaining({}, "/b").has_value());
}

TEST(MountInfoTest, CombinesMountAndSuperblockOptions) {
  MountEntry e;
  e.mount_options = "rw,relatime";
  e.super_options = "rw,attr2,inode64,noquota";
  EXPECT_EQ(CombinedMountOptions(e), "rw,relatime,attr2,inode64,noquota");
  e.mount_options = "ro";
  e.super_options = "";
  EXPECT_EQ(CombinedMountOptions(e), "ro");
}

// The real /proc/self/mountinfo: a loop XFS mount is found with its loop device.
TEST(MountInfoTest, FindsLoopXfsMountOfThisProcess) {
  GD2_SKIP_UNLESS_LOOP_XFS();
  ASSERT_OK_AND_ASSIGN(auto fs, gd2::testing::LoopXfs::Create());
  ASSERT_OK_AND_ASSIGN(MountEntry m, MountOfPath(fs->mount_point() + "/brick1"));
  EXPECT_EQ(m.mount_point, fs->mount_point());
  EXPECT_EQ(m.source, fs->device());
  EXPECT_EQ(m.fs_type, "xfs");
  EXPECT_NE(CombinedMountOptions(m).find("rw"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(MountEntry root, MountOfPath("/"));
  EXPECT_EQ(root.mount_point, "/");
}

}  // namespace
}  // namespace gd2::brick
