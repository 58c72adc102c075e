#include "common/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2 {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

class FilesTest : public ::testing::Test {
 protected:
  gd2::testing::TempDir dir_{"gd2files"};
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
};

TEST_F(FilesTest, AtomicWriteReplacesASymlinkInsteadOfWritingThroughIt) {
  std::string victim = Path("victim");
  ASSERT_OK(WriteFileAtomic(victim, "precious\n", 0644));
  ASSERT_EQ(::symlink(victim.c_str(), Path("uuid.toml").c_str()), 0);

  ASSERT_OK(WriteFileAtomic(Path("uuid.toml"), "mine\n", 0600));

  ASSERT_OK_AND_ASSIGN(std::string kept, ReadFile(victim));
  EXPECT_EQ(kept, "precious\n");
  struct stat st {};
  ASSERT_EQ(::lstat(Path("uuid.toml").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "the link itself is replaced by a regular file";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(std::string mine, ReadFile(Path("uuid.toml")));
  EXPECT_EQ(mine, "mine\n");
}

TEST_F(FilesTest, AtomicWriteLeavesNoTempFileBehind) {
  ASSERT_OK(WriteFileAtomic(Path("a"), "1", 0644));
  ASSERT_OK(WriteFileAtomic(Path("a"), "2", 0644));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(FilesTest, OpenNoFollowRefusesALinkAndLeavesItsTargetAlone) {
  std::string victim = Path("victim");
  ASSERT_OK(WriteFileAtomic(victim, "precious\n", 0644));
  std::string pid_file = Path("brick.pid");
  ASSERT_EQ(::symlink(victim.c_str(), pid_file.c_str()), 0);

  auto fd = OpenNoFollow(pid_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_THAT(fd.status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(fd.status().message(), HasSubstr("symlink"));
  EXPECT_THAT(fd.status().message(), HasSubstr(pid_file));
  ASSERT_OK_AND_ASSIGN(std::string kept, ReadFile(victim));
  EXPECT_EQ(kept, "precious\n");

  ASSERT_OK_AND_ASSIGN(int ok_fd, OpenNoFollow(Path("real.pid"), O_WRONLY | O_CREAT, 0644));
  EXPECT_GE(ok_fd, 0);
  ::close(ok_fd);
}

TEST_F(FilesTest, PrivateDirRefusesGroupOrOtherWritableAndForeignOwner) {
  std::string d = Path("run");
  ASSERT_OK(MakeDirs(d, 0755));
  EXPECT_OK(CheckPrivateDir("rundir", d));

  ASSERT_EQ(::chmod(d.c_str(), 0777), 0);
  Status s = CheckPrivateDir("rundir", d);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("writable by group or others"));
  EXPECT_THAT(s.message(), HasSubstr("0777"));
  EXPECT_THAT(s.message(), HasSubstr("chmod go-w " + d));
  ASSERT_EQ(::chmod(d.c_str(), 0775), 0);
  EXPECT_FALSE(CheckPrivateDir("rundir", d).ok());
  ASSERT_EQ(::chmod(d.c_str(), 0755), 0);

  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(d.c_str(), 65534, 65534), 0);
    Status owned = CheckPrivateDir("logdir", d);
    EXPECT_THAT(owned, StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(owned.message(), HasSubstr("owned by uid 65534"));
    ASSERT_EQ(::chown(d.c_str(), 0, 0), 0);
  }

  ASSERT_OK(WriteFileAtomic(Path("file"), "x", 0644));
  Status file = CheckPrivateDir("workdir", Path("file"));
  EXPECT_THAT(file, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(file.message(), HasSubstr("not a directory"));
}

TEST_F(FilesTest, MakeDirsKeepsTheModeOfAnExistingDirectory) {
  std::string d = Path("existing");
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0777), 0);
  ASSERT_OK(MakeDirs(d, 0755));
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0777u) << "an admin's directory is reported, not silently changed";

  ASSERT_OK(MakeDirs(Path("new/sub"), 0750));
  ASSERT_EQ(::stat(Path("new/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
}

}  // namespace
}  // namespace gd2
