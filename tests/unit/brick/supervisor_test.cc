#include "brick/supervisor.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "brick/prepare.h"
#include "common/files.h"
#include "common/log.h"
#include "common/subprocess.h"
#include "support/loop_xfs.h"
#include "support/ports.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::brick {
namespace {

using ::gd2::testing::LoopXfs;
using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr char kVolumeId[] = "6a2c1f3e-0b7d-4d0e-9a51-3c8e2f417b90";
constexpr char kPeerId[] = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

// A small brick graph (posix, locks, index, io-stats, protocol/server) in the shape of
// volfiles/replica3/*.vol; the listen port comes from the command line.
std::string BrickVolfile(const std::string& volume, const std::string& brick) {
  return "volume " + volume + "-posix\n    type storage/posix\n    option volume-id " + kVolumeId +
         "\n    option directory " + brick +
         "\nend-volume\n\n"
         "volume " +
         volume + "-locks\n    type features/locks\n    subvolumes " + volume +
         "-posix\nend-volume\n\n"
         "volume " +
         volume + "-index\n    type features/index\n    option index-base " + brick +
         "/.glusterfs/indices\n    subvolumes " + volume +
         "-locks\nend-volume\n\n"
         "volume " +
         brick + "\n    type debug/io-stats\n    option unique-id " + brick + "\n    subvolumes " +
         volume +
         "-index\nend-volume\n\n"
         "volume " +
         volume + "-server\n    type protocol/server\n    option auth.addr." + brick +
         ".allow *\n    option auth-path " + brick +
         "\n    option transport.address-family inet\n    option transport-type tcp\n"
         "    subvolumes " +
         brick + "\nend-volume\n";
}

// Pids of processes whose command line mentions `needle`.
std::vector<pid_t> PidsMentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline.ok() && cmdline->find(needle) != std::string::npos) pids.push_back(pid);
  }
  ::closedir(d);
  return pids;
}

bool Gone(pid_t pid) { return !ProcessAlive(pid); }

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto delay = std::chrono::milliseconds(1);
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
  return true;
}

using Event = ProcessEvent;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    if (::access("/usr/sbin/glusterfsd", X_OK) != 0) GTEST_SKIP() << "glusterfsd not installed";
    auto fs = LoopXfs::Create();
    ASSERT_OK(fs);
    fs_ = std::move(fs).value();
    dirs_ = std::make_unique<gd2::testing::TempDir>("gd2sup");
  }

  void TearDown() override {
    for (auto& s : supervisors_) {
      if (s) s->StopAll(Clock::now() + std::chrono::seconds(5)).IgnoreError();
    }
    supervisors_.clear();
    // Whatever a failed test left behind: every process started here mentions the temp dirs.
    for (const std::string& needle : {fs_ ? fs_->mount_point() : "", dirs_ ? dirs_->path() : ""}) {
      if (needle.empty()) continue;
      for (pid_t pid : PidsMentioning(needle)) {
        ::kill(pid, SIGKILL);
        WaitFor([pid] { return ::waitpid(pid, nullptr, WNOHANG) != 0 && Gone(pid); },
                std::chrono::seconds(5));
        ADD_FAILURE() << "process left behind: pid=" << pid;
      }
    }
  }

  // Prepares a brick directory on the loop filesystem and a volfile for it.
  BrickSpec MakeBrick(const std::string& name) {
    BrickSpec s;
    s.volume = "sv";
    s.volume_id = kVolumeId;
    s.brick_path = fs_->mount_point() + "/" + name;
    s.host = "127.0.0.1";
    s.port = gd2::testing::FreePort();
    s.peer_id = kPeerId;
    s.local_volfile = dirs_->path() + "/" + name + ".vol";
    EXPECT_OK(PrepareBrick(s.brick_path, kVolumeId, {.create_dir = true}));
    std::ofstream(s.local_volfile) << BrickVolfile(s.volume, s.brick_path);
    return s;
  }

  Supervisor& NewSupervisor(std::function<bool(const BrickSpec&)> ready = nullptr,
                            std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20),
                            std::chrono::milliseconds backoff = std::chrono::milliseconds(100)) {
    SupervisorOptions o;
    o.run_dir = dirs_->path() + "/run";
    o.log_dir = dirs_->path() + "/log";
    o.ready = std::move(ready);
    o.poll_interval = poll_interval;
    o.backoff_initial = backoff;
    o.on_state_change = [this](const ProcessEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
    };
    supervisors_.push_back(std::make_unique<Supervisor>(std::move(o)));
    return *supervisors_.back();
  }

  std::vector<Event> Events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

  static Clock::time_point In(int seconds) { return Clock::now() + std::chrono::seconds(seconds); }

  std::unique_ptr<LoopXfs> fs_;
  std::unique_ptr<gd2::testing::TempDir> dirs_;
  std::vector<std::unique_ptr<Supervisor>> supervisors_;
  std::mutex mu_;
  std::vector<Event> events_;
};

