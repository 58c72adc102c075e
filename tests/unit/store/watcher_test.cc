#include "store/watcher.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using WatcherTest = EtcdTest;
using ::gd2::testing::StatusIs;

// Collects events and errors from a Watcher's thread.
struct Recorder {
  std::mutex mu;
  std::vector<WatchEvent> events;
  std::vector<Status> errors;

  Watcher::EventsCallback OnEvents() {
    return [this](const std::vector<WatchEvent>& batch) {
      std::lock_guard<std::mutex> lock(mu);
      events.insert(events.end(), batch.begin(), batch.end());
    };
  }
  Watcher::ErrorCallback OnError() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(s);
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
  size_t error_count() {
    std::lock_guard<std::mutex> lock(mu);
    return errors.size();
  }
  // "put:key=value" / "delete:key" per event.
  std::vector<std::string> Summary() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const WatchEvent& e : events) {
      out.push_back(e.type == WatchEvent::Type::kPut ? "put:" + e.kv.key + "=" + e.kv.value
                                                     : "delete:" + e.kv.key);
    }
    return out;
  }
};

TEST_F(WatcherTest, DeliversPutsAndDeletesUnderPrefix) {
  ASSERT_OK(store_->Put("w/old", "before"));
  Recorder rec;
  Watcher watcher(*store_);
  ASSERT_OK(watcher.Watch("w/", 0, rec.OnEvents(), rec.OnError()));
  EXPECT_THAT(watcher.Watch("w/", 0, rec.OnEvents()), StatusIs(StatusCode::kFailedPrecondition));

  ASSERT_OK(store_->Put("w/a", "1"));
  ASSERT_OK(store_->Put("other/x", "ignored"));
  ASSERT_OK_AND_ASSIGN(int64_t rev, store_->Put("w/a", "2"));
  ASSERT_OK(store_->Delete("w/a"));
  ASSERT_OK(store_->Txn({}, {Op::Put("w/b", "3"), Op::Put("w/c", "4")}));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 5; }));
  EXPECT_EQ(rec.Summary(), (std::vector<std::string>{"put:w/a=1", "put:w/a=2", "delete:w/a",
                                                     "put:w/b=3", "put:w/c=4"}));
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    EXPECT_EQ(rec.events[1].kv.mod_revision, rev);
    EXPECT_EQ(rec.events[1].kv.version, 2);
    EXPECT_EQ(rec.events[2].kv.mod_revision, rev + 1);
    EXPECT_EQ(rec.events[3].kv.mod_revision, rec.events[4].kv.mod_revision);
    EXPECT_EQ(watcher.last_revision(), rec.events[4].kv.mod_revision);
  }
  watcher.Stop();
  watcher.Stop();
  EXPECT_EQ(rec.error_count(), 0u);
}

TEST_F(WatcherTest, ReplaysFromStartRevision) {
  ASSERT_OK_AND_ASSIGN(int64_t first, store_->Put("h/a", "1"));
  ASSERT_OK(store_->Put("h/b", "2"));
  Recorder rec;
  Watcher watcher(*store_);
  ASSERT_OK(watcher.Watch("h/", first, rec.OnEvents()));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 2; }));
  EXPECT_EQ(rec.Summary(), (std::vector<std::string>{"put:h/a=1", "put:h/b=2"}));

  // Revision 1 is the very beginning of history, not "from now".
  Recorder all;
  Watcher from_start(*store_);
  ASSERT_OK(from_start.Watch("h/", 1, all.OnEvents()));
  ASSERT_TRUE(WaitFor([&] { return all.count() >= 2; }));
  EXPECT_EQ(all.Summary(), (std::vector<std::string>{"put:h/a=1", "put:h/b=2"}));
}

TEST_F(WatcherTest, ResumesAfterEtcdRestartWithoutLossOrDuplicates) {
  Recorder rec;
  Watcher watcher(*store_);
  ASSERT_OK(watcher.Watch("r/", 0, rec.OnEvents(), rec.OnError()));
  ASSERT_OK(store_->Put("r/1", "a"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 1; }));

  etcd_.Kill();
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  // Written while the watcher is still reconnecting (its backoff is at least 100 ms).
  ASSERT_OK(store_->Put("r/2", "b"));
  ASSERT_OK(store_->Delete("r/1"));
  ASSERT_OK(store_->Put("r/3", "c"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 4; }, std::chrono::seconds(15)));
  // Once more, to catch anything delivered twice.
  ASSERT_OK(store_->Put("r/4", "d"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 5; }));
  EXPECT_EQ(rec.Summary(), (std::vector<std::string>{"put:r/1=a", "put:r/2=b", "delete:r/1",
                                                     "put:r/3=c", "put:r/4=d"}));
  EXPECT_EQ(rec.error_count(), 0u);
}

