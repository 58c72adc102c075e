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
  std::string t = SignRequest(kSecret, {"GET", "/v1/peers", ""}, "", kNow);
  EXPECT_OK(VerifyRequest(t, kSecret, {"GET", "/v1/peers", ""}, "", kNow + 10));
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

// kUnauthenticated with `text` in the message.
MATCHER_P(RefusedWith, text, "is kUnauthenticated mentioning " + std::string(text)) {
  return arg.code() == StatusCode::kUnauthenticated &&
         arg.message().find(text) != std::string::npos;
}

std::string Claims(const std::string& json) { return SignClaims(kSecret, json); }

TEST(JwtTest, RejectionsAreUnauthenticatedWithReason) {
  std::string qsh = QueryHash("GET", "/v1/peers");
  std::string good = SignRequest(kSecret, {"GET", "/v1/peers", ""}, "", kNow);
  std::vector<RejectCase> cases = {
      {"empty", "", "GET", "/v1/peers", "malformed token"},
      {"two parts", "a.b", "GET", "/v1/peers", "malformed token"},
      {"four parts", good + ".x", "GET", "/v1/peers", "malformed token"},
      {"bad base64", "a*b.c.d", "GET", "/v1/peers", "malformed token"},
      {"wrong secret", SignRequest("other", {"GET", "/v1/peers", ""}, "", kNow), "GET", "/v1/peers",
       "signature"},
      {"tampered claims",
       good.substr(0, good.find('.') + 1) +
           Base64UrlEncode(R"({"iss":"glustercli","iat":1800000000,"exp":1800000100,"qsh":")" +
                           qsh + "\"}") +
           good.substr(good.rfind('.')),
       "GET", "/v1/peers", "signature"},
      {"alg none",
       Base64UrlEncode(R"({"alg":"none"})") + "." +
           Base64UrlEncode(R"({"iss":"glustercli","exp":9999999999})") + ".",
       "GET", "/v1/peers", "unsupported token algorithm"},
      {"wrong issuer",
       Claims(R"({"iss":"someone","iat":1800000000,"exp":1800000100,"qsh":")" + qsh + "\"}"), "GET",
       "/v1/peers", "invalid App ID"},
      {"no exp", Claims(R"({"iss":"glustercli","iat":1800000000,"qsh":")" + qsh + "\"}"), "GET",
       "/v1/peers", "no exp"},
      {"no iat", Claims(R"({"iss":"glustercli","exp":1800000100,"qsh":")" + qsh + "\"}"), "GET",
       "/v1/peers", "no iat"},
      {"iat zero, exp far ahead",
       Claims(R"({"iss":"glustercli","iat":0,"exp":31556952000000,"qsh":")" + qsh + "\"}"), "GET",
       "/v1/peers", "lifetime"},
      {"lifetime over the cap",
       Claims(R"({"iss":"glustercli","iat":1800000000,"exp":1800000301,"qsh":")" + qsh + "\"}"),
       "GET", "/v1/peers", "lifetime"},
      {"exp before iat",
       Claims(R"({"iss":"glustercli","iat":1800000010,"exp":1800000005,"qsh":")" + qsh + "\"}"),
       "GET", "/v1/peers", "lifetime"},
      {"expired", SignRequest(kSecret, {"GET", "/v1/peers", ""}, "", kNow - 1000), "GET",
       "/v1/peers", "expired"},
      {"issued in future", SignRequest(kSecret, {"GET", "/v1/peers", ""}, "", kNow + 1000), "GET",
       "/v1/peers", "before issued"},
      {"nbf in future",
       Claims(R"({"iss":"glustercli","iat":1800000000,"exp":1800000100,"nbf":1800000090,"qsh":")" +
              qsh + "\"}"),
       "GET", "/v1/peers", "not valid yet"},
      {"no qsh", Claims(R"({"iss":"glustercli","iat":1800000000,"exp":1800000100})"), "GET",
       "/v1/peers", "no qsh"},
      {"other path", good, "GET", "/v1/volumes", "qsh"},
      {"other method", good, "DELETE", "/v1/peers", "qsh"},
      {"claims not object", Claims("[1,2]"), "GET", "/v1/peers", "not a JSON object"},
  };
  for (const auto& c : cases) {
    Status s = VerifyRequest(c.token, kSecret, {c.method, c.path, ""}, "", kNow);
    EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated)) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST(JwtTest, AcceptsHs512) {
  std::string qsh = QueryHash("GET", "/v1/peers");
  std::string t = SignClaims(
      kSecret, R"({"iss":"glustercli","iat":1800000000,"exp":1800000100,"qsh":")" + qsh + "\"}",
      "HS512");
  EXPECT_OK(VerifyRequest(t, kSecret, {"GET", "/v1/peers", ""}, "", kNow));
}