TEST_F(SupervisorTest, StartsBrickUntilReadyAndStopsIt) {
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  ASSERT_OK(sup.Start(spec, In(30)));

  ProcessState st = sup.State(spec.brick_path);
  ASSERT_TRUE(st.running);
  EXPECT_GT(st.pid, 0);
  EXPECT_EQ(st.port, spec.port);
  EXPECT_TRUE(CanConnect("127.0.0.1", spec.port, std::chrono::milliseconds(500)));
  EXPECT_EQ(::getsid(st.pid), st.pid) << "brick must run in its own session";
  ProcessFiles files = sup.Files(spec);
  ASSERT_OK_AND_ASSIGN(std::string pid_text, ReadFile(files.pid_file));
  EXPECT_EQ(std::atoi(pid_text.c_str()), st.pid);
  // posix marks the root at first start.
  EXPECT_OK(VerifyBrickVolumeId(spec.brick_path, kVolumeId));

  // Idempotent start: same process.
  ASSERT_OK(sup.Start(spec, In(5)));
  EXPECT_EQ(sup.State(spec.brick_path).pid, st.pid);

  ASSERT_OK(sup.Stop(spec.brick_path, In(10)));
  EXPECT_TRUE(Gone(st.pid));
  EXPECT_FALSE(sup.State(spec.brick_path).running);
  EXPECT_FALSE(ReadFile(files.pid_file).ok());
  EXPECT_OK(sup.Stop(spec.brick_path, In(10)));  // idempotent

  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].change, ProcessChange::kStarted);
  EXPECT_TRUE(ev[0].running());
  EXPECT_EQ(ev[0].pid, st.pid);
  EXPECT_EQ(ev[0].port, spec.port);
  EXPECT_EQ(ev[1].change, ProcessChange::kStopped);  // asked for: not a death
  EXPECT_FALSE(ev[1].running());
  EXPECT_EQ(ev[1].pid, st.pid);
}

// A running process is watched through its pidfd: its death is seen at once, with no poll
// (the interval here is an hour), and its restart follows after the backoff.
TEST_F(SupervisorTest, ADeathIsSeenAtOnceWithoutPolling) {
  Supervisor& sup = NewSupervisor(nullptr, std::chrono::hours(1));
  BrickSpec spec = MakeBrick("b1");
  ASSERT_OK(sup.Start(spec, In(30)));
  BrickSpec other = MakeBrick("b2");
  ASSERT_OK(sup.Start(other, In(30)));  // a second process whose watch stays quiet
  pid_t first = sup.State(spec.brick_path).pid;
  pid_t quiet = sup.State(other.brick_path).pid;
  auto killed_at = Clock::now();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Event& e : Events()) {
          if (e.change == ProcessChange::kDied && e.pid == first) return true;
        }
        return false;
      },
      std::chrono::seconds(20)))
      << "the death was not seen";
  EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(5));
  // Respawned after the first backoff (100 ms), not at the next poll.
  ASSERT_TRUE(WaitFor(
      [&] {
        pid_t now = sup.State(spec.brick_path).pid;
        return now != 0 && now != first;
      },
      std::chrono::seconds(20)))
      << "no restart";
  EXPECT_EQ(sup.State(other.brick_path).pid, quiet);
  EXPECT_TRUE(sup.State(other.brick_path).running);
  for (const Event& e : Events()) {
    if (e.pid == quiet) {
      EXPECT_EQ(e.change, ProcessChange::kStarted);
    }
  }
}

