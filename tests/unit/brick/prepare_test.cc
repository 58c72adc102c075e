#include "brick/prepare.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "support/loop_xfs.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::LoopXfs;
using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kVol1[] = "288f34df-d3cd-485a-ac15-9c34d93585f6";
constexpr char kVol1Raw[] = "\x28\x8f\x34\xdf\xd3\xcd\x48\x5a\xac\x15\x9c\x34\xd9\x35\x85\xf6";
constexpr char kVol2[] = "9f5c38ec-6cff-42b9-89e7-c7ca131b689e";

std::optional<std::string> Xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::getxattr(path.c_str(), name, buf, sizeof(buf));
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

void SetXattr(const std::string& path, const char* name, const std::string& value) {
  ASSERT_EQ(::setxattr(path.c_str(), name, value.data(), value.size(), 0), 0) << path;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(ValidateBrickPathTest, AcceptsOnlyAbsoluteNormalisedPaths) {
  for (const char* ok : {"/b", "/bricks/d1/rep3", "/a.b/c.d/.e"}) {
    EXPECT_OK(ValidateBrickPath(ok)) << ok;
  }
  for (const char* bad : {"", "b", "bricks/d1", "/", "/a/", "/a//b", "/a/./b", "/a/../b", "/.",
                          "/a/..", "/a/c..d", "/b/`id`", "/b/a b"}) {
    EXPECT_THAT(ValidateBrickPath(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(PrepareBrickArgsTest, RejectsBadVolumeIdAndPath) {
  EXPECT_THAT(PrepareBrick("/x/y", "not-a-uuid"), StatusIs(StatusCode::kInvalidArgument));
  Status s = PrepareBrick("x/y", kVol1);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr("path=x/y"));
}

class PrepareBrickTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    auto fs = LoopXfs::Create();
    ASSERT_OK(fs);
    fs_ = std::move(fs).value();
    root_ = fs_->mount_point();
  }

  std::string Dir(const std::string& name) {
    std::string p = root_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }

  std::unique_ptr<LoopXfs> fs_;
  std::string root_;
};

TEST_F(PrepareBrickTest, SetsVolumeIdAndInternalDir) {
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  EXPECT_EQ(Xattr(b, kVolumeIdXattr), std::string(kVol1Raw, 16));
  EXPECT_FALSE(Xattr(b, kTestXattr).has_value());
  struct stat st {};
  ASSERT_EQ(::stat((b + "/.glusterfs").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_OK(VerifyBrickVolumeId(b, kVol1));
  EXPECT_THAT(VerifyBrickVolumeId(b, kVol2), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(PrepareBrickTest, IsIdempotentForTheSameVolume) {
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  // After the first brick start posix adds trusted.gfid; the same volume still passes.
  SetXattr(b, kGfidXattr, std::string(15, '\0') + "\x01");
  EXPECT_OK(PrepareBrick(b, kVol1));
  EXPECT_EQ(Xattr(b, kVolumeIdXattr), std::string(kVol1Raw, 16));
}

TEST_F(PrepareBrickTest, RefusesBrickOfAnotherVolume) {
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  PrepareOptions all;
  all.reuse = true;
  all.allow_mount_as_brick = true;
  all.allow_root_dir = true;
  Status s = PrepareBrick(b, kVol2, all);
  EXPECT_THAT(s, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(s.message(), HasSubstr(kVol1));
  EXPECT_THAT(s.message(), HasSubstr("path=" + b));
  // It says how to free the path by hand.
  EXPECT_THAT(s.message(),
              HasSubstr("remove " + b + "/.glusterfs and the trusted.glusterfs.volume-id"));
  EXPECT_EQ(Xattr(b, kVolumeIdXattr), std::string(kVol1Raw, 16));
}

TEST_F(PrepareBrickTest, RefusesOldGlusterDataUnlessReuse) {
  std::string b = Dir("old");
  SetXattr(b, kGfidXattr, std::string(15, '\0') + "\x01");
  Status s = PrepareBrick(b, kVol1);
  EXPECT_THAT(s, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(s.message(), HasSubstr("trusted.gfid"));
  EXPECT_FALSE(Xattr(b, kVolumeIdXattr).has_value());
  PrepareOptions reuse;
  reuse.reuse = true;
  EXPECT_OK(PrepareBrick(b, kVol1, reuse));
}

TEST_F(PrepareBrickTest, RefusesBrickInsideAnotherBrick) {
  std::string b = Dir("outer");
  ASSERT_OK(PrepareBrick(b, kVol1));
  std::string inner = b + "/inner";
  ASSERT_EQ(::mkdir(inner.c_str(), 0755), 0);
  Status s = PrepareBrick(inner, kVol2);
  EXPECT_THAT(s, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(s.message(), HasSubstr("use a path outside " + b));
}

TEST_F(PrepareBrickTest, MissingDirectoryNeedsCreateDir) {
  std::string b = root_ + "/new/deep/brick";
  Status s = PrepareBrick(b, kVol1);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("path=" + b));
  EXPECT_FALSE(Exists(b));
  PrepareOptions create;
  create.create_dir = true;
  ASSERT_OK(PrepareBrick(b, kVol1, create));
  EXPECT_TRUE(Exists(b + "/.glusterfs"));
}

TEST_F(PrepareBrickTest, RefusesAFile) {
  std::string f = root_ + "/file";
  std::ofstream(f) << "x";
  EXPECT_THAT(PrepareBrick(f, kVol1), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(PrepareBrickTest, RefusesMountPointUnlessAllowed) {
  Status s = PrepareBrick(root_, kVol1);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("mount point"));
  EXPECT_FALSE(Xattr(root_, kVolumeIdXattr).has_value());
  PrepareOptions allow;
  allow.allow_mount_as_brick = true;
  EXPECT_OK(PrepareBrick(root_, kVol1, allow));
  EXPECT_OK(UnprepareBrick(root_, kVol1, {.remove_internal_dir = true}));
}

TEST_F(PrepareBrickTest, RefusesRootFilesystemUnlessAllowed) {
  gd2::testing::TempDir tmp("gd2brickroot");
  struct stat root_st {
  }, tmp_st{};
  ASSERT_EQ(::stat("/", &root_st), 0);
  ASSERT_EQ(::stat(tmp.path().c_str(), &tmp_st), 0);
  if (root_st.st_dev != tmp_st.st_dev) GTEST_SKIP() << "the temp dir is not on the root fs";
  std::string b = tmp.path() + "/b";
  PrepareOptions create;
  create.create_dir = true;
  Status s = PrepareBrick(b, kVol1, create);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("root filesystem"));
  EXPECT_FALSE(Exists(b));  // refused before anything was created
  create.allow_root_dir = true;
  EXPECT_OK(PrepareBrick(b, kVol1, create));
  EXPECT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true, .remove_dir_if_empty = true}));
  EXPECT_FALSE(Exists(b));
}

TEST_F(PrepareBrickTest, ACleanupPastItsDeadlineStopsAndTheNextOneResumes) {
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  SetXattr(b, kGfidXattr, std::string(15, '\0') + "\x01");
  // A .glusterfs with entries, as a brick that held files leaves it.
  for (const char* d : {"/.glusterfs/ab", "/.glusterfs/ab/cd", "/.glusterfs/indices"}) {
    ASSERT_EQ(::mkdir((b + d).c_str(), 0700), 0) << d;
  }
  std::ofstream(b + "/.glusterfs/ab/cd/abcd0001") << "x";
  std::ofstream(b + "/user.txt") << "data";

  UnprepareOptions late{.remove_internal_dir = true};
  late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  Status s = UnprepareBrick(b, kVol1, late);
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(s.message(), HasSubstr("path=" + b + "/.glusterfs"));
  // Stopped before removing anything below .glusterfs; the root is still the volume's, so no
  // other volume can take it before the cleanup is done.
  EXPECT_TRUE(Exists(b + "/.glusterfs/ab/cd/abcd0001"));
  EXPECT_EQ(Xattr(b, kVolumeIdXattr), std::string(kVol1Raw, 16));
  EXPECT_TRUE(Xattr(b, kGfidXattr).has_value());
  EXPECT_THAT(PrepareBrick(b, kVol2), StatusIs(StatusCode::kAlreadyExists));

  // The same when its transaction gave up on it (StepContext::cancel).
  std::stop_source gave_up;
  gave_up.request_stop();
  UnprepareOptions cancelled{.remove_internal_dir = true};
  cancelled.cancel = gave_up.get_token();
  EXPECT_THAT(UnprepareBrick(b, kVol1, cancelled), StatusIs(StatusCode::kCancelled));
  EXPECT_TRUE(Exists(b + "/.glusterfs/ab/cd/abcd0001"));
  EXPECT_EQ(Xattr(b, kVolumeIdXattr), std::string(kVol1Raw, 16));

  UnprepareOptions in_time{.remove_internal_dir = true};
  in_time.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  ASSERT_OK(UnprepareBrick(b, kVol1, in_time));
  EXPECT_FALSE(Exists(b + "/.glusterfs"));
  EXPECT_FALSE(Xattr(b, kVolumeIdXattr).has_value());
  EXPECT_FALSE(Xattr(b, kGfidXattr).has_value());
  EXPECT_TRUE(Exists(b + "/user.txt"));
  EXPECT_OK(PrepareBrick(b, kVol2));
}

TEST_F(PrepareBrickTest, UnprepareKeepsUserDataAndIsIdempotent) {
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  std::ofstream(b + "/user.txt") << "data";
  SetXattr(b, kGfidXattr, std::string(15, '\0') + "\x01");
  SetXattr(b, "trusted.glusterfs.dht", std::string(16, '\x01'));
  SetXattr(b, "user.mine", "keep");

  // Another volume's undo touches nothing.
  EXPECT_THAT(UnprepareBrick(b, kVol2), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(Xattr(b, kVolumeIdXattr).has_value());

  // Plain undo: only the volume-id goes.
  ASSERT_OK(UnprepareBrick(b, kVol1));
  EXPECT_FALSE(Xattr(b, kVolumeIdXattr).has_value());
  EXPECT_TRUE(Xattr(b, kGfidXattr).has_value());
  EXPECT_TRUE(Exists(b + "/.glusterfs"));
  EXPECT_OK(UnprepareBrick(b, kVol1));

  // Delete: .glusterfs and every gluster xattr of the root go, user data stays.
  ASSERT_OK(PrepareBrick(b, kVol1, {.reuse = true}));
  ASSERT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true, .remove_dir_if_empty = true}));
  EXPECT_FALSE(Exists(b + "/.glusterfs"));
  EXPECT_FALSE(Xattr(b, kVolumeIdXattr).has_value());
  EXPECT_FALSE(Xattr(b, kGfidXattr).has_value());
  EXPECT_FALSE(Xattr(b, "trusted.glusterfs.dht").has_value());
  EXPECT_EQ(Xattr(b, "user.mine"), "keep");
  EXPECT_TRUE(Exists(b + "/user.txt"));  // so the directory was not removed either
  EXPECT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true}));
  // The directory can now serve a new volume without reuse.
  EXPECT_OK(PrepareBrick(b, kVol2));
}

