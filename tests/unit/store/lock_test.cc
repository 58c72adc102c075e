#include "store/lock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "store/keys.h"
#include "store/session.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using ::gd2::testing::StatusIs;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

class LockTest : public EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    if (HasFatalFailure()) return;
    a_ = std::make_unique<Session>(*store_, SessionOptions{});
    b_ = std::make_unique<Session>(*store_, SessionOptions{});
    ASSERT_OK(a_->Start());
    ASSERT_OK(b_->Start());
  }
  void TearDown() override {
    b_.reset();
    a_.reset();
  }

  KeySpace keys_{"c1"};
  std::unique_ptr<Session> a_;
  std::unique_ptr<Session> b_;
};

TEST_F(LockTest, ExcludesAndTimesOut) {
  ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "vol1", seconds(2)));
  EXPECT_TRUE(held.held());
  EXPECT_EQ(held.name(), "vol1");
  EXPECT_TRUE(held.key().starts_with(*keys_.Lock("vol1"))) << held.key();
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get(held.key()));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, a_->lease_id());
  EXPECT_EQ(kv->create_revision, held.create_revision());

  auto start = std::chrono::steady_clock::now();
  auto busy = Lock::Acquire(*store_, *b_, keys_, "vol1", milliseconds(300));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  EXPECT_THAT(busy, StatusIs(StatusCode::kAborted));
  EXPECT_THAT(busy.status().message(), HasSubstr("cluster lock busy: name=vol1"));
  // The same session is excluded too.
  EXPECT_THAT(Lock::Acquire(*store_, *a_, keys_, "vol1", milliseconds(100)),
              StatusIs(StatusCode::kAborted));
  // Timed-out waiters leave no keys behind.
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> waiters, store_->List(*keys_.Lock("vol1")));
  EXPECT_EQ(waiters.size(), 1u);
  // Another lock name is independent.
  ASSERT_OK_AND_ASSIGN(LockGuard other, Lock::Acquire(*store_, *b_, keys_, "vol2", seconds(2)));

  ASSERT_OK(held.Release());
  EXPECT_FALSE(held.held());
  ASSERT_OK(held.Release());
  ASSERT_OK_AND_ASSIGN(LockGuard next, Lock::Acquire(*store_, *b_, keys_, "vol1", seconds(2)));
  EXPECT_TRUE(next.held());

  EXPECT_THAT(Lock::Acquire(*store_, *a_, keys_, "bad/name", seconds(1)),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(LockTest, WaiterGetsLockWhenHolderReleases) {
  std::optional<LockGuard> held;
  {
    ASSERT_OK_AND_ASSIGN(LockGuard g, Lock::Acquire(*store_, *a_, keys_, "v", seconds(2)));
    held.emplace(std::move(g));
  }
  StatusOr<LockGuard> waited = AbortedError("not run");
  std::thread waiter([&] { waited = Lock::Acquire(*store_, *b_, keys_, "v", seconds(10)); });
  // Wait until B's waiter key is in place, then let go.
  EXPECT_TRUE(WaitFor([&] {
    auto l = store_->List(*keys_.Lock("v"));
    return l.ok() && l->size() == 2;
  }));
  held.reset();  // destructor releases
  waiter.join();
  ASSERT_OK(waited);
  EXPECT_TRUE(waited->held());
}

TEST_F(LockTest, MutualExclusionBetweenThreads) {
  ASSERT_OK(store_->Put("counter", "0"));
  constexpr int kRounds = 5;
  auto worker = [&](Session* session, Status* result) {
    for (int i = 0; i < kRounds; ++i) {
      auto guard = Lock::Acquire(*store_, *session, keys_, "counter", seconds(10));
      if (!guard.ok()) {
        *result = guard.status();
        return;
      }
      // An unguarded read-modify-write: only mutual exclusion keeps the count right.
      auto kv = store_->Get("counter");
      if (!kv.ok() || !kv->has_value()) {
        *result = InternalError("counter unreadable");
        return;
      }
      int v = std::stoi((*kv)->value);
      *result = store_->Put("counter", std::to_string(v + 1)).status();
      if (!result->ok()) return;
    }
  };
  Status ra, rb;
  std::thread ta(worker, a_.get(), &ra);
  std::thread tb(worker, b_.get(), &rb);
  ta.join();
  tb.join();
  ASSERT_OK(ra);
  ASSERT_OK(rb);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("counter"));
  EXPECT_EQ(kv->value, std::to_string(2 * kRounds));
}

TEST_F(LockTest, ReleasedWhenHolderLeaseRevoked) {
  ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "v", seconds(2)));
  StatusOr<LockGuard> waited = AbortedError("not run");
  std::thread waiter([&] { waited = Lock::Acquire(*store_, *b_, keys_, "v", seconds(10)); });
  EXPECT_TRUE(WaitFor([&] {
    auto l = store_->List(*keys_.Lock("v"));
    return l.ok() && l->size() == 2;
  }));
  a_->Stop();  // revokes A's lease, as a dead daemon's expiring lease would
  waiter.join();
  ASSERT_OK(waited);
  // A's guard is fenced out now.
  ASSERT_OK_AND_ASSIGN(TxnResult r, store_->Txn({held.FenceCompare()}, {Op::Put("x", "a")}));
  EXPECT_FALSE(r.succeeded);
  ASSERT_OK_AND_ASSIGN(r, store_->Txn({waited->FenceCompare()}, {Op::Put("x", "b")}));
  EXPECT_TRUE(r.succeeded);
}