// A restart that falls due while another call holds the entry (a start of a brick that died
// and waits in its backoff) waits for that call; the monitor sleeps meanwhile instead of
// looking again and again.
TEST_F(SupervisorTest, ARestartDueWhileAStartHoldsTheEntryDoesNotSpinTheMonitor) {
  std::atomic<bool> allow_ready{true};
  Supervisor& sup = NewSupervisor(
      [&allow_ready](const BrickSpec& s) {
        return allow_ready && CanConnect(s.host, s.port, std::chrono::milliseconds(200));
      },
      std::chrono::milliseconds(20), std::chrono::milliseconds(300));
  BrickSpec spec = MakeBrick("b1");
  ASSERT_OK(sup.Start(spec, In(30)));
  pid_t first = sup.State(spec.brick_path).pid;
  allow_ready = false;
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Event& e : Events()) {
          if (e.change == ProcessChange::kDied) return true;
        }
        return false;
      },
      std::chrono::seconds(20)));
  // In its backoff now (300 ms): a start takes the entry and waits for a readiness that does not
  // come until allowed, past the time the restart was due.
  Status started;
  std::thread starter([&] { started = sup.Start(spec, In(30)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto cpu = [] {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return std::chrono::seconds(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           std::chrono::microseconds(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  };
  auto cpu_before = cpu();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto used = cpu() - cpu_before;
  allow_ready = true;
  starter.join();
  EXPECT_OK(started);
  // A monitor looking in a loop burns a core: about the whole second.
  EXPECT_LT(used, std::chrono::milliseconds(300));
  EXPECT_TRUE(sup.State(spec.brick_path).running);
}

TEST_F(SupervisorTest, RestartsBrickKilledWithSigkill) {
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  ASSERT_OK(sup.Start(spec, In(30)));
  pid_t first = sup.State(spec.brick_path).pid;
  ASSERT_EQ(::kill(first, SIGKILL), 0);

  ASSERT_TRUE(WaitFor(
      [&] {
        ProcessState st = sup.State(spec.brick_path);
        return st.running && st.pid != first;
      },
      std::chrono::seconds(30)))
      << "brick was not restarted";
  ProcessState st = sup.State(spec.brick_path);
  EXPECT_EQ(st.restarts, 1);
  EXPECT_TRUE(Gone(first));
  EXPECT_TRUE(CanConnect("127.0.0.1", spec.port, std::chrono::milliseconds(500)));
  ASSERT_OK_AND_ASSIGN(std::string pid_text, ReadFile(sup.Files(spec).pid_file));
  EXPECT_EQ(std::atoi(pid_text.c_str()), st.pid);

  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].change, ProcessChange::kStarted);
  EXPECT_EQ(ev[1].change, ProcessChange::kDied);
  EXPECT_FALSE(ev[1].running());
  EXPECT_EQ(ev[1].pid, first);
  EXPECT_EQ(ev[2].change, ProcessChange::kRestarted);
  EXPECT_TRUE(ev[2].running());
  EXPECT_EQ(ev[2].pid, st.pid);

  // Again: the restart count goes on.
  ASSERT_EQ(::kill(st.pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        ProcessState again = sup.State(spec.brick_path);
        return again.running && again.pid != st.pid;
      },
      std::chrono::seconds(30)));
  pid_t last = sup.State(spec.brick_path).pid;
  EXPECT_EQ(sup.State(spec.brick_path).restarts, 2);

  ASSERT_OK(sup.Stop(spec.brick_path, In(10)));
  EXPECT_TRUE(Gone(last));
}

// A brick that crashes is logged with its signal's name and where its core went; processes run
// in the supervisor's run directory, so a relative core_pattern puts the core there. The crash is
// SIGQUIT: its default action dumps core like a fault does, without glusterfsd's own fault handler,
// which prints a trace under its log lock and so can hang when the signal comes from outside.
TEST_F(SupervisorTest, CrashIsLoggedWithSignalAndCoreInRunDir) {
  std::string log_file = dirs_->path() + "/daemon.log";
  ASSERT_OK(log::Configure(log::Level::kInfo, log::Format::kLogfmt, log_file));
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  ASSERT_OK(sup.Start(spec, In(30)));
  pid_t first = sup.State(spec.brick_path).pid;
  char cwd[4096] = {0};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(first) + "/cwd").c_str(), cwd, sizeof(cwd) - 1),
            0);
  EXPECT_EQ(std::string(cwd), dirs_->path() + "/run") << "the brick works in the run directory";

  ASSERT_EQ(::kill(first, SIGQUIT), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        ProcessState st = sup.State(spec.brick_path);
        return st.running && st.pid != first;
      },
      std::chrono::seconds(30)))
      << "daemon log:\n"
      << ReadFile(log_file).value_or("(unreadable)");
  ASSERT_OK(sup.Stop(spec.brick_path, In(10)));
  ASSERT_OK(log::Configure(log::Level::kInfo, log::Format::kLogfmt, "-"));

  ASSERT_OK_AND_ASSIGN(std::string text, ReadFile(log_file));
  EXPECT_THAT(text, HasSubstr("process died; restarting"));
  EXPECT_THAT(text, HasSubstr("(SIGQUIT)"));
  std::string core = CoreLocation(first, dirs_->path() + "/run");
  if (text.find("core dumped") != std::string::npos) {
    EXPECT_THAT(text, HasSubstr(core));
    if (core.rfind("piped to ", 0) != 0) {
      EXPECT_EQ(::access(core.c_str(), F_OK), 0) << core;
      ::unlink(core.c_str());
    }
  }
}

