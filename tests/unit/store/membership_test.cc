#include "store/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/metrics.h"
#include "daemon/embedded_etcd.h"
#include "store/store.h"
#include "support/etcd_process.h"
#include "support/ports.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using ::gd2::daemon::EmbeddedEtcd;
using ::gd2::daemon::EmbeddedEtcdOptions;
using ::gd2::daemon::EtcdCertHosts;
using ::gd2::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

Member MakeMember(uint64_t id, std::string name, std::vector<std::string> peer_urls,
                  bool learner = false) {
  Member m;
  m.id = id;
  m.name = std::move(name);
  m.peer_urls = std::move(peer_urls);
  m.is_learner = learner;
  return m;
}

TEST(InitialClusterForTest, BuildsFromMemberList) {
  struct Case {
    const char* what;
    std::vector<Member> members;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"new member alone is named",
       {MakeMember(0x10, "", {"http://b:2380"}, true)},
       "nb=http://b:2380"},
      {"existing members keep their names, in list order",
       {MakeMember(1, "a", {"http://a:2380"}), MakeMember(0x10, "", {"http://b:2380"}, true)},
       "a=http://a:2380,nb=http://b:2380"},
      {"several peer urls repeat the name",
       {MakeMember(1, "a", {"http://a:2380", "http://a2:2380"}),
        MakeMember(0x10, "", {"http://b:2380"})},
       "a=http://a:2380,a=http://a2:2380,nb=http://b:2380"},
      {"other unstarted members get a placeholder",
       {MakeMember(1, "a", {"http://a:2380"}), MakeMember(0xab, "", {"http://c:2380"}),
        MakeMember(0x10, "", {"http://b:2380"})},
       "a=http://a:2380,unstarted-ab=http://c:2380,nb=http://b:2380"},
  };
  for (const Case& c : cases) {
    StatusOr<std::string> got = InitialClusterFor(c.members, 0x10, "nb");
    ASSERT_OK(got) << c.what;
    EXPECT_EQ(*got, c.want) << c.what;
  }
}

