#include "common/subprocess.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <thread>

#include "common/poll.h"
#include "common/thread_annotations.h"

namespace gd2 {
namespace {


// The child's environment: the parent's, with opts.env added or replacing.
std::vector<std::string> ChildEnvironment(const SpawnOptions& opts) {
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    if (opts.env.count(key) == 0) env_store.emplace_back(kv);
  }
  for (const auto& [k, v] : opts.env) env_store.push_back(k + "=" + v);
  return env_store;
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// posix_spawn: the child shares the parent's memory until exec (no copy of the daemon's page
// tables), so starting a process costs a fraction of a fork. It covers everything but a parent
// death signal and a cgroup move, which need code in the child: ForkExec does those.
StatusOr<pid_t> PosixSpawn(const SpawnOptions& opts, int out_fd) {
  std::vector<std::string> env_store = ChildEnvironment(opts);
  std::vector<char*> argv = Pointers(opts.argv);
  std::vector<char*> envp = Pointers(env_store);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  if (int err = posix_spawn_file_actions_init(&fa); err != 0) return ErrnoError("spawn setup", err);
  if (int err = posix_spawnattr_init(&attr); err != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return ErrnoError("spawn setup", err);
  }
  // Each setup call returns 0 or an error number (ENOMEM); the first error wins.
  int setup = 0;
  auto check = [&setup](int err) {
    if (setup == 0) setup = err;
  };
  short flags = POSIX_SPAWN_SETSIGMASK;
  sigset_t none;
  sigemptyset(&none);
  check(posix_spawnattr_setsigmask(&attr, &none));
  if (opts.new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else if (opts.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    check(posix_spawnattr_setpgroup(&attr, 0));
  }
  check(posix_spawnattr_setflags(&attr, flags));
  check(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0));
  check(posix_spawn_file_actions_adddup2(&fa, out_fd, 1));
  check(posix_spawn_file_actions_adddup2(&fa, out_fd, 2));
  // As ForkExec: a new session keeps none of the daemon's descriptors above 2.
  if (opts.new_session) check(posix_spawn_file_actions_addclosefrom_np(&fa, 3));
  if (!opts.working_dir.empty()) {
    check(posix_spawn_file_actions_addchdir_np(&fa, opts.working_dir.c_str()));
  }
  pid_t pid = 0;
  int err = setup;
  if (err == 0) err = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (setup != 0) return ErrnoError("spawn setup", setup);
  if (err != 0) return ErrnoError("exec " + opts.argv[0], err);
  return pid;
}

// Everything between fork and exec must be async-signal-safe: argv/envp are built before fork.
pid_t ForkExec(const SpawnOptions& opts, int out_fd, int* exec_err_pipe) {
  std::vector<char*> argv = Pointers(opts.argv);
  std::vector<std::string> env_store = ChildEnvironment(opts);
  std::vector<char*> envp = Pointers(env_store);
  pid_t parent = ::getpid();
  std::string procs = opts.cgroup.empty() ? "" : opts.cgroup + "/cgroup.procs";
  const char* cwd = opts.working_dir.empty() ? nullptr : opts.working_dir.c_str();

  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child.
  if (opts.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, opts.parent_death_signal);
    if (::getppid() != parent) ::_exit(127);
  }
  // setsid() fails for a process group leader, so it replaces setpgid() rather than follows it.
  if (opts.new_session) {
    ::setsid();
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  } else if (opts.new_process_group) {
    ::setpgid(0, 0);
  }
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  ::close(exec_err_pipe[0]);
  if (cwd != nullptr && ::chdir(cwd) != 0) {
    int err = errno;
    ssize_t ignored = ::write(exec_err_pipe[1], &err, sizeof(err));
    (void)ignored;
    ::_exit(127);
  }
  if (!procs.empty()) {
    // "0" moves the writing process.
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) {
      int err = errno;
      ssize_t ignored = ::write(exec_err_pipe[1], &err, sizeof(err));
      (void)ignored;
      ::_exit(127);
    }
    ::close(fd);
  }
  ::execvpe(argv[0], argv.data(), envp.data());
  int err = errno;
  ssize_t ignored = ::write(exec_err_pipe[1], &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

}  // namespace

ExitInfo ExitInfoFromWaitStatus(int st) {
  ExitInfo e;
  if (WIFEXITED(st)) {
    e.code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    e.signaled = true;
    e.code = 128 + WTERMSIG(st);
    e.core_dumped = WCOREDUMP(st);
  }
  return e;
}

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  if (abbrev == nullptr) return "signal " + std::to_string(sig);
  return std::string("SIG") + abbrev;
}