TEST_F(SupervisorTest, SymlinkedPidFileIsRefusedAndItsTargetKept) {
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  ProcessFiles files = sup.Files(spec);
  std::string victim = dirs_->path() + "/victim";
  std::ofstream(victim) << "precious\n";
  ASSERT_OK(MakeDirs(std::filesystem::path(files.pid_file).parent_path().string()));
  ASSERT_EQ(::symlink(victim.c_str(), files.pid_file.c_str()), 0);

  Status s = sup.Start(spec, In(30));
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("symlink"));
  EXPECT_THAT(s.message(), HasSubstr(files.pid_file));
  ASSERT_OK_AND_ASSIGN(std::string kept, ReadFile(victim));
  EXPECT_EQ(kept, "precious\n");
  EXPECT_TRUE(PidsMentioning(spec.brick_path).empty()) << "nothing was started";

  ASSERT_EQ(::unlink(files.pid_file.c_str()), 0);
  ASSERT_OK(sup.Start(spec, In(30)));
  ASSERT_OK(sup.Stop(spec.brick_path, In(10)));
}

TEST_F(SupervisorTest, SecondSupervisorAdoptsRunningBrick) {
  BrickSpec spec = MakeBrick("b1");
  Supervisor& first = NewSupervisor();
  ASSERT_OK(first.Start(spec, In(30)));
  pid_t pid = first.State(spec.brick_path).pid;
  first.Shutdown();  // daemon exit: the brick keeps running
  EXPECT_FALSE(Gone(pid));

  Supervisor& second = NewSupervisor();
  BrickSpec unknown_port = spec;
  unknown_port.port = 0;
  ASSERT_OK_AND_ASSIGN(bool adopted, second.Adopt(unknown_port));
  EXPECT_TRUE(adopted);
  ProcessState st = second.State(spec.brick_path);
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.pid, pid);
  EXPECT_EQ(st.port, spec.port);  // learned from --brick-port
  // Start after Adopt is a no-op.
  ASSERT_OK(second.Start(spec, In(5)));
  EXPECT_EQ(second.State(spec.brick_path).pid, pid);

  // A brick that is not running is not adopted.
  BrickSpec other = MakeBrick("b2");
  ASSERT_OK_AND_ASSIGN(bool adopted_other, second.Adopt(other));
  EXPECT_FALSE(adopted_other);
  EXPECT_FALSE(second.State(other.brick_path).running);

  ASSERT_OK(second.Stop(spec.brick_path, In(10)));
  EXPECT_TRUE(WaitFor([&] { return Gone(pid); }, std::chrono::seconds(5)));
}

