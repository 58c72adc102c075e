#include "brick/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <optional>
#include <thread>
#include <utility>

#include "common/files.h"
#include "common/poll.h"
#include "common/subprocess.h"

namespace gd2::brick {

struct Supervisor::Entry {
  enum class Phase {
    kIdle,        // no process; the entry is dropped when released
    kRunning,     // process alive and was ready
    kRestarting,  // the monitor spawned it again and waits for readiness
    kBackoff,     // died; the monitor respawns it at next_restart
  };
  std::string key;
  BrickSpec spec;
  ProcessFiles files;
  Phase phase = Phase::kIdle;
  // Set while one caller (Start/Stop/Adopt or the monitor) works on the entry; only that caller
  // changes the fields below, and only with mu_ held, so State() can read them under mu_.
  bool busy = false;
  // LookAt() asked the monitor to look at the entry; changed by anyone, under mu_.
  bool look_now = false;
  pid_t pid = 0;
  int port = 0;
  int restarts = 0;
  Clock::time_point started_at{};
  Clock::time_point ready_deadline{};
  Clock::time_point next_restart{};
  std::chrono::milliseconds backoff{0};
};

namespace {

std::string Basename(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Dirname(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// std::nullopt while `pid` lives; once it is gone, how it ended. Our child is reaped in the
// background (CheckChild); for any other process (adopted after a daemon restart) /proc
// decides, where a zombie waiting for a late reaper already counts as dead.
std::optional<std::string> ExitOf(pid_t pid, const std::string& cwd) {
  if (pid <= 0) return std::string("no process");
  ChildState child = CheckChild(pid);
  if (child.kind == ChildState::kExited) return DescribeExit(child.exit, pid, cwd);
  if (child.kind == ChildState::kRunning) return std::nullopt;
  if (ProcessAlive(pid)) return std::nullopt;
  return std::string("exited");
}

// One process a stop ends: sent `signal` first and SIGKILL once `grace` has passed since, or
// at `deadline` if that comes sooner. `cwd` is its working directory (where its core goes).
struct Victim {
  pid_t pid = 0;
  std::string cwd;
  int signal = SIGTERM;
  std::chrono::milliseconds grace{0};
  Supervisor::Clock::time_point deadline;
};

// Signals every victim, SIGKILLs each one still alive when its time is up and waits up to 5 s
// more for it. Returns the pids still alive after that.
// A process that died of a signal other than the ones sent to stop it (a crash during shutdown)
// is logged with its signal and where its core went; one that had to be killed after its grace
// is logged too.
std::vector<pid_t> SignalAndWait(std::vector<Victim> victims) {
  using Clock = Supervisor::Clock;
  constexpr auto kAfterKill = std::chrono::seconds(5);
  // A stop's answer waits for the exit (glusterfsd takes 10-40 ms on SIGTERM), so it is seen the
  // moment it happens: a pidfd becomes readable when its process ends. The pidfds are opened
  // before any signal, so they name these processes even if a pid is reused later. Without one
  // (pidfd_open refused), the process is checked every 5 ms.
  struct Waiting {
    Victim v;
    PidFd fd;
    bool killed = false;      // SIGKILL sent
    bool given_time = false;  // kill_at was after the first signal (a kill due at once is no news)
    Clock::time_point kill_at{};  // when SIGKILL is due, if not sent yet
    Clock::time_point give_up{};  // once killed: when it counts as surviving SIGKILL
  };
  // With a pidfd, it alone says whether the process ended (its pid may be reused once an
  // adopted process is reaped by init); ExitOf then reaps a child and describes the end.
  auto gone = [](const Waiting& w) {
    if (w.fd.fd >= 0) {
      pollfd pf{w.fd.fd, POLLIN, 0};
      if (::poll(&pf, 1, 0) <= 0 || pf.revents == 0) return false;
    }
    std::optional<std::string> exit = ExitOf(w.v.pid, w.v.cwd);
    if (!exit && w.fd.fd < 0) return false;
    if (!exit) exit = "exited";
    auto by = [&exit](int sig) {
      return exit->starts_with("killed by signal " + std::to_string(sig) + " ");
    };
    if (exit->starts_with("killed by signal") && !by(w.v.signal) && !(w.killed && by(SIGKILL))) {
      log::Root().Warn("process died of a signal while being stopped",
                       {{"pid", w.v.pid}, {"exit", *exit}});
    }
    return true;
  };
  // Signalled through the pidfd where there is one: never a process that took over the pid.
  auto send = [](const Waiting& w, int sig) {
    if (w.fd.fd >= 0) {
      SignalPidFd(w.fd.fd, sig);
    } else {
      ::kill(w.v.pid, sig);
    }
  };
  std::vector<Waiting> waiting;
  for (Victim& v : victims) {
    GD2_CHECK(v.pid > 0);  // kill(0, ...) would signal the daemon's own process group
    PidFd fd(v.pid);
    waiting.push_back(Waiting{std::move(v), std::move(fd)});
  }
  for (Waiting& w : waiting) {
    send(w, w.v.signal);
    auto now = Clock::now();
    w.killed = w.v.signal == SIGKILL;
    w.kill_at = std::min(w.v.deadline, now + w.v.grace);
    w.given_time = w.kill_at > now;
    w.give_up = now + kAfterKill;
  }
  std::vector<pid_t> survivors;
  while (true) {
    auto now = Clock::now();
    Clock::time_point next = now + std::chrono::milliseconds(100);
    bool all_have_fd = true;
    std::vector<pollfd> watch;
    for (size_t i = 0; i < waiting.size();) {
      Waiting& w = waiting[i];
      if (gone(w)) {
        waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      if (!w.killed && now >= w.kill_at) {
        if (w.given_time) {
          log::Root().Warn("process did not exit on its stop signal in time; killing it",
                           {{"pid", w.v.pid},
                            {"signal", w.v.signal},
                            {"grace_ms", static_cast<int64_t>(w.v.grace.count())}});
        }
        send(w, SIGKILL);
        w.killed = true;
        w.give_up = now + kAfterKill;
      }
      if (w.killed && now >= w.give_up) {
        survivors.push_back(w.v.pid);
        waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      next = std::min(next, w.killed ? w.give_up : w.kill_at);
      if (w.fd.fd < 0) all_have_fd = false;
      if (w.fd.fd >= 0) watch.push_back(pollfd{w.fd.fd, POLLIN, 0});
      ++i;
    }
    if (waiting.empty()) return survivors;
    if (!all_have_fd) next = std::min(next, now + std::chrono::milliseconds(5));
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::max<Clock::duration>(next - now, Clock::duration::zero()))
                  .count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    ::ppoll(watch.data(), watch.size(), &ts, nullptr);
  }
}

// The last `lines` lines of a log file, for error messages.
std::string LogTail(const std::string& path, size_t lines = 12) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos < text.size()) text = text.substr(pos + 1);
  return "log " + path + ":\n" + text;
}

// glusterfsd itself also writes its pid to the same file (append mode after a truncate), so the
// file is written in place rather than renamed over, and read back by its first number.
Status WritePidFile(const std::string& path, pid_t pid) {
  GD2_ASSIGN_OR_RETURN(int fd, OpenNoFollow(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  std::string text = std::to_string(pid) + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return ErrnoError("write " + path, err);
  return OkStatus();
}

int FirstNumber(const std::string& text) {
  size_t i = text.find_first_of("0123456789");
  if (i == std::string::npos) return 0;
  int v = 0;
  std::from_chars(text.data() + i, text.data() + text.size(), v);
  return v;
}

bool HasPair(const std::vector<std::string>& args, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == a && args[i + 1] == b) return true;
  }
  return false;
}

void RemoveFiles(const ProcessFiles& files) {
  ::unlink(files.pid_file.c_str());
  ::unlink(files.socket_file.c_str());
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options)
    : options_(std::move(options)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  const ProcessKind& k = options_.kind;
  GD2_CHECK(k.key && k.validate && k.files && k.argv && k.identity && k.default_ready);
  monitor_ = std::thread(&Supervisor::MonitorLoop, this);
}

Supervisor::~Supervisor() {
  Shutdown();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Supervisor::Shutdown() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  WakeMonitor();
  if (monitor_.joinable()) monitor_.join();
}

ProcessFiles Supervisor::Files(const BrickSpec& spec) const {
  return options_.kind.files(spec, options_.run_dir, options_.log_dir);
}

bool Supervisor::Ready(const BrickSpec& spec) const {
  return options_.ready ? options_.ready(spec) : options_.kind.default_ready(spec);
}

void Supervisor::Notify(const std::vector<Event>& events) const {
  if (!options_.on_state_change) return;
  for (const auto& e : events) options_.on_state_change(e);
}

StatusOr<std::shared_ptr<Supervisor::Entry>> Supervisor::Acquire(const std::string& key,
                                                                 bool create,
                                                                 Clock::time_point deadline) {
  MutexLock lock(mu_);
  while (true) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (!create) return std::shared_ptr<Entry>();
      auto e = std::make_shared<Entry>();
      e->key = key;
      e->backoff = options_.backoff_initial;
      e->busy = true;
      entries_[key] = e;
      return e;
    }
    if (!it->second->busy) {
      it->second->busy = true;
      return it->second;
    }
    if (!cv_.WaitUntil(mu_, deadline)) {
      return DeadlineExceededError(options_.kind.name + " busy with another operation: key=" + key);
    }
  }
}

void Supervisor::Release(const std::shared_ptr<Entry>& entry) {
  {
    MutexLock lock(mu_);
    entry->busy = false;
    auto it = entries_.find(entry->key);
    if (entry->phase == Entry::Phase::kIdle && it != entries_.end() && it->second == entry) {
      entries_.erase(it);
    }
  }
  cv_.NotifyAll();
  WakeMonitor();
}

void Supervisor::LookAt(const std::string& key) {
  {
    MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second->phase == Entry::Phase::kIdle) return;
    it->second->look_now = true;
  }
  WakeMonitor();
}

