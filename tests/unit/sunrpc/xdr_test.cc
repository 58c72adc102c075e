#include "sunrpc/xdr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sunrpc/record.h"
#include "support/status_matchers.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::sunrpc::testing::Hex;
using ::gd2::testing::StatusIs;

TEST(XdrTest, IntegersEncodeBigEndian) {
  XdrWriter w;
  w.PutU32(0x0208aec0);
  w.PutI32(-1);
  w.PutU64(0xcaed);
  w.PutBool(true);
  EXPECT_EQ(w.data(), Hex("0208aec0 ffffffff 00000000 0000caed 00000001"));
  XdrReader r(w.data());
  EXPECT_EQ(*r.U32(), 0x0208aec0u);
  EXPECT_EQ(*r.I32(), -1);
  EXPECT_EQ(*r.U64(), 0xcaedu);
  EXPECT_EQ(*r.Bool(), true);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_THAT(r.U32(), StatusIs(StatusCode::kOutOfRange));
}

struct OpaqueCase {
  std::string value;
  std::string wire;
};

TEST(XdrTest, OpaqueRoundTripsWithPadding) {
  const std::vector<OpaqueCase> cases = {
      {"", "00000000"},
      {"a", "00000001 61000000"},
      {"rep3", "00000004 72657033"},
      {"/rep3", "00000005 2f726570 33000000"},
      {"/bricks/d1/rep3", "0000000f 2f627269 636b732f 64312f72 65703300"},
      {std::string("\0\0\0\0", 4), "00000004 00000000"},
  };
  for (const auto& c : cases) {
    XdrWriter w;
    w.PutOpaque(c.value);
    EXPECT_EQ(w.data(), Hex(c.wire)) << c.value;
    XdrReader r(w.data());
    auto back = r.Opaque();
    ASSERT_OK(back);
    EXPECT_EQ(*back, c.value);
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(XdrTest, ReaderRejectsHostileLengths) {
  struct Case {
    std::string name;
    std::string wire;
    uint32_t max;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"empty", "", 100, StatusCode::kOutOfRange},
      {"short length word", "0000", 100, StatusCode::kOutOfRange},
      {"huge length", "ffffffff 00000000", UINT32_MAX, StatusCode::kOutOfRange},
      {"over limit", "00000065", 100, StatusCode::kInvalidArgument},
      {"data truncated", "00000008 41414141", 100, StatusCode::kOutOfRange},
      {"padding missing", "00000005 41414141 41", 100, StatusCode::kOutOfRange},
  };
  for (const auto& c : cases) {
    std::string wire = Hex(c.wire);
    XdrReader r(wire);
    EXPECT_THAT(r.Opaque(c.max), StatusIs(c.code)) << c.name;
    XdrReader r2(wire);
    EXPECT_THAT(r2.SkipOpaque(c.max), StatusIs(c.code)) << c.name;
  }
}

TEST(XdrTest, BoolRejectsOtherValues) {
  std::string wire = Hex("00000002");
  XdrReader r(wire);
  EXPECT_THAT(r.Bool(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(RecordTest, EncodeSingleFragment) {
  EXPECT_EQ(EncodeRecord("abcd"), Hex("80000004 61626364"));
  EXPECT_EQ(EncodeRecord(""), Hex("80000000"));
}

TEST(RecordTest, EncodeSplitsFragments) {
  EXPECT_EQ(EncodeRecord("abcde", 2), Hex("00000002 6162 00000002 6364 80000001 65"));
}

TEST(RecordTest, ReassemblesAcrossChunkBoundaries) {
  std::string stream = EncodeRecord("hello world", 3) + EncodeRecord("") + EncodeRecord("x");
  // Feed in every chunk size from 1 byte to the whole stream.
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    RecordReader reader(1024);
    std::vector<std::string> records;
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      ASSERT_OK(reader.Feed(std::string_view(stream).substr(pos, chunk), records));
    }
    ASSERT_EQ(records.size(), 3u) << "chunk=" << chunk;
    EXPECT_EQ(records[0], "hello world");
    EXPECT_EQ(records[1], "");
    EXPECT_EQ(records[2], "x");
    EXPECT_TRUE(reader.AtRecordBoundary());
  }
}

TEST(RecordTest, RejectsRecordOverLimit) {
  RecordReader reader(16);
  std::vector<std::string> records;
  // One fragment that claims 2 GiB: refused from the header alone.
  EXPECT_THAT(reader.Feed(Hex("ffffffff"), records), StatusIs(StatusCode::kResourceExhausted));
  // The reader stays failed.
  EXPECT_THAT(reader.Feed(Hex("80000000"), records), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_TRUE(records.empty());
}

TEST(RecordTest, LimitCountsAllFragments) {
  RecordReader reader(8);
  std::vector<std::string> records;
  ASSERT_OK(reader.Feed(EncodeRecord("12345678", 4), records));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(reader.Feed(EncodeRecord("123456789", 4), records),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(RecordTest, RejectsTooManyFragments) {
  RecordReader reader(1024, 4);
  std::vector<std::string> records;
  std::string empties;
  for (int i = 0; i < 5; ++i) empties += Hex("00000000");
  EXPECT_THAT(reader.Feed(empties, records), StatusIs(StatusCode::kResourceExhausted));
}

}  // namespace
}  // namespace gd2::sunrpc