TEST_F(LockTest, FencedTxnFailsAfterLockKeyDeleted) {
  ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "f", seconds(2)));
  ASSERT_OK_AND_ASSIGN(TxnResult r,
                       store_->Txn({held.FenceCompare()}, {Op::Put("committed", "1")}));
  EXPECT_TRUE(r.succeeded);
  ASSERT_OK(store_->Delete(held.key()));
  ASSERT_OK_AND_ASSIGN(r, store_->Txn({held.FenceCompare()}, {Op::Put("committed", "2")}));
  EXPECT_FALSE(r.succeeded);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("committed"));
  EXPECT_EQ(kv->value, "1");
  // A re-created key with the same name has a new create_revision: still fenced out.
  ASSERT_OK(store_->Put(held.key(), "", a_->lease_id()));
  ASSERT_OK_AND_ASSIGN(r, store_->Txn({held.FenceCompare()}, {Op::Put("committed", "3")}));
  EXPECT_FALSE(r.succeeded);
}

// A release etcd does not answer does not keep the lock: the holder's session, whose lease
// stays alive, deletes the key once etcd is back, and the next waiter gets the lock.
TEST_F(LockTest, ALockEtcdCouldNotReleaseIsFreedOnceEtcdAnswers) {
  int64_t lease = a_->lease_id();
  {
    ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "v", seconds(2)));
    etcd_.Kill();
    EXPECT_FALSE(held.Release().ok());
    EXPECT_TRUE(held.held());
  }  // nor can the destructor: the session takes the key over
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  EXPECT_OK(Lock::Acquire(*store_, *b_, keys_, "v", seconds(8)).status());
  EXPECT_EQ(a_->lease_id(), lease) << "the lease was lost: the key went with it";
}

// A holder that has just seen etcd not answer hands its locks over without asking again (each
// try would wait for the request timeout); the session frees them once etcd is back.
TEST_F(LockTest, AHandedOverLockIsFreedOnceEtcdAnswers) {
  int64_t lease = a_->lease_id();
  ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "h", seconds(2)));
  etcd_.Kill();
  auto before = std::chrono::steady_clock::now();
  held.HandOver();
  held.ReleaseOrHandOver();  // holds nothing now: asks nothing
  held = LockGuard();
  EXPECT_FALSE(held.held());
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(1)) << "etcd was asked";
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  EXPECT_OK(Lock::Acquire(*store_, *b_, keys_, "h", seconds(8)).status());
  EXPECT_EQ(a_->lease_id(), lease);
}

// One try, then the session: the guard is let go at once.
TEST_F(LockTest, ReleaseOrHandOverTriesOnceThenLeavesItToTheSession) {
  ASSERT_OK_AND_ASSIGN(LockGuard ok, Lock::Acquire(*store_, *a_, keys_, "r1", seconds(2)));
  const std::string key = ok.key();
  ok.ReleaseOrHandOver();
  EXPECT_FALSE(ok.held());
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get(key));
  EXPECT_FALSE(kv.has_value());

  ASSERT_OK_AND_ASSIGN(LockGuard down, Lock::Acquire(*store_, *a_, keys_, "r2", seconds(2)));
  etcd_.Kill();
  down.ReleaseOrHandOver();
  EXPECT_FALSE(down.held());
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  EXPECT_OK(Lock::Acquire(*store_, *b_, keys_, "r2", seconds(8)).status());
}

TEST_F(LockTest, MovedGuardReleasesOnce) {
  ASSERT_OK_AND_ASSIGN(LockGuard g1, Lock::Acquire(*store_, *a_, keys_, "m", seconds(2)));
  std::string key = g1.key();
  LockGuard g2 = std::move(g1);
  EXPECT_FALSE(g1.held());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(g2.held());
  LockGuard g3;
  g3 = std::move(g2);
  EXPECT_EQ(g3.key(), key);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get(key));
  EXPECT_TRUE(kv.has_value());
  g3 = LockGuard();
  ASSERT_OK_AND_ASSIGN(kv, store_->Get(key));
  EXPECT_FALSE(kv.has_value());
}

TEST_F(LockTest, ACommitReleasesTheLockInItsOwnTransaction) {
  ASSERT_OK_AND_ASSIGN(LockGuard held, Lock::Acquire(*store_, *a_, keys_, "vol2", seconds(2)));
  // A commit whose compares hold: the lock goes with it.
  ASSERT_OK_AND_ASSIGN(TxnResult done, store_->Txn({held.FenceCompare()},
                                                   {Op::Put("committed", "1"), held.ReleaseOp()}));
  ASSERT_TRUE(done.succeeded);
  held.ReleasedBy(done);
  EXPECT_FALSE(held.held());
  ASSERT_OK_AND_ASSIGN(auto waiters, store_->List(*keys_.Lock("vol2")));
  EXPECT_TRUE(waiters.empty());
  ASSERT_OK(Lock::Acquire(*store_, *b_, keys_, "vol2", milliseconds(500)).status());

  // A commit whose compares fail: the guard still holds the lock until Release().
  ASSERT_OK_AND_ASSIGN(LockGuard again, Lock::Acquire(*store_, *a_, keys_, "vol3", seconds(2)));
  ASSERT_OK_AND_ASSIGN(TxnResult refused, store_->Txn({Compare::ValueEquals("committed", "other"),
                                                       again.FenceCompare()},
                                                      {again.ReleaseOp()}));
  ASSERT_FALSE(refused.succeeded);
  again.ReleasedBy(refused);
  EXPECT_TRUE(again.held());
  EXPECT_THAT(Lock::Acquire(*store_, *b_, keys_, "vol3", milliseconds(200)),
              StatusIs(StatusCode::kAborted));
  ASSERT_OK(again.Release());
  EXPECT_FALSE(again.held());
  ASSERT_OK(Lock::Acquire(*store_, *b_, keys_, "vol3", milliseconds(500)).status());
}

}  // namespace
}  // namespace gd2::store