TEST(InitialClusterForTest, RejectsMissingNewMemberAndMemberWithoutUrl) {
  EXPECT_THAT(InitialClusterFor({MakeMember(1, "a", {"http://a:2380"})}, 2, "b"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      InitialClusterFor({MakeMember(1, "a", {}), MakeMember(2, "", {"http://b:2380"})}, 2, "b"),
      StatusIs(StatusCode::kInvalidArgument));
}

// One member etcd ("test", an EtcdProcess) that the tests grow with EmbeddedEtcd members the
// way a joining peer does: PrepareMemberJoin, start in "existing" mode, PromoteWhenReady.
class MembershipTest : public ::testing::Test {
 protected:
  struct Peer {
    std::string name;
    std::string client_url;
    std::string peer_url;
    uint64_t id = 0;
    std::unique_ptr<gd2::testing::TempDir> dir;
    std::unique_ptr<EmbeddedEtcd> etcd;
  };

  void SetUp() override {
    first_.Start();
    ASSERT_OK_AND_ASSIGN(store_, Store::Connect(OptionsFor({first_.endpoint()})));
  }

  void TearDown() override {
    // Stores first (they hold channels to the members), then the members, by pid.
    store_.reset();
    for (Peer& p : peers_) {
      if (p.etcd) p.etcd->Stop();
    }
    first_.Stop();
  }

  Options OptionsFor(std::vector<std::string> endpoints) const {
    return TestStoreOptions(first_, std::move(endpoints));
  }

  static EmbeddedEtcdOptions EtcdOptions(const Peer& p) {
    EmbeddedEtcdOptions eo;
    eo.name = p.name;
    eo.data_dir = p.dir->path() + "/store";
    eo.log_file = p.dir->path() + "/etcd.log";
    eo.client_url = p.client_url;
    eo.peer_url = p.peer_url;
    // A member's own certificate from the cluster (test) CA, as PrepareEtcdTls makes it.
    tls::TlsPaths paths{p.dir->path() + "/tls"};
    eo.ca_file = paths.ca_cert();
    eo.cert_file = paths.node_cert();
    eo.key_file = paths.node_key();
    return eo;
  }

  Peer NewPeer(std::string name) {
    Peer p;
    p.name = std::move(name);
    p.client_url = "https://127.0.0.1:" + std::to_string(gd2::testing::FreePort());
    p.peer_url = "https://127.0.0.1:" + std::to_string(gd2::testing::FreePort());
    p.dir = std::make_unique<gd2::testing::TempDir>("gd2memb");
    tls::TlsPaths paths{p.dir->path() + "/tls"};
    EXPECT_OK(tls::InstallCa(paths, gd2::testing::TestCa()));
    EXPECT_OK(tls::EnsureNodeCert(paths, gd2::testing::TestCa(), p.name,
                                  EtcdCertHosts(p.client_url, p.peer_url)));
    return p;
  }

  // Adds peer `name` as a learner, starts its etcd in "existing" mode and promotes it.
  // Returns its index in peers_.
  size_t Join(const std::string& name) {
    peers_.push_back(NewPeer(name));
    Peer& p = peers_.back();
    StatusOr<JoinPlan> plan = PrepareMemberJoin(*store_, p.name, p.peer_url);
    EXPECT_OK(plan);
    if (!plan.ok()) return peers_.size() - 1;
    p.id = plan->member_id;
    EXPECT_THAT(plan->initial_cluster, HasSubstr(p.name + "=" + p.peer_url));
    EXPECT_THAT(plan->client_urls, ::testing::Contains(first_.endpoint()));

    EmbeddedEtcdOptions eo = EtcdOptions(p);
    eo.initial_cluster = plan->initial_cluster;
    eo.initial_cluster_state = "existing";
    p.etcd = std::make_unique<EmbeddedEtcd>(eo);
    Status started = p.etcd->Start(std::chrono::seconds(20));
    EXPECT_OK(started);
    if (!started.ok()) return peers_.size() - 1;
    EXPECT_OK(PromoteWhenReady(*store_, p.id, std::chrono::seconds(15)));
    return peers_.size() - 1;
  }

  std::vector<Member> Members(Store& store) {
    StatusOr<std::vector<Member>> members = store.MemberList();
    EXPECT_OK(members);
    return members.ok() ? *members : std::vector<Member>();
  }

  static std::vector<std::string> VotingNames(const std::vector<Member>& members) {
    std::vector<std::string> names;
    for (const Member& m : members) {
      if (!m.is_learner) names.push_back(m.name);
    }
    return names;
  }

  gd2::testing::EtcdProcess first_;  // member "test"
  std::unique_ptr<Store> store_;     // connected to first_ only
  std::vector<Peer> peers_;
};

TEST_F(MembershipTest, GrowsToThreeSurvivesLossOfOneAndShrinks) {
  ASSERT_OK(store_->Put("memb/before", "1"));

  // A learner is listed (without a name until it starts) and votes only after promotion.
  peers_.push_back(NewPeer("b"));
  {
    Peer& b = peers_.back();
    ASSERT_OK_AND_ASSIGN(JoinPlan plan, PrepareMemberJoin(*store_, b.name, b.peer_url));
    b.id = plan.member_id;
    std::vector<Member> members = Members(*store_);
    ASSERT_EQ(members.size(), 2u);
    // etcd lists members by id, so either may come first.
    for (const Member& m : members) {
      if (m.id == b.id) continue;
      ASSERT_EQ(m.peer_urls.size(), 1u);
      std::string a_entry = "test=" + m.peer_urls[0];
      std::string b_entry = "b=" + b.peer_url;
      EXPECT_THAT(plan.initial_cluster,
                  ::testing::AnyOf(a_entry + "," + b_entry, b_entry + "," + a_entry));
    }
    EXPECT_THAT(plan.client_urls, ElementsAre(first_.endpoint()));
    auto learner =
        std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.id == b.id; });
    ASSERT_NE(learner, members.end());
    EXPECT_TRUE(learner->is_learner);
    // etcd 3.4 allows one learner at a time.
    EXPECT_THAT(store_->MemberAdd({"http://127.0.0.1:1"}, true),
                StatusIs(StatusCode::kFailedPrecondition));

    EmbeddedEtcdOptions eo = EtcdOptions(b);
    eo.initial_cluster = plan.initial_cluster;
    eo.initial_cluster_state = "existing";
    b.etcd = std::make_unique<EmbeddedEtcd>(eo);
    ASSERT_OK(b.etcd->Start(std::chrono::seconds(20)));
    ASSERT_OK(PromoteWhenReady(*store_, b.id, std::chrono::seconds(15)));
    // Promoting a voting member is refused; PromoteWhenReady sees it votes and says OK.
    EXPECT_THAT(store_->MemberPromote(b.id), StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_OK(PromoteWhenReady(*store_, b.id, std::chrono::seconds(1)));
  }
  EXPECT_THAT(VotingNames(Members(*store_)), UnorderedElementsAre("test", "b"));
  EXPECT_THAT(PrepareMemberJoin(*store_, "b", "http://127.0.0.1:1"),
              StatusIs(StatusCode::kAlreadyExists));

  size_t c = Join("c");
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(VotingNames(Members(*store_)), UnorderedElementsAre("test", "b", "c"));

  // A joined member restarts from its data dir with the default (single-member "new")
  // options, as a restarted daemon starts it; the flags are ignored once etcd has data.
  {
    Peer& b = peers_[0];
    b.etcd->Stop();
    b.etcd = std::make_unique<EmbeddedEtcd>(EtcdOptions(b));
    ASSERT_OK(b.etcd->Start(std::chrono::seconds(20)));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> via_b, Store::Connect(OptionsFor({b.client_url})));
    std::optional<KeyValue> before;
    EXPECT_TRUE(WaitFor([&] {
      StatusOr<std::optional<KeyValue>> got = via_b->Get("memb/before");
      if (got.ok()) before = *got;
      return got.ok();
    }));
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->value, "1");
    EXPECT_EQ(Members(*via_b).size(), 3u);
  }

  // With three voting members, losing one (the original one) keeps quorum.
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Store> all,
      Store::Connect(OptionsFor({first_.endpoint(), peers_[0].client_url, peers_[c].client_url})));
  first_.Kill();
  Status last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = all->Put("memb/after", "2").status();
        return last.ok();
      },
      std::chrono::seconds(15)))
      << last.ToString();
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> before, all->Get("memb/before"));
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->value, "1");
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> after, all->Get("memb/after"));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->value, "2");

  // The dead member is removed; two remain and still serve. RemoveMemberNamed returns once the
  // list read through the same store no longer names it (etcd 3.4's member list is the
  // answering member's own view, which may apply the removal a moment after the leader).
  std::vector<Member> members = Members(*all);
  auto dead = std::find_if(members.begin(), members.end(),
                           [](const Member& m) { return m.name == "test"; });
  ASSERT_NE(dead, members.end());
  ASSERT_OK(RemoveMemberNamed(*all, "test", std::chrono::seconds(10)));
  EXPECT_THAT(VotingNames(Members(*all)), UnorderedElementsAre("b", "c"));
  EXPECT_THAT(all->MemberRemove(dead->id), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(WaitFor([&] { return all->Put("memb/shrunk", "3").ok(); }));
}

