#include "api/volume.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "api/json.h"
#include "api/volume_req.h"
#include "common/volfile_text.h"
#include "support/status_matchers.h"

namespace gd2::api {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

Brick B(const std::string& peer, const std::string& path) {
  return Brick{"id-" + peer + path, peer, "host-" + peer, path, BrickType::kBrick};
}

std::vector<Brick> Bricks(int n) {
  std::vector<Brick> out;
  for (int i = 0; i < n; ++i) out.push_back(B("p" + std::to_string(i), "/b/" + std::to_string(i)));
  return out;
}

Volume Make(const std::string& name, std::vector<Brick> bricks, const LayoutRequest& req) {
  Volume v;
  v.id = "11111111-2222-3333-4444-555555555555";
  v.name = name;
  StatusOr<std::vector<Subvol>> s = PlanSubvols(name, std::move(bricks), req);
  GD2_CHECK(s.ok());
  v.subvols = *s;
  v.type = VolumeTypeFor(v.subvols);
  return v;
}

// --- JSON ---

TEST(VolumeJsonTest, RoundTripsEveryField) {
  Volume v = Make("arb", Bricks(6), {.replica_count = 3, .arbiter_count = 1});
  v.transport = "tcp";
  v.state = VolumeState::kStarted;
  v.options = {{"cluster.quorum-type", "auto"}};
  v.metadata = {{"owner", "me"}};
  v.auth = {"u", "p"};
  v.version = 7;
  ASSERT_OK_AND_ASSIGN(Volume back, ParseVolume(SerializeVolume(v, JsonView::kStore)));
  EXPECT_EQ(back, v);
}

// Records stored by earlier versions spelled the enums differently; they still read, and are
// written back in GlusterD2's spelling.
TEST(VolumeJsonTest, ReadsEarlierSpellingsAndWritesGlusterD2Ones) {
  Volume v = Make("rep", Bricks(6), {.replica_count = 3});
  v.state = VolumeState::kStarted;
  nlohmann::json j = nlohmann::json::parse(SerializeVolume(v, JsonView::kStore));
  j["type"] = "DistReplicate";
  j["state"] = "VolStarted";
  ASSERT_OK_AND_ASSIGN(Volume back, ParseVolume(j.dump()));
  EXPECT_EQ(back.type, VolumeType::kDistReplicate);
  EXPECT_EQ(back.state, VolumeState::kStarted);
  nlohmann::json again = VolumeToJson(back);
  EXPECT_EQ(again["type"], "Distributed-Replicate");
  EXPECT_EQ(again["state"], "Started");
  EXPECT_FALSE(ParseVolumeState("started").ok());
  EXPECT_FALSE(ParseVolumeType("Distributed-replicate").ok());
}

TEST(VolumeJsonTest, UsesGlusterD2FieldNames) {
  Volume v = Make("disp", Bricks(12), {.disperse_count = 6, .disperse_redundancy = 2});
  v.auth = {"u", "secret"};
  nlohmann::json j = VolumeToJson(v);
  EXPECT_EQ(j["type"], "Distributed-Disperse");
  EXPECT_EQ(j["state"], "Created");
  EXPECT_EQ(j["distribute-count"], 2);
  EXPECT_EQ(j["disperse-count"], 6);
  EXPECT_EQ(j["disperse-data-count"], 4);
  EXPECT_EQ(j["disperse-redundancy-count"], 2);
  EXPECT_EQ(j["subvols"][1]["name"], "disp-disperse-1");
  EXPECT_EQ(j["subvols"][1]["type"], "Disperse");
  const nlohmann::json& brick = j["subvols"][0]["bricks"][0];
  EXPECT_EQ(brick["peer-id"], "p0");
  EXPECT_EQ(brick["volume-name"], "disp");
  EXPECT_EQ(brick["volume-id"], v.id);
  EXPECT_EQ(brick["type"], "Brick");
  EXPECT_EQ(brick["host"], "host-p0");
  EXPECT_FALSE(j.contains("auth")) << "the public view must not leak credentials";
  EXPECT_EQ(VolumeToJson(v, JsonView::kStore)["auth"]["password"], "secret");
  nlohmann::json via_adl = v;
  EXPECT_EQ(via_adl, j);
}

TEST(VolumeJsonTest, WorksWithDecodeJson) {
  Volume v = Make("rep", Bricks(3), {.replica_count = 3});
  ASSERT_OK_AND_ASSIGN(Volume back, DecodeJson<Volume>(SerializeVolume(v, JsonView::kStore)));
  EXPECT_EQ(back, v);
  EXPECT_THAT(DecodeJson<Volume>(R"({"id":"x"})"), StatusIs(StatusCode::kInvalidArgument));
}

struct BadJson {
  std::string text;
  std::string message;
};

class VolumeJsonErrorTest : public ::testing::TestWithParam<BadJson> {};

TEST_P(VolumeJsonErrorTest, ReturnsInvalidArgumentNamingTheField) {
  StatusOr<Volume> v = ParseVolume(GetParam().text);
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, VolumeJsonErrorTest,
    ::testing::Values(
        BadJson{"{", "malformed JSON"}, BadJson{"[]", "volume: expected object"},
        BadJson{R"({"name":"v","type":"Distribute","subvols":[]})", "id: is required"},
        BadJson{R"({"id":1,"name":"v","type":"Distribute","subvols":[]})", "id: expected string"},
        BadJson{R"({"id":"i","name":"v","type":"Striped","subvols":[]})",
                "type: unknown volume type: Striped"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute"})", "subvols: is required"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute","subvols":{}})",
                "subvols: expected array"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute","state":"Running","subvols":[]})",
                "state: unknown volume state"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute","subvols":[{"type":"Distribute",
                "bricks":[{"peer-id":"p","path":7}]}]})",
                "subvols[0].bricks[0].path: expected string"},
        BadJson{R"({"id":"i","name":"v","type":"Replicate","subvols":[{"type":"Replicate",
                "replica-count":-1,"bricks":[]}]})",
                "subvols[0].replica-count: out of range"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute","subvols":[],
                "options":{"a":1}})",
                "options.a: expected string"},
        BadJson{R"({"id":"i","name":"v","type":"Distribute","subvols":[],"version":1.5})",
                "version: expected integer"}));

