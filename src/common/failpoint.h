// Named failpoints for crash tests: GD2_FAILPOINT("txn.after-step:volume.prepare-bricks") kills
// the process (as kill -9 would) when the environment variable GD2_FAILPOINT names that point.
// Compiled to nothing unless the build defines GD2_FAILPOINTS (test builds).
#pragma once

#include <string_view>

namespace gd2 {

// True if GD2_FAILPOINT equals `name`. Reads the environment once.
bool FailpointArmed(std::string_view name);

}  // namespace gd2

#if defined(GD2_FAILPOINTS) && GD2_FAILPOINTS
#include <unistd.h>
#define GD2_FAILPOINT(name)                           \
  do {                                                \
    if (::gd2::FailpointArmed(name)) ::_exit(137);    \
  } while (0)
#else
#define GD2_FAILPOINT(name) \
  do {                      \
  } while (0)
#endif
