#include "common/command_runner.h"

#include <algorithm>

namespace gd2 {
namespace {

// The last `lines` lines of `text`, for error messages.
std::string Tail(const std::string& text, size_t lines) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t pos = t.size();
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = t.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos < t.size()) t = t.substr(pos + 1);
  return t;
}

}  // namespace

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool quote = a.empty() || a.find_first_of(" \t\n'\"") != std::string::npos;
    out += quote ? "'" + a + "'" : a;
  }
  return out;
}

Status ValidateArgv(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty()) {
    return InvalidArgumentError("command: no program given");
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].find('\0') != std::string::npos) {
      return InvalidArgumentError("command: argument " + std::to_string(i) +
                                  " holds a NUL byte: program=" + argv.front());
    }
  }
  return OkStatus();
}

StatusOr<std::string> CommandRunner::RunChecked(const Command& command) {
  GD2_ASSIGN_OR_RETURN(CommandResult r, Run(command));
  if (r.exit.code == 0 && !r.exit.signaled) return std::move(r.output);
  std::string tail = Tail(r.output, 5);
  return FailedPreconditionError(CommandLine(command.argv) + ": " + r.exit.ToString() +
                                 (tail.empty() ? std::string() : ": " + tail));
}

StatusOr<CommandResult> SystemCommandRunner::Run(const Command& command) {
  GD2_RETURN_IF_ERROR(ValidateArgv(command.argv));
  auto r = RunCommand(command.argv, command.timeout, command.cgroup);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kDeadlineExceeded) {
      return DeadlineExceededError(CommandLine(command.argv) + ": still running after " +
                                   std::to_string(command.timeout.count()) + " ms; killed");
    }
    return r.status();
  }
  CommandResult out;
  out.exit = r->exit;
  out.output = std::move(r->output);
  if (out.output.size() > kMaxOutputBytes) out.output.resize(kMaxOutputBytes);
  return out;
}

}  // namespace gd2
