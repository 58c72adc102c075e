// ParallelFor: the one bounded fan-out for independent work items (a transaction step on its
// peers, questions to several peers): at most a fixed number run at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace gd2 {

// Runs fn(i) for every i in [0, n) and returns once all have returned. The calling thread and up
// to max_parallel - 1 more threads each take the next index not yet begun; fewer threads (none if
// no thread can be made) only make it slower. `fn` must be safe to call for different indices at
// once.
template <typename Fn>
void ParallelFor(size_t n, size_t max_parallel, Fn&& fn) {
  if (n == 0) return;
  if (n == 1 || max_parallel <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> workers;
  size_t extra = std::min(n, max_parallel) - 1;
  workers.reserve(extra);
  for (size_t w = 0; w < extra; ++w) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
  for (auto& t : workers) t.join();
}

}  // namespace gd2
