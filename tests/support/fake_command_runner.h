// FakeCommandRunner: a CommandRunner for unit tests. Each expectation matches a command by its
// argv (exact, or a prefix of it) and answers with an exit status and output, or with a Status
// (a missing program, a timeout). Calls are recorded in order. A command that matches no
// expectation answers kUnimplemented naming it, so a test sees exactly which call it missed.
// Thread-safe, as the real runner is.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "common/command_runner.h"

namespace gd2::testing {

class FakeCommandRunner final : public CommandRunner {
 public:
  struct Answer {
    int exit_code = 0;
    std::string output;
  };

  // Answers commands whose argv starts with `argv_prefix`. `times` answers at most that many
  // calls (0: any number); expectations are tried in the order they were added.
  void Expect(std::vector<std::string> argv_prefix, Answer answer, int times = 0);
  void ExpectError(std::vector<std::string> argv_prefix, Status status, int times = 0);

  StatusOr<CommandResult> Run(const Command& command) override;

  std::vector<std::vector<std::string>> calls() const;
  // The recorded calls as command lines, for readable assertions.
  std::vector<std::string> call_lines() const;

 private:
  struct Expectation {
    std::vector<std::string> prefix;
    Answer answer;
    Status error;
    int times = 0;
    int used = 0;
  };
  mutable std::mutex mu_;
  std::vector<Expectation> expectations_;
  std::vector<std::vector<std::string>> calls_;
};

}  // namespace gd2::testing
