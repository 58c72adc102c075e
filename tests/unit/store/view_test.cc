#include "store/view.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using ::gd2::testing::StatusIs;
using Clock = std::chrono::steady_clock;

class ViewTest : public EtcdTest {
 protected:
  static ViewOptions Options() {
    ViewOptions o;
    o.watch_prefix = "t/";
    return o;
  }
  // Keys of the entries under `prefix` as "key=value".
  static std::vector<std::string> Listed(const ViewSnapshot& s, std::string_view prefix) {
    std::vector<std::string> out;
    for (const ViewEntry* e : s.List(prefix)) out.push_back(e->kv.key + "=" + e->kv.value);
    return out;
  }
  static std::shared_ptr<const ViewSnapshot> AwaitOrDie(const View& v, int64_t revision) {
    auto s = v.Await(revision, Clock::now() + std::chrono::seconds(10));
    EXPECT_OK(s);
    return s.ok() ? *s : nullptr;
  }
};

// Decodes a value into its length, counting calls.
struct LengthDecoder {
  std::atomic<int>* calls;
  std::any operator()(const KeyValue& kv) const {
    ++*calls;
    return kv.value.size();
  }
};

TEST_F(ViewTest, LoadsKeptPrefixesAndFollowsTheWatch) {
  ASSERT_OK(store_->Put("t/peers/a", "alpha"));
  ASSERT_OK(store_->Put("t/vols/x", "1"));
  ASSERT_OK(store_->Put("t/locks/l", "not kept"));
  ASSERT_OK(store_->Put("u/peers/b", "outside the watch"));
  std::atomic<int> calls{0};
  View view(*store_, Options());
  ASSERT_OK(view.Keep("t/peers/", LengthDecoder{&calls}));
  ASSERT_OK(view.Keep("t/vols/"));
  ASSERT_OK(view.Start());
  EXPECT_TRUE(view.serving());
  EXPECT_EQ(view.loads(), 1);

  auto s0 = AwaitOrDie(view, 0);
  ASSERT_NE(s0, nullptr);
  EXPECT_EQ(Listed(*s0, "t/peers/"), std::vector<std::string>{"t/peers/a=alpha"});
  EXPECT_EQ(Listed(*s0, "t/vols/"), std::vector<std::string>{"t/vols/x=1"});
  EXPECT_TRUE(Listed(*s0, "t/locks/").empty());
  EXPECT_EQ(s0->Get("t/locks/l"), nullptr);
  ASSERT_NE(s0->Get("t/peers/a"), nullptr);
  ASSERT_NE(s0->Get("t/peers/a")->As<size_t>(), nullptr);
  EXPECT_EQ(*s0->Get("t/peers/a")->As<size_t>(), 5u);
  EXPECT_EQ(s0->Get("t/peers/a")->As<std::string>(), nullptr);
  EXPECT_FALSE(s0->Get("t/vols/x")->decoded.has_value());

  ASSERT_OK(store_->Put("t/peers/b", "beta"));
  ASSERT_OK(store_->Delete("t/vols/x"));
  ASSERT_OK_AND_ASSIGN(TxnResult t,
                       store_->Txn({}, {Op::Put("t/vols/y", "2"), Op::Put("t/peers/a", "a2")}));
  auto s1 = AwaitOrDie(view, t.revision);
  ASSERT_NE(s1, nullptr);
  EXPECT_GE(s1->revision(), t.revision);
  EXPECT_EQ(Listed(*s1, "t/peers/"), (std::vector<std::string>{"t/peers/a=a2", "t/peers/b=beta"}));
  EXPECT_EQ(Listed(*s1, "t/vols/"), std::vector<std::string>{"t/vols/y=2"});
  EXPECT_EQ(s1->Get("t/peers/a")->kv.mod_revision, t.revision);
  EXPECT_EQ(s1->Get("t/peers/a")->kv.version, 2);
  EXPECT_EQ(*s1->Get("t/peers/a")->As<size_t>(), 2u);
  // A snapshot handed out earlier does not change.
  EXPECT_EQ(Listed(*s0, "t/peers/"), std::vector<std::string>{"t/peers/a=alpha"});
  EXPECT_EQ(Listed(*s0, "t/vols/"), std::vector<std::string>{"t/vols/x=1"});
  // Each value was decoded once, whatever the number of reads.
  int decoded = calls.load();
  EXPECT_EQ(decoded, 3);
  for (int i = 0; i < 10; ++i) AwaitOrDie(view, 0)->List("t/peers/");
  EXPECT_EQ(calls.load(), decoded);

  // Writes to keys that are not kept advance the revision all the same.
  ASSERT_OK_AND_ASSIGN(int64_t lock_rev, store_->Put("t/locks/l", "again"));
  auto s2 = AwaitOrDie(view, lock_rev);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->revision(), lock_rev);
  EXPECT_EQ(view.revision(), lock_rev);
  view.Stop();
  view.Stop();
  EXPECT_THAT(view.Await(0, Clock::now()), StatusIs(StatusCode::kUnavailable));
}

