// The Registrar (plugins/plugin.h): what plugins declare is checked at start-up, and a second
// claim on a key kind, an option or an API stops the daemon naming both plugins.
#include <gtest/gtest.h>

#include <string>

#include "plugins/plugin.h"
#include "rest/router.h"
#include "sunrpc/volfile_provider.h"
#include "support/status_matchers.h"
#include "txn/engine.h"

namespace gd2::plugins {
namespace {

// Two unrelated interfaces, as two plugins' API headers would declare them.
class FirstApi {
 public:
  virtual ~FirstApi() = default;
  virtual int Value() const { return 1; }
};
class SecondApi {
 public:
  virtual ~SecondApi() = default;
};

volgen::OptionDef Option(std::string key) {
  return volgen::OptionBuilder(std::move(key), volgen::OptionType::kBool, "off",
                               volgen::kClientGraph, {{"features/test", "switch"}})
      .Desc("an option for the test");
}

class RegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }

  rest::Router router_;
  txn::StepRegistry steps_;
  Services services_;
  sunrpc::VolfileRegistry volfiles_;
  Registrar registrar_{router_, steps_, services_, volfiles_};
};

TEST_F(RegistrarTest, KeyKindsOptionsAndApisReachTheServices) {
  services_.keys = store::KeySpace("c1");
  registrar_.SetPlugin("a");
  store::KeyKind snapshots = registrar_.AddKeyKind("snapshots");
  EXPECT_EQ(snapshots.Prefix(), "gluster-c1/snapshots/");
  EXPECT_EQ(*snapshots.Key({{"snapshot", "s1"}}), "gluster-c1/snapshots/s1");
  registrar_.AddOption(Option("features.first"));
  FirstApi first;
  registrar_.ProvideApi<FirstApi>(first);
  registrar_.SetPlugin("b");
  registrar_.AddKeyKind("devices");
  registrar_.AddOption(Option("features.second"));
  registrar_.Finish();

  EXPECT_EQ(services_.apis.Find<FirstApi>(), &first);
  EXPECT_EQ(services_.apis.Find<FirstApi>()->Value(), 1);
  EXPECT_EQ(services_.apis.Find<SecondApi>(), nullptr);
  ASSERT_EQ(services_.options.all().size(), 2u);
  EXPECT_NE(services_.options.Find("features.first"), nullptr);
  EXPECT_NE(services_.options.Find("features.second"), nullptr);
}

TEST_F(RegistrarTest, RefusesAKeyKindTwiceNamingBothPlugins) {
  registrar_.SetPlugin("snapshot");
  registrar_.AddKeyKind("snapshots");
  registrar_.SetPlugin("backup");
  EXPECT_DEATH(registrar_.AddKeyKind("snapshots"),
               "plugin backup: key kind snapshots already declared by plugin snapshot");
}

TEST_F(RegistrarTest, RefusesCoreKeyKindsAndBadNames) {
  registrar_.SetPlugin("volume");
  EXPECT_DEATH(registrar_.AddKeyKind("peers"),
               "plugin volume: key kind peers already declared by core");
  EXPECT_DEATH(registrar_.AddKeyKind("txn"),
               "plugin volume: key kind txn already declared by core");
  EXPECT_DEATH(registrar_.AddKeyKind("a/b"), "plugin volume: cannot declare key kind");
}

TEST_F(RegistrarTest, RefusesAnOptionTwiceNamingBothPlugins) {
  registrar_.SetPlugin("volume");
  registrar_.AddOption(Option("features.shared"));
  registrar_.SetPlugin("bitrot");
  EXPECT_DEATH(registrar_.AddOption(Option("features.shared")),
               "plugin bitrot: option features.shared already registered by plugin volume");
}

TEST_F(RegistrarTest, RefusesAnInvalidOptionNamingThePlugin) {
  registrar_.SetPlugin("quota");
  volgen::OptionDef bad = Option("features.quota");
  bad.default_value = "maybe";
  EXPECT_DEATH(registrar_.AddOption(bad), "plugin quota: cannot register option: .*features.quota");
}

TEST_F(RegistrarTest, RefusesAnApiTwiceNamingBothPlugins) {
  FirstApi one, two;
  registrar_.SetPlugin("peer");
  registrar_.ProvideApi<FirstApi>(one);
  registrar_.SetPlugin("other");
  EXPECT_DEATH(registrar_.ProvideApi<FirstApi>(two),
               "plugin other: API .* already provided by plugin peer");
}

struct NoArgs {};
[[maybe_unused]] void to_json(nlohmann::json& j, const NoArgs&) { j = nlohmann::json::object(); }
void from_json(const nlohmann::json&, NoArgs&) {}
constexpr peer_rpc::QueryId<NoArgs, int> kCountQuery{"volume.count"};

TEST_F(RegistrarTest, ServedQueriesReachTheRegistryAndAreRefusedTwiceNamingBothPlugins) {
  auto answer = [](const peer_rpc::QueryContext&, const NoArgs&) -> StatusOr<int> { return 3; };
  registrar_.SetPlugin("volume");
  registrar_.ServeQuery<NoArgs, int>(kCountQuery, answer);
  ASSERT_TRUE(registrar_.queries().Has("volume.count"));
  ASSERT_OK_AND_ASSIGN(std::string text, registrar_.queries().Answer("volume.count", {}, "{}"));
  EXPECT_EQ(text, "3");
  registrar_.SetPlugin("snapshot");
  EXPECT_DEATH((registrar_.ServeQuery<NoArgs, int>(kCountQuery, answer)),
               "plugin snapshot: query volume.count already served by plugin volume");
}

}  // namespace
}  // namespace gd2::plugins
