// Builds the volumes a real glusterd 10.3 created (golden/, see its README) and compares the
// generated graphs with glusterd's volfiles structurally: xlator order, names, types, subvolume
// order and the option sets (option order inside an xlator is not significant to glusterfs).
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "api/volume.h"
#include "support/status_matchers.h"
#include "unit/volgen/volume_option_table.h"
#include "volgen/graph.h"
#include "volgen/options.h"
#include "volgen/volgen.h"

namespace gd2::volgen {
namespace {

using api::Brick;
using api::LayoutRequest;
using api::Volume;
using ::gd2::testing::StatusIs;

constexpr char kNodeId[] = "eccbb8a2-4324-40f0-8921-6b93ecc6ce9b";  // glusterd.info of the host

// Deliberate differences: (golden case, xlator name, option key) whose value may differ or be
// present on one side only. Keep this list short and explain each entry in docs/volgen.md.
const std::set<std::tuple<std::string, std::string, std::string>> kAllowedDifferences = {
    // The hand-made -f brick volfiles had the marker timestamp moved out of /var/lib/glusterd.
    {"local-volfile-test", "fvol-marker", "timestamp-file"},
};

std::string ReadGolden(const std::string& relative) {
  std::ifstream in(std::string(GD2_VOLGEN_GOLDEN_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Returns "" if the graphs match, else one line per difference.
std::string DiffGraphs(const std::string& golden_case, const Graph& want, const Graph& got) {
  std::string diff;
  const size_t n = std::max(want.xlators.size(), got.xlators.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= want.xlators.size()) {
      diff += "extra xlator #" + std::to_string(i) + ": " + got.xlators[i].name + "\n";
      continue;
    }
    if (i >= got.xlators.size()) {
      diff += "missing xlator #" + std::to_string(i) + ": " + want.xlators[i].name + " (" +
              want.xlators[i].type + ")\n";
      continue;
    }
    const Xlator& w = want.xlators[i];
    const Xlator& g = got.xlators[i];
    const std::string where = "xlator #" + std::to_string(i) + " " + w.name;
    if (w.name != g.name) diff += where + ": name is " + g.name + "\n";
    if (w.type != g.type) diff += where + ": type " + w.type + " != " + g.type + "\n";
    if (w.subvolumes != g.subvolumes) {
      diff += where + ": subvolumes [" + Join(w.subvolumes) + "] != [" + Join(g.subvolumes) + "]\n";
    }
    std::set<std::string> keys;
    for (const auto& [k, v] : w.options) keys.insert(k);
    for (const auto& [k, v] : g.options) keys.insert(k);
    for (const std::string& k : keys) {
      if (kAllowedDifferences.count({golden_case, w.name, k}) != 0) continue;
      const std::string* wv = w.GetOption(k);
      const std::string* gv = g.GetOption(k);
      if (wv == nullptr) {
        diff += where + ": unexpected option " + k + " " + *gv + "\n";
      } else if (gv == nullptr) {
        diff += where + ": missing option " + k + " " + *wv + "\n";
      } else if (*wv != *gv) {
        diff += where + ": option " + k + " is " + *gv + ", want " + *wv + "\n";
      }
    }
  }
  return diff;
}

void ExpectMatchesGolden(const std::string& golden_case, const std::string& file,
                         const StatusOr<Graph>& got) {
  SCOPED_TRACE(golden_case + "/" + file);
  ASSERT_OK(got);
  std::string text = ReadGolden(golden_case + "/" + file);
  ASSERT_FALSE(text.empty()) << "golden file missing: " << golden_case << "/" << file;
  ASSERT_OK_AND_ASSIGN(Graph want, Parse(text));
  std::string diff = DiffGraphs(golden_case, want, *got);
  EXPECT_EQ(diff, "") << "generated volfile differs from glusterd's " << golden_case << "/" << file
                      << ":\n"
                      << diff << "--- generated:\n"
                      << Serialize(*got).value_or("(refused)");
  // Option order does not matter to glusterfs, but we also match glusterd's text exactly;
  // cases with allow-listed differences can't.
  bool has_allowed = false;
  for (const auto& entry : kAllowedDifferences) has_allowed |= std::get<0>(entry) == golden_case;
  if (!has_allowed && diff.empty()) {
    EXPECT_EQ(Serialize(*got).value_or("(refused)"), text)
        << "structurally equal but not byte-identical";
  }
  // The serialiser's output must parse back to the same graph.
  ASSERT_OK_AND_ASSIGN(std::string serialized, Serialize(*got));
  ASSERT_OK_AND_ASSIGN(Graph round_trip, Parse(serialized));
  EXPECT_EQ(DiffGraphs("", *got, round_trip), "");
}

struct GoldenVolume {
  std::string golden_case;
  std::string name;
  std::string id;
  std::string username;
  std::string password;
  std::vector<int> brick_dirs;  // /bricks/d<N>/<name>
  LayoutRequest layout;
};

Volume Build(const GoldenVolume& g) {
  std::vector<Brick> bricks;
  for (int d : g.brick_dirs) {
    Brick b;
    b.id = "brick-" + std::to_string(d);
    b.peer_id = kNodeId;
    b.host = "vm";
    b.path = "/bricks/d" + std::to_string(d) + "/" + g.name;
    bricks.push_back(b);
  }
  Volume v;
  v.id = g.id;
  v.name = g.name;
  StatusOr<std::vector<api::Subvol>> subvols = api::PlanSubvols(g.name, bricks, g.layout);
  GD2_CHECK(subvols.ok());
  v.subvols = *subvols;
  v.type = api::VolumeTypeFor(v.subvols);
  v.options = CreateTimeOptions(v.type);
  v.auth = {g.username, g.password};
  return v;
}

std::vector<const Brick*> AllBricks(const Volume& v) {
  std::vector<const Brick*> out;
  for (const auto& s : v.subvols) {
    for (const auto& b : s.bricks) out.push_back(&b);
  }
  return out;
}

class GoldenTest : public ::testing::TestWithParam<GoldenVolume> {};

TEST_P(GoldenTest, AllVolfilesMatchGlusterd) {
  const GoldenVolume& g = GetParam();
  Volume v = Build(g);
  ASSERT_OK(api::ValidateVolume(v));
  BrickContext bctx;
  bctx.workdir = "/var/lib/glusterd";
  for (const Brick* b : AllBricks(v)) {
    ExpectMatchesGolden(g.golden_case, BrickVolfileId(v.name, b->host, b->path) + ".vol",
                        BuildBrickGraph(Table(), v, *b, bctx));
  }
  ClientContext trusted;
  ExpectMatchesGolden(g.golden_case, "trusted-" + v.name + ".tcp-fuse.vol",
                      BuildClientGraph(Table(), v, trusted));
  ClientContext plain;
  plain.trusted = false;
  ExpectMatchesGolden(g.golden_case, v.name + ".tcp-fuse.vol", BuildClientGraph(Table(), v, plain));
  if (HasShdGraph(v)) {
    ExpectMatchesGolden(g.golden_case, v.name + "-shd.vol",
                        BuildShdGraph(Table(), v, ShdContext{}));
  } else {
    EXPECT_THAT(BuildShdGraph(Table(), v, ShdContext{}), StatusIs(StatusCode::kFailedPrecondition));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Glusterd103, GoldenTest,
    ::testing::Values(GoldenVolume{"distribute",
                                   "dist",
                                   "f642d0e6-fd70-482b-a722-e20e7801fbad",
                                   "fb4fa070-2ab7-47f6-a23a-d12af86213bd",
                                   "559d8e9a-f353-478b-8660-28f5f409af9d",
                                   {1, 2},
                                   LayoutRequest{}},
                      GoldenVolume{"replica3",
                                   "rep3",
                                   "288f34df-d3cd-485a-ac15-9c34d93585f6",
                                   "e0e4d618-9484-4fc1-830f-c4aee89b83a1",
                                   "a7cf86b7-4745-4485-a2cc-2b722607056b",
                                   {1, 2, 3},
                                   LayoutRequest{.replica_count = 3}},
                      GoldenVolume{"replica3-arbiter1",
                                   "arb",
                                   "9f5c38ec-6cff-42b9-89e7-c7ca131b689e",
                                   "d3e182db-3dda-41c4-b310-8025d2fcdf28",
                                   "ef2153dd-7c66-4b9a-b204-ba2cdeac1d58",
                                   {4, 5, 6},
                                   LayoutRequest{.replica_count = 3, .arbiter_count = 1}},
                      GoldenVolume{"distributed-replicate-2x3",
                                   "distrep",
                                   "397ab1c7-4375-471a-a8f6-a07bfbe04696",
                                   "39549968-b5eb-4ee7-ab8d-32d10ef2d832",
                                   "d57e5857-1f4d-4fd8-a66a-04c048f75224",
                                   {1, 2, 3, 4, 5, 6},
                                   LayoutRequest{.replica_count = 3}},
                      GoldenVolume{"disperse-4+2",
                                   "disp",
                                   "b99ad1b3-53bd-4156-9c58-57941ed9648f",
                                   "28b99efe-36b3-4433-b606-63e3c0b1ff2d",
                                   "ee0e60c6-9df3-4b0b-8638-ba044a06c4ff",
                                   {1, 2, 3, 4, 5, 6},
                                   LayoutRequest{.disperse_count = 6, .disperse_redundancy = 2}}),
    [](const ::testing::TestParamInfo<GoldenVolume>& info) { return info.param.name; });

GoldenVolume Rep3() {
  return GoldenVolume{"replica3",
                      "rep3",
                      "288f34df-d3cd-485a-ac15-9c34d93585f6",
                      "e0e4d618-9484-4fc1-830f-c4aee89b83a1",
                      "a7cf86b7-4745-4485-a2cc-2b722607056b",
                      {1, 2, 3},
                      LayoutRequest{.replica_count = 3}};
}

// glusterd's `volume set` steps on rep3: cache-size 64MB, quorum-type fixed, barrier enable,
// barrier disable. The options go through the same validation a REST request would.
TEST(GoldenVolumeSetTest, MatchesGlusterdAfterFourSteps) {
  Volume v = Build(Rep3());
  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"performance.cache-size", "64MB"},
                                                        {"cluster.quorum-type", "fixed"},
                                                        {"features.barrier", "enable"},
                                                        {"features.barrier", "disable"}}) {
    ASSERT_OK_AND_ASSIGN(NormalizedOption o, Table().Normalize(key, value));
    v.options[o.key] = o.value;
  }
  const std::string golden = "volume-set-rep3-after-step4";
  BrickContext bctx;
  bctx.workdir = "/var/lib/glusterd";
  for (const Brick* b : AllBricks(v)) {
    ExpectMatchesGolden(golden, BrickVolfileId(v.name, b->host, b->path) + ".vol",
                        BuildBrickGraph(Table(), v, *b, bctx));
  }
  ExpectMatchesGolden(golden, "trusted-rep3.tcp-fuse.vol",
                      BuildClientGraph(Table(), v, ClientContext{}));
  ClientContext plain;
  plain.trusted = false;
  ExpectMatchesGolden(golden, "rep3.tcp-fuse.vol", BuildClientGraph(Table(), v, plain));
  ExpectMatchesGolden(golden, "rep3-shd.vol", BuildShdGraph(Table(), v, ShdContext{}));
}

// Step 3 of the same run: only the barrier line of each brick volfile changed.
TEST(GoldenVolumeSetTest, BarrierEnableChangesOnlyTheBarrierOption) {
  Volume v = Build(Rep3());
  v.options["features.barrier"] = "enable";
  const Brick& b = v.subvols[0].bricks[0];
  BrickContext bctx;
  bctx.workdir = "/var/lib/glusterd";
  ASSERT_OK_AND_ASSIGN(Graph got, BuildBrickGraph(Table(), v, b, bctx));
  ASSERT_OK_AND_ASSIGN(Graph want, Parse(ReadGolden("replica3/rep3.vm.bricks-d1-rep3.vol")));
  want.Find("rep3-barrier")->SetOption("barrier", "enable");
  EXPECT_EQ(DiffGraphs("replica3", want, got), "");
}

// The stand-in test of gluster-wire.md §13: bricks started with -f on fixed ports and a client
// volfile with remote-port, host 127.0.0.1.
TEST(GoldenLocalVolfileTest, FixedPortsMatchHandMadeVolfiles) {
  GoldenVolume g{"local-volfile-test",
                 "fvol",
                 "ad81bea6-b60b-48cb-8bd7-976cd39b26da",
                 "b02847d7-4367-4e74-b3c9-93f491096506",
                 "cf7d4fa7-81f7-4c27-827b-14e8b05ff86e",
                 {},
                 LayoutRequest{}};
  Volume v;
  v.id = g.id;
  v.name = g.name;
  v.auth = {g.username, g.password};
  v.subvols.push_back(api::Subvol{.name = "fvol-distribute-0",
                                  .type = api::SubvolType::kDistribute,
                                  .bricks = {
                                      {"b1", kNodeId, "127.0.0.1", "/bricks/d5/fbrick1"},
                                      {"b2", kNodeId, "127.0.0.1", "/bricks/d6/fbrick2"},
                                  }});
  v.options = CreateTimeOptions(v.type);
  ASSERT_OK(api::ValidateVolume(v));
  BrickContext bctx;
  bctx.listen_port = 49990;
  ExpectMatchesGolden(g.golden_case, "fvol.brick1.vol",
                      BuildBrickGraph(Table(), v, v.subvols[0].bricks[0], bctx));
  bctx.listen_port = 49991;
  ExpectMatchesGolden(g.golden_case, "fvol.brick2.vol",
                      BuildBrickGraph(Table(), v, v.subvols[0].bricks[1], bctx));
  ClientContext cctx;
  cctx.remote_ports = {{"b1", 49990}, {"b2", 49991}};
  ExpectMatchesGolden(g.golden_case, "fvol.client.vol", BuildClientGraph(Table(), v, cctx));
}

// The comparison itself must notice each kind of difference.
TEST(GoldenDiffTest, ReportsEveryKindOfDifference) {
  ASSERT_OK_AND_ASSIGN(Graph want, Parse(ReadGolden("replica3/rep3.vm.bricks-d1-rep3.vol")));
  EXPECT_EQ(DiffGraphs("replica3", want, want), "");
  Graph got = want;
  got.Find("rep3-barrier")->SetOption("barrier", "enable");
  got.Find("rep3-posix")->options.pop_back();
  got.Find("rep3-locks")->SetOption("extra", "1");
  got.Find("rep3-quota")->subvolumes = {"rep3-barrier"};
  std::swap(got.xlators[3].type, got.xlators[4].type);
  got.xlators.pop_back();
  std::string diff = DiffGraphs("replica3", want, got);
  EXPECT_THAT(diff, ::testing::HasSubstr("rep3-barrier: option barrier is enable, want disable"));
  EXPECT_THAT(diff, ::testing::HasSubstr("rep3-posix: missing option directory"));
  EXPECT_THAT(diff, ::testing::HasSubstr("rep3-locks: unexpected option extra 1"));
  EXPECT_THAT(diff, ::testing::HasSubstr("type features/bitrot-stub != features/access-control"));
  EXPECT_THAT(diff, ::testing::HasSubstr("subvolumes [rep3-index] != [rep3-barrier]"));
  EXPECT_THAT(diff, ::testing::HasSubstr("missing xlator #17: rep3-server"));
}

}  // namespace
}  // namespace gd2::volgen
