// LoadConfig: listeners that would clash on one port are refused before anything starts.
#include "daemon/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/status_matchers.h"

namespace gd2::daemon {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

StatusOr<Config> Load(std::vector<std::string> args) {
  args.insert(args.begin(), {"glusterd2", "--workdir", "/tmp/gd2-config-test"});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::string help;
  return LoadConfig(static_cast<int>(argv.size()), argv.data(), {}, &help);
}

TEST(ConfigTest, DistinctPortsAreAccepted) {
  ASSERT_OK_AND_ASSIGN(
      Config c, Load({"--client-address", "127.0.0.1:5001", "--peer-address", "127.0.0.1:5002",
                      "--etcd-client-url", "https://127.0.0.1:5003", "--etcd-peer-url",
                      "https://127.0.0.1:5004"}));
  EXPECT_EQ(c.peer_address.port, 5002);
}

TEST(ConfigTest, PeerAddressOnTheEtcdClientPortIsRefusedNamingBoth) {
  auto c = Load({"--client-address", "127.0.0.1:5001", "--peer-address", "127.0.0.1:5003",
                 "--etcd-client-url", "https://127.0.0.1:5003"});
  EXPECT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(c.status().message(),
              HasSubstr("peer-address and etcd-client-url both use port 5003"));
}

TEST(ConfigTest, AWildcardListenerClashesWithAnyHostOnItsPort) {
  auto c = Load({"--client-address", "0.0.0.0:5001", "--peer-address", "127.0.0.1:5001"});
  EXPECT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(c.status().message(),
              HasSubstr("client-address and peer-address both use port 5001"));
}

TEST(ConfigTest, OnePortOnTwoHostsIsAccepted) {
  EXPECT_OK(Load({"--client-address", "127.0.0.1:5001", "--peer-address", "127.0.0.2:5001",
                  "--etcd-client-url", "https://127.0.0.1:5003", "--etcd-peer-url",
                  "https://127.0.0.1:5004"})
                .status());
}

TEST(ConfigTest, WithAnExternalEtcdTheEmbeddedEtcdPortsAreFree) {
  // The embedded etcd's default client port, 2379, is not in use when etcd is external.
  EXPECT_OK(Load({"--client-address", "127.0.0.1:5001", "--peer-address", "127.0.0.1:2379",
                  "--etcd-endpoints", "https://127.0.0.21:2379"})
                .status());
}

}  // namespace
}  // namespace gd2::daemon
