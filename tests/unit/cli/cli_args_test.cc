// The pure request builders and text formatters of glustercli's volume commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/volume_args.h"
#include "support/status_matchers.h"

namespace gd2::cli {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPeerA[] = "6e3c6b5a-1111-4a2b-9c3d-000000000001";
constexpr char kPeerB[] = "6e3c6b5a-2222-4a2b-9c3d-000000000002";
constexpr char kPeerC[] = "6e3c6b5a-3333-4a2b-9c3d-000000000003";

// --- ParseBrickArg ----------------------------------------------------------------------------

struct BrickCase {
  const char* word;
  const char* host;
  const char* path;
};

TEST(ParseBrickArgTest, AcceptsHostsAndNormalisesPaths) {
  const BrickCase cases[] = {
      {"node1:/bricks/b1", "node1", "/bricks/b1"},
      {"node1.example.com:/b", "node1.example.com", "/b"},
      {"10.0.0.1:/data/brick", "10.0.0.1", "/data/brick"},
      {"127.0.0.1://a//b/", "127.0.0.1", "/a/b"},
      {"6e3c6b5a-1111-4a2b-9c3d-000000000001:/b1", kPeerA, "/b1"},
      {"[::1]:/b1", "::1", "/b1"},
      {"[fe80::1]:/x/y", "fe80::1", "/x/y"},
      {"node1:/b:with:colons", "node1", "/b:with:colons"},
  };
  for (const BrickCase& c : cases) {
    SCOPED_TRACE(c.word);
    ASSERT_OK_AND_ASSIGN(BrickArg b, ParseBrickArg(c.word));
    EXPECT_EQ(b.host, c.host);
    EXPECT_EQ(b.path, c.path);
  }
}

TEST(ParseBrickArgTest, RejectsMalformedBricks) {
  const char* bad[] = {"node1",         "node1:b1",   "/b1",    ":/b1",  "node1:/",    "node1://",
                       "node1:/a/../b", "node1:/./b", "[::1/b", "[]:/b", "node1:/a b", ""};
  for (const char* word : bad) {
    SCOPED_TRACE(word);
    EXPECT_THAT(ParseBrickArg(word), StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST(ParseBrickArgTest, ErrorNamesTheWord) {
  StatusOr<BrickArg> b = ParseBrickArg("node1:b1");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("node1:b1"));
}

// --- ParseOptionList --------------------------------------------------------------------------

TEST(ParseOptionListTest, SplitsListsAndPairs) {
  ASSERT_OK_AND_ASSIGN(auto opts,
                       ParseOptionList({"a.x:1,b.y:off", "c.z:host:/path:24007", "d:", "e:v,"}));
  std::map<std::string, std::string> want = {
      {"a.x", "1"}, {"b.y", "off"}, {"c.z", "host:/path:24007"}, {"d", ""}, {"e", "v"}};
  EXPECT_EQ(opts, want);
  ASSERT_OK_AND_ASSIGN(auto none, ParseOptionList({}));
  EXPECT_TRUE(none.empty());
}

TEST(ParseOptionListTest, RejectsBadItems) {
  const std::vector<std::vector<std::string>> bad = {
      {"novalue"}, {":1"}, {"a:1,b"}, {"a:1", "a:2"}, {"a:1,a:1"}};
  for (const auto& lists : bad) {
    SCOPED_TRACE(::testing::PrintToString(lists));
    EXPECT_THAT(ParseOptionList(lists), StatusIs(StatusCode::kInvalidArgument));
  }
}

// --- ApplyLegacyWords -------------------------------------------------------------------------

TEST(ApplyLegacyWordsTest, MovesWordsIntoFields) {
  VolumeCreateArgs a;
  a.name = "v";
  a.words = {"replica", "3", "h:/a", "arbiter", "1", "h:/b", "transport", "tcp", "h:/c", "force"};
  ASSERT_OK_AND_ASSIGN(VolumeCreateArgs out, ApplyLegacyWords(a));
  EXPECT_EQ(out.replica, 3);
  EXPECT_EQ(out.arbiter, 1);
  EXPECT_EQ(out.transport, "tcp");
  EXPECT_TRUE(out.force);
  EXPECT_EQ(out.words, (std::vector<std::string>{"h:/a", "h:/b", "h:/c"}));
}

TEST(ApplyLegacyWordsTest, DisperseWords) {
  VolumeCreateArgs a;
  a.words = {"disperse", "6", "disperse-data", "4", "redundancy", "2", "h:/a"};
  ASSERT_OK_AND_ASSIGN(VolumeCreateArgs out, ApplyLegacyWords(a));
  EXPECT_EQ(out.disperse, 6);
  EXPECT_EQ(out.disperse_data, 4);
  EXPECT_EQ(out.redundancy, 2);
  EXPECT_EQ(out.words, std::vector<std::string>{"h:/a"});
}

TEST(ApplyLegacyWordsTest, SameValueAsFlagIsFine) {
  VolumeCreateArgs a;
  a.replica = 3;
  a.force = true;
  a.words = {"replica", "3", "force", "h:/a"};
  ASSERT_OK_AND_ASSIGN(VolumeCreateArgs out, ApplyLegacyWords(a));
  EXPECT_EQ(out.replica, 3);
  EXPECT_TRUE(out.force);
}

TEST(ApplyLegacyWordsTest, RejectsBadValuesAndConflicts) {
  struct Case {
    std::vector<std::string> words;
    int replica_flag;
    const char* message;
  };
  const Case cases[] = {
      {{"h:/a", "replica"}, 0, "replica needs a positive number"},
      {{"replica", "x", "h:/a"}, 0, "replica needs a positive number, got: x"},
      {{"replica", "0", "h:/a"}, 0, "got: 0"},
      {{"replica", "-2", "h:/a"}, 0, "got: -2"},
      {{"replica", "3x", "h:/a"}, 0, "got: 3x"},
      {{"replica", "3", "h:/a"}, 2, "replica given twice with different values: 2 and 3"},
      {{"replica", "2", "replica", "3"}, 0, "given twice"},
      {{"transport"}, 0, "transport needs a value"},
      {{"transport", "udp"}, 0, "transport must be tcp or rdma, got: udp"},
      {{"disperse-data", "h:/a"}, 0, "disperse-data needs a positive number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    VolumeCreateArgs a;
    a.replica = c.replica_flag;
    a.words = c.words;
    StatusOr<VolumeCreateArgs> out = ApplyLegacyWords(a);
    ASSERT_THAT(out, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(out.status().message(), HasSubstr(c.message));
  }
}

// --- BuildVolCreateReq ------------------------------------------------------------------------

std::vector<std::string> Bricks(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i)
    out.push_back("node" + std::to_string(i) + ":/b" + std::to_string(i));
  return out;
}

VolumeCreateArgs Args(std::vector<std::string> words) {
  VolumeCreateArgs a;
  a.name = "gv0";
  a.words = std::move(words);
  return a;
}

std::vector<std::string> Words(std::vector<std::string> legacy, int bricks) {
  for (std::string& b : Bricks(bricks)) legacy.push_back(std::move(b));
  return legacy;
}

struct LayoutCase {
  const char* label;
  std::vector<std::string> words;
  size_t subvols;
  const char* type;
  size_t bricks_per_subvol;
  int replica;
  int arbiter;
  int disperse_count;
  int disperse_data;
  int redundancy;
};

TEST(BuildVolCreateReqTest, GroupsBricksIntoSubvols) {
  const LayoutCase cases[] = {
      {"distribute", Words({}, 4), 1, "distribute", 4, 0, 0, 0, 0, 0},
      {"single brick", Words({}, 1), 1, "distribute", 1, 0, 0, 0, 0, 0},
      {"replica 1 is distribute", Words({"replica", "1"}, 2), 1, "distribute", 2, 0, 0, 0, 0, 0},
      {"replica 3", Words({"replica", "3"}, 3), 1, "replicate", 3, 3, 0, 0, 0, 0},
      {"replica 2 x 3", Words({"replica", "3"}, 6), 2, "replicate", 3, 3, 0, 0, 0, 0},
      {"replica 2", Words({"replica", "2"}, 4), 2, "replicate", 2, 2, 0, 0, 0, 0},
      {"arbiter", Words({"replica", "3", "arbiter", "1"}, 6), 2, "replicate", 3, 3, 1, 0, 0, 0},
      {"replica 2 arbiter 1", Words({"replica", "2", "arbiter", "1"}, 3), 1, "replicate", 3, 3, 1,
       0, 0, 0},
      {"disperse 6", Words({"disperse", "6"}, 6), 1, "disperse", 6, 0, 0, 6, 4, 2},
      {"disperse 3", Words({"disperse", "3"}, 6), 2, "disperse", 3, 0, 0, 3, 2, 1},
      {"data + redundancy", Words({"disperse-data", "4", "redundancy", "2"}, 12), 2, "disperse", 6,
       0, 0, 6, 4, 2},
      {"disperse + redundancy", Words({"disperse", "6", "redundancy", "1"}, 6), 1, "disperse", 6, 0,
       0, 6, 5, 1},
  };
  for (const LayoutCase& c : cases) {
    SCOPED_TRACE(c.label);
    ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(Args(c.words)));
    EXPECT_EQ(req.name, "gv0");
    ASSERT_EQ(req.subvols.size(), c.subvols);
    int brick_no = 0;
    for (const api::SubvolReq& s : req.subvols) {
      EXPECT_EQ(s.type, c.type);
      EXPECT_EQ(s.replica, c.replica);
      EXPECT_EQ(s.arbiter, c.arbiter);
      EXPECT_EQ(s.disperse_count, c.disperse_count);
      EXPECT_EQ(s.disperse_data, c.disperse_data);
      EXPECT_EQ(s.disperse_redundancy, c.redundancy);
      ASSERT_EQ(s.bricks.size(), c.bricks_per_subvol);
      for (size_t i = 0; i < s.bricks.size(); ++i) {
        // Bricks keep their command-line order; the host stays until ResolveBrickPeers.
        ++brick_no;
        EXPECT_EQ(s.bricks[i].peer_id, "node" + std::to_string(brick_no));
        EXPECT_EQ(s.bricks[i].path, "/b" + std::to_string(brick_no));
        bool arbiter = c.arbiter == 1 && i + 1 == s.bricks.size();
        EXPECT_EQ(s.bricks[i].type, arbiter ? "arbiter" : "");
      }
    }
  }
}

TEST(BuildVolCreateReqTest, FlagsWorkLikeLegacyWords) {
  VolumeCreateArgs a = Args(Bricks(6));
  a.replica = 3;
  a.arbiter = 1;
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq flags, BuildVolCreateReq(a));
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq words,
                       BuildVolCreateReq(Args(Words({"replica", "3", "arbiter", "1"}, 6))));
  EXPECT_EQ(nlohmann::json(flags), nlohmann::json(words));
}

TEST(BuildVolCreateReqTest, CountErrorsAreClear) {
  struct Case {
    const char* label;
    VolumeCreateArgs args;
    const char* message;
  };
  VolumeCreateArgs negative = Args(Bricks(2));
  negative.replica = -1;
  VolumeCreateArgs no_name = Args(Bricks(2));
  no_name.name = "";
  VolumeCreateArgs bad_name = Args(Bricks(2));
  bad_name.name = "gv/0";
  VolumeCreateArgs bad_transport = Args(Bricks(2));
  bad_transport.transport = "udp";
  VolumeCreateArgs bad_options = Args(Bricks(2));
  bad_options.options = {"novalue"};
  const Case cases[] = {
      {"replica", Args(Words({"replica", "3"}, 4)),
       "brick count 4 is not a multiple of replica count 3"},
      {"arbiter set", Args(Words({"replica", "2", "arbiter", "1"}, 4)),
       "brick count 4 is not a multiple of replica count 3"},
      {"disperse", Args(Words({"disperse", "6"}, 5)),
       "brick count 5 is not a multiple of disperse count 6"},
      {"redundancy", Args(Words({"disperse", "4", "redundancy", "2"}, 4)), "redundancy 2"},
      {"arbiter 2", Args(Words({"replica", "3", "arbiter", "2"}, 3)), "arbiter count 2"},
      {"arbiter alone", Args(Words({"arbiter", "1"}, 3)), "arbiter needs a replica count"},
      {"arbiter replica 4", Args(Words({"replica", "4", "arbiter", "1"}, 4)), "arbiter"},
      {"replica and disperse", Args(Words({"replica", "3", "disperse", "3"}, 3)),
       "replica and disperse"},
      {"no bricks", Args({"replica", "3"}), "no bricks given"},
      {"duplicate", Args({"node1:/b1", "node1:/b1/"}), "brick given twice: node1:/b1"},
      {"bad brick", Args({"node1:/b1", "node2"}), "node2"},
      {"negative", negative, "replica must not be negative"},
      {"no name", no_name, ""},
      {"bad name", bad_name, ""},
      {"transport", bad_transport, "transport must be tcp or rdma"},
      {"options", bad_options, "option must be key:value, got: novalue"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    StatusOr<api::VolCreateReq> req = BuildVolCreateReq(c.args);
    ASSERT_THAT(req, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(req.status().message(), HasSubstr(c.message));
  }
}

TEST(BuildVolCreateReqTest, CarriesFlagsOptionsAndTransport) {
  VolumeCreateArgs a = Args(Words({"transport", "rdma", "force"}, 2));
  a.options = {"performance.quick-read:off,cluster.eager-lock:on"};
  a.allow_advanced_options = true;
  a.allow_experimental_options = true;
  a.allow_root_dir = true;
  a.create_brick_dir = true;
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(a));
  EXPECT_EQ(req.transport, "rdma");
  EXPECT_TRUE(req.force);
  EXPECT_TRUE(req.allow_advanced_options);
  EXPECT_TRUE(req.allow_experimental_options);
  EXPECT_FALSE(req.allow_deprecated_options);
  std::map<std::string, bool> flags = {{"allow-root-dir", true}, {"create-brick-dir", true}};
  EXPECT_EQ(req.flags, flags);
  std::map<std::string, std::string> options = {{"performance.quick-read", "off"},
                                                {"cluster.eager-lock", "on"}};
  EXPECT_EQ(req.options, options);
}

TEST(BuildVolCreateReqTest, JsonIsGlusterD2s) {
  VolumeCreateArgs a = Args(Words({"replica", "2", "arbiter", "1"}, 3));
  a.reuse_bricks = true;
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(a));
  nlohmann::json want = nlohmann::json::parse(R"({
    "name": "gv0", "transport": "tcp", "flags": {"reuse-bricks": true},
    "subvols": [{"type": "replicate", "replica": 3, "arbiter": 1, "bricks": [
      {"peerid": "node1", "path": "/b1"},
      {"peerid": "node2", "path": "/b2"},
      {"peerid": "node3", "path": "/b3", "type": "arbiter"}]}]})");
  EXPECT_EQ(nlohmann::json(req), want);
}