// A daemon whose bricks now use another volfile server (kind.current) stops a brick that an
// older daemon started with the old command line instead of adopting it, so that it is started
// afresh and can sign in.
TEST_F(SupervisorTest, AdoptStopsProcessWithAnOutdatedCommandLine) {
  BrickSpec spec = MakeBrick("b1");
  Supervisor& old_daemon = NewSupervisor();
  ASSERT_OK(old_daemon.Start(spec, In(30)));
  pid_t pid = old_daemon.State(spec.brick_path).pid;
  old_daemon.Shutdown();
  ASSERT_FALSE(Gone(pid));

  SupervisorOptions o;
  o.run_dir = dirs_->path() + "/run";
  o.log_dir = dirs_->path() + "/log";
  o.kind.current = [](const BrickSpec&, const ProcessFiles&, const std::vector<std::string>& args) {
    return std::find(args.begin(), args.end(), "--volfile-server-transport") != args.end();
  };
  supervisors_.push_back(std::make_unique<Supervisor>(std::move(o)));
  Supervisor& upgraded = *supervisors_.back();
  ASSERT_OK_AND_ASSIGN(bool adopted, upgraded.Adopt(spec));
  EXPECT_FALSE(adopted);
  EXPECT_TRUE(WaitFor([&] { return Gone(pid); }, std::chrono::seconds(10)));
  EXPECT_FALSE(upgraded.State(spec.brick_path).running);
}

TEST_F(SupervisorTest, AdoptIgnoresPidFileOfAnotherProcess) {
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  ProcessFiles files = sup.Files(spec);
  ASSERT_OK(MakeDirs(files.pid_file.substr(0, files.pid_file.rfind('/'))));
  // Our own pid is alive but is not glusterfsd for this brick.
  std::ofstream(files.pid_file) << ::getpid() << "\n";
  ASSERT_OK_AND_ASSIGN(bool adopted, sup.Adopt(spec));
  EXPECT_FALSE(adopted);
}

TEST_F(SupervisorTest, StartsBricksInParallel) {
  Supervisor& sup = NewSupervisor();
  std::vector<BrickSpec> specs = {MakeBrick("p1"), MakeBrick("p2"), MakeBrick("p3")};
  std::vector<Status> results(specs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < specs.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = sup.Start(specs[i], In(30)); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_OK(results[i]);
    EXPECT_TRUE(sup.State(specs[i].brick_path).running);
  }
  EXPECT_EQ(sup.Keys().size(), specs.size());
  ASSERT_OK(sup.StopAll(In(10)));
  EXPECT_TRUE(sup.Keys().empty());
}

TEST_F(SupervisorTest, StartFailsWithLogTailWhenBrickExits) {
  Supervisor& sup = NewSupervisor();
  BrickSpec spec = MakeBrick("b1");
  // A graph glusterfsd cannot build: it exits before it listens. (A graph that fails later,
  // e.g. posix without the volume-id xattr, may accept a TCP connection first; the daemon's
  // SIGNIN readiness does not have that gap, and the monitor catches such a brick.)
  std::ofstream(spec.local_volfile, std::ios::trunc)
      << "volume sv-bogus\n    type gd2test/no-such-xlator\nend-volume\n";
  Status s = sup.Start(spec, In(30));
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("exited during start"));
  EXPECT_THAT(s.message(), HasSubstr("no-such-xlator"));  // from the brick log
  EXPECT_FALSE(sup.State(spec.brick_path).running);
  EXPECT_TRUE(sup.Keys().empty());
  EXPECT_TRUE(PidsMentioning(spec.brick_path).empty());
  EXPECT_TRUE(Events().empty());
}