void Supervisor::WakeMonitor() const {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  ssize_t r = ::write(wake_fd_, &one, sizeof(one));
  (void)r;  // a full counter already wakes it
}

void Supervisor::KillAndWait(pid_t pid, Clock::time_point deadline) const {
  Victim v{pid, options_.run_dir, options_.kind.stop_signal, options_.stop_grace, deadline};
  SignalAndWait({std::move(v)});
}

StatusOr<pid_t> Supervisor::Spawn(const BrickSpec& spec, const ProcessFiles& files) const {
  for (const auto* f : {&files.pid_file, &files.socket_file, &files.log_file}) {
    GD2_RETURN_IF_ERROR(MakeDirs(Dirname(*f)));
  }
  // glusterfsd writes its pid file too (following links); a link there is refused before the
  // process is started, and our own write below does not follow one planted meanwhile.
  struct stat st {};
  if (::lstat(files.pid_file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    return FailedPreconditionError("refusing to write through a symlink: path=" + files.pid_file +
                                   " (remove it; nothing but this daemon should write in " +
                                   options_.run_dir + ")");
  }
  // glusterd deletes a stale socket before it spawns the process.
  ::unlink(files.socket_file.c_str());
  SpawnOptions so;
  so.argv = options_.kind.argv(spec, files);
  so.output_file = files.log_file;
  so.parent_death_signal = 0;  // bricks outlive the daemon
  so.new_session = true;
  so.working_dir = options_.run_dir;  // cores and stray files land in the rundir
  std::string cmd;
  for (const auto& a : so.argv) cmd += (cmd.empty() ? "" : " ") + a;
  options_.logger.Debug("spawn", {{"kind", options_.kind.name}, {"argv", cmd}});
  GD2_ASSIGN_OR_RETURN(pid_t pid, gd2::Spawn(so));
  Status s = WritePidFile(files.pid_file, pid);
  if (!s.ok()) {
    KillAndWait(pid, Clock::now());
    return s;
  }
  return pid;
}

pid_t Supervisor::FindLive(const BrickSpec& spec, const ProcessFiles& files, int* port) const {
  auto text = ReadFile(files.pid_file);
  if (!text.ok()) return 0;
  pid_t pid = FirstNumber(*text);
  if (pid <= 0 || ExitOf(pid, options_.run_dir).has_value()) return 0;
  auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline.ok()) return 0;
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < cmdline->size(); ++i) {
    if ((*cmdline)[i] == '\0') {
      args.push_back(cmdline->substr(start, i - start));
      start = i + 1;
    }
  }
  if (args.empty() || Basename(args[0]) != Basename(options_.kind.binary)) return 0;
  if (!HasPair(args, "-p", files.pid_file)) return 0;
  for (const auto& [a, b] : options_.kind.identity(spec)) {
    if (!HasPair(args, a, b)) return 0;
  }
  if (options_.kind.current && !options_.kind.current(spec, files, args)) {
    // Ours, but started with a volfile server this daemon no longer serves it on (an older
    // version's TCP one): stop it, so that the caller starts it afresh.
    options_.logger.Info("stopping a process started with an older command line",
                         {{"kind", options_.kind.name}, {"key", Key(spec)}, {"pid", pid}});
    KillAndWait(pid, Clock::now() + std::chrono::seconds(10));
    return 0;
  }
  if (port != nullptr && *port == 0) {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--brick-port") *port = FirstNumber(args[i + 1]);
    }
  }
  return pid;
}

