#include "common/volfile_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/status_matchers.h"

namespace gd2 {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

TEST(VolfileTextTest, TokenAllowlistIsExactlyTheDocumentedSet) {
  const std::string allowed = "._-/:,*%+@";
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool expected = alnum || (c != '\0' && allowed.find(c) != std::string::npos);
    EXPECT_EQ(IsVolfileTokenChar(c), expected) << "byte " << i;
    // Brick path characters are a subset of token characters.
    if (IsBrickPathChar(c)) {
      EXPECT_TRUE(IsVolfileTokenChar(c)) << "byte " << i;
    }
    if (IsVolumeNameChar(c)) {
      EXPECT_TRUE(IsBrickPathChar(c)) << "byte " << i;
    }
  }
  // What the volfile reader runs, cuts, quotes or comments out is never a token character.
  for (char c : std::string("`\"\\#$ \t\r\n;|&<>'()[]{}=~!?^")) {
    EXPECT_FALSE(IsVolfileTokenChar(c)) << c;
  }
}

TEST(VolfileTextTest, CheckVolfileToken) {
  EXPECT_OK(CheckVolfileToken("value", "192.168.1.*,10.0.0.0/8"));
  EXPECT_OK(CheckVolfileToken("value", "volumes"));
  EXPECT_OK(CheckVolfileToken("value", std::string(kMaxVolfileTokenLength, 'a')));
  struct Case {
    std::string token;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "value is empty"},
      {"`touch /tmp/x`", "('`'; allowed"},
      {"a\nb", "(byte 0x0a; allowed"},
      {"\xc3\xa9", "(byte 0xc3; allowed"},
      {"volume", "is a volfile keyword"},
      {"end-volume", "is a volfile keyword"},
      {"subvolumeS", "is a volfile keyword"},
      {std::string(kMaxVolfileTokenLength + 1, 'a'), "longer than 4096"},
  };
  for (const auto& c : cases) {
    Status s = CheckVolfileToken("value", c.token);
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << PrintableText(c.token);
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << PrintableText(c.token);
    EXPECT_LT(s.message().size(), 400u);
  }
  EXPECT_EQ(FirstRefusedChar("ab`c"), "'`'");
  EXPECT_EQ(FirstRefusedChar("abc"), "");
  EXPECT_EQ(PrintableText("a\nb"), "a?b");
  EXPECT_EQ(PrintableText(std::string(10, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace gd2
