// GoogleTest helpers for Status and StatusOr.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"

#define EXPECT_OK(expr) EXPECT_TRUE((expr).ok()) << ::gd2::internal::GetStatus(expr).ToString()
#define ASSERT_OK(expr) ASSERT_TRUE((expr).ok()) << ::gd2::internal::GetStatus(expr).ToString()

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(GD2_CONCAT(gd2_test_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)  \
  auto tmp = (expr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

namespace gd2::testing {

MATCHER_P(StatusIs, code, "has status code " + std::string(::gd2::StatusCodeName(code))) {
  const ::gd2::Status& s = ::gd2::internal::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

}  // namespace gd2::testing
