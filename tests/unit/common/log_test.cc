#include "common/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gd2::log {
namespace {

TEST(LogTest, LogfmtQuotesOnlyWhenNeeded) {
  std::string line = FormatLine(Format::kLogfmt, Level::kInfo, "brick started",
                                {Field("req_id", "abc")}, {{"path", "/b 1"}, {"pid", 42}});
  EXPECT_NE(line.find(" info brick started req_id=abc path=\"/b 1\" pid=42\n"), std::string::npos)
      << line;
}

TEST(LogTest, LogfmtEscapesControlCharacters) {
  std::string line = FormatLine(Format::kLogfmt, Level::kWarn, "x", {}, {{"v", "a\"b\nc"}});
  EXPECT_NE(line.find("v=\"a\\\"b\\nc\""), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogTest, JsonKeepsTypes) {
  std::string line = FormatLine(Format::kJson, Level::kError, "op failed", {Field("txn_id", "t1")},
                                {{"n", 3}, {"ok", false}, {"ms", 1.5}});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "op failed");
  EXPECT_EQ(j["txn_id"], "t1");
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["ok"], false);
  EXPECT_DOUBLE_EQ(j["ms"].get<double>(), 1.5);
}

TEST(LogTest, ParseLevelAndFormat) {
  EXPECT_TRUE(ParseLevel("debug").ok());
  EXPECT_FALSE(ParseLevel("loud").ok());
  EXPECT_TRUE(ParseFormat("json").ok());
  EXPECT_FALSE(ParseFormat("xml").ok());
}

}  // namespace
}  // namespace gd2::log
