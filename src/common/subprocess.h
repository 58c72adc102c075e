// Child processes: spawn with a parent-death signal so nothing outlives the daemon, wait with a
// deadline, stop gracefully (SIGTERM, then SIGKILL). Used for etcd, glusterfsd and tools.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gd2 {

struct SpawnOptions {
  std::vector<std::string> argv;
  // Extra environment entries; the parent's environment is inherited.
  std::map<std::string, std::string> env;
  // stdout and stderr of the child are appended to this file; empty means /dev/null.
  std::string output_file;
  // Or: stdout and stderr go to this open descriptor (the caller keeps and closes it).
  int output_fd = -1;
  // The signal the child gets when the spawning thread's process dies (0: none).
  int parent_death_signal = 9;
  // Put the child in its own process group (so a terminal's ^C does not reach it).
  bool new_process_group = true;
  // Put the child in its own session (setsid; implies its own process group), detached from
  // the controlling terminal. For processes that must outlive the daemon, such as bricks;
  // combine with parent_death_signal = 0. Such a child also inherits none of the parent's file
  // descriptors above 2 (all are made close-on-exec), so it cannot keep the daemon's listening
  // sockets or files open after the daemon exits.
  bool new_session = false;
  // The child's working directory (chdir before exec; spawn fails if it cannot). Empty: the
  // parent's. Where a core dump with a relative core_pattern lands.
  std::string working_dir;
  // A cgroup v2 directory the child moves into before exec (so do all its descendants); empty:
  // the parent's. Spawn fails if the move fails.
  std::string cgroup;
};

// Starts a child. Returns its pid. The caller owns the child and must reap it
// (WaitExit / StopProcess).
StatusOr<pid_t> Spawn(const SpawnOptions& opts);

// Exit status of a reaped child: exit code, or 128+signal.
struct ExitInfo {
  int code = 0;
  bool signaled = false;
  bool core_dumped = false;  // signaled and the kernel wrote (or piped) a core
  // "exit code 3", "killed by signal 11 (SIGSEGV), core dumped".
  std::string ToString() const;
};

// "SIGSEGV" for 11; "signal 77" for numbers without a name.
std::string SignalName(int sig);
// Where the kernel put the core of process `pid` whose working directory was `cwd`, read from
// /proc/sys/kernel/core_pattern: the file path (%p, %e-free patterns resolved; a relative
// pattern is under `cwd`), or "piped to <program>" when cores go to a handler such as
// systemd-coredump. Never fails: unknown parts are left as the pattern has them.
std::string CoreLocation(pid_t pid, const std::string& cwd);
// One sentence for a log: "killed by signal 6 (SIGABRT), core dumped: /run/gd2/core.1234".
std::string DescribeExit(const ExitInfo& e, pid_t pid, const std::string& cwd);
// ExitInfo from a waitpid(2) status.
ExitInfo ExitInfoFromWaitStatus(int wait_status);

// Whether child `pid` has ended, without waiting and without reaping it on the calling thread.
// Once it has ended, its status is read with WNOWAIT and the zombie is handed to one background
// thread that reaps it 100 ms later. Reaping prunes the process's /proc dentries; done the
// moment the exit is seen, it raced the exiting threads' own pruning and spun on the dentry
// locks: 2-10 ms per glusterfsd (p90) on a busy 2-core host, inside the stop, and with three
// peers on one host it was half of the daemons' CPU. Until it is reaped the pid stays reserved,
// and asking again gives the same status. A child handed over is reaped only there (or by
// ReapPendingChildren), through a pidfd, so never another process that reuses the pid later.
struct ChildState {
  enum Kind {
    kRunning,
    kExited,      // `exit` says how
    kNotOurChild  // never our child, or already reaped (ECHILD): the caller asks /proc
  };
  Kind kind = kRunning;
  ExitInfo exit;
};
ChildState CheckChild(pid_t pid);
// Reaps now the children CheckChild handed to the background thread and that are still waiting
// for it. Before an exec of this process: the new image would never reap them.
void ReapPendingChildren();

// Waits up to `timeout` for child `pid` to exit. Returns std::nullopt on timeout.
std::optional<ExitInfo> WaitExit(pid_t pid, std::chrono::milliseconds timeout);
// Non-blocking check.
std::optional<ExitInfo> PollExit(pid_t pid);
// SIGTERM, wait up to `grace`, then SIGKILL and reap. Safe on an already-reaped pid (returns).
ExitInfo StopProcess(pid_t pid, std::chrono::milliseconds grace);

// Runs argv to completion with a deadline, capturing stdout+stderr (truncated to 64 KiB).
struct RunResult {
  ExitInfo exit;
  std::string output;
};
// `cgroup` as in SpawnOptions.
StatusOr<RunResult> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout, const std::string& cgroup = "");

// True if a process with this pid exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// A pidfd (pidfd_open(2)) for `pid`: it names that process for good, even once its pid is
// reused; it becomes readable when the process ends. -1 (errno set) if the kernel refuses one.
int OpenPidFd(pid_t pid);
// pidfd_send_signal(2): `sig` to the process behind `pidfd`, never to one that took its pid.
int SignalPidFd(int pidfd, int sig);

// Owns a pidfd from OpenPidFd (fd -1 when the kernel refused one); closed with the object.
struct PidFd {
  PidFd() : fd(-1) {}
  explicit PidFd(pid_t pid) : fd(OpenPidFd(pid)) {}
  ~PidFd();
  PidFd(PidFd&& other) noexcept : fd(other.fd) { other.fd = -1; }
  PidFd& operator=(PidFd&& other) noexcept;
  PidFd(const PidFd&) = delete;
  PidFd& operator=(const PidFd&) = delete;
  int fd;
};

}  // namespace gd2
