// CommandRunner: the one way the daemon runs an external program to completion (mkfs, losetup,
// mount, xfs_growfs, btrfs, gluster helpers). The system implementation runs the program with a
// deadline and captures its output; tests substitute tests/support/fake_command_runner.h, so code
// that formats or mounts disks is unit-tested without touching any.
//
// Contract of Run():
// - kInvalidArgument: an empty argv, an empty argument 0, or an argument holding a NUL byte
//   (nothing is run);
// - kNotFound: the program does not exist (argument 0 names it);
// - kDeadlineExceeded: it ran longer than `timeout` (it is killed; the message names it);
// - otherwise OK with the exit status and the output, whatever the exit status.
// RunChecked() also turns an exit status other than 0 into kFailedPrecondition carrying the program, the exit status and the output's last lines, since
// a tool refusing (a busy device, a filesystem already there) is a state the caller can report.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/subprocess.h"

namespace gd2 {

struct Command {
  Command() = default;
  Command(std::vector<std::string> args,
          std::chrono::milliseconds deadline = std::chrono::seconds(60))
      : argv(std::move(args)), timeout(deadline) {}

  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // A cgroup v2 directory to run in; empty: the daemon's.
  std::string cgroup;
};

struct CommandResult {
  ExitInfo exit;
  std::string output;  // stdout and stderr interleaved, at most kMaxOutputBytes
};

class CommandRunner {
 public:
  static constexpr size_t kMaxOutputBytes = 64 * 1024;

  virtual ~CommandRunner() = default;
  virtual StatusOr<CommandResult> Run(const Command& command) = 0;

  // Run(), and an exit status other than 0 is an error (see the contract above). The output is
  // returned on success.
  StatusOr<std::string> RunChecked(const Command& command);
};

// Runs programs as child processes of the daemon (common/subprocess.h).
class SystemCommandRunner final : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const Command& command) override;
};

// "mkfs.xfs -f /dev/loop3": argv joined for messages and logs (arguments with spaces quoted).
std::string CommandLine(const std::vector<std::string>& argv);

// Checks argv as Run() does; exposed for fakes so they refuse what the real runner refuses.
Status ValidateArgv(const std::vector<std::string>& argv);

}  // namespace gd2
