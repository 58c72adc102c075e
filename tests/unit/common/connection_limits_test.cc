#include "common/connection_limits.h"

#include <gtest/gtest.h>

namespace gd2 {
namespace {

TEST(ConnectionLimitsTest, RefusesBeyondThePerAddressLimit) {
  ConnectionLimits limits(10, 2);
  EXPECT_TRUE(limits.TryAdd("10.0.0.1"));
  EXPECT_TRUE(limits.TryAdd("10.0.0.1"));
  EXPECT_FALSE(limits.TryAdd("10.0.0.1"));
  EXPECT_TRUE(limits.TryAdd("10.0.0.2")) << "another address has its own share";
  EXPECT_EQ(limits.total(), 3u);
  limits.Remove("10.0.0.1");
  EXPECT_TRUE(limits.TryAdd("10.0.0.1")) << "a closed connection frees its place";
}

TEST(ConnectionLimitsTest, RefusesBeyondTheTotalLimit) {
  ConnectionLimits limits(2, 5);
  EXPECT_TRUE(limits.TryAdd("a"));
  EXPECT_TRUE(limits.TryAdd("b"));
  EXPECT_FALSE(limits.TryAdd("c"));
  EXPECT_EQ(limits.addresses(), 2u) << "a refused address is not remembered";
  limits.Remove("a");
  EXPECT_TRUE(limits.TryAdd("c"));
}

TEST(ConnectionLimitsTest, ForgetsAddressesWithoutConnectionsAndIgnoresUnknownOnes) {
  ConnectionLimits limits(4, 4);
  ASSERT_TRUE(limits.TryAdd("a"));
  limits.Remove("a");
  limits.Remove("a");
  limits.Remove("never-seen");
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.addresses(), 0u);
  ASSERT_TRUE(limits.TryAdd("a"));
  limits.Clear();
  EXPECT_EQ(limits.total(), 0u);
}

TEST(ConnectionLimitsTest, ZeroLimitsAdmitNothing) {
  ConnectionLimits none(0, 5);
  EXPECT_FALSE(none.TryAdd("a"));
  ConnectionLimits none_per_address(5, 0);
  EXPECT_FALSE(none_per_address.TryAdd("a"));
  EXPECT_EQ(none_per_address.addresses(), 0u);
}

}  // namespace
}  // namespace gd2
