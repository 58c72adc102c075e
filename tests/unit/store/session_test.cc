#include "store/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
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

TEST_F(SessionTest, StartFailsWhenEtcdDown) {
  etcd_.Kill();
  Session session(*store_, SessionOptions{});
  EXPECT_THAT(session.Start(), gd2::testing::StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(session.lease_id(), 0);
}

}  // namespace
}  // namespace gd2::store