Status Supervisor::Start(const BrickSpec& spec, Clock::time_point deadline,
                         std::stop_token cancel) {
  GD2_RETURN_IF_ERROR(options_.kind.validate(spec));
  const std::string key = Key(spec);
  ProcessFiles files = Files(spec);
  if (files.socket_file.size() >= 108) {
    return InvalidArgumentError("socket path too long (run dir too deep): path=" +
                                files.socket_file);
  }
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e, Acquire(key, true, deadline));
  // The entry is ours until Release(); its fields change only here, and under mu_.
  if (e->phase == Entry::Phase::kRunning && !ExitOf(e->pid, options_.run_dir)) {
    Release(e);
    return OkStatus();
  }
  if (cancel.stop_requested() && e->phase == Entry::Phase::kIdle) {
    Release(e);
    return Status(StatusCode::kCancelled,
                  options_.kind.name + " start given up by its caller before it began: key=" + key);
  }
  BrickSpec active = spec;
  int port = spec.port;
  pid_t pid = 0;
  bool spawned = false;
  if (e->phase == Entry::Phase::kRestarting && !ExitOf(e->pid, options_.run_dir)) {
    // The monitor has just respawned it; finish waiting for that process here.
    active = e->spec;
    files = e->files;
    port = e->port;
    pid = e->pid;
    spawned = true;
  } else if ((pid = FindLive(spec, files, &port)) == 0) {
    auto r = Spawn(spec, files);
    if (!r.ok()) {
      {
        MutexLock lock(mu_);
        e->phase = Entry::Phase::kIdle;
      }
      Release(e);
      return r.status().WithContext("start " + options_.kind.name + " " + key);
    }
    pid = *r;
    spawned = true;
  }

  std::optional<std::string> exit;
  bool ready = false;
  bool given_up = false;  // `cancel` was stopped
  // Checks with a growing pause between them; with wait_ready the pause ends as soon as the
  // process may be ready, so only an exit waits for the next check.
  auto pause = std::chrono::steady_clock::duration(std::chrono::milliseconds(2));
  while (true) {
    if ((exit = ExitOf(pid, options_.run_dir))) break;
    if (Ready(active)) {
      // The process may have failed right after the check passed (a brick listens before its
      // whole graph is up); a process already gone is not reported as started.
      exit = ExitOf(pid, options_.run_dir);
      ready = !exit;
      break;
    }
    auto now = Clock::now();
    if (now >= deadline) break;
    if (cancel.stop_requested()) {
      given_up = true;
      break;
    }
    auto until = std::min(now + pause, deadline);
    if (options_.wait_ready) {
      options_.wait_ready(active, until);
    } else {
      std::this_thread::sleep_until(until);
    }
    pause = std::min<std::chrono::steady_clock::duration>(pause * 2, std::chrono::milliseconds(50));
  }

  Status result;
  bool keep = ready || (!exit && !spawned);  // an adopted process that is slow stays supervised
  const std::string not_ready = given_up ? options_.kind.name + " start given up by its caller"
                                         : options_.kind.name + " not ready before the deadline";
  const StatusCode not_ready_code =
      given_up ? StatusCode::kCancelled : StatusCode::kDeadlineExceeded;
  if (!keep) {
    if (!exit) KillAndWait(pid, Clock::now() + std::chrono::seconds(2));
    RemoveFiles(files);
    std::string what =
        exit ? options_.kind.name + " exited during start (" + *exit + ")" : not_ready;
    std::string msg =
        what + ": key=" + key + " pid=" + std::to_string(pid) + "\n" + LogTail(files.log_file);
    result = exit ? UnavailableError(msg) : Status(not_ready_code, msg);
  } else if (!ready) {
    result = Status(not_ready_code, not_ready + ": key=" + key + " pid=" + std::to_string(pid));
  }
  if (active.port == 0) active.port = port;
  {
    MutexLock lock(mu_);
    e->spec = active;
    e->files = files;
    e->port = port;
    e->pid = keep ? pid : 0;
    e->phase = keep ? Entry::Phase::kRunning : Entry::Phase::kIdle;
    e->started_at = Clock::now();
  }
  if (ready) {
    options_.logger.Info(
        spawned ? "process started" : "process adopted",
        {{"kind", options_.kind.name}, {"key", key}, {"pid", pid}, {"port", port}});
    Notify({{key, spawned ? ProcessChange::kStarted : ProcessChange::kAdopted, pid, port}});
  }
  Release(e);  // after the event: the changes of one key are told in their order
  return result;
}