// Writes `key` three times ("1", "2", "3") and has etcd compact all history before the last
// write: *first and *last are the revisions of the first and the last write.
void WriteThenCompact(Store& store, const std::string& key, int64_t* first, int64_t* last) {
  ASSERT_OK_AND_ASSIGN(*first, store.Put(key, "1"));
  ASSERT_OK(store.Put(key, "2"));
  ASSERT_OK_AND_ASSIGN(*last, store.Put(key, "3"));
  ASSERT_OK(store.Compact(*last));
}

TEST_F(WatcherTest, ReportsCompaction) {
  int64_t first = 0;
  int64_t last = 0;
  ASSERT_NO_FATAL_FAILURE(WriteThenCompact(*store_, "c/a", &first, &last));

  Recorder rec;
  Watcher watcher(*store_);
  Status s = watcher.Watch("c/", first, rec.OnEvents(), rec.OnError());
  if (s.ok()) {
    ASSERT_TRUE(WaitFor([&] { return rec.error_count() >= 1; }));
    std::lock_guard<std::mutex> lock(rec.mu);
    EXPECT_THAT(rec.errors[0], StatusIs(StatusCode::kOutOfRange));
  } else {
    EXPECT_THAT(s, StatusIs(StatusCode::kOutOfRange));
  }
  EXPECT_EQ(rec.count(), 0u);
}

TEST_F(WatcherTest, WithAGapCallbackGoesOnFromTheOldestRevisionEtcdHas) {
  int64_t first = 0;
  int64_t last = 0;
  ASSERT_NO_FATAL_FAILURE(WriteThenCompact(*store_, "g/a", &first, &last));

  Recorder rec;
  std::mutex mu;
  std::vector<int64_t> gaps;
  size_t events_at_gap = 0;
  Watcher watcher(*store_);
  watcher.OnGap([&](int64_t compact_revision) {
    std::lock_guard<std::mutex> lock(mu);
    gaps.push_back(compact_revision);
    events_at_gap = rec.count();
  });
  ASSERT_OK(watcher.Watch("g/", first, rec.OnEvents(), rec.OnError()));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 1; }));
  ASSERT_OK(store_->Put("g/b", "4"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 2; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(gaps, std::vector<int64_t>{last});  // told once, with what etcd still has
    EXPECT_EQ(events_at_gap, 0u);                 // before anything after the gap
  }
  // The changes from the oldest revision etcd kept on, and nothing from before it.
  EXPECT_EQ(rec.Summary(), (std::vector<std::string>{"put:g/a=3", "put:g/b=4"}));
  EXPECT_EQ(rec.error_count(), 0u);
  EXPECT_GE(watcher.last_revision(), last + 1);
}

// A live watch is not touched by a compaction; it finds the gap when it resumes. Here other keys
// take the revisions after the watched key's last change and etcd compacts them, then restarts:
// the watch resumes from a compacted revision, is told so once, and goes on.
TEST_F(WatcherTest, AResumedWatchWhoseRevisionWasCompactedReportsTheGapAndGoesOn) {
  Recorder rec;
  std::mutex mu;
  std::vector<int64_t> gaps;
  Watcher watcher(*store_);
  watcher.OnGap([&](int64_t compact_revision) {
    std::lock_guard<std::mutex> lock(mu);
    gaps.push_back(compact_revision);
  });
  ASSERT_OK(watcher.Watch("rg/", 0, rec.OnEvents(), rec.OnError()));
  ASSERT_OK_AND_ASSIGN(int64_t seen, store_->Put("rg/1", "a"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 1; }));
  ASSERT_EQ(watcher.last_revision(), seen);
  int64_t first = 0;
  int64_t last = 0;
  ASSERT_NO_FATAL_FAILURE(WriteThenCompact(*store_, "other/x", &first, &last));
  ASSERT_EQ(first, seen + 1);

  etcd_.Kill();
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  ASSERT_OK(store_->Put("rg/2", "b"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() >= 2; }, std::chrono::seconds(15)));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(gaps, std::vector<int64_t>{last});
  }
  EXPECT_EQ(rec.Summary(), (std::vector<std::string>{"put:rg/1=a", "put:rg/2=b"}));
  EXPECT_EQ(rec.error_count(), 0u);
}

TEST_F(WatcherTest, FailsWhenEtcdDownAndStopsPromptly) {
  etcd_.Kill();
  Recorder rec;
  Watcher watcher(*store_);
  EXPECT_FALSE(watcher.Watch("d/", 0, rec.OnEvents()).ok());

  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  Watcher live(*store_);
  ASSERT_OK(live.Watch("d/", 0, rec.OnEvents()));
  auto start = std::chrono::steady_clock::now();
  live.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace gd2::store
