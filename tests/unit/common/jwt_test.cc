#include "common/jwt.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace gd2::jwt {
namespace {

using ::gd2::testing::StatusIs;

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1'800'000'000;

TEST(JwtTest, QueryHashIsSha256OfMethodAndPath) {
  // sha256("GET&/v1/peers")
  EXPECT_EQ(QueryHash("get", "/v1/peers"), QueryHash("GET", "/v1/peers"));
  EXPECT_EQ(QueryHash("GET", "/v1/peers").size(), 64u);
  EXPECT_NE(QueryHash("GET", "/v1/peers"), QueryHash("POST", "/v1/peers"));
}

TEST(JwtTest, SignedRequestVerifies) {
  std::string t = SignRequest(kSecret, "GET", "/v1/peers", kNow);
  EXPECT_OK(VerifyRequest(t, kSecret, "GET", "/v1/peers", kNow + 10));
}

TEST(JwtTest, Base64UrlRoundTrip) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\xfe\x00z"}) {
    ASSERT_OK_AND_ASSIGN(std::string d, Base64UrlDecode(Base64UrlEncode(s)));
    EXPECT_EQ(d, s);
  }
  EXPECT_FALSE(Base64UrlDecode("ab+c").ok());
  EXPECT_FALSE(Base64UrlDecode("a").ok());
}

struct RejectCase {
  const char* name;
  std::string token;
  std::string method = "GET";
  std::string path = "/v1/peers";
  std::string message;
};

std::string Claims(const std::string& json) { return SignClaims(kSecret, json); }

TEST(JwtTest, RejectionsAreUnauthenticatedWithReason) {
  std::string qsh = QueryHash("GET", "/v1/peers");
  std::string good = SignRequest(kSecret, "GET", "/v1/peers", kNow);
  std::vector<RejectCase> cases = {
      {"empty", "", "GET", "/v1/peers", "malformed token"},
      {"two parts", "a.b", "GET", "/v1/peers", "malformed token"},
      {"four parts", good + ".x", "GET", "/v1/peers", "malformed token"},
      {"bad base64", "a*b.c.d", "GET", "/v1/peers", "malformed token"},
      {"wrong secret", SignRequest("other", "GET", "/v1/peers", kNow), "GET", "/v1/peers",
       "signature"},
      {"tampered claims",
       good.substr(0, good.find('.') + 1) +
           Base64UrlEncode(R"({"iss":"glustercli","exp":9999999999,"qsh":")" + qsh + "\"}") +
           good.substr(good.rfind('.')),
       "GET", "/v1/peers", "signature"},
      {"alg none",
       Base64UrlEncode(R"({"alg":"none"})") + "." +
           Base64UrlEncode(R"({"iss":"glustercli","exp":9999999999})") + ".",
       "GET", "/v1/peers", "unsupported token algorithm"},
      {"wrong issuer",
       Claims(R"({"iss":"someone","exp":1800000100,"qsh":")" + qsh + "\"}"), "GET", "/v1/peers",
       "invalid App ID"},
      {"no exp", Claims(R"({"iss":"glustercli","qsh":")" + qsh + "\"}"), "GET", "/v1/peers",
       "no exp"},
      {"expired", SignRequest(kSecret, "GET", "/v1/peers", kNow - 1000), "GET", "/v1/peers",
       "expired"},
      {"issued in future", SignRequest(kSecret, "GET", "/v1/peers", kNow + 1000), "GET",
       "/v1/peers", "before issued"},
      {"nbf in future",
       Claims(R"({"iss":"glustercli","exp":1800000100,"nbf":1800000090,"qsh":")" + qsh + "\"}"),
       "GET", "/v1/peers", "not valid yet"},
      {"no qsh", Claims(R"({"iss":"glustercli","exp":1800000100})"), "GET", "/v1/peers", "no qsh"},
      {"other path", good, "GET", "/v1/volumes", "qsh"},
      {"other method", good, "DELETE", "/v1/peers", "qsh"},
      {"claims not object", Claims("[1,2]"), "GET", "/v1/peers", "not a JSON object"},
  };
  for (const auto& c : cases) {
    Status s = VerifyRequest(c.token, kSecret, c.method, c.path, kNow);
    EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated)) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST(JwtTest, AcceptsHs512) {
  std::string qsh = QueryHash("GET", "/v1/peers");
  std::string t = SignClaims(kSecret, R"({"iss":"glustercli","exp":1800000100,"qsh":")" + qsh + "\"}",
                             "HS512");
  EXPECT_OK(VerifyRequest(t, kSecret, "GET", "/v1/peers", kNow));
}

TEST(JwtTest, BearerHeader) {
  ASSERT_OK_AND_ASSIGN(std::string t, BearerToken("bearer abc"));
  EXPECT_EQ(t, "abc");
  EXPECT_TRUE(BearerToken("Bearer  abc").ok());
  EXPECT_THAT(BearerToken(""), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(BearerToken("Basic abc"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(BearerToken("Bearer "), StatusIs(StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace gd2::jwt