StatusOr<bool> Supervisor::Adopt(const BrickSpec& spec) {
  const std::string key = Key(spec);
  if (key.empty()) return InvalidArgumentError("adopt: empty key");
  ProcessFiles files = Files(spec);
  GD2_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e,
                       Acquire(key, true, Clock::now() + std::chrono::seconds(10)));
  if ((e->phase == Entry::Phase::kRunning || e->phase == Entry::Phase::kRestarting) &&
      !ExitOf(e->pid, options_.run_dir)) {
    Release(e);
    return true;
  }
  int port = spec.port;
  pid_t pid = FindLive(spec, files, &port);
  if (pid == 0) {
    Release(e);
    return false;
  }
  BrickSpec active = spec;
  active.port = port;
  {
    MutexLock lock(mu_);
    e->spec = active;
    e->files = files;
    e->pid = pid;
    e->port = port;
    e->phase = Entry::Phase::kRunning;
    e->started_at = Clock::now();
  }
  options_.logger.Info("process adopted",
                       {{"kind", options_.kind.name}, {"key", key}, {"pid", pid}, {"port", port}});
  Notify({{key, ProcessChange::kAdopted, pid, port}});
  Release(e);
  return true;
}

Status Supervisor::Stop(const std::string& key, Clock::time_point deadline) {
  return StopKeys({key}, deadline);
}

