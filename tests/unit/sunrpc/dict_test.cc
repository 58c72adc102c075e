#include "sunrpc/dict.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/status_matchers.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::sunrpc::testing::Hex;
using ::gd2::testing::StatusIs;

// The 94-byte GETSPEC xdata of brick /bricks/d1/rep3 (gluster-wire.md 4.1, probe capture #54).
const char kBrickXdata[] =
    "00000003 0000000e 00000002 6d696e2d 6f702d76 65727369 6f6e0031 00000000 0e000000 076d6178"
    "2d6f702d 76657273 696f6e00 31303030 30300000 00000a00 00001062 7269636b 5f6e616d 65002f62"
    "7269636b 732f6431 2f726570 3300";

TEST(DictTest, DecodesCapturedBrickXdata) {
  std::string wire = Hex(kBrickXdata);
  ASSERT_EQ(wire.size(), 94u);
  ASSERT_OK_AND_ASSIGN(Dict d, DecodeDict(wire));
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.GetString("brick_name"), "/bricks/d1/rep3");
  EXPECT_EQ(d.GetString("max-op-version"), "100000");
  EXPECT_EQ(d.GetString("min-op-version"), "1");
  EXPECT_EQ(d.GetRaw("min-op-version"), std::string("1\0", 2));
  EXPECT_EQ(d.GetString("missing"), std::nullopt);
  // Insertion order is kept, so the bytes come back unchanged.
  EXPECT_EQ(EncodeDict(d), wire);
}

TEST(DictTest, EncodesLikeGlusterfs) {
  Dict d;
  d.SetString("min-op-version", "1");
  // Same layout as the captured bytes (which list this key first).
  std::string wire = EncodeDict(d);
  EXPECT_EQ(wire, Hex("00000001 0000000e 00000002") + "min-op-version" + std::string("\0", 1) +
                      std::string("1\0", 2));
  EXPECT_EQ(EncodeDict(Dict{}), "");
}

TEST(DictTest, RoundTrips) {
  std::vector<Dict> cases(4);
  cases[1].SetString("pidfile", "/var/run/gluster/shd/rep3/rep3-shd.pid");
  cases[2].SetString("a", "");
  cases[2].SetRaw("b", std::string("\0\1\2", 3));
  cases[2].SetRaw("empty", "");
  for (int i = 0; i < 50; ++i) cases[3].SetString("key" + std::to_string(i), std::to_string(i));
  for (const Dict& d : cases) {
    ASSERT_OK_AND_ASSIGN(Dict back, DecodeDict(EncodeDict(d)));
    EXPECT_EQ(back, d);
  }
}

TEST(DictTest, EmptyForms) {
  ASSERT_OK_AND_ASSIGN(Dict a, DecodeDict(""));
  EXPECT_TRUE(a.empty());
  ASSERT_OK_AND_ASSIGN(Dict b, DecodeDict(Hex("00000000")));
  EXPECT_TRUE(b.empty());
}

TEST(DictTest, RejectsMalformed) {
  struct Case {
    std::string name;
    std::string wire;
  };
  const std::vector<Case> cases = {
      {"short count", Hex("000000")},
      {"count without pairs", Hex("00000001")},
      {"huge count", Hex("ffffffff 00000000 00000000 00")},
      {"key past end", Hex("00000001 00000010 00000000 6100")},
      {"value past end", Hex("00000001 00000001 00000010 6100")},
      {"huge value length", Hex("00000001 00000001 ffffffff 6100")},
      {"key not terminated", Hex("00000001 00000001 00000000 6162")},
      {"trailing bytes", Hex("00000001 00000001 00000000 6100 ff")},
      {"key over limit", Hex("00000001 00002000 00000000") + std::string(0x2001, 'k')},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(DecodeDict(c.wire), StatusIs(StatusCode::kInvalidArgument)) << c.name;
  }
}

}  // namespace
}  // namespace gd2::sunrpc
