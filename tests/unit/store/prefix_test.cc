// Store pieces that need no etcd: prefix ranges and endpoint validation in Connect.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "store/store.h"
#include "support/status_matchers.h"

namespace gd2::store {
namespace {

using ::gd2::testing::StatusIs;

TEST(PrefixRangeEndTest, Table) {
  struct Case {
    std::string prefix;
    std::string end;
  };
  const Case cases[] = {
      {"a", "b"},
      {"gluster-c1/volumes/", "gluster-c1/volumes0"},
      {std::string("a\xff", 2), "b"},
      {std::string("\xff\xff", 2), std::string(1, '\0')},
      {"", std::string(1, '\0')},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("prefix=" + c.prefix);
    EXPECT_EQ(PrefixRangeEnd(c.prefix), c.end);
  }
}

TEST(ConnectTest, RejectsBadEndpoints) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"ftp://127.0.0.1:2379"},
      {"127.0.0.1"},
      {"http://127.0.0.1:0"},
      {"http://127.0.0.1:99999"},
      {"http://127.0.0.1:12x"},
      {"http://:2379"},
      {"[::1"},
      {"http://127.0.0.1:2379", "https://127.0.0.1:2380"},
  };
  for (const auto& endpoints : bad) {
    Options o;
    o.endpoints = endpoints;
    o.dial_timeout = std::chrono::milliseconds(100);
    EXPECT_THAT(Store::Connect(o), StatusIs(StatusCode::kInvalidArgument))
        << (endpoints.empty() ? "<none>" : endpoints[0]);
  }
}

TEST(ConnectTest, TlsFilesMustExist) {
  Options o;
  o.endpoints = {"https://127.0.0.1:2379"};
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(Store::Connect(o), StatusIs(StatusCode::kNotFound));
  o.ca_file.clear();
  o.cert_file = "/nonexistent/cert.pem";
  EXPECT_THAT(Store::Connect(o), StatusIs(StatusCode::kInvalidArgument));  // key_file missing
}

}  // namespace
}  // namespace gd2::store