TEST_F(SupervisorTest, StartTimesOutAndKillsBrickThatNeverGetsReady) {
  Supervisor& sup = NewSupervisor([](const BrickSpec&) { return false; });
  BrickSpec spec = MakeBrick("b1");
  Status s = sup.Start(spec, Clock::now() + std::chrono::milliseconds(500));
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(s.message(), HasSubstr("key=" + spec.brick_path));
  EXPECT_FALSE(sup.State(spec.brick_path).running);
  EXPECT_TRUE(PidsMentioning(spec.brick_path).empty());
  EXPECT_TRUE(Events().empty());
}

// The caller gives up (another peer of the step failed): the start ends long before its
// deadline, and the process it made is killed.
TEST_F(SupervisorTest, AStartWhoseCallerGivesUpEndsAndKillsItsBrick) {
  Supervisor& sup = NewSupervisor([](const BrickSpec&) { return false; });
  BrickSpec spec = MakeBrick("b1");
  std::stop_source stop;
  std::thread stopper([&] {
    WaitFor([&] { return !PidsMentioning(spec.brick_path).empty(); }, std::chrono::seconds(10));
    stop.request_stop();
  });
  Status s = sup.Start(spec, In(60), stop.get_token());
  stopper.join();
  EXPECT_THAT(s, StatusIs(StatusCode::kCancelled));
  EXPECT_THAT(s.message(), HasSubstr("start given up by its caller"));
  EXPECT_THAT(s.message(), HasSubstr("key=" + spec.brick_path));
  EXPECT_FALSE(sup.State(spec.brick_path).running);
  EXPECT_TRUE(PidsMentioning(spec.brick_path).empty());
  EXPECT_TRUE(Events().empty());
}

// A key held by a start that has not finished does not hold up the others: they are signalled
// at once and get the whole deadline; the held one is stopped when its start lets go. (The
// monitor, every 20 ms here, holds each entry for a moment too; that must not count.)
TEST_F(SupervisorTest, StopDoesNotWaitForABusyKeyBeforeSignallingTheOthers) {
  std::atomic<bool> let_b2_be_ready = false;
  BrickSpec b1 = MakeBrick("b1");
  BrickSpec b2 = MakeBrick("b2");
  Supervisor& sup = NewSupervisor(
      [&](const BrickSpec& s) { return s.brick_path != b2.brick_path || let_b2_be_ready.load(); });
  ASSERT_OK(sup.Start(b1, In(30)));
  pid_t p1 = sup.State(b1.brick_path).pid;
  Status b2_start;
  std::thread starter([&] { b2_start = sup.Start(b2, In(30)); });
  // b2's start holds its entry once its process runs.
  ASSERT_TRUE(
      WaitFor([&] { return !PidsMentioning(b2.brick_path).empty(); }, std::chrono::seconds(10)));

  Status stop;
  std::atomic<bool> stop_done = false;
  std::thread stopper([&] {
    stop = Supervisor::StopTogether({{&sup, {b2.brick_path, b1.brick_path}}}, In(20));
    stop_done = true;
  });
  EXPECT_TRUE(WaitFor([&] { return Gone(p1) && !sup.State(b1.brick_path).running; },
                      std::chrono::seconds(10)))
      << "b1 is stopped while b2's start still holds b2";
  EXPECT_FALSE(stop_done.load());

  let_b2_be_ready = true;
  starter.join();
  stopper.join();
  EXPECT_OK(b2_start);
  EXPECT_OK(stop);
  EXPECT_FALSE(sup.State(b2.brick_path).running);
  EXPECT_TRUE(PidsMentioning(b2.brick_path).empty());
  EXPECT_TRUE(sup.Keys().empty());
}

