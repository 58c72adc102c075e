// What the Supervisor needs to know about one kind of gluster process: how a spec names it,
// where its pid file, socket and log go, and its command line. BrickKind() describes glusterfsd
// brick processes, ShdKind() the self-heal daemon (one glusterfs per volume).
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gd2::brick {

// One supervised process. For bricks every field may matter; the self-heal daemon uses
// volume, peer_id, the volfile server and extra_args.
struct BrickSpec {
  std::string volume;      // volume name, e.g. "rep3"
  std::string volume_id;   // volume UUID
  std::string brick_path;  // absolute brick root; byte-exact, it is the brick's name everywhere
  std::string host;        // brick host as written in the volume ("vm", "10.0.0.1")
  int port = 0;            // --brick-port and <vol>-server.listen-port
  // Where the process fetches its volfile and signs in. By default the daemon's local socket
  // (ProcessFiles::volfile_socket, `-s <socket> --volfile-server-transport unix`): only there
  // may bricks sign in and fetch brick and daemon volfiles. With volfile_over_tcp the TCP
  // address below instead (tests that run an RPC server of their own).
  bool volfile_over_tcp = false;
  std::string volfile_server_host = "127.0.0.1";  // -s
  int volfile_server_port = 24007;                // --volfile-server-port
  // Bricks only: --volfile-id if not the volume's "<volume>.<host>.<dashed path>", e.g.
  // "/snaps/<snap>/<volume>/<volume>.<host>.<dashed path>" for a snapshot's brick.
  std::string volfile_id;
  std::string peer_id;  // this node's UUID (*-posix.glusterd-uuid / *replicate*.node-uuid)
  // If set, the process reads this local volfile (-f) instead of fetching one over GETSPEC
  // (no -s, no --volfile-id). Used by tests; see gluster-wire.md section 13.
  std::string local_volfile;
  // Appended to the command line as given (e.g. "--global-threading", "-L", "DEBUG").
  std::vector<std::string> extra_args;
};

// Files of one process, derived from the spec and the supervisor's directories.
// The daemon's management RPC socket in the run dir (see sunrpc::RpcServer::ListenLocal).
inline constexpr const char kVolfileSocketName[] = "glusterd2-rpc.socket";

struct ProcessFiles {
  std::string volfile_socket;  // <run_dir>/glusterd2-rpc.socket
  std::string pid_file;
  std::string socket_file;  // -S: where the process serves GD_BRICK
  std::string log_file;     // -l; the process's stdout/stderr are appended here too
};

struct ProcessKind {
  std::string name;    // "brick" or "glustershd"; used in logs and error messages
  std::string binary;  // absolute path of the executable
  // Unique name of a spec within one supervisor: the brick path, or "shd/<vol>".
  std::function<std::string(const BrickSpec&)> key;
  // Checks a spec before anything is spawned; kInvalidArgument names the bad field.
  std::function<Status(const BrickSpec&)> validate;
  std::function<ProcessFiles(const BrickSpec&, const std::string& run_dir,
                             const std::string& log_dir)>
      files;
  // Full argv, argv[0] = binary. Must keep the process in the foreground (-N).
  std::function<std::vector<std::string>(const BrickSpec&, const ProcessFiles&)> argv;
  // Argument pairs that must appear in /proc/<pid>/cmdline for Adopt() to accept a process,
  // in addition to {"-p", pid_file}.
  std::function<std::vector<std::pair<std::string, std::string>>(const BrickSpec&)> identity;
  // False if a running process (its /proc cmdline `args`) was started with a command line this
  // kind no longer uses in a way that matters (a volfile server other than the current one):
  // Adopt() then stops it so that it is started afresh.
  std::function<bool(const BrickSpec&, const ProcessFiles&, const std::vector<std::string>& args)>
      current;
  // Readiness used when the supervisor is given none.
  std::function<bool(const BrickSpec&)> default_ready;
  // The signal a stop sends first; a process still alive after the supervisor's stop_grace (or
  // at the stop's deadline, if sooner) gets SIGKILL. Bricks get SIGTERM: they sign out of the
  // port map on it. The self-heal daemon gets SIGKILL at once: it keeps nothing a clean exit
  // would save, and glusterfs 10.3 crashes on a SIGTERM that reaches it while it is still
  // setting up (in cleanup_and_exit, or in OpenSSL's exit handlers; 16 of 2400 stops right after
  // a start in the bench), dumps core, and has been seen to spin in its crash handler until
  // killed.
  int stop_signal = SIGTERM;
};

// glusterfsd bricks, command line as glusterd 10.3 builds it, but with the volfile server on the
// daemon's local socket, and -N:
//   glusterfsd -s <run_dir>/glusterd2-rpc.socket --volfile-server-transport unix
//     --volfile-id <vol>.<host>.<dashed> (or spec.volfile_id) -p PID -S SOCK
//     --brick-name PATH -l LOG --xlator-option *-posix.glusterd-uuid=PEER --process-name brick
//     --brick-port N --xlator-option <vol>-server.listen-port=N -N
// (volfile_over_tcp: "-s H --volfile-server-port P" instead; local_volfile: "-f FILE" replaces
// "-s ... --volfile-id ..."). Files:
//   <run_dir>/vols/<vol>/<host>-<dashed>.pid, <run_dir>/<16 hex>.socket,
//   <log_dir>/bricks/<dashed>.log. Key: brick_path. Ready: TCP connect to host:port.
ProcessKind BrickKind(std::string binary = "/usr/sbin/glusterfsd");

// Self-heal daemon, one process per volume (gluster-wire.md section 17.9; stock glusterd uses
// one process and SVC_ATTACH instead):
//   glusterfs -s <run_dir>/glusterd2-rpc.socket --volfile-server-transport unix
//     --volfile-id shd/<vol> -p PID -l LOG -S SOCK
//     --xlator-option *replicate*.node-uuid=PEER --process-name glustershd --client-pid=-6 -N
// Files: <run_dir>/shd/<vol>/<vol>-shd.pid, <run_dir>/<16 hex>.socket,
//   <log_dir>/glustershd/<vol>.log. Key: "shd/<vol>". Ready: the process is alive (plug in
//   "GETSPEC shd/<vol> was served" for more).
ProcessKind ShdKind(std::string binary = "/usr/sbin/glusterfs");

// "/bricks/d1/rep3" -> "bricks-d1-rep3" (leading '/' dropped, the others turned into '-').
std::string DashedPath(const std::string& path);

// True if a TCP connection to host:port succeeds within `timeout`. Resolves names.
bool CanConnect(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace gd2::brick