TEST(JwtTest, QueryAndBodyAreBound) {
  RequestHead head{"POST", "/v1/peers", "force=true"};
  std::string body = R"({"addresses":["10.0.0.2"]})";
  std::string t = SignRequest(kSecret, head, body, kNow);
  EXPECT_OK(VerifyRequest(t, kSecret, head, body, kNow));
  // The same token replayed with another query, no query, or another body.
  EXPECT_THAT(VerifyRequest(t, kSecret, {"POST", "/v1/peers", "force=false"}, body, kNow),
              RefusedWith("query hash"));
  EXPECT_THAT(VerifyRequest(t, kSecret, {"POST", "/v1/peers", ""}, body, kNow),
              RefusedWith("query hash"));
  EXPECT_THAT(VerifyRequest(t, kSecret, head, R"({"addresses":["10.6.6.6"]})", kNow),
              RefusedWith("body hash"));
  EXPECT_THAT(VerifyRequest(t, kSecret, head, "", kNow), RefusedWith("body hash"));
  // A token for a request without query and body allows neither.
  std::string bare = SignRequest(kSecret, {"POST", "/v1/peers", ""}, "", kNow);
  EXPECT_THAT(VerifyRequest(bare, kSecret, head, "", kNow), RefusedWith("query string"));
  EXPECT_THAT(VerifyRequest(bare, kSecret, {"POST", "/v1/peers", ""}, body, kNow),
              RefusedWith("request body"));
}

TEST(JwtTest, HeadPhaseRunsWithoutTheBody) {
  RequestHead head{"POST", "/v1/volumes", ""};
  std::string body = R"({"name":"v1"})";
  std::string t = SignRequest(kSecret, head, body, kNow);
  ASSERT_OK_AND_ASSIGN(BodyCheck check, VerifyHead(t, kSecret, head, kNow));
  EXPECT_FALSE(check.wants_empty_body());
  EXPECT_OK(check.Verify(body));
  EXPECT_THAT(check.Verify(body + " "), StatusIs(StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(BodyCheck empty,
                       VerifyHead(SignRequest(kSecret, head, "", kNow), kSecret, head, kNow));
  EXPECT_TRUE(empty.wants_empty_body());
  // A bad signature fails the head phase: the server never reads the body.
  EXPECT_THAT(VerifyHead(t, "another secret", head, kNow), StatusIs(StatusCode::kUnauthenticated));
}

TEST(JwtTest, ClockSkewAndLifetime) {
  RequestHead head{"GET", "/v1/peers", ""};
  std::string t = SignRequest(kSecret, head, "", kNow, kMaxLifetimeSeconds);
  EXPECT_OK(VerifyRequest(t, kSecret, head, "", kNow - kClockSkewSeconds));
  EXPECT_THAT(VerifyRequest(t, kSecret, head, "", kNow - kClockSkewSeconds - 1),
              RefusedWith("before issued"));
  EXPECT_OK(
      VerifyRequest(t, kSecret, head, "", kNow + kMaxLifetimeSeconds + kClockSkewSeconds - 1));
  EXPECT_THAT(VerifyRequest(t, kSecret, head, "", kNow + kMaxLifetimeSeconds + kClockSkewSeconds),
              RefusedWith("expired"));
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