// The same supervisor code runs the self-heal daemon with ShdKind(): glusterfs with a local
// replicate volfile whose clients point at two supervised bricks.
TEST_F(SupervisorTest, SupervisesSelfHealDaemon) {
  Supervisor& bricks = NewSupervisor();
  BrickSpec b0 = MakeBrick("r0");
  BrickSpec b1 = MakeBrick("r1");
  ASSERT_OK(bricks.Start(b0, In(30)));
  ASSERT_OK(bricks.Start(b1, In(30)));

  std::string volfile;
  for (const BrickSpec* b : {&b0, &b1}) {
    std::string n = b == &b0 ? "0" : "1";
    volfile += "volume sv-client-" + n + "\n    type protocol/client\n" +
               "    option remote-host 127.0.0.1\n    option remote-port " +
               std::to_string(b->port) + "\n    option remote-subvolume " + b->brick_path +
               "\n    option transport-type tcp\n    option transport.address-family inet\n" +
               "end-volume\n\n";
  }
  volfile +=
      "volume sv-replicate-0\n    type cluster/replicate\n    option iam-self-heal-daemon yes\n"
      "    option self-heal-daemon enable\n    option afr-pending-xattr sv-client-0,sv-client-1\n"
      "    subvolumes sv-client-0 sv-client-1\nend-volume\n\n"
      "volume sv\n    type debug/io-stats\n    subvolumes sv-replicate-0\nend-volume\n";
  BrickSpec shd;
  shd.volume = "sv";
  shd.volume_id = kVolumeId;
  shd.peer_id = kPeerId;
  shd.local_volfile = dirs_->path() + "/sv-shd.vol";
  std::ofstream(shd.local_volfile) << volfile;

  SupervisorOptions o;
  o.kind = ShdKind();
  o.run_dir = dirs_->path() + "/run";
  o.log_dir = dirs_->path() + "/log";
  o.poll_interval = std::chrono::milliseconds(20);
  // Ready once both bricks accepted a connection from it: the shd log says so per client.
  std::string log_file = dirs_->path() + "/log/glustershd/sv.log";
  o.ready = [log_file](const BrickSpec&) {
    auto text = ReadFile(log_file);
    if (!text.ok()) return false;
    size_t n = 0;
    for (size_t pos = 0;
         (pos = text->find("Connected, attached to remote volume", pos)) != std::string::npos;
         ++pos) {
      ++n;
    }
    return n >= 2;
  };
  supervisors_.push_back(std::make_unique<Supervisor>(std::move(o)));
  Supervisor& shds = *supervisors_.back();
  ASSERT_OK(shds.Start(shd, In(30)));
  ProcessState st = shds.State("shd/sv");
  ASSERT_TRUE(st.running);

  ASSERT_EQ(::kill(st.pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        ProcessState now = shds.State("shd/sv");
        return now.running && now.pid != st.pid;
      },
      std::chrono::seconds(30)));
  // Bricks and the self-heal daemon stop together, as a volume stop does; a key that is not
  // supervised is no error.
  std::vector<pid_t> pids = {shds.State("shd/sv").pid, bricks.State(b0.brick_path).pid,
                             bricks.State(b1.brick_path).pid};
  ASSERT_OK(Supervisor::StopTogether(
      {{&bricks, {b0.brick_path, b1.brick_path, "/not/supervised"}}, {&shds, {"shd/sv"}}}, In(10)));
  for (pid_t pid : pids) EXPECT_TRUE(Gone(pid)) << pid;
  EXPECT_FALSE(shds.State("shd/sv").running);
  EXPECT_FALSE(bricks.State(b0.brick_path).running);
  EXPECT_FALSE(bricks.State(b1.brick_path).running);
  EXPECT_FALSE(ReadFile(shds.Files(shd).pid_file).ok());
  EXPECT_FALSE(ReadFile(bricks.Files(b0).pid_file).ok());
  EXPECT_TRUE(bricks.Keys().empty());
  EXPECT_TRUE(shds.Keys().empty());
  // The bricks were asked to stop (SIGTERM: they sign out and say so in their log); the
  // self-heal daemon was killed, so its crash-prone exit path never ran.
  ASSERT_OK_AND_ASSIGN(std::string brick_log, ReadFile(bricks.Files(b0).log_file));
  EXPECT_THAT(brick_log, HasSubstr("received signum (15), shutting down"));
  ASSERT_OK_AND_ASSIGN(std::string shd_log, ReadFile(log_file));
  EXPECT_THAT(shd_log, ::testing::Not(HasSubstr("shutting down")));
}

