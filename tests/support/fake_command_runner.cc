#include "support/fake_command_runner.h"

#include <algorithm>

namespace gd2::testing {

void FakeCommandRunner::Expect(std::vector<std::string> argv_prefix, Answer answer, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  expectations_.push_back({std::move(argv_prefix), std::move(answer), OkStatus(), times, 0});
}

void FakeCommandRunner::ExpectError(std::vector<std::string> argv_prefix, Status status,
                                    int times) {
  std::lock_guard<std::mutex> lock(mu_);
  expectations_.push_back({std::move(argv_prefix), {}, std::move(status), times, 0});
}

StatusOr<CommandResult> FakeCommandRunner::Run(const Command& command) {
  GD2_RETURN_IF_ERROR(ValidateArgv(command.argv));
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back(command.argv);
  for (Expectation& e : expectations_) {
    if (e.times != 0 && e.used >= e.times) continue;
    if (e.prefix.size() > command.argv.size() ||
        !std::equal(e.prefix.begin(), e.prefix.end(), command.argv.begin())) {
      continue;
    }
    ++e.used;
    if (!e.error.ok()) return e.error;
    CommandResult r;
    r.exit.code = e.answer.exit_code;
    r.output = e.answer.output;
    return r;
  }
  return UnimplementedError("fake command runner: unexpected command: " +
                            CommandLine(command.argv));
}

std::vector<std::vector<std::string>> FakeCommandRunner::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

std::vector<std::string> FakeCommandRunner::call_lines() const {
  std::vector<std::string> out;
  for (const auto& argv : calls()) out.push_back(CommandLine(argv));
  return out;
}

}  // namespace gd2::testing