TEST(BuildVolCreateReqTest, DefaultTransportIsTcp) {
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(Args(Bricks(1))));
  EXPECT_EQ(req.transport, "tcp");
  EXPECT_FALSE(req.force);
  EXPECT_TRUE(req.flags.empty());
  EXPECT_TRUE(req.options.empty());
}

// --- ResolvePeerId / ResolveBrickPeers ----------------------------------------------------------

std::vector<api::Peer> Peers() {
  api::Peer a;
  a.id = kPeerA;
  a.name = "node1";
  a.peer_addresses = {"10.0.0.1:24008"};
  a.client_addresses = {"10.0.0.1:24007", "node1.example.com:24007"};
  api::Peer b;
  b.id = kPeerB;
  b.name = "node2";
  b.peer_addresses = {"[fd00::2]:24008"};
  b.client_addresses = {"192.168.1.2"};
  api::Peer c;
  c.id = kPeerC;
  c.name = "node3";
  c.peer_addresses = {"10.0.0.3:24008"};
  c.client_addresses = {"10.0.0.3:24007", "shared:24007"};
  api::Peer d;
  d.id = "6e3c6b5a-4444-4a2b-9c3d-000000000004";
  d.name = "node4";
  d.client_addresses = {"shared:24007"};
  return {a, b, c, d};
}

