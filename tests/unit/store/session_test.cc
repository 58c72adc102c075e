#include "store/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using SessionTest = EtcdTest;

// Records every lease handed to on_new_lease and re-puts a liveness key there, as the daemon
// does.
struct LeaseLog {
  explicit LeaseLog(Store* s) : store(s) {}
  Store* store;
  std::mutex mu;
  std::vector<int64_t> leases;
  std::vector<Status> put_results;

  SessionOptions Options(std::chrono::seconds ttl) {
    SessionOptions o;
    o.ttl = ttl;
    o.on_new_lease = [this](int64_t lease) {
      Status put = store->Put("alive/me", "1", lease).status();
      std::lock_guard<std::mutex> lock(mu);
      leases.push_back(lease);
      put_results.push_back(put);
      return put;
    };
    return o;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return leases.size();
  }
};

TEST_F(SessionTest, KeepAliveKeepsKeyAndStopRevokes) {
  LeaseLog log(store_.get());
  Session session(*store_, log.Options(std::chrono::seconds(2)));
  ASSERT_OK(session.Start());
  ASSERT_EQ(log.count(), 1u);
  int64_t lease = session.lease_id();
  EXPECT_NE(lease, 0);
  EXPECT_EQ(log.leases[0], lease);
  EXPECT_OK(log.put_results[0]);
  EXPECT_THAT(session.Start(), gd2::testing::StatusIs(StatusCode::kFailedPrecondition));

  // For more than two TTLs the key stays: keepalives work. (An observation window, not a
  // wait for a condition.)
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(4500);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> alive, store_->Get("alive/me"));
    ASSERT_TRUE(alive.has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("alive/me"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, lease);
  EXPECT_EQ(session.lease_id(), lease);
  EXPECT_EQ(log.count(), 1u);

  session.Stop();
  EXPECT_EQ(session.lease_id(), 0);
  ASSERT_OK_AND_ASSIGN(kv, store_->Get("alive/me"));
  EXPECT_FALSE(kv.has_value());
  session.Stop();  // idempotent
}

TEST_F(SessionTest, RecoversAfterEtcdRestart) {
  LeaseLog log(store_.get());
  Session session(*store_, log.Options(std::chrono::seconds(2)));
  ASSERT_OK(session.Start());
  int64_t first = session.lease_id();
  ASSERT_NE(first, 0);

  etcd_.Kill();
  // Unreachable for a whole TTL: the session gives the lease up.
  EXPECT_TRUE(WaitFor([&] { return session.lease_id() == 0; }));
  etcd_.Start();
  ASSERT_TRUE(WaitFor([&] { return log.count() >= 2; }, std::chrono::seconds(15)));
  int64_t second = session.lease_id();
  EXPECT_NE(second, 0);
  EXPECT_NE(second, first);
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_EQ(log.leases[1], second);
    EXPECT_OK(log.put_results[1]);
  }
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("alive/me"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, second);
  // The old lease was revoked rather than left to linger.
  EXPECT_THAT(store_->KeepAliveOnce(first), gd2::testing::StatusIs(StatusCode::kNotFound));
}

TEST_F(SessionTest, RegrantsWhenLeaseRevokedBehindItsBack) {
  LeaseLog log(store_.get());
  Session session(*store_, log.Options(std::chrono::seconds(3)));
  ASSERT_OK(session.Start());
  int64_t first = session.lease_id();
  ASSERT_OK(store_->RevokeLease(first));
  ASSERT_TRUE(WaitFor([&] { return log.count() >= 2; }));
  EXPECT_NE(session.lease_id(), first);
  EXPECT_NE(session.lease_id(), 0);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("alive/me"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, session.lease_id());
}

// When the owner cannot write its keys on a new lease, the session asks it again, while the
// lease lives, until it can (before, one failure left a peer offline until its next lease).
TEST_F(SessionTest, KeysThatCouldNotBeWrittenAreWrittenLater) {
  std::atomic<int> calls{0};
  SessionOptions o;
  o.ttl = std::chrono::seconds(10);
  o.on_new_lease = [&](int64_t lease) -> Status {
    if (++calls <= 3) return UnavailableError("etcd did not answer (test)");
    return store_->Put("alive/me", "1", lease).status();
  };
  Session session(*store_, o);
  ASSERT_OK(session.Start());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto kv = store_->Get("alive/me");
        return kv.ok() && kv->has_value();
      },
      std::chrono::seconds(5)));
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("alive/me"));
  EXPECT_EQ(kv->lease, session.lease_id());
  EXPECT_EQ(calls.load(), 4);
}

// A key its owner could not delete (etcd was down) is deleted by the session once etcd answers,
// with the lease kept; a key of another lease is not the session's to delete.
TEST_F(SessionTest, DeleteLaterDeletesOnceEtcdAnswers) {
  Session session(*store_, SessionOptions{});  // a 10 s TTL outlives the outage
  ASSERT_OK(session.Start());
  int64_t lease = session.lease_id();
  ASSERT_OK(store_->Put("lock/mine", "", lease).status());
  ASSERT_OK_AND_ASSIGN(Lease other, store_->GrantLease(60));
  ASSERT_OK(store_->Put("lock/other", "", other.id).status());
  etcd_.Kill();
  session.DeleteLater("lock/mine", lease);
  session.DeleteLater("lock/other", other.id);
  // Tries that etcd does not answer (an observation window, not a wait for a condition).
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  etcd_.Start();
  ASSERT_TRUE(WaitForStore());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto kv = store_->Get("lock/mine");
        return kv.ok() && !kv->has_value();
      },
      std::chrono::seconds(8)))
      << "the session did not delete the key";
  EXPECT_EQ(session.lease_id(), lease) << "the lease was lost: the key went with it";
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("lock/other"));
  EXPECT_TRUE(kv.has_value());
}

TEST_F(SessionTest, StartFailsWhenEtcdDown) {
  etcd_.Kill();
  Session session(*store_, SessionOptions{});
  EXPECT_THAT(session.Start(), gd2::testing::StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(session.lease_id(), 0);
}

}  // namespace
}  // namespace gd2::store
