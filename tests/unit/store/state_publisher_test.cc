// StatePublisher against a real etcd: last value wins, batches beyond one transaction, lease
// binding, failed writes tried again, and Stop() writing what is queued.
#include "store/state_publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

auto Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(10); }

class StatePublisherTest : public EtcdTest {
 protected:
  std::optional<std::string> ValueOf(const std::string& key) {
    auto kv = store_->Get(key);
    EXPECT_OK(kv.status());
    if (!kv.ok() || !kv->has_value()) return std::nullopt;
    return (*kv)->value;
  }
};

TEST_F(StatePublisherTest, TheLastValueOfEachKeyIsWritten) {
  StatePublisher p(*store_, nullptr);
  for (int i = 1; i <= 200; ++i) p.Put("state/a", std::to_string(i));
  p.Put("state/b", "up");
  p.Delete("state/b");
  p.Put("state/c", "up");
  ASSERT_TRUE(p.WaitWritten(Soon()));
  EXPECT_EQ(ValueOf("state/a"), "200");
  EXPECT_EQ(ValueOf("state/b"), std::nullopt);
  EXPECT_EQ(ValueOf("state/c"), "up");
  p.Delete("state/c");
  ASSERT_TRUE(p.WaitWritten(Soon()));
  EXPECT_EQ(ValueOf("state/c"), std::nullopt);
}

TEST_F(StatePublisherTest, MoreKeysThanOneTransactionHoldsAreAllWritten) {
  StatePublisher p(*store_, nullptr);
  const int n = static_cast<int>(StatePublisher::kMaxBatch) * 3 + 5;
  for (int i = 0; i < n; ++i) p.Put("many/" + std::to_string(i), "v" + std::to_string(i));
  ASSERT_TRUE(p.WaitWritten(Soon()));
  ASSERT_OK_AND_ASSIGN(auto kvs, store_->List("many/"));
  EXPECT_EQ(static_cast<int>(kvs.size()), n);
}

TEST_F(StatePublisherTest, PutsAreBoundToTheLeaseOfTheMoment) {
  ASSERT_OK_AND_ASSIGN(Lease lease, store_->GrantLease(60));
  std::atomic<int64_t> current{lease.id};
  StatePublisher p(*store_, [&current] { return current.load(); });
  p.Put("leased/brick", "{\"pid\":1}");
  ASSERT_TRUE(p.WaitWritten(Soon()));
  ASSERT_OK_AND_ASSIGN(auto kv, store_->Get("leased/brick"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, lease.id);
  ASSERT_OK(store_->RevokeLease(lease.id));
  EXPECT_EQ(ValueOf("leased/brick"), std::nullopt);
}

TEST_F(StatePublisherTest, AFailedWriteIsTriedAgainUntilItWorks) {
  // Between two session leases (0) nothing lease-bound is written; a lease etcd does not know
  // fails the write; both are tried again until a real lease is there.
  std::atomic<int64_t> lease{0};
  StatePublisher p(*store_, [&lease] { return lease.load(); });
  p.Put("retried/key", "x");
  auto brief = [] { return std::chrono::steady_clock::now() + std::chrono::milliseconds(300); };
  EXPECT_FALSE(p.WaitWritten(brief()));
  EXPECT_EQ(ValueOf("retried/key"), std::nullopt);
  lease = 0x7777;  // no such lease: etcd refuses the put
  EXPECT_FALSE(p.WaitWritten(brief()));
  EXPECT_EQ(ValueOf("retried/key"), std::nullopt);
  p.Put("retried/key", "y");  // a newer value replaces the one being retried
  ASSERT_OK_AND_ASSIGN(Lease real, store_->GrantLease(60));
  lease = real.id;
  ASSERT_TRUE(p.WaitWritten(Soon()));
  ASSERT_OK_AND_ASSIGN(auto kv, store_->Get("retried/key"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "y");
  EXPECT_EQ(kv->lease, real.id);
}

TEST_F(StatePublisherTest, StopGivesUpOnWritesThatFail) {
  StatePublisher p(*store_, [] { return int64_t{0}; });  // never a lease
  p.Put("never/key", "x");
  auto start = std::chrono::steady_clock::now();
  p.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(p.WaitWritten(Soon())) << "what Stop() dropped is not waited for";
  EXPECT_EQ(ValueOf("never/key"), std::nullopt);
}

TEST_F(StatePublisherTest, StopWritesWhatIsQueuedAndIgnoresLaterChanges) {
  StatePublisher p(*store_, nullptr);
  for (int i = 0; i < 100; ++i) p.Put("stop/" + std::to_string(i), "v");
  p.Stop();
  ASSERT_OK_AND_ASSIGN(auto kvs, store_->List("stop/"));
  EXPECT_EQ(kvs.size(), 100u);
  p.Put("stop/late", "v");
  p.Stop();  // idempotent
  EXPECT_TRUE(p.WaitWritten(Soon()));
  EXPECT_EQ(ValueOf("stop/late"), std::nullopt);
}

}  // namespace
}  // namespace gd2::store
