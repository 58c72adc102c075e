// BrickRuntime with real glusterfsd bricks on a loop XFS: two brick groups with their own volfile
// ids and start specs (a volume, and bricks named like an activated snapshot's) fetch their
// volfiles from a real RpcServer on the run dir's socket, sign in, are adopted by a new runtime
// (as after a daemon restart) and are stopped. Needs root and glusterfs-server; skips otherwise.
#include "brick/runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "brick/prepare.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "sunrpc/portmap.h"
#include "sunrpc/rpc_server.h"
#include "sunrpc/volfile_provider.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::LoopXfs;
using Clock = std::chrono::steady_clock;

constexpr char kVolumeIdA[] = "1c0f5e2a-7b3d-4e8f-9a10-2b3c4d5e6f70";
constexpr char kVolumeIdB[] = "8e9d0c1b-2a3f-4b5c-8d6e-7f8091a2b3c4";
constexpr char kPeerId[] = "3d4e5f60-7182-4394-a5b6-c7d8e9f0a1b2";

// A brick graph (posix, locks, io-stats, protocol/server) of `volume` for `brick`; the listen
// port comes from the command line.
std::string BrickGraph(const std::string& volume, const std::string& volume_id,
                       const std::string& brick) {
  return "volume " + volume + "-posix\n    type storage/posix\n    option volume-id " + volume_id +
         "\n    option directory " + brick + "\nend-volume\n\nvolume " + volume +
         "-locks\n    type features/locks\n    subvolumes " + volume + "-posix\nend-volume\n\n" +
         "volume " + brick + "\n    type debug/io-stats\n    option unique-id " + brick +
         "\n    subvolumes " + volume + "-locks\nend-volume\n\nvolume " + volume +
         "-server\n    type protocol/server\n    option auth.addr." + brick +
         ".allow *\n    option auth-path " + brick +
         "\n    option transport.address-family inet\n    option transport-type tcp\n" +
         "    subvolumes " + brick + "\nend-volume\n";
}

// Serves the brick volfiles of one caller by exact id and records what was asked.
class GroupVolfiles : public sunrpc::VolfileProvider {
 public:
  void Add(const std::string& id, std::string text) {
    std::lock_guard<std::mutex> lock(mu_);
    specs_[id] = std::move(text);
  }
  StatusOr<std::string> GetVolfile(std::string_view volfile_id, const sunrpc::Dict&) override {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.insert(std::string(volfile_id));
    auto it = specs_.find(std::string(volfile_id));
    if (it == specs_.end()) return NotFoundError("no volfile: " + std::string(volfile_id));
    return it->second;
  }
  std::set<std::string> asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> specs_;
  std::set<std::string> asked_;
};

bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The NUL-separated command line of `pid`, as arguments.
std::vector<std::string> CommandLine(pid_t pid) {
  std::vector<std::string> args;
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text.ok()) return args;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\0', pos);
    if (end == std::string::npos) end = text->size();
    args.push_back(text->substr(pos, end - pos));
    pos = end + 1;
  }
  return args;
}

bool HasPair(const std::vector<std::string>& args, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == a && args[i + 1] == b) return true;
  }
  return false;
}

class BrickRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    if (::access("/usr/sbin/glusterfsd", X_OK) != 0) GTEST_SKIP() << "glusterfsd not installed";
    ASSERT_OK_AND_ASSIGN(fs_, LoopXfs::Create());
    dirs_ = std::make_unique<gd2::testing::TempDir>("gd2rt");
    run_dir_ = dirs_->path() + "/run";
    ASSERT_OK(MakeDirs(run_dir_));

    // Caller A: a volume. Caller B: bricks named as an activated snapshot's, with extra args.
    a_.volume = "rta";
    a_.volume_id = kVolumeIdA;
    a_.bricks = {{fs_->mount_point() + "/a1", "127.0.0.1"},
                 {fs_->mount_point() + "/a2", "127.0.0.1"}};
    b_.volume = "rtb";
    b_.volume_id = kVolumeIdB;
    b_.bricks = {{fs_->mount_point() + "/b1", "127.0.0.1"}};
    b_.volfile_id_prefix = "/snaps/snap1/rtb/";
    b_.extra_args = {"-L", "DEBUG"};
    for (const GroupBrick& b : a_.bricks) {
      ASSERT_OK(PrepareBrick(b.path, kVolumeIdA, {.create_dir = true}));
      volume_volfiles_.Add(VolfileIdOf(a_, b), BrickGraph("rta", kVolumeIdA, b.path));
    }
    for (const GroupBrick& b : b_.bricks) {
      ASSERT_OK(PrepareBrick(b.path, kVolumeIdB, {.create_dir = true}));
      snapshot_volfiles_.Add(VolfileIdOf(b_, b), BrickGraph("rtb", kVolumeIdB, b.path));
    }
    ASSERT_OK(volfiles_.Add({sunrpc::VolfileKind::kBrick, ""}, volume_volfiles_));
    ASSERT_OK(volfiles_.Add({sunrpc::VolfileKind::kSnapshotBrick, ""}, snapshot_volfiles_));
    server_ = std::make_unique<sunrpc::RpcServer>(volfiles_, portmap_);
    ASSERT_OK(server_->Start());
    ASSERT_OK(server_->ListenLocal(run_dir_ + "/" + kVolfileSocketName));
  }

  void TearDown() override {
    runtime_.reset();
    // Whatever a failed test left running, by the pids it reported.
    for (pid_t pid : pids_) {
      if (ProcessAlive(pid)) {
        ADD_FAILURE() << "brick left running: pid=" << pid;
        ::kill(pid, SIGKILL);
        WaitUntil([pid] { return !ProcessAlive(pid); }, std::chrono::seconds(5));
      }
    }
    if (server_) server_->Stop();
  }

  static std::string VolfileIdOf(const BrickGroup& g, const GroupBrick& b) {
    return g.volfile_id_prefix + g.volume + "." + b.host + "." + DashedPath(b.path);
  }

  // A new runtime, as a restarted daemon makes it.
  BrickRuntime& NewRuntime(std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20),
                           std::optional<PortAllocator::Options> ports = std::nullopt) {
    runtime_.reset();
    BrickRuntimeOptions o;
    if (ports) o.ports = *ports;
    o.run_dir = run_dir_;
    o.log_dir = dirs_->path() + "/log";
    o.peer_id = kPeerId;
    o.portmap = &portmap_;
    o.poll_interval = poll_interval;
    o.on_brick_state = [this](const BrickEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
    };
    runtime_ = std::make_unique<BrickRuntime>(std::move(o));
    return *runtime_;
  }

  // The running pid of each brick of `g` (and remembers them for TearDown).
  std::vector<pid_t> Pids(const BrickGroup& g) {
    std::vector<pid_t> out;
    for (const GroupBrick& b : g.bricks) {
      ProcessState st = runtime_->BrickState(b.path);
      EXPECT_TRUE(st.running) << b.path;
      EXPECT_GT(st.port, 0) << b.path;
      EXPECT_EQ(portmap_.PortOf(b.path), st.port) << b.path;
      out.push_back(st.pid);
      pids_.insert(st.pid);
    }
    return out;
  }

  std::vector<BrickEvent> TakeEvents() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(events_, {});
  }

  static Clock::time_point In(int seconds) { return Clock::now() + std::chrono::seconds(seconds); }

  std::unique_ptr<LoopXfs> fs_;
  std::unique_ptr<gd2::testing::TempDir> dirs_;
  std::string run_dir_;
  BrickGroup a_;
  BrickGroup b_;
  GroupVolfiles volume_volfiles_;
  GroupVolfiles snapshot_volfiles_;
  sunrpc::VolfileRegistry volfiles_;
  sunrpc::PortMap portmap_;
  std::unique_ptr<sunrpc::RpcServer> server_;
  std::unique_ptr<BrickRuntime> runtime_;
  std::set<pid_t> pids_;
  std::mutex mu_;
  std::vector<BrickEvent> events_;
};

