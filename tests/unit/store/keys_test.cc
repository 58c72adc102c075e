#include "store/keys.h"

#include <gtest/gtest.h>

#include <string>

#include "support/status_matchers.h"

namespace gd2::store {
namespace {

using ::gd2::testing::StatusIs;

TEST(KeySpaceTest, Layout) {
  KeySpace ks("c1");
  EXPECT_EQ(ks.cluster_id(), "c1");
  EXPECT_EQ(ks.Prefix(), "gluster-c1/");
  EXPECT_EQ(ks.PeersPrefix(), "gluster-c1/peers/");
  EXPECT_EQ(ks.AlivePrefix(), "gluster-c1/alive/");
  EXPECT_EQ(KeyKind(ks, "volumes").Prefix(), "gluster-c1/volumes/");
  EXPECT_EQ(KeyKind(ks, "snapshots").Prefix(), "gluster-c1/snapshots/");
  EXPECT_EQ(KeyKind(ks, "devices").Prefix(), "gluster-c1/devices/");
  EXPECT_EQ(ks.LocksPrefix(), "gluster-c1/locks/");
  EXPECT_EQ(ks.TxnPrefix(), "gluster-c1/txn/");
  EXPECT_EQ(ks.ClusterOptions(), "gluster-c1/cluster/options");
  EXPECT_EQ(*ks.Peer("p1"), "gluster-c1/peers/p1");
  EXPECT_EQ(*ks.Alive("p1"), "gluster-c1/alive/p1");
  EXPECT_EQ(*KeyKind(ks, "volumes").Key({{"volume", "gv0"}}), "gluster-c1/volumes/gv0");
  EXPECT_EQ(*KeyKind(ks, "snapshots").Key({{"snapshot", "s1"}}), "gluster-c1/snapshots/s1");
  EXPECT_EQ(*KeyKind(ks, "devices").Key({{"peer", "p1"}}), "gluster-c1/devices/p1");
  EXPECT_EQ(*ks.Txn("t1"), "gluster-c1/txn/t1");
  EXPECT_EQ(*ks.Lock("gv0"), "gluster-c1/locks/gv0/");
}

TEST(KeySpaceTest, EveryKeyIsUnderItsPrefix) {
  KeySpace ks("c1");
  EXPECT_TRUE(ks.Peer("x")->starts_with(ks.PeersPrefix()));
  EXPECT_TRUE(
      KeyKind(ks, "volumes").Key({{"volume", "x"}})->starts_with(KeyKind(ks, "volumes").Prefix()));
  EXPECT_TRUE(ks.Lock("x")->starts_with(ks.LocksPrefix()));
  EXPECT_TRUE(ks.ClusterOptions().starts_with(ks.Prefix()));
  // Two clusters never share keys, even when one id is a prefix of the other.
  EXPECT_FALSE(KeySpace("c10").Prefix().starts_with(KeySpace("c1").Prefix()));
}

TEST(KeySpaceTest, RejectsBadNames) {
  KeySpace ks("c1");
  struct Case {
    std::string name;
    bool ok;
  };
  const Case cases[] = {
      {"gv0", true},
      {"a.b-c_d", true},
      {"", false},
      {"a/b", false},
      {"/", false},
      {".", false},
      {"..", false},
      {std::string(1, '\0'), false},
      {std::string(255, 'x'), true},
      {std::string(256, 'x'), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("name=" + c.name);
    EXPECT_EQ(KeyKind(ks, "volumes").Key({{"volume", c.name}}).ok(), c.ok);
    EXPECT_EQ(ks.Peer(c.name).ok(), c.ok);
    EXPECT_EQ(ks.Lock(c.name).ok(), c.ok);
    EXPECT_EQ(KeySpace::Create(c.name).ok(), c.ok);
  }
  EXPECT_THAT(KeyKind(ks, "volumes").Key({{"volume", "a/b"}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(KeyKind(ks, "volumes").Key({{"volume", "a/b"}}).status().message().find("volume"),
            std::string::npos);
}

TEST(KeyKindTest, NestedKeysCheckEverySegment) {
  KeyKind pending(KeySpace("c1"), "pending");
  EXPECT_EQ(*pending.Dir({{"peer", "p1"}}), "gluster-c1/pending/p1/");
  EXPECT_EQ(*pending.Key({{"peer", "p1"}, {"pending work", "w1"}}), "gluster-c1/pending/p1/w1");
  StatusOr<std::string> bad = pending.Key({{"peer", "p1"}, {"pending work", "a/b"}});
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(bad.status().message().find("pending work"), std::string::npos);
  EXPECT_THAT(pending.Key({}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(EscapeKeySegment("/b/50%"), "%2Fb%2F50%25");
}

TEST(KeyKindTest, CoreKindsAreKnown) {
  for (const char* kind : {"peers", "alive", "peeraddr", "locks", "txn", "quarantine", "cluster"}) {
    EXPECT_TRUE(IsCoreKeyKind(kind)) << kind;
  }
  EXPECT_FALSE(IsCoreKeyKind("volumes"));
  EXPECT_FALSE(IsCoreKeyKind("snapshots"));
}

TEST(KeySpaceTest, CreateValidates) {
  ASSERT_OK_AND_ASSIGN(KeySpace ks, KeySpace::Create("abc"));
  EXPECT_EQ(ks.Prefix(), "gluster-abc/");
  EXPECT_THAT(KeySpace::Create("a/b"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gd2::store