// --- name and path validation ---

TEST(ValidateTest, VolumeNames) {
  EXPECT_OK(ValidateVolumeName("rep3"));
  EXPECT_OK(ValidateVolumeName("A_b-9"));
  EXPECT_OK(ValidateVolumeName(std::string(64, 'a')));
  for (const std::string& bad : {std::string(""), std::string(65, 'a'), std::string("a b"),
                                 std::string("a/b"), std::string("a.b"), std::string("vol\n")}) {
    EXPECT_THAT(ValidateVolumeName(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ValidateTest, BrickPaths) {
  EXPECT_OK(ValidateBrickPath("/bricks/d1/rep3"));
  EXPECT_OK(ValidateBrickPath("/b"));
  EXPECT_OK(ValidateBrickPath("/a/b.c/c./d_e-f:g+h@i"));
  EXPECT_OK(ValidateBrickPath("/" + std::string(kMaxBrickPathLength - 1, 'a')));
  for (const std::string& bad : std::vector<std::string>{
           "", "/", "relative/path", "/a//b", "/a/", "/a/../b", "/a/./b", "/..", "/a b", "/a\tb",
           "/a\nb",
           // What a volfile would run, comment out or quote, and what no volfile id can hold.
           "/b/`touch /tmp/x`", "/b/$(id)", "/b/a\"b", "/b/a\\b", "/b/#x", "/b/a#b", "/b/a,b",
           "/b/a=b", "/b/a%b", "/b/~x", "/b/\xc3\xa9", "/b/a*b", "/a/..b/c.", "/a/b..",
           "/.hidden/b",
           // 15.8: a 5,000-character component is a 400, not a stat error.
           "/b/" + std::string(5000, 'x'), "/" + std::string(kMaxBrickPathLength, 'a')}) {
    EXPECT_THAT(ValidateBrickPath(bad), StatusIs(StatusCode::kInvalidArgument))
        << PrintableText(bad);
  }
}

// Every valid brick path gives a brick volfile id of the characters the id parser accepts
// (sunrpc/volfile_id.h): letters, digits, . _ - : + @ and '/' only, no "..".
TEST(ValidateTest, BrickPathCharactersAreTheVolfileIdCharacters) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const std::string path = std::string("/b/x") + c + "y";
    const bool id_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') ||
                         std::string_view("._-:+@/").find(c) != std::string_view::npos;
    EXPECT_EQ(ValidateBrickPath(path).ok(), id_char) << "byte " << i;
  }
}

TEST(ValidateTest, Hosts) {
  for (const std::string& ok :
       std::vector<std::string>{"vm", "127.0.0.21", "node-1.example.com", "a_b", "::1", "fe80::1:2",
                                "2001:db8::7", std::string(63, 'a') + ".b"}) {
    EXPECT_OK(ValidateHost(ok)) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "h`id`",
                                                         "$(id)",
                                                         "a b",
                                                         "a\nb",
                                                         "h\"",
                                                         "a#b",
                                                         "-a",
                                                         "a-",
                                                         "a..b",
                                                         ".a",
                                                         "a.",
                                                         "256.1.1.1",
                                                         "1.2.3",
                                                         "[::1]",
                                                         "::g",
                                                         "type",
                                                         "volume",
                                                         "end-volume",
                                                         std::string(64, 'a') + ".b",
                                                         std::string(254, 'a'),
                                                         "a/b",
                                                         "a:b:"}) {
    EXPECT_THAT(ValidateHost(bad), StatusIs(StatusCode::kInvalidArgument)) << PrintableText(bad);
  }
}

