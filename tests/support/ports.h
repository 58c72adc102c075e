// Free TCP ports for child processes that must be told a port up front.
#pragma once

#include <string>

namespace gd2::testing {

// Returns a TCP port on `host` that was free a moment ago (a test bind succeeded). The port is
// below the kernel's ephemeral range, never returned twice by one process, and not returned to
// another process (another test binary run in parallel) that uses FreePort while this one runs.
int FreePort(const std::string& host = "127.0.0.1");

}  // namespace gd2::testing
