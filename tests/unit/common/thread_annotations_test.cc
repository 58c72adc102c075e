#include "common/thread_annotations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace gd2 {
namespace {

using namespace std::chrono_literals;

struct Box {
  Mutex mu;
  CondVar cv;
  int value GD2_GUARDED_BY(mu) = 0;
};

TEST(Mutex, MutexLockHoldsUntilScopeEnds) {
  Box b;
  // Whether another thread could take the mutex.
  auto free_elsewhere = [&b] {
    bool taken = false;
    std::thread other([&b, &taken] {
      if (b.mu.TryLock()) {
        taken = true;
        b.mu.Unlock();
      }
    });
    other.join();
    return taken;
  };
  {
    MutexLock lock(b.mu);
    b.value = 1;
    EXPECT_FALSE(free_elsewhere());
  }
  EXPECT_TRUE(free_elsewhere());
  MutexLock lock(b.mu);
  EXPECT_EQ(b.value, 1);
}

TEST(Mutex, MutexLockReleasesAndRetakes) {
  Box b;
  MutexLock lock(b.mu);
  lock.Unlock();
  std::thread other([&b] {
    MutexLock inner(b.mu);
    b.value = 2;
  });
  other.join();
  lock.Lock();
  EXPECT_EQ(b.value, 2);
}

TEST(CondVar, WaitReturnsAfterNotifyWithTheMutexHeld) {
  Box b;
  std::thread setter([&b] {
    MutexLock lock(b.mu);
    b.value = 7;
    b.cv.NotifyAll();
  });
  {
    MutexLock lock(b.mu);
    while (b.value == 0) b.cv.Wait(b.mu);
    EXPECT_EQ(b.value, 7);
  }
  setter.join();
}

TEST(CondVar, WaitUntilReportsTheDeadline) {
  Box b;
  MutexLock lock(b.mu);
  auto start = CondVar::Clock::now();
  bool woken = true;
  while (b.value == 0 && woken) woken = b.cv.WaitUntil(b.mu, start + 20ms);
  EXPECT_FALSE(woken);
  EXPECT_GE(CondVar::Clock::now() - start, 20ms);
  EXPECT_FALSE(b.cv.WaitFor(b.mu, 1ms) && b.value != 0);
}

}  // namespace
}  // namespace gd2
