// VolumeApi as the volume plugin implements it (StoredVolumes), against a real etcd: what other
// plugins are told is what the store holds, at the keys existing clusters use.
#include "plugins/volume/volume_api.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "plugins/volume/volume_store.h"
#include "store/view.h"
#include "support/status_matchers.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::plugins::volume {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kPeerA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kPeerB = "aaaaaaaa-0000-4000-8000-00000000000b";

api::Volume MakeVolume(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& bricks) {
  std::vector<api::Brick> list;
  int i = 0;
  for (const auto& [peer, path] : bricks) {
    list.push_back(api::Brick{"bbbbbbbb-0000-4000-8000-00000000000" + std::to_string(i++), peer,
                              peer == kPeerA ? "10.0.0.1" : "10.0.0.2", path});
  }
  api::Volume v;
  v.id = "cccccccc-0000-4000-8000-000000000001";
  v.name = name;
  v.transport = "tcp";
  v.subvols = *api::PlanSubvols(name, list, {});
  v.type = api::VolumeTypeFor(v.subvols);
  v.auth = {"user", "password"};
  v.options = {{"performance.cache-size", "64MB"}};
  v.version = 1;
  return v;
}

class VolumeApiTest : public store::EtcdTest {
 protected:
  void Put(const api::Volume& v) {
    ASSERT_OK_AND_ASSIGN(VolumeCommit c, PutCommit(keys_, v, 0));
    ASSERT_OK_AND_ASSIGN(store::TxnResult r, store_->Txn(c.compares, c.ops, {}));
    ASSERT_TRUE(r.succeeded);
  }

  const store::KeySpace space_{"c1"};
  const VolumeKeys keys_{space_};
};

TEST_F(VolumeApiTest, KeysStayWhereExistingClustersHaveThem) {
  EXPECT_EQ(keys_.VolumesPrefix(), "gluster-c1/volumes/");
  EXPECT_EQ(*keys_.Volume("gv0"), "gluster-c1/volumes/gv0");
  EXPECT_EQ(*keys_.BrickState("p1", "/bricks/b%1"), "gluster-c1/brickstate/p1/%2Fbricks%2Fb%251");
  EXPECT_EQ(*keys_.PendingPrefix("p1"), "gluster-c1/pending/p1/");
  EXPECT_EQ(*keys_.Pending("p1", "volume-delete.gv0"), "gluster-c1/pending/p1/volume-delete.gv0");
  EXPECT_THAT(keys_.Volume("a/b"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(keys_.Pending("p1", ".."), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(VolumeApiTest, GetAndListReturnTheStoredVolumes) {
  api::Volume one = MakeVolume("one", {{kPeerA, "/bricks/one"}});
  api::Volume two = MakeVolume("two", {{kPeerA, "/bricks/two-a"}, {kPeerB, "/bricks/two-b"}});
  Put(two);
  Put(one);
  StoredVolumes volumes(*store_, keys_);
  const VolumeApi& api = volumes;
  ASSERT_OK_AND_ASSIGN(api::Volume got, api.GetVolume("two"));
  EXPECT_EQ(api::SerializeVolume(got, api::JsonView::kStore),
            api::SerializeVolume(two, api::JsonView::kStore));
  EXPECT_EQ(got.auth.password, "password");
  ASSERT_OK_AND_ASSIGN(std::vector<api::Volume> all, api.ListVolumes());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "one");
  EXPECT_EQ(all[1].name, "two");
  StatusOr<api::Volume> missing = api.GetVolume("three");
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(missing.status().message(), "volume not found");
  EXPECT_THAT(api.GetVolume("../x"), StatusIs(StatusCode::kNotFound));
}

TEST_F(VolumeApiTest, BricksOnPeerListsEveryVolumesBricksOfThatPeer) {
  Put(MakeVolume("one", {{kPeerA, "/bricks/one"}}));
  Put(MakeVolume("two", {{kPeerA, "/bricks/two-a"}, {kPeerB, "/bricks/two-b"}}));
  StoredVolumes volumes(*store_, keys_);
  const VolumeApi& api = volumes;
  ASSERT_OK_AND_ASSIGN(std::vector<HostedBrick> a, api.BricksOnPeer(kPeerA));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].volume, "one");
  EXPECT_EQ(a[0].brick.path, "/bricks/one");
  EXPECT_EQ(a[1].volume, "two");
  EXPECT_EQ(a[1].brick.path, "/bricks/two-a");
  ASSERT_OK_AND_ASSIGN(std::vector<HostedBrick> b, api.BricksOnPeer(kPeerB));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].brick.peer_id, kPeerB);
  EXPECT_EQ(b[0].brick.host, "10.0.0.2");
  ASSERT_OK_AND_ASSIGN(std::vector<HostedBrick> none,
                       api.BricksOnPeer("aaaaaaaa-0000-4000-8000-0000000000ff"));
  EXPECT_TRUE(none.empty());
}

TEST_F(VolumeApiTest, DamagedRecordsAreErrorsForReadsAndSkippedForBrickLists) {
  Put(MakeVolume("good", {{kPeerA, "/bricks/good"}}));
  ASSERT_OK(store_->Put(*keys_.Volume("bad"), "{not json").status());
  StoredVolumes volumes(*store_, keys_);
  const VolumeApi& api = volumes;
  StatusOr<api::Volume> bad = api.GetVolume("bad");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(bad.status().message(), HasSubstr("corrupt volume record bad"));
  EXPECT_THAT(api.ListVolumes(), StatusIs(StatusCode::kInternal));
  ASSERT_OK_AND_ASSIGN(std::vector<HostedBrick> a, api.BricksOnPeer(kPeerA));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].volume, "good");
}

