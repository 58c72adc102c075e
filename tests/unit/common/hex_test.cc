#include "common/hex.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace gd2 {
namespace {

TEST(HexBytes, TwoLowerCaseDigitsPerByteInOrder) {
  const unsigned char raw[] = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(HexBytes(raw, sizeof(raw)), "000fa0ff");
  EXPECT_EQ(HexBytes(std::string("\x01\xab", 2)), "01ab");
  EXPECT_EQ(HexBytes(std::string()), "");
}

TEST(HexUint, DigitsWithoutLeadingZeros) {
  struct Case {
    uint64_t value;
    const char* want;
  };
  const Case cases[] = {{0, "0"},
                        {9, "9"},
                        {255, "ff"},
                        {0x1000, "1000"},
                        {0x8e9f5c2a31d07b64ULL, "8e9f5c2a31d07b64"},
                        {UINT64_MAX, "ffffffffffffffff"}};
  for (const Case& c : cases) EXPECT_EQ(HexUint(c.value), c.want) << c.value;
}

}  // namespace
}  // namespace gd2
