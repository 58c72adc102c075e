// Named failpoints for crash tests: GD2_FAILPOINT("txn.after-step:volume.prepare-bricks") kills
// the process (as kill -9 would) when the environment variable GD2_FAILPOINT names that point,
// and pauses the thread that reaches it for N ms instead when it says "<point>@sleep=N" (the
// test acts meanwhile: stops etcd, say). GD2_FAILPOINT_ARMED("txn.commit-answer-lost") is true
// where the code then acts out a failure it cannot provoke otherwise (an answer lost on the way
// back). Compiled to nothing (false) unless the build defines GD2_FAILPOINTS (test builds).
#pragma once

#include <string_view>

namespace gd2 {

// True if GD2_FAILPOINT equals `name`. Reads the environment once.
bool FailpointArmed(std::string_view name);
// N if GD2_FAILPOINT is "<name>@sleep=N" (N in 1..600000), else 0.
int FailpointPauseMs(std::string_view name);

}  // namespace gd2

#if defined(GD2_FAILPOINTS) && GD2_FAILPOINTS
#include <unistd.h>

#include <chrono>
#include <thread>
#define GD2_FAILPOINT(name)                                                   \
  do {                                                                        \
    if (::gd2::FailpointArmed(name)) ::_exit(137);                            \
    if (int gd2_pause_ms = ::gd2::FailpointPauseMs(name); gd2_pause_ms > 0) { \
      std::this_thread::sleep_for(std::chrono::milliseconds(gd2_pause_ms));   \
    }                                                                         \
  } while (0)
#define GD2_FAILPOINT_ARMED(name) (::gd2::FailpointArmed(name))
#else
#define GD2_FAILPOINT_ARMED(name) false
#define GD2_FAILPOINT(name) \
  do {                      \
  } while (0)
#endif