Status Supervisor::StopAll(Clock::time_point deadline) { return StopKeys(Keys(), deadline); }

Status Supervisor::StopKeys(const std::vector<std::string>& keys, Clock::time_point deadline) {
  return StopTogether({{this, keys}}, deadline, nullptr);
}

Supervisor::StopBatch Supervisor::BeginStop(const std::vector<std::string>& keys,
                                            Clock::time_point deadline) {
  StopBatch batch;
  for (const auto& key : keys) {
    auto e = Acquire(key, false, deadline);
    if (!e.ok()) {
      batch.busy.push_back(key);
      if (batch.result.ok()) batch.result = e.status();
      continue;
    }
    if (*e) batch.held.push_back(*e);
  }
  return batch;
}

Status Supervisor::StopTogether(
    const std::vector<std::pair<Supervisor*, std::vector<std::string>>>& sets,
    Clock::time_point deadline, std::set<std::string>* stopped) {
  using Sets = std::vector<std::pair<Supervisor*, std::vector<std::string>>>;
  // In rounds until every key is stopped or the deadline has passed. Each round takes the
  // entries that are free, waiting at most kTakeGrace (the monitor holds each entry for a
  // moment while it checks it), signals their processes together and waits for them: each gets
  // its supervisor's stop_grace (at most until `deadline`) between its first signal and SIGKILL. An
  // entry another operation holds longer (a start waiting for its brick, a restart) is taken by a
  // later round, once free.
  constexpr auto kTakeGrace = std::chrono::milliseconds(20);
  Status first;
  Sets remaining = sets;
  while (!remaining.empty()) {
    Clock::time_point take_until = std::min(deadline, Clock::now() + kTakeGrace);
    std::vector<StopBatch> batches;
    std::vector<Victim> victims;
    for (const auto& [s, keys] : remaining) {
      batches.push_back(s->BeginStop(keys, take_until));
      for (const auto& e : batches.back().held) {
        if (e->phase == Entry::Phase::kRunning || e->phase == Entry::Phase::kRestarting) {
          victims.push_back(Victim{e->pid, s->options_.run_dir, s->options_.kind.stop_signal,
                                   s->options_.stop_grace, deadline});
        }
      }
    }
    // Keys still busy at the deadline are the round's errors; before it, the next round's keys.
    bool last = Clock::now() >= deadline;
    Sets busy;
    for (size_t i = 0; i < remaining.size(); ++i) {
      if (last || batches[i].busy.empty()) continue;
      busy.emplace_back(remaining[i].first, batches[i].busy);
      batches[i].result = OkStatus();
    }
    std::vector<pid_t> survivors = SignalAndWait(std::move(victims));
    for (size_t i = 0; i < remaining.size(); ++i) {
      Status s = remaining[i].first->FinishStop(batches[i], survivors, stopped);
      if (!s.ok() && first.ok()) first = s;
    }
    remaining = std::move(busy);
  }
  return first;
}