TEST_F(BrickRuntimeTest, StartsAdoptsAndStopsBricksOfTwoGroups) {
  BrickRuntime& first = NewRuntime();
  ASSERT_OK(first.Start(a_, In(60)));
  ASSERT_OK(first.Start(b_, In(60)));
  std::vector<pid_t> pids_a = Pids(a_);
  std::vector<pid_t> pids_b = Pids(b_);
  ASSERT_EQ(pids_a.size(), 2u);
  ASSERT_EQ(pids_b.size(), 1u);
  EXPECT_EQ(first.Bricks().size(), 3u);
  EXPECT_EQ(TakeEvents().size(), 3u);  // one "up" per brick

  // Each caller's bricks run with their own volfile id and command line, and each fetched its
  // volfile from its own provider.
  for (size_t i = 0; i < a_.bricks.size(); ++i) {
    std::vector<std::string> args = CommandLine(pids_a[i]);
    EXPECT_TRUE(HasPair(args, "--volfile-id", VolfileIdOf(a_, a_.bricks[i])));
    EXPECT_FALSE(HasPair(args, "-L", "DEBUG"));
  }
  std::vector<std::string> args_b = CommandLine(pids_b[0]);
  EXPECT_TRUE(HasPair(args_b, "--volfile-id",
                      "/snaps/snap1/rtb/rtb.127.0.0.1." + DashedPath(b_.bricks[0].path)));
  EXPECT_TRUE(HasPair(args_b, "-L", "DEBUG"));
  EXPECT_EQ(volume_volfiles_.asked(),
            (std::set<std::string>{VolfileIdOf(a_, a_.bricks[0]), VolfileIdOf(a_, a_.bricks[1])}));
  EXPECT_EQ(snapshot_volfiles_.asked(), (std::set<std::string>{VolfileIdOf(b_, b_.bricks[0])}));

  // Idempotent: the same processes.
  ASSERT_OK(first.Start(a_, In(10)));
  EXPECT_EQ(Pids(a_), pids_a);

  // Daemon restart: the processes keep running and the new runtime adopts them with their ports.
  std::map<std::string, int> ports;
  for (const BrickGroup* g : {&a_, &b_}) {
    for (const GroupBrick& b : g->bricks) ports[b.path] = first.BrickState(b.path).port;
  }
  first.Shutdown();
  BrickRuntime& second = NewRuntime();
  for (pid_t pid : pids_a) EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_FALSE(second.BrickState(a_.bricks[0].path).running);
  ASSERT_OK(second.Start(a_, In(30)));
  ASSERT_OK(second.Start(b_, In(30)));
  EXPECT_EQ(Pids(a_), pids_a);
  EXPECT_EQ(Pids(b_), pids_b);
  for (const auto& [path, port] : ports) EXPECT_EQ(second.BrickState(path).port, port) << path;
  std::vector<BrickEvent> adopted = TakeEvents();
  EXPECT_EQ(adopted.size(), 3u);
  for (const BrickEvent& e : adopted) {
    EXPECT_TRUE(e.running());
    EXPECT_EQ(e.change, ProcessChange::kAdopted);
  }

  // Stopping one caller's group leaves the other's bricks alone.
  ASSERT_OK(second.Stop(a_, In(20)));
  for (pid_t pid : pids_a)
    EXPECT_TRUE(WaitUntil([pid] { return !ProcessAlive(pid); }, std::chrono::seconds(10)));
  for (const GroupBrick& b : a_.bricks) {
    EXPECT_FALSE(second.BrickState(b.path).running);
    EXPECT_EQ(portmap_.PortOf(b.path), std::nullopt);
  }
  EXPECT_TRUE(ProcessAlive(pids_b[0]));
  ASSERT_OK(second.Stop(a_, In(5)));  // idempotent
  std::vector<BrickEvent> down = TakeEvents();
  ASSERT_EQ(down.size(), 2u);
  for (const BrickEvent& e : down) {
    EXPECT_FALSE(e.running());
    EXPECT_EQ(e.change, ProcessChange::kStopped);
  }

  // A runtime that never started a group still stops what an earlier daemon left running.
  second.Shutdown();
  BrickRuntime& third = NewRuntime();
  ASSERT_OK(third.Stop(b_, In(20)));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pids_b[0]); }, std::chrono::seconds(10)));
  EXPECT_EQ(portmap_.PortOf(b_.bricks[0].path), std::nullopt);
  EXPECT_TRUE(third.Bricks().empty());
}