TEST_F(ViewTest, AwaitWaitsForARevisionAndGivesUpAtItsDeadline) {
  View view(*store_, Options());
  ASSERT_OK(view.Keep("t/k/"));
  ASSERT_OK(view.Start());
  // A write is seen as soon as its revision is awaited, with no polling by the reader.
  for (int i = 0; i < 50; ++i) {
    std::string value = std::to_string(i);
    ASSERT_OK_AND_ASSIGN(int64_t rev, store_->Put("t/k/n", value));
    auto s = AwaitOrDie(view, rev);
    ASSERT_NE(s, nullptr);
    ASSERT_NE(s->Get("t/k/n"), nullptr);
    EXPECT_EQ(s->Get("t/k/n")->kv.value, value);
  }
  int64_t now = view.revision();
  auto t0 = Clock::now();
  EXPECT_THAT(view.Await(now + 1000, t0 + std::chrono::milliseconds(200)),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));

  // TryForRead never waits: the snapshot when the view has the revision, else nothing.
  ASSERT_NE(view.TryForRead(now), nullptr);
  EXPECT_EQ(view.TryForRead(0)->revision(), view.revision());
  EXPECT_EQ(view.TryForRead(now + 1000), nullptr);
  view.Stop();
  EXPECT_EQ(view.TryForRead(0), nullptr) << "a stopped view serves nothing";
}