// etcd get requests this process has made so far (the store's own request histogram).
uint64_t EtcdGets() {
  return metrics::Default()
      .GetHistogram("gd2_etcd_request_duration_seconds", "Round-trip time of etcd requests.",
                    {{"op", "get"}})
      .Take()
      .count;
}

TEST_F(VolumeApiTest, ReadsBeforeATransactionAskTheViewFirstAndEtcdWhereTheViewHasNoAnswer) {
  store::ViewOptions vo;
  vo.watch_prefix = space_.Prefix();
  store::View view(*store_, vo);
  ASSERT_OK(KeepVolumes(view, keys_));
  ASSERT_OK(view.Start());

  // Nowhere: the view's "no" is checked with etcd, whose answer is the error.
  uint64_t gets = EtcdGets();
  Status none = VolumeExists(&view, *store_, keys_, "none", 0);
  EXPECT_THAT(none, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(none.message(), "volume not found");
  EXPECT_EQ(EtcdGets(), gets + 1);
  EXPECT_THAT(VolumeExists(nullptr, *store_, keys_, "none", 0), StatusIs(StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(VolumeCommit c,
                       PutCommit(keys_, MakeVolume("one", {{kPeerA, "/b/one"}}), 0));
  ASSERT_OK_AND_ASSIGN(store::TxnResult r, store_->Txn(c.compares, c.ops, {}));
  ASSERT_TRUE(r.succeeded);
  // Whether or not the view has seen the create yet, the volume exists (etcd answers if not).
  EXPECT_OK(VolumeExists(&view, *store_, keys_, "one", 0));
  ASSERT_OK(
      view.Await(r.revision, std::chrono::steady_clock::now() + std::chrono::seconds(10)).status());

  // The view has it: no etcd request.
  gets = EtcdGets();
  EXPECT_OK(VolumeExists(&view, *store_, keys_, "one", r.revision));
  EXPECT_EQ(EtcdGets(), gets);
  // A revision the view has not reached (a write it has not seen): etcd answers.
  EXPECT_OK(VolumeExists(&view, *store_, keys_, "one", r.revision + 1000));
  EXPECT_EQ(EtcdGets(), gets + 1);
  // A change the caller knows of (its revision) is in the answer, from whichever side has it.
  api::Volume changed = MakeVolume("one", {{kPeerA, "/b/one"}});
  changed.options["performance.cache-size"] = "128MB";
  changed.version = 2;
  ASSERT_OK_AND_ASSIGN(VolumeCommit c2, PutCommit(keys_, changed, r.revision));
  ASSERT_OK_AND_ASSIGN(store::TxnResult r2, store_->Txn(c2.compares, c2.ops, {}));
  ASSERT_TRUE(r2.succeeded);
  ASSERT_OK_AND_ASSIGN(StoredVolume read,
                       ReadVolumeAtLeast(&view, *store_, keys_, "one", r2.revision));
  EXPECT_EQ(read.volume.options["performance.cache-size"], "128MB");
  EXPECT_EQ(read.mod_revision, r2.revision);
  gets = EtcdGets();

  // Without a view, or with one that does not serve: etcd.
  EXPECT_OK(VolumeExists(nullptr, *store_, keys_, "one", 0));
  view.Stop();
  EXPECT_OK(VolumeExists(&view, *store_, keys_, "one", 0));
  EXPECT_EQ(EtcdGets(), gets + 2);
}

TEST(DeliveredRevisionsTest, KeepsTheNewestChangeOfEachVolumeAndForgetsDeletesOnceViewed) {
  DeliveredRevisions d;
  EXPECT_EQ(d.For("a"), 0);  // nothing delivered: any view will do
  d.Delivered("a", 10, false);
  d.Delivered("b", 12, false);
  d.Delivered("a", 15, false);
  d.Delivered("a", 14, false);  // never goes back
  EXPECT_EQ(d.For("a"), 15);
  EXPECT_EQ(d.For("b"), 12);

  d.Delivered("b", 20, true);
  EXPECT_EQ(d.For("b"), 20);  // a read must see the delete too
  d.ForgetDeletedUpTo(19);    // the view has not applied the delete yet
  EXPECT_EQ(d.For("b"), 20);
  d.ForgetDeletedUpTo(20);
  EXPECT_EQ(d.For("b"), 0);
  EXPECT_EQ(d.size(), 1u);  // only "a", which exists
  d.ForgetDeletedUpTo(1000);
  EXPECT_EQ(d.For("a"), 15);  // live volumes are kept

  // Deleted and created again before the view caught up: the new record is what counts.
  d.Delivered("c", 30, true);
  d.Delivered("c", 31, false);
  d.ForgetDeletedUpTo(1000);
  EXPECT_EQ(d.For("c"), 31);
  EXPECT_EQ(d.size(), 2u);

  // Changes up to 40 lost from etcd's history: every read reflects at least 40, and what was
  // delivered before adds nothing (a volume deleted in the gap is not kept either).
  d.Delivered("d", 45, false);
  d.RaiseFloor(40);
  EXPECT_EQ(d.For("a"), 40);
  EXPECT_EQ(d.For("never-seen"), 40);
  EXPECT_EQ(d.For("d"), 45);
  EXPECT_EQ(d.size(), 1u);
  d.RaiseFloor(30);  // never goes back
  EXPECT_EQ(d.For("a"), 40);
}

}  // namespace
}  // namespace gd2::plugins::volume