TEST(ValidateTest, VolumeNamesAreNeverVolfileKeywords) {
  for (const char* bad : {"volume", "type", "option", "subvolumes", "end-volume", "-x", "`id`"}) {
    EXPECT_THAT(ValidateVolumeName(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_OK(ValidateVolumeName("volumes"));
  EXPECT_OK(ValidateVolumeName("x-"));
}

// "/b/d-x" and "/b/d/x" both become "b-d-x": same volfile id, pid file and log file.
TEST(BrickConflictTest, CollidingBrickNamesAreRefusedWithinAndAcrossVolumes) {
  Volume v = Make("v", {B("p0", "/b/d-x"), B("p0", "/b/d/x")}, {});
  Status within = ValidateVolume(v);
  EXPECT_THAT(within, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(within.message(), HasSubstr("/b/d-x"));
  EXPECT_THAT(within.message(), HasSubstr("/b/d/x"));
  EXPECT_THAT(CheckBrickConflicts(v, {}), StatusIs(StatusCode::kAlreadyExists));

  // Across volumes on one peer: the brick log files would collide.
  Volume a = Make("a", {B("p0", "/b/d-x")}, {});
  Volume b = Make("b", {B("p0", "/b/d/x")}, {});
  Status across = CheckBrickConflicts(b, {&a});
  EXPECT_THAT(across, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(across.message(), HasSubstr("/b/d/x (volume b"));
  EXPECT_THAT(across.message(), HasSubstr("/b/d-x (volume a"));

  // On different peers nothing is shared.
  Volume c = Make("c", {B("p1", "/b/d/x")}, {});
  EXPECT_OK(CheckBrickConflicts(c, {&a}));
  EXPECT_OK(
      ValidateVolume(Make("r", {B("p0", "/b/d-x"), B("p1", "/b/d/x")}, {.replica_count = 2})));
  // Within a volume, two peers with the same host would share the volfile id.
  Volume same_host = Make("s", {B("p0", "/b/d-x"), B("p1", "/b/d/x")}, {.replica_count = 2});
  same_host.subvols[0].bricks[1].host = same_host.subvols[0].bricks[0].host;
  EXPECT_THAT(ValidateVolume(same_host), StatusIs(StatusCode::kAlreadyExists));

  // Paths in use and nesting across volumes (same peer).
  EXPECT_THAT(CheckBrickConflicts(Make("d", {B("p0", "/b/d-x")}, {}), {&a}).message(),
              HasSubstr("brick path in use by volume a"));
  EXPECT_THAT(CheckBrickConflicts(Make("e", {B("p0", "/b/d-x/in")}, {}), {&a}),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(CheckBrickConflicts(Make("f", {B("p0", "/b")}, {}), {&a}),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_OK(CheckBrickConflicts(Make("g", {B("p0", "/b/d-xy")}, {}), {&a}));
}

// --- requests ---

TEST(VolumeRequestTest, UnknownEnumValuesAndCountsAreRefused) {
  auto decode = [](const std::string& text) { return DecodeJson<VolCreateReq>(text); };
  const std::string ok =
      R"({"name":"v","subvols":[{"type":"replicate","replica":2,"bricks":[)"
      R"({"peerid":"h1","path":"/b/1"},{"peerid":"h2","path":"/b/2","type":"arbiter"}]}]})";
  EXPECT_OK(decode(ok));
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"name":"v","subvols":[{"type":"weird","bricks":[{"peerid":"h","path":"/b"}]}]})",
       "field \"type\": unknown value weird"},
      {R"({"name":"v","subvols":[{"type":"Replicate","bricks":[{"peerid":"h","path":"/b"}]}]})",
       "unknown value Replicate"},
      {R"({"name":"v","subvols":[{"bricks":[{"peerid":"h","path":"/b","type":"data"}]}]})",
       "unknown value data"},
      {R"({"name":"v","subvols":[{"type":"disperse","disperse-data":2147483647,)"
       R"("disperse-redundancy":1,"bricks":[{"peerid":"h","path":"/b"}]}]})",
       "field \"disperse-data\": out of range"},
      {R"({"name":"v","subvols":[{"replica":-1,"bricks":[{"peerid":"h","path":"/b"}]}]})",
       "field \"replica\": out of range"},
      {R"({"name":"v","subvols":[{"bricks":[{"peerid":"h`id`","path":"/b"}]}]})",
       "field \"peerid\""},
      {R"({"name":"v","subvols":[{"bricks":[{"peerid":"","path":"/b"}]}]})", "field \"peerid\""},
  };
  for (const auto& c : cases) {
    StatusOr<VolCreateReq> r = decode(c.body);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << c.body;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.body;
  }
}

// What GlusterD2's Go client sends for an explicit layout: every VolCreateReq field, the smart
// ones at their zero values ("size": 0 and "provisioner": "" always), and the brick
// provisioning fields empty.
TEST(VolumeRequestTest, GlusterD2ClientCreateRequestIsAccepted) {
  const std::string body = R"({"name":"gv0","transport":"tcp","subvols":[{"type":"replicate",)"
                           R"("replica":2,"arbiter":0,"bricks":[)"
                           R"({"peerid":"h1","path":"/b/1","type":"brick","vg-name":"",)"
                           R"("thinpool-name":"","logical-volume":"","size":0,"thinpool-size":0,)"
                           R"("metadata-size":0,"total-size":0,"root-device":"","device-path":"",)"
                           R"("mnt-opts":"","fs-type":"","brick-dir-suffix":""},)"
                           R"({"peerid":"h2","path":"/b/2"}]}],)"
                           R"("force":false,"options":{},"flags":{},"metadata":{},)"
                           R"("allow-advanced-options":false,"allow-experimental-options":false,)"
                           R"("allow-deprecated-options":false,"size":0,"distribute":0,)"
                           R"("replica":0,"arbiter":0,"disperse":0,"disperse-data":0,)"
                           R"("disperse-redundancy":0,"snapshot":false,)"
                           R"("snapshot-reserve-factor":0,"limit-peers":[],"limit-zones":null,)"
                           R"("exclude-peers":[],"exclude-zones":[],)"
                           R"("subvolume-zones-overlap":false,"subvolume-type":"",)"
                           R"("provisioner":"","max-brick-size":0,"average-file-size":0})";
  ASSERT_OK_AND_ASSIGN(VolCreateReq r, DecodeJson<VolCreateReq>(body));
  EXPECT_EQ(r.name, "gv0");
  ASSERT_EQ(r.subvols.size(), 1u);
  EXPECT_EQ(r.subvols[0].replica, 2);
  ASSERT_EQ(r.subvols[0].bricks.size(), 2u);
  EXPECT_EQ(r.subvols[0].bricks[0].path, "/b/1");
}

TEST(VolumeRequestTest, SmartCreateValuesAreRefusedNamingTheField) {
  struct Case {
    std::string extra;  // added to an otherwise valid request
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"("size":1073741824)", "size"},
      {R"("provisioner":"lvm")", "provisioner"},
      {R"("limit-zones":["z1"])", "limit-zones"},
      {R"("snapshot":true)", "snapshot"},
      {R"("snapshot-reserve-factor":1.5)", "snapshot-reserve-factor"},
  };
  for (const Case& c : cases) {
    std::string body =
        R"({"name":"v","subvols":[{"bricks":[{"peerid":"h","path":"/b"}]}],)" + c.extra + "}";
    StatusOr<VolCreateReq> r = DecodeJson<VolCreateReq>(body);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << body;
    EXPECT_THAT(r.status().message(), HasSubstr("field \"" + c.field + "\": smart volume create"))
        << body;
  }
  StatusOr<VolCreateReq> brick = DecodeJson<VolCreateReq>(
      R"({"name":"v","subvols":[{"bricks":[{"peerid":"h","path":"/b","vg-name":"vg0"}]}]})");
  EXPECT_THAT(brick, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(brick.status().message(), HasSubstr("field \"vg-name\": brick provisioning"));
  // Fields GlusterD2 never had are still unknown.
  EXPECT_THAT(DecodeJson<VolCreateReq>(
                  R"({"name":"v","subvols":[{"bricks":[{"peerid":"h","path":"/b"}]}],"sise":0})"),
              StatusIs(StatusCode::kInvalidArgument));
}

// GlusterD2's BrickHealInfo: every count an integer, "entries" included; the entries in
// "file-gfid" as {gfid, filename}.
TEST(VolumeRequestTest, HealInfoEntriesIsACountAndFilesAreGfidPairs) {
  BrickHealInfo b;
  b.host_id = "p1";
  b.name = "h1:/b/1";
  b.status = "Connected";
  b.total_entries = 1;
  b.entries_in_heal_pending = 1;
  b.entries = 1;
  b.files = {
      {"5e0c9303-507d-4f2c-b606-70235ed9fd7f", "<gfid:5e0c9303-507d-4f2c-b606-70235ed9fd7f>"}};
  nlohmann::json j = b;
  EXPECT_TRUE(j["entries"].is_number_integer()) << j.dump();
  for (const char* count : {"total-entries", "entries-in-heal-pending", "entries-in-split-brain",
                            "entries-possibly-healing"}) {
    EXPECT_TRUE(j[count].is_number_integer()) << count;
  }
  ASSERT_TRUE(j["file-gfid"].is_array());
  EXPECT_EQ(j["file-gfid"][0]["gfid"], "5e0c9303-507d-4f2c-b606-70235ed9fd7f");
  EXPECT_EQ(j["file-gfid"][0]["filename"], "<gfid:5e0c9303-507d-4f2c-b606-70235ed9fd7f>");
  BrickHealInfo back = j.get<BrickHealInfo>();
  EXPECT_EQ(nlohmann::json(back), j);
}

// --- planner ---

TEST(PlanTest, ReplicaSetsAreConsecutiveBricks) {
  ASSERT_OK_AND_ASSIGN(auto subvols, PlanSubvols("v", Bricks(6), {.replica_count = 3}));
  ASSERT_EQ(subvols.size(), 2u);
  EXPECT_EQ(subvols[0].name, "v-replicate-0");
  EXPECT_EQ(subvols[1].name, "v-replicate-1");
  EXPECT_EQ(subvols[1].bricks[0].path, "/b/3");
  EXPECT_EQ(subvols[1].replica_count, 3);
  EXPECT_EQ(VolumeTypeFor(subvols), VolumeType::kDistReplicate);
}

TEST(PlanTest, LastBrickOfEachSetIsTheArbiter) {
  for (int replica : {3, 2}) {  // "replica 2 arbiter 1" is glusterd's spelling of replica 3
    ASSERT_OK_AND_ASSIGN(
        auto subvols, PlanSubvols("v", Bricks(6), {.replica_count = replica, .arbiter_count = 1}));
    ASSERT_EQ(subvols.size(), 2u);
    for (const Subvol& s : subvols) {
      EXPECT_EQ(s.replica_count, 3);
      EXPECT_EQ(s.arbiter_count, 1);
      EXPECT_EQ(s.bricks[0].type, BrickType::kBrick);
      EXPECT_EQ(s.bricks[1].type, BrickType::kBrick);
      EXPECT_EQ(s.bricks[2].type, BrickType::kArbiter);
    }
  }
}

TEST(PlanTest, Disperse) {
  ASSERT_OK_AND_ASSIGN(auto a, PlanSubvols("v", Bricks(6), {.disperse_count = 6}));
  EXPECT_EQ(a[0].disperse_redundancy, 2);  // 4 + 2: data count a power of two
  ASSERT_OK_AND_ASSIGN(auto b, PlanSubvols("v", Bricks(3), {.disperse_count = 3}));
  EXPECT_EQ(b[0].disperse_redundancy, 1);
  ASSERT_OK_AND_ASSIGN(auto c, PlanSubvols("v", Bricks(7), {.disperse_count = 7}));
  EXPECT_EQ(c[0].disperse_redundancy, 3);  // 4 + 3
  ASSERT_OK_AND_ASSIGN(
      auto d, PlanSubvols("v", Bricks(12), {.disperse_data_count = 4, .disperse_redundancy = 2}));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].name, "v-disperse-1");
  EXPECT_EQ(d[1].disperse_count, 6);
  EXPECT_EQ(VolumeTypeFor(d), VolumeType::kDistDisperse);
}

TEST(PlanTest, PlainDistributeIsOneSubvol) {
  ASSERT_OK_AND_ASSIGN(auto s, PlanSubvols("v", Bricks(4), {}));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].type, SubvolType::kDistribute);
  EXPECT_EQ(s[0].bricks.size(), 4u);
  EXPECT_EQ(VolumeTypeFor(s), VolumeType::kDistribute);
  EXPECT_EQ(ClientXlatorName("v", 3), "v-client-3");
}