// A process that ignores its stop signal: a shell that ignores SIGTERM, says so with a file and
// becomes `sleep` (an ignored signal stays ignored across exec).
class StopGraceTest : public ::testing::Test {
 protected:
  void SetUp() override { dirs_ = std::make_unique<gd2::testing::TempDir>("gd2grace"); }

  // A failed test may leave the process: it ignores SIGTERM and, after its exec, its command
  // line no longer names the temp dir.
  void TearDown() override {
    if (pid_ > 0 && ProcessAlive(pid_)) {
      ::kill(pid_, SIGKILL);
      ADD_FAILURE() << "process left behind: pid=" << pid_;
    }
    sup_.reset();
  }

  std::unique_ptr<Supervisor> NewSupervisor(std::chrono::milliseconds grace) {
    SupervisorOptions o;
    o.run_dir = dirs_->path() + "/run";
    o.log_dir = dirs_->path() + "/log";
    o.kind = BrickKind("/bin/sh");
    std::string ready_file = dirs_->path() + "/ignoring";
    o.kind.argv = [ready_file](const BrickSpec&, const ProcessFiles&) {
      return std::vector<std::string>{"/bin/sh", "-c",
                                      "trap '' TERM; : >" + ready_file + "; exec sleep 600"};
    };
    // Ready once the shell ignores SIGTERM.
    o.ready = [ready_file](const BrickSpec&) { return ::access(ready_file.c_str(), F_OK) == 0; };
    o.stop_grace = grace;
    return std::make_unique<Supervisor>(std::move(o));
  }

  // Starts the process under a supervisor with `grace`; returns its pid.
  pid_t StartIgnoring(std::chrono::milliseconds grace) {
    sup_ = NewSupervisor(grace);
    spec_.volume = "sv";
    spec_.volume_id = kVolumeId;
    spec_.brick_path = dirs_->path() + "/b";
    spec_.host = "127.0.0.1";
    spec_.port = 49152;
    spec_.peer_id = kPeerId;
    EXPECT_OK(sup_->Start(spec_, Clock::now() + std::chrono::seconds(10)));
    pid_ = sup_->State(spec_.brick_path).pid;
    return pid_;
  }

  // Stops it with a deadline `in` from now; how long the stop took.
  Clock::duration TimeStop(Clock::duration in) {
    auto begun = Clock::now();
    EXPECT_OK(sup_->Stop(spec_.brick_path, begun + in));
    EXPECT_FALSE(sup_->State(spec_.brick_path).running);
    return Clock::now() - begun;
  }

  std::unique_ptr<gd2::testing::TempDir> dirs_;
  std::unique_ptr<Supervisor> sup_;
  BrickSpec spec_;
  pid_t pid_ = 0;
};

TEST_F(StopGraceTest, AProcessThatIgnoresItsStopSignalIsKilledAfterTheGraceNotAtTheDeadline) {
  pid_t pid = StartIgnoring(std::chrono::milliseconds(200));
  ASSERT_GT(pid, 0);
  // SIGKILL came after the 200 ms grace, not at the deadline 30 s away.
  Clock::duration took = TimeStop(std::chrono::seconds(30));
  EXPECT_LT(took, std::chrono::seconds(20));
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_TRUE(Gone(pid));
}

TEST_F(StopGraceTest, AStopDeadlineSoonerThanTheGraceKillsAtTheDeadline) {
  pid_t pid = StartIgnoring(std::chrono::seconds(30));
  ASSERT_GT(pid, 0);
  Clock::duration took = TimeStop(std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(20));
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_TRUE(Gone(pid));
}

}  // namespace
}  // namespace gd2::brick