TEST_F(MembershipTest, LearnerThatNeverStartsIsRemovedAgain) {
  metrics::Registry& reg = metrics::Default();
  metrics::Counter& promote_errors =
      reg.GetCounter("gd2_etcd_request_errors_total", "", {{"op", "member_promote"}});
  double errors_before = promote_errors.value();

  Peer ghost = NewPeer("ghost");
  ASSERT_OK_AND_ASSIGN(JoinPlan plan, PrepareMemberJoin(*store_, ghost.name, ghost.peer_url));
  EXPECT_EQ(Members(*store_).size(), 2u);
  EXPECT_THAT(PromoteWhenReady(*store_, plan.member_id, std::chrono::milliseconds(800)),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_GT(promote_errors.value(), errors_before);
  std::vector<Member> members = Members(*store_);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "test");
  EXPECT_THAT(PromoteWhenReady(*store_, plan.member_id, std::chrono::seconds(1)),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->MemberPromote(plan.member_id), StatusIs(StatusCode::kNotFound));
}

TEST_F(MembershipTest, StoreMemberCallsValidateAndMapErrors) {
  EXPECT_THAT(store_->MemberAdd({}, true), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->MemberRemove(0x1234), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(PrepareMemberJoin(*store_, "a,b", "http://127.0.0.1:1"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(PrepareMemberJoin(*store_, "x", "127.0.0.1:1"),
              StatusIs(StatusCode::kInvalidArgument));

  // A learner that never starts is listed and can be removed (a voting member could not: it
  // would count towards quorum at once, and one of two voters missing blocks every change).
  ASSERT_OK_AND_ASSIGN(MemberAddResult added, store_->MemberAdd({"http://127.0.0.1:1"}, true));
  ASSERT_EQ(added.members.size(), 2u);
  auto it = std::find_if(added.members.begin(), added.members.end(),
                         [&](const Member& m) { return m.id == added.id; });
  ASSERT_NE(it, added.members.end());
  EXPECT_TRUE(it->is_learner);
  EXPECT_TRUE(it->name.empty());
  EXPECT_THAT(it->peer_urls, ElementsAre("http://127.0.0.1:1"));
  EXPECT_THAT(PrepareMemberJoin(*store_, "y", "http://127.0.0.1:1"),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_OK(store_->MemberRemove(added.id));
  EXPECT_EQ(Members(*store_).size(), 1u);
}

TEST_F(MembershipTest, AdvertisePeerUrlMovesAMemberToItsUrl) {
  // What a member started before its etcd served https advertises.
  std::string old_url = "http://" + first_.peer_url().substr(std::string("https://").size());
  std::vector<Member> members = Members(*store_);
  ASSERT_EQ(members.size(), 1u);
  ASSERT_OK(store_->MemberUpdate(members[0].id, {old_url}));
  EXPECT_THAT(Members(*store_)[0].peer_urls, ElementsAre(old_url));

  ASSERT_OK_AND_ASSIGN(bool moved, AdvertisePeerUrl(*store_, "test", first_.peer_url()));
  EXPECT_TRUE(moved);
  EXPECT_THAT(Members(*store_)[0].peer_urls, ElementsAre(first_.peer_url()));
  ASSERT_OK_AND_ASSIGN(moved, AdvertisePeerUrl(*store_, "test", first_.peer_url()));
  EXPECT_FALSE(moved);
  ASSERT_OK_AND_ASSIGN(moved, AdvertisePeerUrl(*store_, "nobody", old_url));
  EXPECT_FALSE(moved);
  EXPECT_THAT(Members(*store_)[0].peer_urls, ElementsAre(first_.peer_url()));

  EXPECT_THAT(store_->MemberUpdate(0x1234, {old_url}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->MemberUpdate(members[0].id, {}), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(store_->Put("memb/still", "1"));
}

TEST_F(MembershipTest, EmbeddedEtcdJoinChecksOptionsAndDataDir) {
  Peer p = NewPeer("p");
  EmbeddedEtcdOptions eo = EtcdOptions(p);
  eo.initial_cluster_state = "existing";
  EXPECT_THAT(EmbeddedEtcd(eo).Start(std::chrono::seconds(5)),
              StatusIs(StatusCode::kInvalidArgument));  // no initial cluster
  eo.initial_cluster = "other=http://127.0.0.1:1";
  EXPECT_THAT(EmbeddedEtcd(eo).Start(std::chrono::seconds(5)),
              StatusIs(StatusCode::kInvalidArgument));  // lacks this member
  eo.initial_cluster_state = "maybe";
  EXPECT_THAT(EmbeddedEtcd(eo).Start(std::chrono::seconds(5)),
              StatusIs(StatusCode::kInvalidArgument));

  // Leftover data of an earlier single-member cluster: refused, or wiped on request.
  ASSERT_OK(MakeDirs(eo.data_dir + "/member"));
  ASSERT_OK(WriteFileAtomic(eo.data_dir + "/member/stale", "x"));
  ASSERT_OK_AND_ASSIGN(JoinPlan plan, PrepareMemberJoin(*store_, p.name, p.peer_url));
  p.id = plan.member_id;
  eo.initial_cluster = plan.initial_cluster;
  eo.initial_cluster_state = "existing";
  EXPECT_THAT(EmbeddedEtcd(eo).Start(std::chrono::seconds(5)),
              StatusIs(StatusCode::kFailedPrecondition));
  eo.wipe_data_dir = true;
  peers_.push_back(std::move(p));
  peers_.back().etcd = std::make_unique<EmbeddedEtcd>(eo);
  ASSERT_OK(peers_.back().etcd->Start(std::chrono::seconds(20)));
  EXPECT_OK(PromoteWhenReady(*store_, plan.member_id, std::chrono::seconds(15)));
  EXPECT_THAT(VotingNames(Members(*store_)), UnorderedElementsAre("test", "p"));
}

}  // namespace
}  // namespace gd2::store
