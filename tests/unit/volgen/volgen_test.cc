// Behaviour of volgen beyond the golden volfiles: toggles, option placement, errors.
#include "volgen/volgen.h"

#include <gtest/gtest.h>

#include <functional>

#include "support/status_matchers.h"
#include "unit/volgen/volume_option_table.h"
#include "volgen/options.h"

namespace gd2::volgen {
namespace {

using api::Brick;
using api::Volume;
using ::gd2::testing::StatusIs;

Volume MakeVolume(const std::string& name, int bricks, api::LayoutRequest layout) {
  std::vector<Brick> list;
  for (int i = 0; i < bricks; ++i) {
    list.push_back(Brick{"id" + std::to_string(i), "peer-" + std::to_string(i % 3),
                         "host" + std::to_string(i % 3), "/b/" + std::to_string(i)});
  }
  Volume v;
  v.id = "00000000-0000-0000-0000-000000000001";
  v.name = name;
  v.subvols = *api::PlanSubvols(name, list, layout);
  v.type = api::VolumeTypeFor(v.subvols);
  v.options = CreateTimeOptions(v.type);
  v.auth = {"user", "secret"};
  return v;
}

std::vector<std::string> Types(const Graph& g) {
  std::vector<std::string> out;
  for (const Xlator& x : g.xlators) out.push_back(x.type);
  return out;
}

bool HasType(const Graph& g, const std::string& type) {
  for (const Xlator& x : g.xlators) {
    if (x.type == type) return true;
  }
  return false;
}

TEST(VolgenTest, TogglesAddAndRemoveClientXlatorsInGlusterdOrder) {
  Volume v = MakeVolume("v", 3, {.replica_count = 3});
  v.options["performance.write-behind"] = "off";
  v.options["performance.readdir-ahead"] = "on";
  v.options["performance.io-cache"] = "on";
  v.options["features.shard"] = "on";
  v.options["performance.client-io-threads"] = "on";
  ASSERT_OK_AND_ASSIGN(Graph g, BuildClientGraph(Table(), v, ClientContext{}));
  std::vector<std::string> types = Types(g);
  std::vector<std::string> top(types.end() - 10, types.end() - 1);
  EXPECT_EQ(top, (std::vector<std::string>{"cluster/distribute", "features/shard", "features/utime",
                                           "performance/readdir-ahead", "performance/io-cache",
                                           "performance/open-behind", "performance/quick-read",
                                           "performance/md-cache", "performance/io-threads"}))
      << Serialize(g).value_or("(refused)");
  EXPECT_EQ(g.Top().type, "debug/io-stats");
  EXPECT_EQ(g.Top().name, "v");
  EXPECT_FALSE(HasType(g, "performance/write-behind"));
  // Every subvolume name refers to an xlator defined earlier.
  ASSERT_OK_AND_ASSIGN(std::string text, Serialize(g));
  EXPECT_OK(Parse(text));
}

TEST(VolgenTest, OptionsGoToTheRightXlatorInTheRightGraph) {
  Volume v = MakeVolume("v", 6, {.replica_count = 3});
  v.options["network.ping-timeout"] = "10";
  v.options["diagnostics.brick-log-level"] = "DEBUG";
  v.options["diagnostics.client-log-level"] = "ERROR";
  v.options["performance.io-thread-count"] = "8";
  v.options["auth.allow"] = "10.0.0.*";
  v.options["cluster.heal-timeout"] = "300";
  v.options["performance.client-io-threads"] = "on";
  ASSERT_OK_AND_ASSIGN(Graph client, BuildClientGraph(Table(), v, ClientContext{}));
  EXPECT_EQ(*client.Find("v-client-5")->GetOption("ping-timeout"), "10");
  EXPECT_EQ(*client.Find("v")->GetOption("log-level"), "ERROR");
  EXPECT_EQ(*client.Find("v-io-threads")->GetOption("thread-count"), "8");
  EXPECT_EQ(client.Find("v-replicate-1")->GetOption("heal-timeout"), nullptr);

  const Brick& b = v.subvols[1].bricks[2];
  ASSERT_OK_AND_ASSIGN(Graph brick, BuildBrickGraph(Table(), v, b, BrickContext{}));
  EXPECT_EQ(*brick.Find("/b/5")->GetOption("log-level"), "DEBUG");
  EXPECT_EQ(*brick.Find("v-io-threads")->GetOption("thread-count"), "8");
  EXPECT_EQ(*brick.Find("v-server")->GetOption("auth.addr./b/5.allow"), "10.0.0.*");
  EXPECT_EQ(*brick.Find("v-server")->GetOption("auth.login./b/5.allow"), "user");
  EXPECT_EQ(brick.Find("v-server")->GetOption("ping-timeout"), nullptr);
  EXPECT_EQ(*brick.Find("v-marker")->GetOption("timestamp-file"),
            "/var/lib/glusterd2/vols/v/marker.tstamp");

  ASSERT_OK_AND_ASSIGN(Graph shd, BuildShdGraph(Table(), v, ShdContext{}));
  EXPECT_EQ(*shd.Find("v-replicate-0")->GetOption("heal-timeout"), "300");
  EXPECT_EQ(*shd.Find("v-client-0")->GetOption("ping-timeout"), "10");
  EXPECT_EQ(*shd.Find("v")->GetOption("log-level"), "ERROR");
  EXPECT_EQ(shd.Top().subvolumes, (std::vector<std::string>{"v-replicate-0", "v-replicate-1"}));
}

TEST(VolgenTest, ContextValuesAreWritten) {
  Volume v = MakeVolume("v", 2, {});
  v.options.erase("transport.address-family");
  BrickContext bctx;
  bctx.address_family = "inet6";
  bctx.listen_port = 49152;
  bctx.shared_brick_count = 2;
  bctx.workdir = "/tmp/w";
  ASSERT_OK_AND_ASSIGN(Graph brick, BuildBrickGraph(Table(), v, v.subvols[0].bricks[0], bctx));
  EXPECT_EQ(*brick.Find("v-server")->GetOption("transport.address-family"), "inet6");
  EXPECT_EQ(*brick.Find("v-server")->GetOption("transport.socket.listen-port"), "49152");
  EXPECT_EQ(*brick.Find("v-posix")->GetOption("shared-brick-count"), "2");
  EXPECT_EQ(*brick.Find("v-marker")->GetOption("timestamp-file"), "/tmp/w/vols/v/marker.tstamp");

  ClientContext cctx;
  cctx.trusted = false;
  cctx.remote_ports = {{"id1", 50000}};
  ASSERT_OK_AND_ASSIGN(Graph client, BuildClientGraph(Table(), v, cctx));
  EXPECT_EQ(client.Find("v-client-0")->GetOption("remote-port"), nullptr);
  EXPECT_EQ(*client.Find("v-client-1")->GetOption("remote-port"), "50000");
  EXPECT_EQ(*client.Find("v-client-1")->GetOption("remote-host"), "host1");
  EXPECT_EQ(client.Find("v-client-1")->GetOption("username"), nullptr);
  // Distribute: clients hang directly below DHT.
  EXPECT_EQ(client.Find("v-dht")->subvolumes,
            (std::vector<std::string>{"v-client-0", "v-client-1"}));
}

TEST(VolgenTest, VolumeOptionOverridesContextAddressFamily) {
  Volume v = MakeVolume("v", 3, {.disperse_count = 3});
  v.options["transport.address-family"] = "inet6";
  ASSERT_OK_AND_ASSIGN(Graph client, BuildClientGraph(Table(), v, ClientContext{}));
  EXPECT_EQ(*client.Find("v-client-0")->GetOption("transport.address-family"), "inet6");
  EXPECT_EQ(*client.Find("v-disperse-0")->GetOption("redundancy"), "1");
}

TEST(VolgenTest, Errors) {
  Volume v = MakeVolume("v", 2, {});
  EXPECT_THAT(BuildShdGraph(Table(), v, ShdContext{}), StatusIs(StatusCode::kFailedPrecondition));
  Brick stranger{"x", "peer-9", "h", "/elsewhere"};
  EXPECT_THAT(BuildBrickGraph(Table(), v, stranger, BrickContext{}),
              StatusIs(StatusCode::kNotFound));
  v.options["perfomance.cache-size"] = "1MB";
  StatusOr<std::string> text = FuseVolfile(Table(), v, ClientContext{});
  EXPECT_THAT(text, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(text.status().message(), ::testing::HasSubstr("did you mean"));
  v.options.erase("perfomance.cache-size");
  v.options["performance.cache-size"] = "1 MB";
  EXPECT_THAT(BrickVolfile(Table(), v, v.subvols[0].bricks[0], BrickContext{}),
              StatusIs(StatusCode::kInvalidArgument));
}

// A record that bypassed the API (written to the store directly) with a backtick in any field
// that reaches a volfile yields no volfile text at all, from any builder.
TEST(VolgenTest, UnsafeRecordFieldsProduceNoVolfile) {
  const std::string cmd = "`touch /tmp/gd2-volgen-pwned`";
  std::vector<std::pair<std::string, std::function<void(Volume&)>>> plants = {
      {"brick path", [&](Volume& v) { v.subvols[0].bricks[0].path = "/b/" + cmd; }},
      {"brick host", [&](Volume& v) { v.subvols[0].bricks[0].host = cmd; }},
      {"volume name", [&](Volume& v) { v.name = "v" + cmd; }},
      {"volume id", [&](Volume& v) { v.id = cmd; }},
      {"password", [&](Volume& v) { v.auth.password = cmd; }},
      {"username", [&](Volume& v) { v.auth.username = cmd; }},
      {"transport", [&](Volume& v) { v.transport = cmd; }},
      {"volume keyword", [&](Volume& v) { v.name = "volume"; }},
  };
  for (const auto& [what, plant] : plants) {
    Volume v = MakeVolume("v", 3, {.replica_count = 3});
    plant(v);
    EXPECT_THAT(FuseVolfile(Table(), v, ClientContext{}), StatusIs(StatusCode::kInvalidArgument))
        << what;
    EXPECT_THAT(ShdVolfile(Table(), v, ShdContext{}), StatusIs(StatusCode::kInvalidArgument))
        << what;
    // A brick's own volfile holds no host.
    if (what == "brick host") continue;
    EXPECT_THAT(BrickVolfile(Table(), v, v.subvols[0].bricks[0], BrickContext{}),
                StatusIs(StatusCode::kInvalidArgument))
        << what;
  }
  // An option value stored without validation: refused by option normalisation first.
  Volume v = MakeVolume("v", 3, {.replica_count = 3});
  v.options["auth.allow"] = cmd;
  EXPECT_THAT(BrickVolfile(Table(), v, v.subvols[0].bricks[0], BrickContext{}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(VolgenTest, BrickVolfileIds) {
  EXPECT_EQ(DashedPath("/bricks/d1/rep3"), "bricks-d1-rep3");
  EXPECT_EQ(BrickVolfileId("rep3", "vm", "/bricks/d1/rep3"), "rep3.vm.bricks-d1-rep3");
}

}  // namespace
}  // namespace gd2::volgen