// 15.7: a brick path that is, or passes through, a symlink is refused before anything is
// written, so nothing lands in the link's target.
TEST_F(PrepareBrickTest, RefusesSymlinkedBrickPaths) {
  std::string target = Dir("target");
  std::string link = root_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  PrepareOptions all{
      .create_dir = true, .reuse = true, .allow_root_dir = true, .allow_mount_as_brick = true};
  for (const std::string& path : {link, link + "/sub", link + "/new/deep"}) {
    Status s = PrepareBrick(path, kVol1, all);
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << path;
    EXPECT_THAT(s.message(), HasSubstr("symlink (" + link + ")")) << path;
    EXPECT_THAT(s.message(), HasSubstr("path=" + path));
  }
  EXPECT_FALSE(Xattr(target, kVolumeIdXattr).has_value());
  EXPECT_FALSE(Exists(target + "/.glusterfs"));
  EXPECT_FALSE(Exists(target + "/new"));
  EXPECT_THAT(VerifyBrickVolumeId(link, kVol1), StatusIs(StatusCode::kFailedPrecondition));

  // A planted .glusterfs link is not written through either.
  std::string b = Dir("b1");
  ASSERT_EQ(::symlink(target.c_str(), (b + "/.glusterfs").c_str()), 0);
  EXPECT_THAT(PrepareBrick(b, kVol1), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(::chmod(target.c_str(), 0755), 0);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "the link's target was chmod-ed";
}

// A brick swapped for a link after it was prepared: start refuses it, delete follows nothing
// and still succeeds, so the volume can go.
TEST_F(PrepareBrickTest, BrickSwappedForALinkIsNeverFollowed) {
  std::string victim = Dir("victim");
  SetXattr(victim, "trusted.glusterfs.dht", std::string(16, '\x01'));
  ASSERT_EQ(::mkdir((victim + "/.glusterfs").c_str(), 0700), 0);
  std::ofstream(victim + "/.glusterfs/keep") << "x";
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  ASSERT_EQ(::rename(b.c_str(), (root_ + "/moved").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), b.c_str()), 0);
  EXPECT_THAT(VerifyBrickVolumeId(b, kVol1), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true, .remove_dir_if_empty = true}));
  EXPECT_TRUE(Exists(victim + "/.glusterfs/keep"));
  EXPECT_TRUE(Xattr(victim, "trusted.glusterfs.dht").has_value());
  EXPECT_TRUE(Exists(b)) << "the link itself is left alone";
  // A brick that became a file is no obstacle to delete either.
  ASSERT_EQ(::unlink(b.c_str()), 0);
  std::ofstream(b) << "file";
  EXPECT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true}));
}

