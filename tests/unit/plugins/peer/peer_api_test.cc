// PeerApi as the peer plugin implements it (StoredPeers), against a real etcd: what other
// plugins are told is what the store holds.
#include "plugins/peer/peer_api.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "plugins/peer/peer_store.h"
#include "support/status_matchers.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::plugins::peer {
namespace {

using ::gd2::testing::StatusIs;

const std::string kSelf = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kOther = "aaaaaaaa-0000-4000-8000-000000000002";

api::Peer MakePeer(const std::string& id, const std::string& name, const std::string& host) {
  api::Peer p;
  p.id = id;
  p.name = name;
  p.peer_addresses = {host + ":24008"};
  p.client_addresses = {host + ":24007"};
  p.metadata = {{api::kZoneKey, "z-" + name}};
  return p;
}

class PeerApiTest : public store::EtcdTest {
 protected:
  void SetUp() override {
    store::EtcdTest::SetUp();
    ASSERT_OK(PutPeer(*store_, keys_, MakePeer(kSelf, "self", "10.0.0.1")));
    ASSERT_OK(PutPeer(*store_, keys_, MakePeer(kOther, "other", "10.0.0.2")));
    ASSERT_OK_AND_ASSIGN(store::Lease lease, store_->GrantLease(60));
    ASSERT_OK(PutAlive(*store_, keys_, kSelf, 4242, lease.id));
  }

  const store::KeySpace keys_{"c1"};
};

TEST_F(PeerApiTest, GetPeerReturnsTheRecordWithItsOnlineState) {
  StoredPeers peers(*store_, keys_, kSelf);
  const PeerApi& api = peers;
  ASSERT_OK_AND_ASSIGN(api::Peer self, api.GetPeer(kSelf));
  EXPECT_EQ(self.name, "self");
  EXPECT_EQ(self.client_addresses, std::vector<std::string>{"10.0.0.1:24007"});
  EXPECT_EQ(self.peer_addresses, std::vector<std::string>{"10.0.0.1:24008"});
  EXPECT_EQ(self.metadata.at(api::kZoneKey), "z-self");
  EXPECT_TRUE(self.online);
  EXPECT_EQ(self.pid, 4242);
  ASSERT_OK_AND_ASSIGN(api::Peer other, api.GetPeer(kOther));
  EXPECT_FALSE(other.online);
  EXPECT_EQ(other.pid, 0);
  EXPECT_EQ(ClientHost(other, "fallback"), "10.0.0.2");
  EXPECT_EQ(ClientHost(api::Peer{}, "fallback"), "fallback");
  EXPECT_THAT(api.GetPeer("aaaaaaaa-0000-4000-8000-000000000009"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(api.GetPeer("../x"), StatusIs(StatusCode::kNotFound));
}

TEST_F(PeerApiTest, FindPeerByIdNameAddressAndLocalhost) {
  StoredPeers peers(*store_, keys_, kSelf);
  const PeerApi& api = peers;
  for (const std::string& who : {kOther, std::string("other"), std::string("10.0.0.2"),
                                 std::string("10.0.0.2:24007"), std::string("10.0.0.2:24008")}) {
    SCOPED_TRACE(who);
    ASSERT_OK_AND_ASSIGN(api::Peer p, api.FindPeer(who));
    EXPECT_EQ(p.id, kOther);
  }
  ASSERT_OK_AND_ASSIGN(api::Peer local, api.FindPeer("localhost"));
  EXPECT_EQ(local.id, kSelf);
  EXPECT_TRUE(local.online);
  StatusOr<api::Peer> none = api.FindPeer("10.9.9.9");
  EXPECT_THAT(none, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(none.status().message(), "peer not found: 10.9.9.9");
}

TEST_F(PeerApiTest, FindPeersAnswersForEachAsFindPeerDoes) {
  StoredPeers peers(*store_, keys_, kSelf);
  const PeerApi& api = peers;
  const std::vector<std::string> whos = {
      kOther, "other",          "10.0.0.2", "10.0.0.2:24007", "10.0.0.2:24008", "localhost",
      "self", "10.0.0.1:24008", kSelf,      "10.0.0.2"};
  ASSERT_OK_AND_ASSIGN(auto found, api.FindPeers(whos));
  EXPECT_EQ(found.size(), 9u) << "one entry per distinct name";
  for (const auto& who : whos) {
    SCOPED_TRACE(who);
    ASSERT_EQ(found.count(who), 1u);
    ASSERT_OK_AND_ASSIGN(api::Peer one, api.FindPeer(who));
    EXPECT_EQ(found.at(who).id, one.id);
    EXPECT_EQ(found.at(who).online, one.online);
    EXPECT_EQ(found.at(who).pid, one.pid);
    EXPECT_EQ(found.at(who).client_addresses, one.client_addresses);
  }
  EXPECT_TRUE(found.at("localhost").online);
  EXPECT_EQ(found.at("localhost").pid, 4242);
  EXPECT_FALSE(found.at("other").online);

  // An address the index names for a peer that no longer has it is not that peer's.
  ASSERT_OK(store_->Put(*keys_.PeerAddress("10.0.0.7"), kOther).status());
  StatusOr<std::map<std::string, api::Peer>> none =
      api.FindPeers({"other", "10.0.0.7", "aaaaaaaa-0000-4000-8000-000000000009", "nobody"});
  EXPECT_THAT(none, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(none.status().message(), "peer not found: 10.0.0.7");
  EXPECT_EQ(api.FindPeers({"nobody", "other"}).status().message(), "peer not found: nobody");
  ASSERT_OK_AND_ASSIGN(found, api.FindPeers({}));
  EXPECT_TRUE(found.empty());
}

TEST_F(PeerApiTest, ListAndOnlinePeersFollowTheStore) {
  StoredPeers peers(*store_, keys_, kSelf);
  const PeerApi& api = peers;
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> all, api.ListPeers());
  ASSERT_EQ(all.size(), 2u);
  std::set<std::string> online_in_list;
  for (const auto& p : all) {
    if (p.online) online_in_list.insert(p.id);
  }
  EXPECT_EQ(online_in_list, std::set<std::string>{kSelf});
  ASSERT_OK_AND_ASSIGN(std::set<std::string> online,
                       api.OnlinePeers({kSelf, kOther, "not a peer/id"}));
  EXPECT_EQ(online, std::set<std::string>{kSelf});

  // The other peer comes online, this one leaves: the next answers say so.
  ASSERT_OK_AND_ASSIGN(store::Lease lease, store_->GrantLease(60));
  ASSERT_OK(PutAlive(*store_, keys_, kOther, 7, lease.id));
  ASSERT_OK(DeletePeer(*store_, keys_, MakePeer(kSelf, "self", "10.0.0.1")));
  ASSERT_OK_AND_ASSIGN(online, api.OnlinePeers({kSelf, kOther}));
  EXPECT_EQ(online, std::set<std::string>{kOther});
  ASSERT_OK_AND_ASSIGN(all, api.ListPeers());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, kOther);
  EXPECT_EQ(all[0].pid, 7);
  EXPECT_THAT(api.FindPeer("10.0.0.1"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace gd2::plugins::peer
