// Runs and watches this node's gluster processes (glusterfsd bricks, or with ShdKind() the
// self-heal daemon): start with a readiness wait, stop, restart with backoff when one dies,
// and adopt the processes a previous daemon instance left running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "brick/process_kind.h"
#include "common/log.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace gd2::brick {

// What happened to a supervised process: it came up (a start, an adoption, a restart by the
// monitor) or it went away (a stop that was asked for, or a death the monitor saw).
enum class ProcessChange { kStarted, kAdopted, kRestarted, kStopped, kDied };

// True for the changes that leave a process running.
inline bool Running(ProcessChange c) {
  return c != ProcessChange::kStopped && c != ProcessChange::kDied;
}

struct ProcessEvent {
  std::string key;
  ProcessChange change = ProcessChange::kStarted;
  pid_t pid = 0;  // the process that came up or went away
  int port = 0;
  bool running() const { return Running(change); }
};

struct SupervisorOptions {
  std::string run_dir;  // pid files and -S sockets (created as needed); keep it short (<80 chars)
  std::string log_dir;  // process logs (created as needed)
  ProcessKind kind = BrickKind();
  // Polled during Start() and after a restart until it returns true. Must be quick (it runs
  // on the monitor thread too) and thread-safe. Empty: kind.default_ready (bricks: a TCP
  // connect to host:port succeeds). The daemon plugs in "the brick signed in to our port map".
  std::function<bool(const BrickSpec&)> ready;
  // Optional: blocks until `spec` may have become ready or `until` passes. Start() calls it
  // between its checks instead of sleeping, so that a process is seen ready the moment it is
  // (the daemon plugs in "wait for the brick's SIGNIN"). Empty: Start() sleeps between checks.
  std::function<void(const BrickSpec&, std::chrono::steady_clock::time_point until)> wait_ready;
  // Called on every change (see ProcessChange), from the thread that made it (a Start/Stop
  // caller or the monitor), without the supervisor's lock but while the change's key is still
  // held: the changes of one key are told in the order they happened (a death is never told
  // after the start of the process that replaced it). Keep it short; it may read the
  // supervisor (State, Keys) but must not start, stop or adopt that key (it would wait for
  // itself).
  std::function<void(const ProcessEvent&)> on_state_change;
  // How often the monitor looks at a process it has no pidfd for, at a restarted one until it is
  // ready (at once when LookAt() names it), and at one whose pidfd fired while another call held
  // it. A running process is watched through its pidfd, so its death is seen at once, without
  // polling.
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{30000};
  // A process that stayed up this long has its restart backoff reset to backoff_initial.
  std::chrono::milliseconds stable_after{60000};
  // How long a restarted process gets to become ready before it is killed and retried.
  std::chrono::milliseconds restart_ready_timeout{30000};
  // How long a stopped process gets to exit on kind.stop_signal before it gets SIGKILL (sooner if
  // the stop's deadline comes first). glusterfsd exits on SIGTERM in 10-40 ms; one that has
  // not in seconds is stuck (a crash handler that spins), not finishing work.
  std::chrono::milliseconds stop_grace{3000};
  log::Logger logger;
};

struct ProcessState {
  bool running = false;  // process alive (and was ready once); false for unknown keys
  pid_t pid = 0;
  int port = 0;
  int restarts = 0;  // restarts done by the monitor since Start/Adopt
};

// Owns one entry per key (kind.key(spec): the brick path, or "shd/<vol>").
// Processes are started with -N as children of this process, in their own session and with no
// parent-death signal, so they keep serving when the daemon exits or restarts; a new daemon
// instance Adopt()s them through their pid files. Children are reaped by this class; adopted
// non-children are watched through /proc (a zombie counts as dead).
// All methods are thread-safe. Calls for different keys run in parallel (no lock is held while
// waiting for a process); calls for the same key are serialised.
class Supervisor {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the monitor thread.
  explicit Supervisor(SupervisorOptions options);
  // Shutdown(): processes keep running.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the process for `spec` unless it runs already, and waits until it is ready.
  // Idempotent: OK at once if it is running. A live process named by the pid file (left by an
  // earlier daemon) is adopted instead of starting a second one. Otherwise removes a stale
  // socket, spawns kind.argv(spec), writes the pid file and polls readiness until `deadline`.
  // Errors: kInvalidArgument (kind.validate), kUnavailable if the process exits during start,
  // kDeadlineExceeded if it is not ready in time, kCancelled if `cancel` is stopped before it is
  // (its caller gave up: another peer of the step failed); each kills the process and carries
  // the last lines of its log. (An adopted process that is not ready in time stays supervised.)
  // From then on the monitor restarts the process whenever it dies, until Stop().
  Status Start(const BrickSpec& spec, Clock::time_point deadline, std::stop_token cancel = {});