TEST_F(ViewTest, KeepRefusesBadPrefixesAndLateCalls) {
  View view(*store_, Options());
  EXPECT_THAT(view.Keep("other/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(view.Keep(""), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(view.Keep("t/a/"));
  EXPECT_THAT(view.Keep("t/a/b/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(view.Keep("t/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(view.Await(0, Clock::now()), StatusIs(StatusCode::kUnavailable));
  ASSERT_OK(view.Start());
  EXPECT_THAT(view.Keep("t/b/"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(view.Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ViewTest, StopsServingOverItsBoundsAndServesAgainBelowThem) {
  ASSERT_OK(store_->Put("t/k/1", "v"));
  ASSERT_OK(store_->Put("t/k/2", "v"));
  ViewOptions o = Options();
  o.max_entries = 3;
  o.resync_backoff_min = std::chrono::milliseconds(50);
  o.resync_backoff_max = std::chrono::milliseconds(200);
  View view(*store_, o);
  ASSERT_OK(view.Keep("t/k/"));
  ASSERT_OK(view.Start());
  ASSERT_OK_AND_ASSIGN(int64_t rev3, store_->Put("t/k/3", "v"));
  EXPECT_EQ(AwaitOrDie(view, rev3)->List("t/k/").size(), 3u);

  ASSERT_OK(store_->Put("t/k/4", "v"));
  ASSERT_TRUE(WaitFor([&] { return !view.serving(); }));
  EXPECT_THAT(view.Await(0, Clock::now()), StatusIs(StatusCode::kUnavailable));
  // Read again after resync_backoff_max: still too many keys.
  int64_t loads = view.loads();
  ASSERT_TRUE(WaitFor([&] { return view.loads() > loads; }));
  EXPECT_FALSE(view.serving());

  ASSERT_OK(store_->Delete("t/k/1"));
  ASSERT_TRUE(WaitFor([&] { return view.serving(); }));
  auto s = AwaitOrDie(view, 0);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Listed(*s, "t/k/"), (std::vector<std::string>{"t/k/2=v", "t/k/3=v", "t/k/4=v"}));
  // And follows the watch again.
  ASSERT_OK(store_->Delete("t/k/2"));
  ASSERT_OK_AND_ASSIGN(int64_t rev, store_->Put("t/k/5", "w"));
  EXPECT_EQ(Listed(*AwaitOrDie(view, rev), "t/k/"),
            (std::vector<std::string>{"t/k/3=v", "t/k/4=v", "t/k/5=w"}));
}

// Holds the watch thread inside a decoder until released, so that the watch falls behind.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool open = false;

  std::any Decode(const KeyValue& kv) {
    if (kv.value == "hold") {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [this] { return open; });
    }
    return kv.value;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool Entered() {
    std::lock_guard<std::mutex> lock(mu);
    return entered;
  }
};

TEST_F(ViewTest, ReadsEverythingAgainWhenTheWatchLostHistory) {
  ASSERT_OK(store_->Put("t/k/gone", "1"));
  Gate gate;
  ViewOptions o = Options();
  o.resync_backoff_min = std::chrono::milliseconds(50);
  View view(*store_, o);
  ASSERT_OK(view.Keep("t/k/", [&gate](const KeyValue& kv) { return gate.Decode(kv); }));
  ASSERT_OK(view.Start());
  ASSERT_OK(store_->Put("t/k/held", "hold"));
  ASSERT_TRUE(WaitFor([&] { return gate.Entered(); }));

  // While the watch thread is held: its stream breaks (etcd restarts), history moves on and is
  // compacted, so the watch cannot resume where it was.
  etcd_.Kill();
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  ASSERT_OK(store_->Delete("t/k/gone"));
  ASSERT_OK(store_->Put("t/k/new", "2"));
  ASSERT_OK_AND_ASSIGN(int64_t last, store_->Put("t/other", "x"));
  ASSERT_OK(store_->Compact(last));
  gate.Open();

  ASSERT_TRUE(
      WaitFor([&] { return view.loads() >= 2 && view.serving(); }, std::chrono::seconds(20)));
  auto s = AwaitOrDie(view, last);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Listed(*s, "t/k/"), (std::vector<std::string>{"t/k/held=hold", "t/k/new=2"}));
  ASSERT_NE(s->Get("t/k/new")->As<std::string>(), nullptr);
  EXPECT_EQ(*s->Get("t/k/new")->As<std::string>(), "2");
  // The new watch follows.
  ASSERT_OK_AND_ASSIGN(int64_t rev, store_->Put("t/k/after", "3"));
  EXPECT_EQ(AwaitOrDie(view, rev)->Get("t/k/after")->kv.value, "3");
}

TEST_F(ViewTest, WriteRevisionScopeRecordsWritesOnItsThread) {
  ASSERT_OK_AND_ASSIGN(int64_t before, store_->Put("t/s/a", "1"));
  WriteRevisionScope outer;
  EXPECT_EQ(outer.revision(), 0);
  // Reads, and a transaction whose executed branch only reads, are not writes.
  ASSERT_OK(store_->Get("t/s/a"));
  ASSERT_OK(store_->List("t/s/"));
  ASSERT_OK(
      store_->Txn({Compare::KeyMissing("t/s/a")}, {Op::Put("t/s/b", "x")}, {Op::Get("t/s/a")}));
  EXPECT_EQ(outer.revision(), 0);
  int64_t inner_rev = 0;
  {
    WriteRevisionScope inner;
    ASSERT_OK_AND_ASSIGN(inner_rev, store_->Put("t/s/a", "2"));
    EXPECT_EQ(inner.revision(), inner_rev);
    EXPECT_GT(inner_rev, before);
    // Another thread's writes are its own.
    std::thread([&] { ASSERT_OK(store_->Put("t/s/c", "3")); }).join();
    EXPECT_EQ(inner.revision(), inner_rev);
  }
  EXPECT_EQ(outer.revision(), inner_rev);
  ASSERT_OK_AND_ASSIGN(TxnResult t, store_->Txn({}, {Op::Delete("t/s/a")}));
  EXPECT_EQ(outer.revision(), t.revision);
  ASSERT_OK(store_->Delete("t/s/c"));
  EXPECT_GT(outer.revision(), t.revision);
}

}  // namespace
}  // namespace gd2::store
