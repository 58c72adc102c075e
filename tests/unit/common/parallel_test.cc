#include "common/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace gd2 {
namespace {

TEST(ParallelForTest, RunsEveryIndexOnceAtMostMaxAtATime) {
  constexpr size_t kItems = 40;
  std::vector<std::atomic<int>> runs(kItems);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  ParallelFor(kItems, 4, [&](size_t i) {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ++runs[i];
    --running;
  });
  for (size_t i = 0; i < kItems; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  EXPECT_LE(most.load(), 4);
  EXPECT_GT(most.load(), 1) << "items ran at once";
}

TEST(ParallelForTest, NoItemsAndOneItemRunOnTheCallingThread) {
  ParallelFor(0, 4, [](size_t) { ADD_FAILURE() << "no item to run"; });
  std::thread::id ran_on;
  ParallelFor(1, 4, [&](size_t) { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace gd2