// Delete removes .glusterfs without following links found inside it.
TEST_F(PrepareBrickTest, UnprepareDoesNotFollowLinksInsideTheInternalDir) {
  std::string outside = Dir("outside");
  std::ofstream(outside + "/precious") << "x";
  std::string b = Dir("b1");
  ASSERT_OK(PrepareBrick(b, kVol1));
  ASSERT_EQ(::mkdir((b + "/.glusterfs/ab").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (b + "/.glusterfs/ab/link").c_str()), 0);
  std::ofstream(b + "/.glusterfs/ab/file") << "x";
  // The shape glusterfsd leaves: 256 fan-out directories, most of them empty (removed without
  // being listed), some holding a level more.
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof(name), "%02x", i);
    std::string d = b + "/.glusterfs/" + name;
    if (i != 0xab) {
      ASSERT_EQ(::mkdir(d.c_str(), 0700), 0) << d;
    }
    if (i % 64 == 1) {
      ASSERT_EQ(::mkdir((d + "/cd").c_str(), 0700), 0);
      std::ofstream(d + "/cd/gfid-link") << "x";
      ASSERT_EQ(::mkdir((d + "/empty").c_str(), 0700), 0);
      ASSERT_EQ(::symlink(outside.c_str(), (d + "/dirlink").c_str()), 0);
    }
  }
  ASSERT_OK(UnprepareBrick(b, kVol1, {.remove_internal_dir = true}));
  EXPECT_FALSE(Exists(b + "/.glusterfs"));
  EXPECT_TRUE(Exists(outside + "/precious"));
}

