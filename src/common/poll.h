// Waiting for a condition nothing signals (a process that exits, a port that starts to accept,
// a count that drops to zero): check it, sleep a little, check again, until it holds or a
// deadline passes.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace gd2 {

// How long PollUntil sleeps between checks: `first` after the first check, then twice as long
// each time, up to `max`.
struct PollBackoff {
  std::chrono::microseconds first{1000};
  std::chrono::microseconds max{20000};
};

// Calls `done()` until it returns true or `deadline` passes, sleeping between calls as
// `backoff` says but never past the deadline. `done` runs at least once, and once more when the
// deadline is reached. Returns whether `done` returned true. Blocks the calling thread.
template <typename Done>
bool PollUntil(std::chrono::steady_clock::time_point deadline, PollBackoff backoff, Done&& done) {
  std::chrono::steady_clock::duration delay = backoff.first;
  while (true) {
    if (done()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min(delay, deadline - now));
    delay = std::min<std::chrono::steady_clock::duration>(delay * 2, backoff.max);
  }
}

}  // namespace gd2
