#include "common/poll.h"

#include <gtest/gtest.h>

#include <chrono>

namespace gd2 {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(PollUntil, ReturnsOnceTheConditionHolds) {
  int calls = 0;
  EXPECT_TRUE(PollUntil(Clock::now() + 10s, {1ms, 2ms}, [&] { return ++calls == 3; }));
  EXPECT_EQ(calls, 3);
}

TEST(PollUntil, ChecksAgainAtTheDeadlineAndGivesUp) {
  int calls = 0;
  auto start = Clock::now();
  EXPECT_FALSE(PollUntil(start + 30ms, {1ms, 5ms}, [&] {
    ++calls;
    return false;
  }));
  auto took = Clock::now() - start;
  EXPECT_GE(took, 30ms);
  EXPECT_LT(took, 2s);
  EXPECT_GE(calls, 3);  // 1, 2, 4, 5, 5, ... ms apart: several checks, the last at the deadline
}

TEST(PollUntil, DeadlineInThePastChecksOnce) {
  int calls = 0;
  EXPECT_FALSE(PollUntil(Clock::now() - 1s, {}, [&] {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace gd2