Status Supervisor::FinishStop(StopBatch& batch, const std::vector<pid_t>& survivors,
                              std::set<std::string>* stopped) {
  std::optional<pid_t> survivor;
  for (const auto& e : batch.held) {
    bool survived = std::find(survivors.begin(), survivors.end(), e->pid) != survivors.end();
    if (survived) survivor = e->pid;
    if (!survived && stopped != nullptr) stopped->insert(e->key);
  }
  for (const auto& e : batch.held) {
    RemoveFiles(e->files);
    bool had_process = e->phase == Entry::Phase::kRunning || e->phase == Entry::Phase::kRestarting;
    std::vector<Event> events;
    if (had_process) {
      events.push_back({e->key, ProcessChange::kStopped, e->pid, e->port});
      options_.logger.Info("process stopped",
                           {{"kind", options_.kind.name}, {"key", e->key}, {"pid", e->pid}});
    }
    {
      MutexLock lock(mu_);
      e->phase = Entry::Phase::kIdle;
      e->pid = 0;
    }
    // Told before the entry is let go, so that a start that takes it next is told after.
    Notify(events);
    Release(e);
  }
  if (survivor) {
    return InternalError(options_.kind.name +
                         " process survived SIGKILL: pid=" + std::to_string(*survivor));
  }
  return batch.result;
}

ProcessState Supervisor::State(const std::string& key) const {
  MutexLock lock(mu_);
  ProcessState st;
  auto it = entries_.find(key);
  if (it == entries_.end()) return st;
  const Entry& e = *it->second;
  st.running = e.phase == Entry::Phase::kRunning;
  st.pid = e.pid;
  st.port = e.port;
  st.restarts = e.restarts;
  return st;
}

std::vector<std::string> Supervisor::Keys() const {
  MutexLock lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [key, e] : entries_) {
    if (e->phase != Entry::Phase::kIdle) keys.push_back(key);
  }
  return keys;
}

