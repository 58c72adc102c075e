#include "sunrpc/portmap.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace gd2::sunrpc {
namespace {

using std::chrono::steady_clock;

TEST(PortMapTest, SigninLookupSignout) {
  PortMap pm;
  EXPECT_EQ(pm.PortOf("/b1"), std::nullopt);
  EXPECT_TRUE(pm.Signin("/b1", 49152, 100));
  EXPECT_EQ(pm.PortOf("/b1"), 49152);
  EXPECT_EQ(pm.Lookup("/b1")->pid, 100);
  // Exact match only.
  EXPECT_EQ(pm.PortOf("/b1/"), std::nullopt);
  // A signout for another port leaves the entry alone.
  EXPECT_FALSE(pm.Signout("/b1", 50000));
  EXPECT_TRUE(pm.Signout("/b1", 49152));
  EXPECT_EQ(pm.PortOf("/b1"), std::nullopt);
  pm.Set("/b2", 49153);
  EXPECT_EQ(pm.PortOf("/b2"), 49153);
  EXPECT_TRUE(pm.Remove("/b2"));
  EXPECT_FALSE(pm.Remove("/b2"));
  EXPECT_TRUE(pm.Snapshot().empty());
}

TEST(PortMapTest, CallbackSeesChanges) {
  PortMap pm;
  std::vector<std::pair<PortMapEvent, std::string>> events;
  pm.Subscribe([&](PortMapEvent e, const std::string& brick, const PortMapEntry&) {
    events.emplace_back(e, brick);
  });
  pm.Signin("/b1", 1, 2);
  pm.Signout("/b1", 0);
  pm.Signin("/b2", 1, 2);
  pm.Remove("/b2");
  pm.Set("/b3", 7);  // not a change callbacks hear of
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].first, PortMapEvent::kSignin);
  EXPECT_EQ(events[1].first, PortMapEvent::kSignout);
  EXPECT_EQ(events[3].first, PortMapEvent::kRemoved);
  EXPECT_EQ(events[3].second, "/b2");
}

// Every subscriber hears every change until it unsubscribes; then it is not called again.
TEST(PortMapTest, EverySubscriberHearsUntilItUnsubscribes) {
  PortMap pm;
  std::vector<std::string> first;
  std::vector<std::string> second;
  auto a = pm.Subscribe(
      [&](PortMapEvent, const std::string& brick, const PortMapEntry&) { first.push_back(brick); });
  auto b = pm.Subscribe([&](PortMapEvent, const std::string& brick, const PortMapEntry&) {
    second.push_back(brick);
  });
  EXPECT_NE(a, b);
  pm.Signin("/b1", 1, 2);
  pm.Unsubscribe(a);
  pm.Unsubscribe(a);       // twice: ignored
  pm.Unsubscribe(b + 10);  // unknown: ignored
  pm.Signin("/b2", 3, 4);
  EXPECT_EQ(first, (std::vector<std::string>{"/b1"}));
  EXPECT_EQ(second, (std::vector<std::string>{"/b1", "/b2"}));
}

// Unsubscribe waits for a callback that is running on another thread, so that what the callback
// uses may be destroyed right after it.
TEST(PortMapTest, UnsubscribeWaitsForARunningCallback) {
  PortMap pm;
  std::atomic<bool> entered{false};
  std::atomic<bool> done{false};
  auto id = pm.Subscribe([&](PortMapEvent, const std::string&, const PortMapEntry&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    done = true;
  });
  std::thread signer([&pm] { pm.Signin("/b1", 1, 2); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pm.Unsubscribe(id);
  EXPECT_TRUE(done) << "Unsubscribe returned while the callback was still running";
  signer.join();
}

TEST(PortMapTest, WaitSigninIgnoresOlderEntries) {
  PortMap pm;
  pm.Signin("/b1", 49152, 1);  // a previous run of the brick
  uint64_t gen = pm.Generation();
  EXPECT_FALSE(pm.WaitSignin("/b1", steady_clock::now() + std::chrono::milliseconds(20), gen));
  std::thread brick([&] { pm.Signin("/b1", 49153, 2); });
  EXPECT_TRUE(pm.WaitSignin("/b1", steady_clock::now() + std::chrono::seconds(10), gen));
  brick.join();
  EXPECT_EQ(pm.PortOf("/b1"), 49153);
  // Without a generation any sign-in counts.
  EXPECT_TRUE(pm.WaitSignin("/b1", steady_clock::now()));
  EXPECT_FALSE(pm.WaitSignin("/other", steady_clock::now() + std::chrono::milliseconds(5)));
}

TEST(PortMapTest, WaitPortWakesOnTheSigninOfThatPort) {
  PortMap pm;
  pm.Signin("/b1", 49152, 1);  // a previous run of the brick, on another port
  EXPECT_FALSE(pm.WaitPort("/b1", 49153, steady_clock::now() + std::chrono::milliseconds(20)));
  // The waiter is woken by the sign-in itself: a 60 s deadline would fail the test's timeout.
  std::thread brick([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pm.Signin("/other", 49154, 3);
    pm.Signin("/b1", 49153, 2);
  });
  EXPECT_TRUE(pm.WaitPort("/b1", 49153, steady_clock::now() + std::chrono::seconds(60)));
  brick.join();
  // Already there: true at once, even with a deadline in the past.
  EXPECT_TRUE(pm.WaitPort("/b1", 49153, steady_clock::now() - std::chrono::seconds(1)));
  pm.Remove("/b1");
  EXPECT_FALSE(pm.WaitPort("/b1", 49153, steady_clock::now()));
}

TEST(PortMapTest, RefusesNewNamesWhenFull) {
  PortMap pm;
  for (size_t i = 0; i < PortMap::kMaxEntries; ++i) {
    ASSERT_TRUE(pm.Signin("/b" + std::to_string(i), 1, 1));
  }
  EXPECT_FALSE(pm.Signin("/new", 1, 1));
  EXPECT_TRUE(pm.Signin("/b0", 2, 1));  // re-signin of a known brick still works
}

}  // namespace
}  // namespace gd2::sunrpc