// A brick whose root does not carry the group's volume id is not started.
TEST_F(BrickRuntimeTest, RefusesBrickOfAnotherVolume) {
  BrickRuntime& rt = NewRuntime();
  BrickGroup wrong = a_;
  wrong.volume_id = kVolumeIdB;
  EXPECT_THAT(rt.Start(wrong, In(10)), ::gd2::testing::StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(rt.Bricks().empty());
  EXPECT_TRUE(volume_volfiles_.asked().empty());
}

// A brick that dies is restarted and reported up again as soon as the new process signs in,
// not at the monitor's next poll: here the poll interval is an hour.
TEST_F(BrickRuntimeTest, ARestartedBrickIsUpWhenItSignsIn) {
  BrickRuntime& rt = NewRuntime(std::chrono::hours(1));
  ASSERT_OK(rt.Start(a_, In(30)));
  std::vector<pid_t> before = Pids(a_);
  const std::string& path = a_.bricks[0].path;
  TakeEvents();
  auto killed_at = Clock::now();
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        for (const BrickEvent& e : events_) {
          if (e.brick_path == path && e.change == ProcessChange::kRestarted) return true;
        }
        return false;
      },
      std::chrono::seconds(20)))
      << "the restarted brick was not reported up";
  EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(10));
  std::vector<BrickEvent> events = TakeEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].change, ProcessChange::kDied);
  EXPECT_EQ(events[0].pid, before[0]);
  EXPECT_EQ(events[1].change, ProcessChange::kRestarted);
  EXPECT_NE(events[1].pid, before[0]);
  std::vector<pid_t> after = Pids(a_);
  EXPECT_EQ(after[0], events[1].pid);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_EQ(portmap_.Lookup(path)->pid, after[0]);
  ASSERT_OK(rt.Stop(a_, In(30)));
}

// A start of a brick that died and waits for its restart gives the dead process's port back to
// the pool: with three ports for two bricks, kill-and-start cycles do not run the pool dry.
TEST_F(BrickRuntimeTest, AStartOfADeadBrickGivesItsOldPortBack) {
  PortAllocator::Options ports;
  ports.base_port = 61210;
  ports.max_port = 61212;
  BrickRuntime& rt = NewRuntime(std::chrono::milliseconds(20), ports);
  ASSERT_OK(rt.Start(a_, In(30)));
  Pids(a_);
  const std::string& path = a_.bricks[0].path;
  for (int cycle = 0; cycle < 3; ++cycle) {
    pid_t pid = rt.BrickState(path).pid;
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    // Dead and waiting for its restart (100 ms and more): started now, on a new port.
    ASSERT_TRUE(WaitUntil([&] { return rt.BrickState(path).pid == 0; }, std::chrono::seconds(5)))
        << "cycle " << cycle;
    ASSERT_OK(rt.Start(a_, In(30))) << "cycle " << cycle;
    std::vector<pid_t> now = Pids(a_);
    EXPECT_NE(now[0], pid);
  }
  ASSERT_OK(rt.Stop(a_, In(30)));
}

}  // namespace
}  // namespace gd2::brick