void Supervisor::MonitorLoop() {
  // A process is watched through a pidfd, which becomes readable when it ends: a death is seen
  // at once, and a host with hundreds of processes costs nothing while they run. Only what has a
  // time attached is looked at every poll_interval: a restarted process until it is ready, a
  // restart that is due, a process the kernel gave no pidfd for, and one whose entry was busy
  // when its pidfd fired. The watches are this thread's own; a Release() wakes it to look again.
  struct Watch {
    pid_t pid = 0;
    PidFd fd;
    bool fired = false;  // readable, but not yet looked at (the entry was busy)
  };
  std::map<std::string, Watch> watches;
  auto next_tick = Clock::now() + options_.poll_interval;
  std::set<std::string> check;  // keys to look at in this round
  while (true) {
    // What runs now, and what needs time-based looks.
    bool timed = false;
    std::optional<Clock::time_point> next_restart;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      for (auto it = watches.begin(); it != watches.end();) {
        auto e = entries_.find(it->first);
        bool keep = e != entries_.end() && e->second->pid == it->second.pid &&
                    (e->second->phase == Entry::Phase::kRunning ||
                     e->second->phase == Entry::Phase::kRestarting);
        it = keep ? std::next(it) : watches.erase(it);
      }
      for (const auto& [key, e] : entries_) {
        // A restart another call holds up is not due for the monitor: its Release() wakes it.
        if (e->phase == Entry::Phase::kBackoff && !e->busy) {
          next_restart = next_restart ? std::min(*next_restart, e->next_restart) : e->next_restart;
        }
        if (e->phase == Entry::Phase::kRestarting) timed = true;
        if (e->pid <= 0 || watches.count(key) != 0 ||
            (e->phase != Entry::Phase::kRunning && e->phase != Entry::Phase::kRestarting)) {
          continue;
        }
        // A new process to watch. Looked at once now too: it may have ended before its pidfd
        // was open (a child stays a zombie until it has been looked at, so the pid still names
        // it).
        Watch& w = watches[key];
        w.pid = e->pid;
        w.fd = PidFd(e->pid);
        check.insert(key);
      }
    }
    std::vector<pollfd> fds;
    std::vector<std::string> fd_keys;
    if (wake_fd_ >= 0) fds.push_back({wake_fd_, POLLIN, 0});
    for (auto& [key, w] : watches) {
      if (w.fd.fd < 0 || w.fired) {
        timed = true;
        continue;
      }
      fds.push_back({w.fd.fd, POLLIN, 0});
      fd_keys.push_back(key);
    }
    if (wake_fd_ < 0) timed = true;
    // Sleep until a pidfd or the wake-up fd is readable, the next tick if anything is timed,
    // or the next due restart.
    int timeout_ms = -1;
    if (check.empty()) {
      std::optional<Clock::time_point> until;
      if (timed) until = next_tick;
      if (next_restart) until = until ? std::min(*until, *next_restart) : *next_restart;
      if (until) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - Clock::now()).count();
        timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
      }
      int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0 && errno != EINTR) std::this_thread::sleep_for(options_.poll_interval);
    }
    auto now = Clock::now();
    size_t first_watch = wake_fd_ >= 0 ? 1 : 0;
    if (wake_fd_ >= 0 && (fds[0].revents & POLLIN) != 0) {
      uint64_t count = 0;
      ssize_t r = ::read(wake_fd_, &count, sizeof(count));
      (void)r;
    }
    for (size_t i = first_watch; i < fds.size(); ++i) {
      if (fds[i].revents != 0) {
        watches[fd_keys[i - first_watch]].fired = true;
        check.insert(fd_keys[i - first_watch]);
      }
    }
    bool tick = now >= next_tick;
    if (tick) next_tick = now + options_.poll_interval;
    std::vector<std::shared_ptr<Entry>> work;
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      for (auto& [key, e] : entries_) {
        if (e->busy || e->phase == Entry::Phase::kIdle) continue;
        auto w = watches.find(key);
        bool unwatched =
            e->phase == Entry::Phase::kRunning && (w == watches.end() || w->second.fd.fd < 0);
        bool look = e->look_now || check.count(key) != 0 ||
                    (w != watches.end() && w->second.fired) ||
                    (e->phase == Entry::Phase::kBackoff && now >= e->next_restart) ||
                    (tick && (e->phase == Entry::Phase::kRestarting || unwatched));
        if (!look) continue;
        e->look_now = false;
        e->busy = true;
        work.push_back(e);
      }
    }
    check.clear();
    for (const auto& e : work) {
      auto w = watches.find(e->key);
      Watch* watch = w != watches.end() ? &w->second : nullptr;
      std::vector<Event> events;
      MonitorEntry(e, watch != nullptr && watch->fired && watch->pid == e->pid, events);
      if (watch != nullptr) {
        // Still the same process after a look: its pidfd fired without an exit (not expected),
        // so it is looked at every tick from now on rather than in a busy loop.
        if (watch->fired && watch->pid == e->pid) watch->fd = PidFd();
        watch->fired = false;
      }
      // Told while the entry is held: a start or stop that takes it next is told after, so a
      // death is never told after the start of the process that replaced it.
      Notify(events);
      Release(e);
    }
  }
}

