#include "common/status.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace gd2 {
namespace {

using ::gd2::testing::StatusIs;

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: x=" + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  GD2_ASSIGN_OR_RETURN(int h, Half(x));
  GD2_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = NotFoundError("volume not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "not_found: volume not found");
  EXPECT_EQ(s.WithContext("get").message(), "get: volume not found");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(8));
  EXPECT_EQ(q, 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(Quarter(6).status().message(), "odd: x=3");
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_THAT(ErrnoError("open", ENOENT), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ErrnoError("connect", ECONNREFUSED), StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace gd2