std::string ExitInfo::ToString() const {
  if (!signaled) return "exit code " + std::to_string(code);
  int sig = code - 128;
  std::string text = "killed by signal " + std::to_string(sig) + " (" + SignalName(sig) + ")";
  if (core_dumped) text += ", core dumped";
  return text;
}

std::string CoreLocation(pid_t pid, const std::string& cwd) {
  std::string pattern;
  {
    std::ifstream in("/proc/sys/kernel/core_pattern");
    std::getline(in, pattern);
  }
  if (pattern.empty()) pattern = "core";
  if (pattern.front() == '|') {
    std::string prog = pattern.substr(1);
    auto sp = prog.find(' ');
    return "piped to " + prog.substr(0, sp);
  }
  std::string out;
  bool has_pid = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      char c = pattern[++i];
      if (c == 'p' || c == 'P') {
        out += std::to_string(pid);
        has_pid = true;
      } else if (c == '%') {
        out += '%';
      } else {
        out += '%';
        out += c;  // left for the admin to read as the kernel would expand it
      }
    } else {
      out += pattern[i];
    }
  }
  if (!has_pid) {
    std::ifstream in("/proc/sys/kernel/core_uses_pid");
    int uses_pid = 0;
    in >> uses_pid;
    if (uses_pid != 0) out += "." + std::to_string(pid);
  }
  if (out.front() != '/') out = (cwd.empty() ? std::string(".") : cwd) + "/" + out;
  return out;
}

std::string DescribeExit(const ExitInfo& e, pid_t pid, const std::string& cwd) {
  std::string text = e.ToString();
  if (e.core_dumped) text += ": " + CoreLocation(pid, cwd);
  return text;
}

StatusOr<pid_t> Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return InvalidArgumentError("spawn: empty argv");
  int out_fd = -1;
  if (opts.output_fd >= 0) {
    out_fd = ::fcntl(opts.output_fd, F_DUPFD_CLOEXEC, 3);
  } else if (opts.output_file.empty()) {
    out_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  } else {
    out_fd = ::open(opts.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                    0640);
  }
  if (out_fd < 0) return ErrnoError("open " + opts.output_file, errno);
  if (opts.parent_death_signal == 0 && opts.cgroup.empty()) {
    StatusOr<pid_t> pid = PosixSpawn(opts, out_fd);
    ::close(out_fd);
    return pid;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    ::close(out_fd);
    return ErrnoError("pipe", errno);
  }
  pid_t pid = ForkExec(opts, out_fd, p);
  ::close(out_fd);
  ::close(p[1]);
  if (pid < 0) {
    ::close(p[0]);
    return ErrnoError("fork", errno);
  }
  int err = 0;
  ssize_t n;
  do {
    n = ::read(p[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  ::close(p[0]);
  if (n == sizeof(err)) {
    ::waitpid(pid, nullptr, 0);
    return ErrnoError("exec " + opts.argv[0], err);
  }
  return pid;
}

namespace {

// The thread behind CheckChild: reaps the zombies handed to it, one pidfd each.
class Reaper {
 public:
  static Reaper& Get() {
    // Never destroyed: CheckChild may run on any thread until the process exits, and a zombie
    // left when it does is reaped by init.
    static Reaper* reaper = new Reaper();
    return *reaper;
  }

  ChildState Check(pid_t pid) GD2_EXCLUDES(mu_) {
    ChildState state;
    // Under mu_, so that a zombie seen here is not reaped by this class (and its pid reused)
    // before its pidfd is open: this class reaps only pids in pending_. (A child some other
    // code waits for, such as one RunCommand runs, is that code's to reap; it never reaches
    // here.)
    MutexLock lock(mu_);
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == ECHILD) state.kind = ChildState::kNotOurChild;
      return state;
    }
    if (info.si_pid != pid) return state;  // still running
    state.kind = ChildState::kExited;
    if (info.si_code == CLD_EXITED) {
      state.exit.code = info.si_status;
    } else {
      state.exit.signaled = true;
      state.exit.code = 128 + info.si_status;
      state.exit.core_dumped = info.si_code == CLD_DUMPED;
    }
    if (pending_.insert(pid).second) {
      queue_.push_back({pid, OpenPidFd(pid), std::chrono::steady_clock::now() + kReapDelay});
      changed_.NotifyAll();
    }
    return state;
  }

  // Reaps what is queued, and waits for a reap the thread has begun.
  void ReapAllNow() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!queue_.empty()) {
      Zombie z = queue_.front();
      queue_.pop_front();
      Reap(z);
      pending_.erase(z.pid);
    }
    while (!pending_.empty()) changed_.Wait(mu_);
    changed_.NotifyAll();  // the thread may be waiting for the time of a zombie reaped here
  }

 private:
  // How long a zombie waits before it is reaped (see CheckChild in the header): long enough for
  // its threads to have left the kernel's exit path even on a loaded host.
  static constexpr std::chrono::milliseconds kReapDelay{100};
  struct Zombie {
    pid_t pid;
    int pidfd;  // -1 when the kernel gives none: then by pid, which stays reserved until reaped
    std::chrono::steady_clock::time_point not_before;
  };

  Reaper() {
    std::thread([this] { Run(); }).detach();
  }

  void Run() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (true) {
      // Every wait gives up mu_, and ReapAllNow may empty the queue meanwhile: look again.
      if (queue_.empty()) {
        changed_.Wait(mu_);
        continue;
      }
      auto not_before = queue_.front().not_before;
      if (std::chrono::steady_clock::now() < not_before) {
        changed_.WaitUntil(mu_, not_before);
        continue;
      }
      Zombie z = queue_.front();
      queue_.pop_front();
      lock.Unlock();
      Reap(z);
      lock.Lock();
      pending_.erase(z.pid);
      changed_.NotifyAll();
    }
  }

  // Never blocks: the zombie has exited. Through its pidfd, so never another process that took
  // the pid; by pid where there is no pidfd, or where the kernel knows no P_PIDFD (EINVAL).
  static void Reap(const Zombie& z) {
    bool by_pid = z.pidfd < 0;
    if (z.pidfd >= 0) {
      siginfo_t info{};
      int r;
      while ((r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(z.pidfd), &info,
                           WEXITED | WNOHANG)) != 0 &&
             errno == EINTR) {
      }
      by_pid = r != 0 && errno == EINVAL;
      ::close(z.pidfd);
    }
    if (by_pid) {
      while (::waitpid(z.pid, nullptr, WNOHANG) < 0 && errno == EINTR) {
      }
    }
  }

  Mutex mu_;
  CondVar changed_;  // the queue or pending_ changed
  std::deque<Zombie> queue_ GD2_GUARDED_BY(mu_);
  std::set<pid_t> pending_ GD2_GUARDED_BY(mu_);  // queued or being reaped
};

}  // namespace

