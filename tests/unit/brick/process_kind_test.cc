#include "brick/process_kind.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/status_matchers.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::ElementsAreArray;

BrickSpec Rep3Brick() {
  BrickSpec s;
  s.volume = "rep3";
  s.volume_id = "288f34df-d3cd-485a-ac15-9c34d93585f6";
  s.brick_path = "/bricks/d1/rep3";
  s.host = "vm";
  s.port = 54070;
  s.volfile_over_tcp = true;  // as glusterd starts it
  s.volfile_server_host = "vm";
  s.volfile_server_port = 24007;
  s.peer_id = "eccbb8a2-4324-40f0-8921-6b93ecc6ce9b";
  return s;
}

TEST(DashedPathTest, DropsLeadingSlashAndDashesTheRest) {
  EXPECT_EQ(DashedPath("/bricks/d1/rep3"), "bricks-d1-rep3");
  EXPECT_EQ(DashedPath("/b"), "b");
}

// The command line of processes.txt (PID 12473), plus --volfile-server-port and -N.
TEST(BrickKindTest, ArgvMatchesGlusterd) {
  ProcessKind k = BrickKind();
  ProcessFiles f = k.files(Rep3Brick(), "/var/run/gluster", "/var/log/glusterfs");
  EXPECT_EQ(f.pid_file, "/var/run/gluster/vols/rep3/vm-bricks-d1-rep3.pid");
  EXPECT_EQ(f.log_file, "/var/log/glusterfs/bricks/bricks-d1-rep3.log");
  EXPECT_THAT(f.socket_file, ::testing::MatchesRegex("/var/run/gluster/[0-9a-f]{16}\\.socket"));
  std::vector<std::string> want = {"/usr/sbin/glusterfsd",
                                   "-s",
                                   "vm",
                                   "--volfile-server-port",
                                   "24007",
                                   "--volfile-id",
                                   "rep3.vm.bricks-d1-rep3",
                                   "-p",
                                   f.pid_file,
                                   "-S",
                                   f.socket_file,
                                   "--brick-name",
                                   "/bricks/d1/rep3",
                                   "-l",
                                   f.log_file,
                                   "--xlator-option",
                                   "*-posix.glusterd-uuid=eccbb8a2-4324-40f0-8921-6b93ecc6ce9b",
                                   "--process-name",
                                   "brick",
                                   "--brick-port",
                                   "54070",
                                   "--xlator-option",
                                   "rep3-server.listen-port=54070",
                                   "-N"};
  EXPECT_THAT(k.argv(Rep3Brick(), f), ElementsAreArray(want));
  EXPECT_EQ(k.key(Rep3Brick()), "/bricks/d1/rep3");
}

TEST(BrickKindTest, LocalVolfileReplacesVolfileServer) {
  ProcessKind k = BrickKind();
  BrickSpec s = Rep3Brick();
  s.local_volfile = "/tmp/b.vol";
  s.extra_args = {"-L", "DEBUG"};
  std::vector<std::string> argv = k.argv(s, k.files(s, "/r", "/l"));
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[1], "-f");
  EXPECT_EQ(argv[2], "/tmp/b.vol");
  EXPECT_THAT(argv, ::testing::Not(::testing::Contains("-s")));
  EXPECT_THAT(argv, ::testing::Not(::testing::Contains("--volfile-id")));
  EXPECT_EQ(argv[argv.size() - 2], "-L");
  EXPECT_EQ(argv.back(), "DEBUG");
}

TEST(BrickKindTest, SocketNamesDifferPerBrick) {
  ProcessKind k = BrickKind();
  BrickSpec a = Rep3Brick();
  BrickSpec b = Rep3Brick();
  b.brick_path = "/bricks/d2/rep3";
  EXPECT_NE(k.files(a, "/r", "/l").socket_file, k.files(b, "/r", "/l").socket_file);
}

TEST(BrickKindTest, ValidateNamesTheBadField) {
  ProcessKind k = BrickKind();
  EXPECT_OK(k.validate(Rep3Brick()));
  BrickSpec s = Rep3Brick();
  s.port = 0;
  EXPECT_THAT(k.validate(s), StatusIs(StatusCode::kInvalidArgument));
  s = Rep3Brick();
  s.brick_path = "bricks/d1";
  EXPECT_THAT(k.validate(s), StatusIs(StatusCode::kInvalidArgument));
  s = Rep3Brick();
  s.volume.clear();
  EXPECT_THAT(k.validate(s), StatusIs(StatusCode::kInvalidArgument));
}

// processes.txt PID 12560, plus --volfile-server-port and -N; one process per volume.
TEST(ShdKindTest, ArgvMatchesGlusterd) {
  ProcessKind k = ShdKind();
  BrickSpec s;
  s.volume = "rep3";
  s.volfile_over_tcp = true;  // as glusterd starts it
  s.volfile_server_host = "localhost";
  s.peer_id = "eccbb8a2-4324-40f0-8921-6b93ecc6ce9b";
  ProcessFiles f = k.files(s, "/var/run/gluster", "/var/log/glusterfs");
  EXPECT_EQ(f.pid_file, "/var/run/gluster/shd/rep3/rep3-shd.pid");
  EXPECT_EQ(k.key(s), "shd/rep3");
  std::vector<std::string> want = {"/usr/sbin/glusterfs",
                                   "-s",
                                   "localhost",
                                   "--volfile-server-port",
                                   "24007",
                                   "--volfile-id",
                                   "shd/rep3",
                                   "-p",
                                   f.pid_file,
                                   "-l",
                                   f.log_file,
                                   "-S",
                                   f.socket_file,
                                   "--xlator-option",
                                   "*replicate*.node-uuid=eccbb8a2-4324-40f0-8921-6b93ecc6ce9b",
                                   "--process-name",
                                   "glustershd",
                                   "--client-pid=-6",
                                   "-N"};
  EXPECT_THAT(k.argv(s, f), ElementsAreArray(want));
  EXPECT_OK(k.validate(s));
}

// By default bricks and self-heal daemons reach the daemon on its local socket, the only place
// they may sign in and fetch their volfiles; processes started over TCP are not current.
TEST(ProcessKindTest, DefaultVolfileServerIsTheLocalSocket) {
  for (ProcessKind k : {BrickKind(), ShdKind()}) {
    BrickSpec s = Rep3Brick();
    s.volfile_over_tcp = false;
    ProcessFiles f = k.files(s, "/run/gd2", "/var/log/gd2");
    EXPECT_EQ(f.volfile_socket, "/run/gd2/glusterd2-rpc.socket");
    std::vector<std::string> argv = k.argv(s, f);
    ASSERT_GE(argv.size(), 7u);
    EXPECT_EQ(std::vector<std::string>(argv.begin() + 1, argv.begin() + 6),
              (std::vector<std::string>{"-s", "/run/gd2/glusterd2-rpc.socket",
                                        "--volfile-server-transport", "unix", "--volfile-id"}))
        << k.name;
    EXPECT_THAT(argv, ::testing::Not(::testing::Contains("--volfile-server-port")));
    EXPECT_OK(k.validate(s));
    EXPECT_TRUE(k.current(s, f, argv)) << k.name;
    BrickSpec old = s;
    old.volfile_over_tcp = true;
    EXPECT_FALSE(k.current(s, f, k.argv(old, f))) << k.name;
  }
}

}  // namespace
}  // namespace gd2::brick
