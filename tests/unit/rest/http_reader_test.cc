#include "rest/http_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "support/status_matchers.h"

namespace gd2::rest {
namespace {

using Phase = HttpRequestReader::Phase;

TEST(HttpReaderTest, StopsAfterTheHeaderBeforeTheBody) {
  HttpRequestReader r;
  std::string in =
      "POST /v1/volumes?force=true&name=a+b%2F HTTP/1.1\r\nContent-Length: 5\r\n"
      "Authorization: Bearer x\r\n\r\nhello";
  ASSERT_OK_AND_ASSIGN(size_t used, r.Feed(in));
  EXPECT_EQ(r.phase(), Phase::kBody);
  EXPECT_EQ(used, in.size() - 5);  // not one body byte
  EXPECT_EQ(r.request().method, "POST");
  EXPECT_EQ(r.request().path, "/v1/volumes");
  EXPECT_EQ(r.request().query.find("name")->second, "a b/");
  EXPECT_EQ(r.request().Header("authorization"), "Bearer x");
  EXPECT_TRUE(r.request().has_body);
  ASSERT_OK_AND_ASSIGN(size_t body, r.Feed(in.substr(used)));
  EXPECT_EQ(body, 5u);
  EXPECT_EQ(r.phase(), Phase::kDone);
  EXPECT_EQ(r.request().body, "hello");
}

TEST(HttpReaderTest, WaitsForTheWholeHeaderAndKeepsPipelinedBytes) {
  HttpRequestReader r;
  std::string in = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  ASSERT_OK_AND_ASSIGN(size_t none, r.Feed(in.substr(0, 10)));
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(r.phase(), Phase::kHeader);
  ASSERT_OK_AND_ASSIGN(size_t used, r.Feed(in));
  EXPECT_EQ(r.phase(), Phase::kDone);
  EXPECT_EQ(in.substr(used), "GET /next HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(r.request().keep_alive);
  EXPECT_FALSE(r.request().has_body);
}

TEST(HttpReaderTest, LimitsHeaderBodyAndChunkedBody) {
  HttpLimits limits{64, 10};
  struct Case {
    std::string in;
    int status;
  } cases[] = {
      {"GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\naaaaaaaa\r\n8\r\naaaaaaaa\r\n",
       413},
      {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"GET / HTTP/9.9\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    HttpRequestReader r(limits);
    Status s;
    std::string pending = c.in;
    // Feed as the server does: drop what was used, offer the rest again.
    for (int i = 0; i < 10 && s.ok() && r.phase() != Phase::kDone; ++i) {
      auto used = r.Feed(pending);
      s = used.status();
      if (used.ok()) pending.erase(0, *used);
    }
    EXPECT_FALSE(s.ok()) << c.in;
    EXPECT_EQ(r.phase(), Phase::kFailed) << c.in;
    EXPECT_EQ(r.http_status(), c.status) << c.in;
  }
}

TEST(HttpReaderTest, ExpectContinueAndHttp10) {
  HttpRequestReader r;
  ASSERT_OK(
      r.Feed("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").status());
  EXPECT_TRUE(r.request().expect_continue);
  HttpRequestReader old;
  ASSERT_OK(old.Feed("GET /x HTTP/1.0\r\n\r\n").status());
  EXPECT_EQ(old.phase(), Phase::kDone);
  EXPECT_FALSE(old.request().keep_alive);
  EXPECT_EQ(old.request().version, 10u);
}

TEST(HttpReaderTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%2Fb+c", false), "a/b+c");
  EXPECT_EQ(PercentDecode("a%2fb+c", true), "a/b c");
  EXPECT_EQ(PercentDecode("%zz%4", false), "%zz%4");
}

}  // namespace
}  // namespace gd2::rest