// 15.8: what the filesystem refuses because of the path is a 4xx-class code naming the path,
// never kInternal.
TEST_F(PrepareBrickTest, PathCausedFailuresAreNotInternal) {
  std::string file = root_ + "/file";
  std::ofstream(file) << "x";
  Status s = PrepareBrick(file + "/b", kVol1, {.create_dir = true});
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("not a directory (" + file + ")"));
  EXPECT_THAT(PrepareBrick(root_ + "/" + std::string(300, 'x'), kVol1),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(PrepareBrickProcTest, BrickUnderProcIsRefusedAsUnsupported) {
  // procfs has no trusted.* xattrs (getxattr answers ENOTSUP).
  std::string dir;
  for (const char* candidate : {"/proc/tty", "/proc/driver", "/proc/fs", "/proc/bus"}) {
    struct stat st {};
    if (::lstat(candidate, &st) == 0 && S_ISDIR(st.st_mode)) {
      dir = candidate;
      break;
    }
  }
  if (dir.empty()) GTEST_SKIP() << "no plain directory under /proc";
  Status s = PrepareBrick(dir, kVol1, {.allow_root_dir = true, .allow_mount_as_brick = true});
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("path=" + dir));
  Status created = PrepareBrick("/proc/gd2-brick", kVol1, {.create_dir = true});
  EXPECT_NE(created.code(), StatusCode::kInternal) << created.ToString();
  EXPECT_FALSE(created.ok());
  EXPECT_THAT(created.message(), HasSubstr("/proc/gd2-brick"));
}

TEST_F(PrepareBrickTest, UnprepareOfMissingPathIsOk) {
  EXPECT_OK(UnprepareBrick(root_ + "/never", kVol1, {.remove_internal_dir = true}));
}

}  // namespace
}  // namespace gd2::brick