  // kind.stop_signal (SIGTERM for bricks), wait until `deadline` or stop_grace, whichever comes
  // first, then SIGKILL; removes pid file and socket and forgets the key. Idempotent: OK for
  // unknown keys. kDeadlineExceeded if another call on the key holds it past the deadline,
  // kInternal if the process survives SIGKILL.
  Status Stop(const std::string& key, Clock::time_point deadline);
  // Stop() for every key, signalling all processes at once.
  Status StopAll(Clock::time_point deadline);
  // Stop() for the keys of several supervisors together: every process is signalled before any
  // is waited for, from the calling thread (no thread per process). Keys that another
  // operation (a start, a restart) holds are stopped once it lets go, after the others, so that
  // those do not wait for it and get their stop_grace (at most until `deadline`) to exit on
  // their kind's stop_signal. The first error of any set.
  // `stopped`, if given, receives the keys whose process is gone (or that had none): not those
  // another call held past the deadline, nor those whose process survived SIGKILL.
  static Status StopTogether(
      const std::vector<std::pair<Supervisor*, std::vector<std::string>>>& sets,
      Clock::time_point deadline, std::set<std::string>* stopped = nullptr);

  // After a daemon restart: if the pid file names a live process whose /proc/<pid>/cmdline is
  // kind.binary with "-p <pid file>" and kind.identity(spec) (for bricks "--brick-name <path>"),
  // supervises it without restarting it and returns true. Returns false if no such process
  // runs (the caller then Start()s it). The port reported is spec.port, or the process's
  // --brick-port when spec.port is 0.
  StatusOr<bool> Adopt(const BrickSpec& spec);

  // Current state of a key; running=false for unknown keys. (Named State because Status is
  // the error type.)
  ProcessState State(const std::string& key) const;
  // Keys currently supervised.
  std::vector<std::string> Keys() const;

  // Key and files the supervisor uses for `spec`.
  std::string Key(const BrickSpec& spec) const { return options_.kind.key(spec); }
  ProcessFiles Files(const BrickSpec& spec) const;

  // Asks the monitor to look at `key` now rather than at its next poll_interval tick: the
  // readiness of a restarted process changed (the brick runtime calls it when a brick signs in
  // to the port map). Unknown keys are ignored. Cheap, from any thread, with no lock held that
  // the `ready` check or on_state_change takes.
  void LookAt(const std::string& key);

  // Stops the monitor thread (no more restarts) without touching the processes; for daemon
  // exit. Start/Stop/Adopt still work afterwards. Idempotent.
  void Shutdown();

 private:
  struct Entry;
  using Event = ProcessEvent;

  // Waits until the entry for `key` is not busy and marks it busy. Creates it if `create`.
  // Returns nullptr (and OK) if it does not exist and !create.
  StatusOr<std::shared_ptr<Entry>> Acquire(const std::string& key, bool create,
                                           Clock::time_point deadline) GD2_EXCLUDES(mu_);
  void Release(const std::shared_ptr<Entry>& entry) GD2_EXCLUDES(mu_);
  Status StopKeys(const std::vector<std::string>& keys, Clock::time_point deadline);
  // A stop in two halves around the signalling, so that StopTogether can signal the processes of
  // several supervisors at once: the entries taken (busy) for the keys, then their release.
  struct StopBatch {
    std::vector<std::shared_ptr<Entry>> held;
    std::vector<std::string> busy;  // keys whose entry could not be taken by the deadline
    Status result;                  // why the first of them could not
  };
  StopBatch BeginStop(const std::vector<std::string>& keys, Clock::time_point deadline);
  Status FinishStop(StopBatch& batch, const std::vector<pid_t>& survivors,
                    std::set<std::string>* stopped);
  // Stops `pid` (kind.stop_signal, SIGKILL after stop_grace or at `deadline`) and waits for it
  // (at most 5 s after the SIGKILL).
  void KillAndWait(pid_t pid, Clock::time_point deadline) const;
  StatusOr<pid_t> Spawn(const BrickSpec& spec, const ProcessFiles& files) const;
  // pid of a live process matching the spec's pid file and identity, or 0. A match whose
  // command line is not kind.current is stopped first (and 0 returned).
  pid_t FindLive(const BrickSpec& spec, const ProcessFiles& files, int* port) const;
  bool Ready(const BrickSpec& spec) const;
  void MonitorLoop() GD2_EXCLUDES(mu_);
  // One look at a held entry: a death (`ended`: its pidfd said so), a due restart, readiness.
  void MonitorEntry(const std::shared_ptr<Entry>& entry, bool ended, std::vector<Event>& events)
      GD2_EXCLUDES(mu_);
  void Notify(const std::vector<Event>& events) const;
  // Makes the monitor look at the entries again (one was released, or the supervisor stops).
  void WakeMonitor() const;

  const SupervisorOptions options_;
  const int wake_fd_;  // eventfd the monitor waits on with the pidfds; -1: it polls instead
  // Guards the map and each entry's `busy` flag; an entry's other fields are changed only by
  // the caller that set `busy`, under mu_, and read by it without (see Entry).
  mutable Mutex mu_;
  CondVar cv_;  // entry no longer busy / stop
  std::map<std::string, std::shared_ptr<Entry>> entries_ GD2_GUARDED_BY(mu_);
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  std::thread monitor_;
};

}  // namespace gd2::brick
