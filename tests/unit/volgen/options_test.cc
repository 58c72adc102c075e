#include "volgen/options.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "support/status_matchers.h"
#include "unit/volgen/volume_option_table.h"

namespace gd2::volgen {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

struct ValidCase {
  std::string key;
  std::string value;
  std::string normalized;
};

class ValidOptionTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidOptionTest, Normalizes) {
  const ValidCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(std::string v, Table().Validate(c.key, c.value));
  EXPECT_EQ(v, c.normalized);
}

INSTANTIATE_TEST_SUITE_P(Table, ValidOptionTest,
                         ::testing::Values(
                             // Booleans in every accepted form, written in the option's spelling.
                             ValidCase{"performance.write-behind", "off", "off"},
                             ValidCase{"performance.write-behind", "No", "off"},
                             ValidCase{"performance.write-behind", "FALSE", "off"},
                             ValidCase{"performance.write-behind", "disable", "off"},
                             ValidCase{"performance.write-behind", "0", "off"},
                             ValidCase{"performance.write-behind", "yes", "on"},
                             ValidCase{"performance.write-behind", "true", "on"},
                             ValidCase{"performance.write-behind", "Enable", "on"},
                             ValidCase{"performance.write-behind", "1", "on"},
                             ValidCase{"features.barrier", "on", "enable"},
                             ValidCase{"features.barrier", "disable", "disable"},
                             ValidCase{"cluster.self-heal-daemon", "off", "disable"},
                             ValidCase{"cluster.choose-local", "on", "true"},
                             ValidCase{"cluster.use-anonymous-inode", "off", "no"},
                             // Sizes: unit spelled the way glusterfs parses it.
                             ValidCase{"performance.cache-size", "64MB", "64MB"},
                             ValidCase{"performance.cache-size", "64mb", "64MB"},
                             ValidCase{"performance.cache-size", "64MiB", "64MB"},
                             ValidCase{"performance.cache-size", "512k", "512KB"},
                             ValidCase{"performance.cache-size", "1GB", "1GB"},
                             ValidCase{"performance.cache-size", "1048576", "1048576"},
                             ValidCase{"performance.cache-size", "007MB", "7MB"},
                             ValidCase{"features.shard-block-size", "4MB", "4MB"},
                             // Integers, times, percentages, enums, strings.
                             ValidCase{"performance.io-thread-count", "64", "64"},
                             ValidCase{"network.ping-timeout", "10", "10"},
                             ValidCase{"network.ping-timeout", "10s", "10"},
                             ValidCase{"cluster.min-free-disk", "5", "5%"},
                             ValidCase{"cluster.min-free-disk", "20%", "20%"},
                             ValidCase{"cluster.quorum-type", "FIXED", "fixed"},
                             ValidCase{"diagnostics.brick-log-level", "debug", "DEBUG"},
                             ValidCase{"transport.address-family", "inet6", "inet6"},
                             ValidCase{"auth.allow", "192.168.1.*,10.0.0.1",
                                       "192.168.1.*,10.0.0.1"},
                             // Aliases resolve to the canonical option.
                             ValidCase{"cluster/replicate.eager-lock", "off", "off"},
                             ValidCase{"replicate.eager-lock", "off", "off"},
                             ValidCase{"quick-read.cache-size", "16MB", "16MB"},
                             ValidCase{"performance/write-behind", "off", "off"},
                             ValidCase{"features/shard", "on", "on"}));

TEST(AddressListTest, AcceptsGlusterdAddressPatterns) {
  for (const char* list :
       {"*", "10.0.0.0/8,fe80::1,host-1.example.com", "*.example.com,2001:db8::*",
        "192.168.*.*", "fe80::/64"}) {
    for (const char* key : {"auth.allow", "auth.reject"}) {
      ASSERT_OK_AND_ASSIGN(std::string v, Table().Validate(key, list));
      EXPECT_EQ(v, list) << key;
    }
  }
}

struct InvalidCase {
  std::string key;
  std::string value;
  std::string message;  // substring of the error
};

class InvalidOptionTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidOptionTest, IsRejected) {
  const InvalidCase& c = GetParam();
  StatusOr<std::string> v = Table().Validate(c.key, c.value);
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.status().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidOptionTest,
    ::testing::Values(
        InvalidCase{"perfomance.cache-size", "64MB",
                    "unknown option: perfomance.cache-size (did you mean "
                    "performance.cache-size?)"},
        InvalidCase{"cluster.quorum-typ", "auto", "did you mean cluster.quorum-type?"},
        InvalidCase{"completely.bogus-option-name-here", "1", "unknown option: completely"},
        InvalidCase{"io-stats.log-level", "INFO", "ambiguous option"},
        InvalidCase{"performance.write-behind", "maybe", "expected a boolean"},
        InvalidCase{"performance.write-behind", "", "empty"},
        InvalidCase{"performance.cache-size", "64XB", "expected a size"},
        InvalidCase{"performance.cache-size", "64GB", "allowed range"},
        InvalidCase{"performance.cache-size", "99999999999999999999", "expected a size"},
        InvalidCase{"features.shard-block-size", "1MB", "allowed range"},
        InvalidCase{"performance.io-thread-count", "0", "allowed range"},
        InvalidCase{"performance.io-thread-count", "65", "allowed range"},
        InvalidCase{"performance.io-thread-count", "1.5", "expected an integer"},
        InvalidCase{"performance.io-thread-count", "-3", "allowed range"},
        InvalidCase{"network.ping-timeout", "forever", "expected seconds"},
        InvalidCase{"cluster.min-free-disk", "101%", "allowed range"},
        InvalidCase{"cluster.min-free-disk", "%", "expected a percentage"},
        InvalidCase{"cluster.quorum-type", "most", "allowed: none, auto, fixed"},
        InvalidCase{"auth.allow", "1.2.3.4\n    option x y", "byte 0x0a is not allowed"},
        InvalidCase{"auth.allow", "a b", "byte 0x20 is not allowed"},
        // What the volfile reader would run, comment out or choke on.
        InvalidCase{"auth.allow", "`touch /tmp/x`", "'`' is not allowed"},
        InvalidCase{"auth.allow", "1.2.3.4,$(id)", "'$' is not allowed"},
        InvalidCase{"auth.reject", "#x", "'#' is not allowed"},
        InvalidCase{"auth.allow", "\"a\"", "'\"' is not allowed"},
        InvalidCase{"auth.allow", "a\\b", "'\\' is not allowed"},
        InvalidCase{"auth.allow", "volume", "a volfile keyword"},
        InvalidCase{"diagnostics.brick-log-level", "INFO`id`", "'`' is not allowed"},
        InvalidCase{"performance.cache-size", "1MB\"", "'\"' is not allowed"},
        // Typed: only internet-address-lists.
        InvalidCase{"auth.allow", "1.2.3.4,,5.6.7.8", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "1.2.3.4.5", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "256.1.1.1", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "10.0.0.0/33", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "/etc/passwd", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "a%b", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", "fe80::g", "not a valid internet-address-list"},
        InvalidCase{"auth.allow", std::string(4097, 'a'), "longer than 4096"}));

TEST(OptionKeyTest, HugeUnknownKeysAreRefusedCheaply) {
  // A 1 MB key used to cost seconds of edit-distance search for a suggestion.
  const std::string huge(1 << 20, 'x');
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    StatusOr<std::string> r = Table().ResolveKey(huge);
    ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
    ASSERT_THAT(r.status().message(), HasSubstr("longer than 128 characters"));
    ASSERT_LT(r.status().message().size(), 300u);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(500)) << "100 refusals of a 1 MB key";
  EXPECT_THAT(Table().ResolveKey("auth.allow`id`"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Table().ResolveKey(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Table().ResolveKey(std::string(kMaxOptionKeyLength, 'a')).status().message(),
              HasSubstr("unknown option"));
}

TEST(OptionsTableTest, HasTheCommonOptionsWithConsistentDefinitions) {
  const auto& all = Table().all();
  EXPECT_GE(all.size(), 30u);
  std::set<std::string> keys;
  for (const OptionDef& d : all) {
    SCOPED_TRACE(d.key);
    EXPECT_TRUE(keys.insert(d.key).second) << "duplicate key";
    EXPECT_FALSE(d.description.empty());
    // Every default must itself be valid and already normalised.
    if (!d.default_value.empty()) {
      ASSERT_OK_AND_ASSIGN(std::string v, Table().Validate(d.key, d.default_value));
      EXPECT_EQ(v, d.default_value);
    }
    if (d.IsXlatorToggle()) {
      EXPECT_EQ(d.type, OptionType::kBool);
    }
    if (d.graphs != kNoGraph) {
      EXPECT_FALSE(d.targets.empty());
    }
  }
  for (const char* key :
       {"performance.write-behind", "cluster.self-heal-daemon", "network.ping-timeout",
        "performance.cache-size", "diagnostics.brick-log-level", "diagnostics.client-log-level",
        "cluster.quorum-type", "features.shard", "features.barrier"}) {
    EXPECT_NE(Table().Find(key), nullptr) << key;
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
}

TEST(OptionsTableTest, DescribesWhereOptionsGo) {
  const OptionDef* wb = Table().Find("performance.write-behind");
  ASSERT_NE(wb, nullptr);
  EXPECT_TRUE(wb->IsXlatorToggle());
  EXPECT_EQ(wb->graphs, kClientGraph);
  const OptionDef* cache = Table().Find("performance.cache-size");
  ASSERT_NE(cache, nullptr);
  ASSERT_EQ(cache->targets.size(), 2u);
  EXPECT_EQ(cache->targets[1].xlator_type, "performance/quick-read");
  EXPECT_EQ(cache->type, OptionType::kSize);
  const OptionDef* quorum = Table().Find("cluster.quorum-type");
  ASSERT_NE(quorum, nullptr);
  EXPECT_EQ(quorum->graphs, kClientGraph | kShdGraph);
  const OptionDef* af = Table().Find("transport.address-family");
  ASSERT_NE(af, nullptr);
  EXPECT_FALSE(af->live);
  EXPECT_EQ(Table().Find("cluster/replicate.eager-lock"), Table().Find("cluster.eager-lock"));
}

TEST(OptionsTableTest, NormalizeOptionsRejectsTheSameOptionTwice) {
  ASSERT_OK_AND_ASSIGN(auto ok, Table().NormalizeAll({{"replicate.eager-lock", "no"},
                                                      {"performance.cache-size", "16mb"}}));
  EXPECT_EQ(ok, (std::map<std::string, std::string>{{"cluster.eager-lock", "off"},
                                                    {"performance.cache-size", "16MB"}}));
  StatusOr<std::map<std::string, std::string>> dup =
      Table().NormalizeAll({{"cluster.eager-lock", "on"}, {"replicate.eager-lock", "off"}});
  EXPECT_THAT(dup, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(dup.status().message(), HasSubstr("option given twice: cluster.eager-lock"));
}

TEST(OptionsTableTest, LevelsAreGated) {
  const OptionDef* basic = Table().Find("performance.cache-size");
  const OptionDef* advanced = Table().Find("features.barrier");
  const OptionDef* experimental = Table().Find("cluster.lock-migration");
  const OptionDef* deprecated = Table().Find("nfs.disable");
  EXPECT_OK(CheckOptionLevel(*basic, false, false, false));
  EXPECT_THAT(CheckOptionLevel(*advanced, false, true, true),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(CheckOptionLevel(*advanced, true, false, false));
  EXPECT_THAT(CheckOptionLevel(*experimental, true, false, true),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(CheckOptionLevel(*experimental, false, true, false));
  EXPECT_THAT(CheckOptionLevel(*deprecated, true, true, false),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(CheckOptionLevel(*deprecated, false, false, true));
}

TEST(OptionsTableTest, EffectiveOptionsListsDefaultsAndSetValues) {
  std::vector<OptionValue> all = Table().Effective({{"performance.cache-size", "64MB"}});
  EXPECT_EQ(all.size(), Table().all().size());
  int modified = 0;
  for (const OptionValue& o : all) {
    if (o.key == "performance.cache-size") {
      EXPECT_EQ(o.value, "64MB");
      EXPECT_EQ(o.default_value, "32MB");
      EXPECT_TRUE(o.modified);
    }
    if (o.key == "network.ping-timeout") {
      EXPECT_EQ(o.value, "42");
      EXPECT_FALSE(o.modified);
    }
    modified += o.modified ? 1 : 0;
  }
  EXPECT_EQ(modified, 1);
}

TEST(OptionsTableTest, CreateTimeOptionsFollowGlusterd) {
  auto dist = CreateTimeOptions(api::VolumeType::kDistribute);
  EXPECT_EQ(dist.size(), 3u);
  EXPECT_EQ(dist.at("transport.address-family"), "inet");
  auto rep = CreateTimeOptions(api::VolumeType::kDistReplicate);
  EXPECT_EQ(rep.at("cluster.granular-entry-heal"), "on");
  EXPECT_EQ(rep.at("performance.client-io-threads"), "off");
  for (const auto& [k, v] : rep) {
    ASSERT_OK_AND_ASSIGN(NormalizedOption o, Table().Normalize(k, v));
    EXPECT_EQ(o.key, k);
    EXPECT_EQ(o.value, v);
  }
}

TEST(OptionsTableTest, CreateRefusesBadDefinitions) {
  auto def = [](std::string key, std::string default_value) -> OptionDef {
    return OptionBuilder(std::move(key), OptionType::kBool, std::move(default_value), kClientGraph,
                         {{"features/x", "y"}})
        .Desc("test option");
  };
  ASSERT_OK_AND_ASSIGN(OptionTable t,
                       OptionTable::Create({def("b.opt", "on"), def("a.opt", "off")}));
  ASSERT_EQ(t.all().size(), 2u);
  EXPECT_EQ(t.all()[0].key, "a.opt");
  EXPECT_EQ(t.Find("x.y"), nullptr);  // two options target features/x y: an ambiguous alias
  EXPECT_THAT(t.ResolveKey("x.y").status().message(), HasSubstr("ambiguous option"));
  StatusOr<OptionTable> twice = OptionTable::Create({def("a.opt", "on"), def("a.opt", "off")});
  EXPECT_THAT(twice, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(twice.status().message(), HasSubstr("option defined twice: a.opt"));
  EXPECT_THAT(OptionTable::Create({def("a.opt", "yes")}).status().message(),
              HasSubstr("not a normalised value"));
  EXPECT_THAT(OptionTable::Create({def("a opt", "on")}).status().message(),
              HasSubstr("invalid option key"));
  EXPECT_EQ(OptionTable().Find("performance.cache-size"), nullptr);
}

TEST(OptionsTableTest, ParseSize) {
  EXPECT_EQ(*ParseSize("0"), 0);
  EXPECT_EQ(*ParseSize("2KB"), 2048);
  EXPECT_EQ(*ParseSize("1t"), int64_t{1} << 40);
  EXPECT_THAT(ParseSize("MB"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSize("9999999999TB"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSize("1.5GB"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gd2::volgen