struct BadPlan {
  int bricks;
  LayoutRequest req;
  std::string message;
};

class PlanErrorTest : public ::testing::TestWithParam<BadPlan> {};

TEST_P(PlanErrorTest, IsRejected) {
  StatusOr<std::vector<Subvol>> s = PlanSubvols("v", Bricks(GetParam().bricks), GetParam().req);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlanErrorTest,
    ::testing::Values(
        BadPlan{4, {.replica_count = 3}, "brick count 4 is not a multiple of replica count 3"},
        BadPlan{0, {}, "no bricks given"},
        BadPlan{4, {.replica_count = 4, .arbiter_count = 1}, "arbiter needs replica count 3"},
        BadPlan{3, {.replica_count = 3, .arbiter_count = 2}, "must be 0 or 1"},
        BadPlan{7, {.disperse_count = 6}, "brick count 7 is not a multiple of disperse count 6"},
        BadPlan{4, {.disperse_count = 4, .disperse_redundancy = 2}, "need 2 * redundancy < count"},
        BadPlan{2, {.disperse_count = 2}, "too small"},
        BadPlan{6,
                {.disperse_count = 6, .disperse_data_count = 3, .disperse_redundancy = 2},
                "!= disperse count 6"},
        BadPlan{6, {.disperse_redundancy = 2}, "disperse needs"},
        BadPlan{6, {.replica_count = 3, .disperse_count = 6}, "cannot be combined"},
        BadPlan{3, {.replica_count = -1}, "negative"}));