void Supervisor::MonitorEntry(const std::shared_ptr<Entry>& e, bool ended,
                              std::vector<Event>& events) {
  // Busy: the fields are stable and ours to change (under mu_).
  auto now = Clock::now();
  // How the process ended, if it did. Its pidfd, when it fired, is the proof: an adopted process
  // is reaped by init at once, and its pid may name another process by now.
  auto exit_of = [&]() -> std::optional<std::string> {
    std::optional<std::string> exit = ExitOf(e->pid, options_.run_dir);
    if (!exit && ended) exit = "exited";
    return exit;
  };
  const log::Logger& log = options_.logger;
  auto schedule_restart = [&](const std::string& why) {
    bool stable = now - e->started_at >= options_.stable_after;
    std::chrono::milliseconds backoff = stable ? options_.backoff_initial : e->backoff;
    log.Warn("process died; restarting", {{"kind", options_.kind.name},
                                          {"key", e->key},
                                          {"pid", e->pid},
                                          {"reason", why},
                                          {"backoff_ms", static_cast<int64_t>(backoff.count())}});
    if (e->phase == Entry::Phase::kRunning) {
      events.push_back({e->key, ProcessChange::kDied, e->pid, e->port});
    }
    ::unlink(e->files.pid_file.c_str());
    MutexLock lock(mu_);
    e->phase = Entry::Phase::kBackoff;
    e->pid = 0;
    e->next_restart = now + backoff;
    e->backoff = std::min(backoff * 2, options_.backoff_max);
  };

  switch (e->phase) {
    case Entry::Phase::kIdle:
      return;
    case Entry::Phase::kRunning:
      if (auto exit = exit_of()) schedule_restart(*exit);
      return;
    case Entry::Phase::kRestarting:
      if (auto exit = exit_of()) {
        schedule_restart(*exit);
      } else if (Ready(e->spec)) {
        log.Info("process restarted", {{"kind", options_.kind.name},
                                       {"key", e->key},
                                       {"pid", e->pid},
                                       {"restarts", e->restarts}});
        events.push_back({e->key, ProcessChange::kRestarted, e->pid, e->port});
        MutexLock lock(mu_);
        e->phase = Entry::Phase::kRunning;
      } else if (now >= e->ready_deadline) {
        KillAndWait(e->pid, Clock::now() + std::chrono::seconds(2));
        schedule_restart("not ready in time\n" + LogTail(e->files.log_file, 5));
      }
      return;
    case Entry::Phase::kBackoff: {
      if (now < e->next_restart) return;
      auto pid = Spawn(e->spec, e->files);
      MutexLock lock(mu_);
      ++e->restarts;
      if (!pid.ok()) {
        log.Error("process restart failed",
                  {{"kind", options_.kind.name}, {"key", e->key}, {"error", pid.status()}});
        e->next_restart = now + e->backoff;
        e->backoff = std::min(e->backoff * 2, options_.backoff_max);
        return;
      }
      e->phase = Entry::Phase::kRestarting;
      e->pid = *pid;
      e->started_at = now;
      e->ready_deadline = now + options_.restart_ready_timeout;
      return;
    }
  }
}

}  // namespace gd2::brick
