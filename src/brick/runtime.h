// BrickRuntime: this peer's gluster server processes, by brick group. A group is a set of bricks
// that serve one thing (a volume; an activated snapshot, a clone or a replacement brick alike):
// one glusterfsd per brick and, if the group asks for it, a self-heal daemon. The runtime starts
// a group's processes (adopting those an earlier daemon left running), stops them, reports their
// state, restarts them when they die, hands out the brick ports and keeps the port map in step.
// It does not read the store: the caller says which bricks of which group run on this peer.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "brick/port_allocator.h"
#include "brick/process_kind.h"
#include "brick/supervisor.h"
#include "common/status.h"

namespace gd2::sunrpc {
class PortMap;
}

namespace gd2::brick {

// One brick of a group on this peer.
struct GroupBrick {
  std::string path;  // absolute brick root; the brick's name in the port map and in BrickState
  std::string host;  // as the group's definition writes it ("vm", "10.0.0.1")
};

// The bricks of one group on this peer and how their processes are started.
struct BrickGroup {
  // The volume the processes serve, as their volfiles name it: the pid file directory,
  // "<volume>-server.listen-port", the self-heal daemon's "shd/<volume>". For a snapshot, the
  // snapshot volume's name.
  std::string volume;
  // Every brick root must carry it (trusted.glusterfs.volume-id) before its brick starts.
  std::string volume_id;
  std::vector<GroupBrick> bricks;
  // What precedes "<volume>.<host>.<dashed path>" in each brick's --volfile-id: "" for a volume,
  // "/snaps/<snap>/<volume>/" for the bricks of an activated snapshot (as glusterd names them).
  std::string volfile_id_prefix;
  // Also run the group's self-heal daemon ("shd/<volume>").
  bool self_heal = false;
  // Appended to every brick's command line.
  std::vector<std::string> extra_args;
};

// A brick process came up (running) or went away; `change` says how (a stop that was asked for,
// or a death).
struct BrickEvent {
  std::string brick_path;
  ProcessChange change = ProcessChange::kStarted;
  pid_t pid = 0;  // the process that came up or went away
  int port = 0;
  bool running() const { return Running(change); }
};

struct BrickRuntimeOptions {
  std::string run_dir;  // pid files, -S sockets and the daemon's RPC socket (kVolfileSocketName)
  std::string log_dir;  // process logs
  std::string peer_id;  // this peer's UUID, given to the processes
  // Processes fetch their volfiles from the daemon's unix socket in run_dir (the only place
  // where bricks may sign in). With volfile_over_tcp, from this TCP address instead (tests).
  bool volfile_over_tcp = false;
  std::string volfile_server_host = "127.0.0.1";
  int volfile_server_port = 24007;
  ProcessKind brick_kind = BrickKind();
  ProcessKind shd_kind = ShdKind();
  PortAllocator::Options ports;
  // Where bricks sign in (SIGNIN over the daemon's RPC service). A brick is ready once it signed
  // in with its port; an adopted brick is entered here, a stopped or dead one removed. Not
  // owned; must outlive the runtime. Required.
  sunrpc::PortMap* portmap = nullptr;
  // SupervisorOptions::poll_interval: running processes are watched through pidfds, not polled,
  // and a restarted brick is seen ready when it signs in (the runtime subscribes to `portmap`).
  std::chrono::milliseconds poll_interval{100};
  // Called on every brick (not self-heal daemon) change: up after a start, an adoption or a
  // restart, down after a stop or a death. Called from the thread that saw the change (a
  // Start/Stop caller or the monitor) with no lock of the runtime held, in the order of the
  // brick's changes (the brick is held meanwhile); must be short and thread-safe, may call the
  // runtime's read methods, and must not start or stop bricks. Optional.
  std::function<void(const BrickEvent&)> on_brick_state;
};

// Thread-safe. Calls for different groups run in parallel, and the bricks of one call start and
// stop in parallel. Calls for the same brick are serialised; callers keep Start and Stop of one
// group from racing (the volume plugin holds the volume's cluster lock), since whichever runs
// last wins.
// Processes outlive the runtime and the daemon: a new runtime (after a daemon restart) adopts
// them through their pid files in Start() and Stop().
class BrickRuntime {
 public:
  using Clock = std::chrono::steady_clock;

  explicit BrickRuntime(BrickRuntimeOptions options);
  // Shutdown(); the processes keep running.
  ~BrickRuntime();
  BrickRuntime(const BrickRuntime&) = delete;
  BrickRuntime& operator=(const BrickRuntime&) = delete;

  // Brings up every brick of `group` at once, then its self-heal daemon if group.self_heal.
  // A brick already supervised keeps its process; one left running by an earlier daemon (its pid
  // file names a live glusterfsd for this brick) is adopted with its port; any other is started on
  // a newly allocated port (another one, up to three in all, if another process took the port
  // before the brick bound it) and waited for until it signed in, at most until `deadline`.
  // Idempotent. Returns the first error; bricks that did come up stay up (the caller's undo stops
  // them). Errors: kFailedPrecondition (a brick root without the group's volume id),
  // kResourceExhausted (no free port), and Supervisor::Start's (kInvalidArgument for a bad spec,
  // kUnavailable if the process exited, kDeadlineExceeded if it did not sign in in time).
  // A stopped `cancel` (the caller gave up) ends the wait like the deadline, with kCancelled.
  Status Start(const BrickGroup& group, Clock::time_point deadline, std::stop_token cancel = {});

  // Stops the group's self-heal daemon (if group.self_heal) and every brick of `group`, all at
  // once: bricks by SIGTERM, then SIGKILL after 3 s (the supervisors' stop_grace) or at
  // `deadline` if sooner; the self-heal daemon by SIGKILL. Processes left running by an earlier
  // daemon are adopted first, so they are stopped too. Ports go back to the pool and the bricks
  // leave the port map. Idempotent: bricks that do not run are fine. Returns the first error
  // (Supervisor::Stop's: kDeadlineExceeded, kInternal); the other bricks are still stopped.
  Status Stop(const BrickGroup& group, Clock::time_point deadline);

  // State of the brick at `brick_path`: running=false if it is not supervised (never started
  // nor adopted by this runtime, or stopped).
  ProcessState BrickState(const std::string& brick_path) const;
  // Paths of the bricks supervised now.
  std::vector<std::string> Bricks() const;
  // Pid file of the self-heal daemon of `volume` (named in the shd GETSPEC reply).
  std::string ShdPidFile(const std::string& volume) const;

  // Stops watching (no more restarts) without touching the processes; for daemon exit.
  // Start/Stop still work afterwards. Idempotent.
  void Shutdown();

 private:
  BrickSpec BrickSpecFor(const BrickGroup& group, const GroupBrick& brick, int port) const;
  BrickSpec ShdSpecFor(const BrickGroup& group) const;
  Status StartBrick(const BrickGroup& group, const GroupBrick& brick, Clock::time_point deadline,
                    std::stop_token cancel);

  const BrickRuntimeOptions options_;
  PortAllocator ports_;
  std::unique_ptr<Supervisor> bricks_;
  std::unique_ptr<Supervisor> shd_;
  // The port map subscription that tells the brick monitor of sign-ins; 0 once Shutdown() ended it.
  std::atomic<uint64_t> signin_subscription_{0};
};

}  // namespace gd2::brick