ChildState CheckChild(pid_t pid) { return Reaper::Get().Check(pid); }

void ReapPendingChildren() { Reaper::Get().ReapAllNow(); }

std::optional<ExitInfo> PollExit(pid_t pid) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) return ExitInfoFromWaitStatus(st);
  if (r < 0 && errno == ECHILD) return ExitInfo{};
  return std::nullopt;
}

std::optional<ExitInfo> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  std::optional<ExitInfo> exit;
  PollUntil(std::chrono::steady_clock::now() + timeout,
            {std::chrono::microseconds(200), std::chrono::milliseconds(20)},
            [&] { return (exit = PollExit(pid)).has_value(); });
  return exit;
}

ExitInfo StopProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (auto e = PollExit(pid)) return *e;
  ::kill(pid, SIGTERM);
  if (auto e = WaitExit(pid, grace)) return *e;
  ::kill(pid, SIGKILL);
  if (auto e = WaitExit(pid, std::chrono::seconds(10))) return *e;
  return ExitInfo{137, true};
}

StatusOr<RunResult> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout, const std::string& cgroup) {
  if (argv.empty()) return InvalidArgumentError("run: empty argv");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
  SpawnOptions so;
  so.argv = argv;
  so.new_process_group = false;
  so.cgroup = cgroup;
  so.output_fd = out[1];
  auto pid = Spawn(so);
  ::close(out[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    return pid.status();
  }
  RunResult res;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{out[0], POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (res.output.size() < 65536) res.output.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  auto e = WaitExit(*pid, std::max(left, std::chrono::milliseconds(0)));
  if (!e) {
    StopProcess(*pid, std::chrono::milliseconds(100));
    return DeadlineExceededError(argv[0] + ": timed out");
  }
  res.exit = *e;
  return res;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto rp = line.rfind(')');
  if (rp == std::string::npos || rp + 2 >= line.size()) return false;
  char state = line[rp + 2];
  return state != 'Z' && state != 'X';
}

// The system calls themselves: glibc 2.36's <sys/pidfd.h> declares pidfd_open without C
// linkage.
int OpenPidFd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int SignalPidFd(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

PidFd::~PidFd() {
  if (fd >= 0) ::close(fd);
}

PidFd& PidFd::operator=(PidFd&& other) noexcept {
  if (this != &other) {
    if (fd >= 0) ::close(fd);
    fd = other.fd;
    other.fd = -1;
  }
  return *this;
}

}  // namespace gd2