TEST(ResolvePeerIdTest, MatchesIdNameAndAddresses) {
  struct Case {
    const char* host;
    const char* id;
  };
  const Case cases[] = {
      {kPeerA, kPeerA},
      {"6E3C6B5A-1111-4A2B-9C3D-000000000001", kPeerA},
      {"node1", kPeerA},
      {"10.0.0.1", kPeerA},
      {"node1.example.com", kPeerA},
      {"10.0.0.1:24007", kPeerA},
      {"fd00::2", kPeerB},
      {"192.168.1.2", kPeerB},
      {"node3", kPeerC},
      {"10.0.0.3", kPeerC},
  };
  const std::vector<api::Peer> peers = Peers();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.host);
    ASSERT_OK_AND_ASSIGN(std::string id, ResolvePeerId(c.host, peers));
    EXPECT_EQ(id, c.id);
  }
}

TEST(ResolvePeerIdTest, UnknownHostIsNamed) {
  StatusOr<std::string> id = ResolvePeerId("node9", Peers());
  ASSERT_THAT(id, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(id.status().message(), HasSubstr("host=node9"));
  EXPECT_THAT(ResolvePeerId("10.0.0", Peers()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ResolvePeerId("node1", {}), StatusIs(StatusCode::kNotFound));
}

TEST(ResolvePeerIdTest, LocalhostIsLeftToTheDaemon) {
  ASSERT_OK_AND_ASSIGN(std::string id, ResolvePeerId("localhost", Peers()));
  EXPECT_EQ(id, "localhost");
  std::vector<api::Peer> peers = Peers();
  peers[1].name = "localhost";
  ASSERT_OK_AND_ASSIGN(id, ResolvePeerId("localhost", peers));
  EXPECT_EQ(id, kPeerB);
}

TEST(ResolvePeerIdTest, AmbiguousHostIsAnError) {
  StatusOr<std::string> id = ResolvePeerId("shared", Peers());
  ASSERT_THAT(id, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(id.status().message(), HasSubstr("several peers"));
}

TEST(ResolveBrickPeersTest, ReplacesHostsWithPeerIds) {
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req,
                       BuildVolCreateReq(Args({"replica", "3", "node1:/b", "10.0.0.3:/b",
                                               std::string(kPeerB) + ":/b"})));
  ASSERT_OK(ResolveBrickPeers(req, Peers()));
  ASSERT_EQ(req.subvols.size(), 1u);
  ASSERT_EQ(req.subvols[0].bricks.size(), 3u);
  EXPECT_EQ(req.subvols[0].bricks[0].peer_id, kPeerA);
  EXPECT_EQ(req.subvols[0].bricks[1].peer_id, kPeerC);
  EXPECT_EQ(req.subvols[0].bricks[2].peer_id, kPeerB);
}

TEST(ResolveBrickPeersTest, TwoSpellingsOfOneBrickAreDuplicates) {
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(Args({"node1:/b", "10.0.0.1:/b"})));
  EXPECT_THAT(ResolveBrickPeers(req, Peers()), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ResolveBrickPeersTest, UnknownHostFails) {
  ASSERT_OK_AND_ASSIGN(api::VolCreateReq req, BuildVolCreateReq(Args({"node1:/b", "ghost:/b"})));
  Status s = ResolveBrickPeers(req, Peers());
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s.message(), HasSubstr("ghost"));
}

// --- set / reset / get ------------------------------------------------------------------------

TEST(BuildVolOptionReqTest, PairsBecomeOptions) {
  ASSERT_OK_AND_ASSIGN(api::VolOptionReq req,
                       BuildVolOptionReq({"a.x", "on", "b.y", "host:/p"}, true, false, true));
  std::map<std::string, std::string> want = {{"a.x", "on"}, {"b.y", "host:/p"}};
  EXPECT_EQ(req.options, want);
  EXPECT_TRUE(req.allow_advanced_options);
  EXPECT_FALSE(req.allow_experimental_options);
  EXPECT_TRUE(req.allow_deprecated_options);
}

TEST(BuildVolOptionReqTest, RejectsBadWords) {
  const std::vector<std::vector<std::string>> bad = {
      {}, {"a.x"}, {"a.x", "on", "b.y"}, {"", "on"}, {"a.x", "on", "a.x", "off"}};
  for (const auto& words : bad) {
    SCOPED_TRACE(::testing::PrintToString(words));
    EXPECT_THAT(BuildVolOptionReq(words, false, false, false),
                StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST(BuildVolOptionResetReqTest, OptionsOrAll) {
  ASSERT_OK_AND_ASSIGN(api::VolOptionResetReq some,
                       BuildVolOptionResetReq({"a.x", "b.y", "a.x"}, true, false));
  EXPECT_EQ(some.options, (std::vector<std::string>{"a.x", "b.y"}));
  EXPECT_TRUE(some.force);
  EXPECT_FALSE(some.all);
  ASSERT_OK_AND_ASSIGN(api::VolOptionResetReq all, BuildVolOptionResetReq({}, false, true));
  EXPECT_TRUE(all.options.empty());
  EXPECT_TRUE(all.all);
  EXPECT_EQ(nlohmann::json(all), nlohmann::json::parse(R"({"options": [], "all": true})"));

  EXPECT_THAT(BuildVolOptionResetReq({}, false, false), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildVolOptionResetReq({"a.x"}, false, true), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildVolOptionResetReq({""}, false, false), StatusIs(StatusCode::kInvalidArgument));
}

TEST(FilterOptionsTest, ByModifiedAndLevel) {
  std::vector<api::OptionInfo> opts(3);
  opts[0].name = "basic.modified";
  opts[0].modified = true;
  opts[0].option_level = "Basic";
  opts[1].name = "advanced.default";
  opts[1].option_level = "Advanced";
  opts[2].name = "experimental.modified";
  opts[2].modified = true;
  opts[2].option_level = "Experimental";
  auto names = [](const std::vector<api::OptionInfo>& v) {
    std::vector<std::string> out;
    for (const auto& o : v) out.push_back(o.name);
    return out;
  };
  EXPECT_EQ(names(FilterOptions(opts, false, false, false)).size(), 3u);
  EXPECT_EQ(names(FilterOptions(opts, true, false, false)),
            (std::vector<std::string>{"basic.modified", "experimental.modified"}));
  EXPECT_EQ(names(FilterOptions(opts, false, true, false)),
            std::vector<std::string>{"basic.modified"});
  EXPECT_EQ(names(FilterOptions(opts, false, false, true)),
            std::vector<std::string>{"advanced.default"});
  EXPECT_EQ(names(FilterOptions(opts, false, true, true)),
            (std::vector<std::string>{"basic.modified", "advanced.default"}));
  EXPECT_TRUE(FilterOptions(opts, true, false, true).empty());
}

// --- text output ------------------------------------------------------------------------------

api::Volume ReplicaVolume(int sets, int replica, int arbiter) {
  api::Volume v;
  v.id = "1c4a3b9e-0000-4000-8000-00000000000a";
  v.name = "gv0";
  v.type = sets > 1 ? api::VolumeType::kDistReplicate : api::VolumeType::kReplicate;
  v.state = api::VolumeState::kStarted;
  int n = 0;
  for (int s = 0; s < sets; ++s) {
    api::Subvol sv;
    sv.name = "gv0-replicate-" + std::to_string(s);
    sv.type = api::SubvolType::kReplicate;
    sv.replica_count = replica;
    sv.arbiter_count = arbiter;
    for (int b = 0; b < replica; ++b) {
      api::Brick brick;
      brick.peer_id = kPeerA;
      brick.host = "node1";
      brick.path = "/b" + std::to_string(++n);
      brick.type =
          (arbiter == 1 && b == replica - 1) ? api::BrickType::kArbiter : api::BrickType::kBrick;
      sv.bricks.push_back(brick);
    }
    v.subvols.push_back(sv);
  }
  return v;
}

TEST(BrickCountTextTest, LikeGlusterd) {
  EXPECT_EQ(BrickCountText(ReplicaVolume(2, 3, 0)), "2 x 3 = 6");
  EXPECT_EQ(BrickCountText(ReplicaVolume(1, 3, 1)), "1 x (2 + 1) = 3");

  api::Volume dist;
  api::Subvol d;
  d.type = api::SubvolType::kDistribute;
  d.bricks.resize(4);
  dist.subvols.push_back(d);
  EXPECT_EQ(BrickCountText(dist), "4");

  api::Volume ec;
  api::Subvol e;
  e.type = api::SubvolType::kDisperse;
  e.disperse_count = 6;
  e.disperse_redundancy = 2;
  e.bricks.resize(6);
  ec.subvols = {e, e};
  EXPECT_EQ(BrickCountText(ec), "2 x (4 + 2) = 12");

  EXPECT_EQ(BrickCountText(api::Volume{}), "0");
}

TEST(FormatVolumeInfoTest, ShowsLayoutBricksAndOptions) {
  api::Volume v = ReplicaVolume(1, 3, 1);
  v.options = {{"performance.quick-read", "off"}};
  v.subvols[0].bricks[1].host = "";  // falls back to the peer id
  EXPECT_EQ(FormatVolumeInfo(v),
            "Volume Name: gv0\n"
            "Type: Replicate\n"
            "Volume ID: 1c4a3b9e-0000-4000-8000-00000000000a\n"
            "State: Started\n"
            "Transport-type: tcp\n"
            "Number of Bricks: 1 x (2 + 1) = 3\n"
            "Bricks:\n"
            "Brick1: node1:/b1\n"
            "Brick2: 6e3c6b5a-1111-4a2b-9c3d-000000000001:/b2\n"
            "Brick3: node1:/b3 (arbiter)\n"
            "Options Reconfigured:\n"
            "performance.quick-read: off\n");
}

TEST(FormatVolumeInfoTest, NoOptionsSectionWhenNoneSet) {
  api::Volume v = ReplicaVolume(2, 2, 0);
  v.state = api::VolumeState::kCreated;
  std::string text = FormatVolumeInfo(v);
  EXPECT_THAT(text, HasSubstr("Type: Distributed-Replicate\n"));
  EXPECT_THAT(text, HasSubstr("State: Created\n"));
  EXPECT_THAT(text, HasSubstr("Number of Bricks: 2 x 2 = 4\n"));
  EXPECT_THAT(text, HasSubstr("Brick4: node1:/b4\n"));
  EXPECT_EQ(text.find("Options Reconfigured"), std::string::npos);
}

TEST(StateTextTest, AllStates) {
  EXPECT_EQ(StateText(api::VolumeState::kStarted), "Started");
  EXPECT_EQ(StateText(api::VolumeState::kStopped), "Stopped");
  EXPECT_EQ(StateText(api::VolumeState::kCreated), "Created");
}

TEST(BrickStatusRowsTest, OnlineAndOfflineBricks) {
  api::BrickStatus up;
  up.info = {{"id", "b-1"}, {"host", "node1"}, {"peer-id", kPeerA}, {"path", "/b1"}};
  up.online = true;
  up.port = 49152;
  up.pid = 4242;
  api::BrickStatus down;
  down.info = {{"id", "b-2"}, {"peer-id", kPeerB}, {"path", "/b2"}};
  std::vector<std::vector<std::string>> want = {
      {"b-1", "node1", "/b1", "yes", "49152", "4242"},
      {"b-2", kPeerB, "/b2", "no", "N/A", "N/A"},
  };
  EXPECT_EQ(BrickStatusRows({up, down}), want);
}

TEST(FormatHealInfoTest, PerBrickBlocks) {
  api::BrickHealInfo a;
  a.name = "node1:/b1";
  a.status = "Connected";
  a.total_entries = 2;
  a.entries = 2;
  a.files = {{"5e0c9303-507d-4f2c-b606-70235ed9fd7f", "/dir/file1"}, {"1234", "<gfid:1234>"}};
  api::BrickHealInfo b;
  b.name = "node2:/b2";
  b.status = "Transport endpoint is not connected";
  EXPECT_EQ(FormatHealInfo({a, b}),
            "Brick node1:/b1\n/dir/file1\n<gfid:1234>\nStatus: Connected\nNumber of entries: 2\n\n"
            "Brick node2:/b2\nStatus: Transport endpoint is not connected\n"
            "Number of entries: 0\n\n");
  EXPECT_EQ(FormatHealInfo({}), "");
}

}  // namespace
}  // namespace gd2::cli