// --- layout validation ---

TEST(ValidateVolumeTest, AcceptsPlannedLayouts) {
  EXPECT_OK(ValidateVolume(Make("d", Bricks(2), {})));
  EXPECT_OK(ValidateVolume(Make("r", Bricks(3), {.replica_count = 3})));
  EXPECT_OK(ValidateVolume(Make("a", Bricks(6), {.replica_count = 3, .arbiter_count = 1})));
  EXPECT_OK(ValidateVolume(Make("e", Bricks(12), {.disperse_count = 6})));
  // Same path on different peers is fine.
  EXPECT_OK(ValidateVolume(Make("x", {B("p1", "/b"), B("p2", "/b")}, {.replica_count = 2})));
}

struct BadLayout {
  std::string name;
  std::function<void(Volume&)> mutate;
  std::string message;
};

class ValidateVolumeErrorTest : public ::testing::TestWithParam<BadLayout> {};

TEST_P(ValidateVolumeErrorTest, IsRejected) {
  Volume v = Make("v", Bricks(6), {.replica_count = 3});
  GetParam().mutate(v);
  Status s = ValidateVolume(v);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateVolumeErrorTest,
    ::testing::Values(
        BadLayout{"BadName", [](Volume& v) { v.name = "bad name"; }, "invalid volume name"},
        BadLayout{"NoId", [](Volume& v) { v.id.clear(); }, "volume id is not a uuid"},
        BadLayout{"IdNotUuid", [](Volume& v) { v.id = "`id`"; }, "volume id is not a uuid"},
        BadLayout{"BacktickPath", [](Volume& v) { v.subvols[0].bricks[1].path = "/b/`id`"; },
                  "brick path has a character that is not allowed"},
        BadLayout{"BacktickHost", [](Volume& v) { v.subvols[0].bricks[1].host = "h`id`"; },
                  "invalid host"},
        BadLayout{"NoHost", [](Volume& v) { v.subvols[0].bricks[1].host.clear(); },
                  "host is empty"},
        BadLayout{"BacktickPeer", [](Volume& v) { v.subvols[0].bricks[1].peer_id = "p`id`"; },
                  "brick peer id has a character not allowed in a volfile"},
        BadLayout{"BacktickBrickId", [](Volume& v) { v.subvols[0].bricks[1].id = "`id`"; },
                  "brick id has a character not allowed"},
        BadLayout{"BacktickSubvol", [](Volume& v) { v.subvols[1].name = "s`id`"; },
                  "subvol name has a character not allowed"},
        BadLayout{"BacktickOptionValue",
                  [](Volume& v) { v.options["auth.allow"] = "`touch /tmp/x`"; },
                  "value of option auth.allow has a character not allowed"},
        BadLayout{"NewlineOptionKey", [](Volume& v) { v.options["a\nb"] = "1"; },
                  "option key has a character not allowed"},
        BadLayout{"BacktickPassword",
                  [](Volume& v) {
                    v.auth = {"u", "p`id`"};
                  },
                  "volume auth password has a character not allowed"},
        BadLayout{"KeywordName", [](Volume& v) { v.name = "type"; }, "volfile keyword"},
        BadLayout{"LongBrickName",
                  [](Volume& v) {
                    v.subvols[0].bricks[1].host = std::string(60, 'h');
                    v.subvols[0].bricks[1].path = "/" + std::string(200, 'p');
                  },
                  "brick host and path are too long together"},
        BadLayout{"Transport", [](Volume& v) { v.transport = "udp"; }, "unknown transport: udp"},
        BadLayout{"NoSubvols", [](Volume& v) { v.subvols.clear(); }, "volume has no subvols"},
        BadLayout{"TypeMismatch", [](Volume& v) { v.type = VolumeType::kReplicate; },
                  "volume type Replicate does not match its subvols, expected Distributed-Replicate"},
        BadLayout{"ReplicaCount", [](Volume& v) { v.subvols[0].replica_count = 2; },
                  "subvol v-replicate-0 has 3 bricks but replica count 2"},
        BadLayout{"UnevenSubvols", [](Volume& v) { v.subvols[1].bricks.pop_back(); },
                  "subvol v-replicate-1 has 2 bricks but subvol v-replicate-0 has 3"},
        BadLayout{"ArbiterWithoutCount",
                  [](Volume& v) { v.subvols[0].bricks[2].type = BrickType::kArbiter; },
                  "is an arbiter"},
        BadLayout{"ArbiterCountWithoutArbiter", [](Volume& v) { v.subvols[0].arbiter_count = 1; },
                  "must be the arbiter"},
        BadLayout{"MixedTypes",
                  [](Volume& v) {
                    v.subvols[1].type = SubvolType::kDisperse;
                    v.subvols[1].disperse_count = 3;
                    v.subvols[1].disperse_redundancy = 1;
                  },
                  "subvols of mixed types"},
        BadLayout{"DuplicateSubvol", [](Volume& v) { v.subvols[1].name = "v-replicate-0"; },
                  "duplicate subvol"},
        BadLayout{"DuplicateBrick",
                  [](Volume& v) { v.subvols[1].bricks[0] = v.subvols[0].bricks[0]; },
                  "duplicate brick: peer_id=p0 path=/b/0"},
        BadLayout{"NestedBrick",
                  [](Volume& v) {
                    v.subvols[1].bricks[0].peer_id = "p0";
                    v.subvols[1].bricks[0].path = "/b/0/inner";
                  },
                  "brick path /b/0/inner is inside brick path /b/0 on peer p0"},
        BadLayout{"BadPath", [](Volume& v) { v.subvols[0].bricks[1].path = "/b/../etc"; },
                  "not normalised"},
        BadLayout{"NoPeer", [](Volume& v) { v.subvols[0].bricks[1].peer_id.clear(); },
                  "brick has no peer id"},
        BadLayout{"EmptySubvol", [](Volume& v) { v.subvols[0].bricks.clear(); },
                  "subvol v-replicate-0 has no bricks"}),
    [](const ::testing::TestParamInfo<BadLayout>& info) { return info.param.name; });

TEST(ValidateVolumeTest, DisperseAndArbiterRules) {
  Volume d = Make("d", Bricks(6), {.disperse_count = 6, .disperse_redundancy = 2});
  d.subvols[0].disperse_redundancy = 3;
  EXPECT_THAT(ValidateVolume(d).message(), HasSubstr("need 1 <= redundancy"));
  Volume r = Make("r", Bricks(4), {.replica_count = 4});
  r.subvols[0].arbiter_count = 1;
  r.subvols[0].bricks[3].type = BrickType::kArbiter;
  EXPECT_THAT(ValidateVolume(r).message(), HasSubstr("arbiter needs replica count 3"));
  Volume dist = Make("x", Bricks(2), {});
  dist.subvols[0].replica_count = 2;
  EXPECT_THAT(ValidateVolume(dist).message(), HasSubstr("must not have replica"));
}

}  // namespace
}  // namespace gd2::api
