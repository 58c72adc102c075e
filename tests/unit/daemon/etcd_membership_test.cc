#include "daemon/etcd_membership.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "store/keys.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::daemon {
namespace {

using store::EtcdTest;
using store::WaitFor;

constexpr const char* kMembersKey = "test/etcd-members";

class EtcdMembershipTest : public EtcdTest {
 protected:
  EtcdMembership::Options MakeMembershipOptions() const {
    EtcdMembership::Options o;
    o.workdir = workdir_.path();
    o.own_client_url = etcd_.endpoint();
    o.members_key = kMembersKey;
    return o;
  }

  gd2::testing::TempDir workdir_;
};

// A client peer (not a member) configured with a member that has left, and the one that is
// still there: Start() moves the store to the voting members at once and saves them.
TEST_F(EtcdMembershipTest, StartMovesTheStoreToTheVotingMembers) {
  const std::string gone = "https://127.0.0.1:9";
  StoreConfig sc;
  sc.etcd_endpoints = {gone, etcd_.endpoint()};
  ASSERT_OK(SaveStoreConfig(workdir_.path(), sc));
  EtcdMembership m(MakeMembershipOptions(), sc);
  ASSERT_OK(m.Start(*store_));
  EXPECT_EQ(m.config().etcd_endpoints, std::vector<std::string>{etcd_.endpoint()});
  EXPECT_NE(m.config().etcd_cluster_id, 0u);  // learnt from the cluster
  ASSERT_OK_AND_ASSIGN(StoreConfig saved, LoadStoreConfig(workdir_.path()));
  EXPECT_EQ(saved.etcd_endpoints, std::vector<std::string>{etcd_.endpoint()});
  EXPECT_OK(store_->Get("probe").status());
  m.Stop();
}

// A published list is followed; this peer's own member stays first while it runs one; a
// restart as a member pending in store.toml keeps the file (and the store) as they are.
TEST_F(EtcdMembershipTest, FollowsThePublishedMembers) {
  StoreConfig sc;
  sc.etcd_endpoints = {etcd_.endpoint()};
  sc.etcd_member = true;
  ASSERT_OK(SaveStoreConfig(workdir_.path(), sc));
  EtcdMembership m(MakeMembershipOptions(), sc);
  ASSERT_OK(m.Start(*store_));
  ASSERT_EQ(m.config().etcd_endpoints, std::vector<std::string>{etcd_.endpoint()});

  // Another member joined (its address does not answer here; round robin skips it).
  const std::string other = "https://127.0.0.1:9";
  ASSERT_OK(store_->Put(kMembersKey, "[\"" + other + "\"]").status());
  const std::vector<std::string> want = {etcd_.endpoint(), other};
  EXPECT_TRUE(WaitFor([&] { return m.config().etcd_endpoints == want; }));
  ASSERT_OK_AND_ASSIGN(StoreConfig saved, LoadStoreConfig(workdir_.path()));
  EXPECT_EQ(saved.etcd_endpoints, want);

  saved.join_initial_cluster = "a=https://127.0.0.1:2380";
  ASSERT_OK(SaveStoreConfig(workdir_.path(), saved));
  m.Follow({"https://127.0.0.1:10"});
  EXPECT_EQ(m.config().etcd_endpoints, want);
  ASSERT_OK_AND_ASSIGN(StoreConfig still, LoadStoreConfig(workdir_.path()));
  EXPECT_EQ(still.etcd_endpoints, want);
  m.Stop();
}

// The member list is read again every resync_interval: a list that is not the cluster's (a
// publication that never came, a move that failed) is corrected without a change of the key.
TEST_F(EtcdMembershipTest, TheMemberListIsReadAgainToCatchUp) {
  StoreConfig sc;
  sc.etcd_endpoints = {etcd_.endpoint()};
  ASSERT_OK(SaveStoreConfig(workdir_.path(), sc));
  EtcdMembership::Options o = MakeMembershipOptions();
  o.resync_interval = std::chrono::milliseconds(200);
  EtcdMembership m(o, sc);
  ASSERT_OK(m.Start(*store_));
  const std::string gone = "https://127.0.0.1:9";
  m.Follow({gone, etcd_.endpoint()});  // as a stale list would
  ASSERT_EQ(m.config().etcd_endpoints, (std::vector<std::string>{gone, etcd_.endpoint()}));
  EXPECT_TRUE(WaitFor([&] {
    return m.config().etcd_endpoints == std::vector<std::string>{etcd_.endpoint()};
  })) << "the member list was not read again";
  ASSERT_OK_AND_ASSIGN(StoreConfig saved, LoadStoreConfig(workdir_.path()));
  EXPECT_EQ(saved.etcd_endpoints, std::vector<std::string>{etcd_.endpoint()});
  m.Stop();
}

}  // namespace
}  // namespace gd2::daemon
