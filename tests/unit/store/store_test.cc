#include "store/store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/metrics.h"
#include "common/tls_ca.h"
#include "support/ports.h"
#include "support/status_matchers.h"
#include "unit/store/etcd_fixture.h"

namespace gd2::store {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

using StoreTest = EtcdTest;

TEST_F(StoreTest, PutGetListDelete) {
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> missing, store_->Get("t/a"));
  EXPECT_FALSE(missing.has_value());

  ASSERT_OK_AND_ASSIGN(int64_t rev1, store_->Put("t/a", "1"));
  ASSERT_OK_AND_ASSIGN(int64_t rev2, store_->Put("t/b", std::string("2\0x", 3)));
  ASSERT_OK_AND_ASSIGN(int64_t rev3, store_->Put("t/a", "11"));
  ASSERT_OK(store_->Put("u/c", "3"));
  EXPECT_LT(rev1, rev2);
  EXPECT_LT(rev2, rev3);

  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> a, store_->Get("t/a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->key, "t/a");
  EXPECT_EQ(a->value, "11");
  EXPECT_EQ(a->create_revision, rev1);
  EXPECT_EQ(a->mod_revision, rev3);
  EXPECT_EQ(a->version, 2);
  EXPECT_EQ(a->lease, 0);

  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> list, store_->List("t/"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].key, "t/a");
  EXPECT_EQ(list[1].key, "t/b");
  EXPECT_EQ(list[1].value, std::string("2\0x", 3));
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> limited, store_->List("t/", 1));
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0].key, "t/a");
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> all, store_->List(""));
  EXPECT_EQ(all.size(), 3u);

  ASSERT_OK_AND_ASSIGN(int64_t deleted, store_->Delete("t/a"));
  EXPECT_EQ(deleted, 1);
  ASSERT_OK_AND_ASSIGN(deleted, store_->Delete("t/a"));
  EXPECT_EQ(deleted, 0);
  ASSERT_OK(store_->Put("t/c", "4"));
  ASSERT_OK_AND_ASSIGN(deleted, store_->DeletePrefix("t/"));
  EXPECT_EQ(deleted, 2);
  ASSERT_OK_AND_ASSIGN(list, store_->List("t/"));
  EXPECT_TRUE(list.empty());
  ASSERT_OK_AND_ASSIGN(list, store_->List("u/"));
  EXPECT_EQ(list.size(), 1u);
}

TEST_F(StoreTest, TxnCompareSuccessAndFailure) {
  ASSERT_OK_AND_ASSIGN(int64_t rev, store_->Put("k", "v1"));

  ASSERT_OK_AND_ASSIGN(
      TxnResult ok,
      store_->Txn({Compare::ValueEquals("k", "v1"), Compare::ModRevisionEquals("k", rev),
                   Compare::CreateRevisionEquals("k", rev), Compare::VersionEquals("k", 1),
                   Compare::LeaseEquals("k", 0), Compare::KeyMissing("other")},
                  {Op::Put("k", "v2"), Op::Put("p/1", "a"), Op::Put("p/2", "b"), Op::Get("k"),
                   Op::GetPrefix("p/")},
                  {Op::Put("k", "else")}));
  EXPECT_TRUE(ok.succeeded);
  EXPECT_GT(ok.revision, rev);
  ASSERT_EQ(ok.results.size(), 5u);
  ASSERT_EQ(ok.results[3].kvs.size(), 1u);
  EXPECT_EQ(ok.results[3].kvs[0].value, "v2");
  ASSERT_EQ(ok.results[4].kvs.size(), 2u);
  EXPECT_EQ(ok.results[4].kvs[1].key, "p/2");

  ASSERT_OK_AND_ASSIGN(TxnResult failed,
                       store_->Txn({Compare::ValueEquals("k", "v1")}, {Op::Put("k", "then")},
                                   {Op::Get("k"), Op::DeletePrefix("p/"), Op::Delete("k")}));
  EXPECT_FALSE(failed.succeeded);
  ASSERT_EQ(failed.results.size(), 3u);
  EXPECT_EQ(failed.results[0].kvs.at(0).value, "v2");
  EXPECT_EQ(failed.results[1].deleted, 2);
  EXPECT_EQ(failed.results[2].deleted, 1);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> k, store_->Get("k"));
  EXPECT_FALSE(k.has_value());

  Compare newer = Compare::ModRevisionEquals("x", 0);
  newer.result = Compare::Result::kGreater;
  ASSERT_OK_AND_ASSIGN(TxnResult none, store_->Txn({newer}, {Op::Put("x", "1")}, {}));
  EXPECT_FALSE(none.succeeded);
  EXPECT_TRUE(none.results.empty());
  ASSERT_OK_AND_ASSIGN(TxnResult exists, store_->Txn({Compare::KeyExists("x")}, {}, {}));
  EXPECT_FALSE(exists.succeeded);
}

TEST_F(StoreTest, TxnRejectsTwoWritesOfOneKey) {
  EXPECT_THAT(store_->Txn({}, {Op::Put("d", "1"), Op::Put("d", "2")}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(StoreTest, LeaseGrantExpiryRevokeKeepAlive) {
  ASSERT_OK_AND_ASSIGN(Lease lease, store_->GrantLease(2));
  EXPECT_NE(lease.id, 0);
  EXPECT_GE(lease.ttl_seconds, 2);
  ASSERT_OK(store_->Put("leased", "x", lease.id));
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store_->Get("leased"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, lease.id);
  ASSERT_OK_AND_ASSIGN(int64_t ttl, store_->KeepAliveOnce(lease.id));
  EXPECT_GT(ttl, 0);

  // Without keepalives the key goes away with the lease.
  EXPECT_TRUE(WaitFor([&] {
    auto got = store_->Get("leased");
    return got.ok() && !got->has_value();
  }));
  EXPECT_THAT(store_->KeepAliveOnce(lease.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->RevokeLease(lease.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Put("leased", "x", lease.id), StatusIs(StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(Lease other, store_->GrantLease(60));
  ASSERT_OK(store_->Put("leased2", "y", other.id));
  ASSERT_OK(store_->RevokeLease(other.id));
  ASSERT_OK_AND_ASSIGN(kv, store_->Get("leased2"));
  EXPECT_FALSE(kv.has_value());
  EXPECT_THAT(store_->GrantLease(0), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(StoreTest, MemberListAndEndpointStatus) {
  ASSERT_OK_AND_ASSIGN(std::vector<Member> members, store_->MemberList());
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "test");
  ASSERT_EQ(members[0].client_urls.size(), 1u);
  EXPECT_EQ(members[0].client_urls[0], etcd_.endpoint());

  ASSERT_OK_AND_ASSIGN(EndpointStatus status, store_->EndpointStatus(etcd_.endpoint()));
  EXPECT_EQ(status.endpoint, etcd_.endpoint());
  EXPECT_TRUE(status.version.starts_with("3.")) << status.version;
  EXPECT_EQ(status.member_id, members[0].id);
  EXPECT_EQ(status.leader, members[0].id);
  EXPECT_GT(status.raft_index, 0u);
  EXPECT_GT(status.db_size, 0);

  std::string dead = "127.0.0.1:" + std::to_string(gd2::testing::FreePort());
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(store_->EndpointStatus(dead), StatusIs(StatusCode::kUnavailable));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(StoreTest, RecordsMetrics) {
  metrics::Registry& reg = metrics::Default();
  metrics::Histogram& puts =
      reg.GetHistogram("gd2_etcd_request_duration_seconds", "", {{"op", "put"}});
  metrics::Counter& lease_errors =
      reg.GetCounter("gd2_etcd_request_errors_total", "", {{"op", "lease_revoke"}});
  uint64_t puts_before = puts.Take().count;
  double errors_before = lease_errors.value();
  ASSERT_OK(store_->Put("m", "1"));
  ASSERT_OK(store_->Put("m", "2"));
  EXPECT_FALSE(store_->RevokeLease(12345).ok());
  EXPECT_EQ(puts.Take().count, puts_before + 2);
  EXPECT_EQ(lease_errors.value(), errors_before + 1);
}

TEST_F(StoreTest, SkipsDeadEndpoint) {
  Options o = MakeOptions();
  o.endpoints = {"https://127.0.0.1:" + std::to_string(gd2::testing::FreePort()), etcd_.endpoint()};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Connect(o));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store->Put("rr", std::to_string(i)));
  }
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, store->Get("rr"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "4");
}

TEST_F(StoreTest, UnavailableWhileEtcdDownThenRecovers) {
  etcd_.Kill();
  auto got = store_->Get("x");
  // Refused connections make it "unreachable"; a reconnect attempt that the request's deadline
  // cuts short, with no refusal seen first (rare, seen under ASan), makes it a timeout. Either
  // names the endpoint.
  ASSERT_FALSE(got.ok());
  if (got.status().code() == StatusCode::kDeadlineExceeded) {
    EXPECT_THAT(got.status().message(), HasSubstr("etcd request timed out"));
  } else {
    EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable));
    EXPECT_THAT(got.status().message(), HasSubstr("etcd unreachable"));
  }
  EXPECT_THAT(got.status().message(), HasSubstr(etcd_.endpoint()));
  etcd_.Start();
  EXPECT_TRUE(WaitForStore());
}

TEST_F(StoreTest, RefusesAnswersFromAnotherCluster) {
  // A second, unrelated etcd cluster at an address the store also dials: what a removed
  // member's address serves once that peer started a cluster of its own.
  gd2::testing::EtcdProcess other;
  other.Start();
  ASSERT_OK_AND_ASSIGN(uint64_t ours, store_->ClusterId());
  Options o = MakeOptions();
  o.endpoints = {etcd_.endpoint(), other.endpoint()};
  o.cluster_id = ours;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> both, Store::Connect(o));
  // Round robin sends about half of these to the other cluster; each is refused there and
  // sent again, so all land in ours.
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(both->Put("k" + std::to_string(i), "v"));
    ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, both->Get("k" + std::to_string(i)));
    EXPECT_TRUE(kv.has_value()) << i;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<KeyValue> mine, store_->List("k"));
  EXPECT_EQ(mine.size(), 20u);
  Options only_other = MakeOptions();
  only_other.endpoints = {other.endpoint()};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> theirs, Store::Connect(only_other));
  ASSERT_OK_AND_ASSIGN(uint64_t their_id, theirs->ClusterId());
  EXPECT_NE(their_id, ours);
  // (Puts that were refused may have landed there; reads of ours never came from there.)
  // A store that only reaches the other cluster fails instead of answering from it.
  Options wrong = MakeOptions();
  wrong.endpoints = {other.endpoint()};
  wrong.cluster_id = ours;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> lost, Store::Connect(wrong));
  auto got = lost->Get("k0");
  EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(got.status().message(), HasSubstr("another etcd cluster"));
}

TEST_F(StoreTest, SetEndpointsMovesCallsToTheNewMembers) {
  // The store starts on a dead endpoint and our etcd, then drops the dead one.
  Options o = MakeOptions();
  std::string dead = "https://127.0.0.1:" + std::to_string(gd2::testing::FreePort());
  o.endpoints = {etcd_.endpoint(), dead};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> s, Store::Connect(o));
  ASSERT_OK(s->SetEndpoints({etcd_.endpoint()}));
  EXPECT_EQ(s->endpoints(), std::vector<std::string>{etcd_.endpoint()});
  ASSERT_OK(s->Put("moved", "1"));
  EXPECT_THAT(s->SetEndpoints({}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s->SetEndpoints({"ftp://x:1"}), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, s->Get("moved"));
  ASSERT_TRUE(kv.has_value());
}

// A store whose every call fails: either Connect refuses, or the handshake fails at the first
// call (with TLS 1.3 a client learns that its certificate was refused only then).
void ExpectRefused(Options o, const std::string& what) {
  o.dial_timeout = std::chrono::seconds(2);
  o.request_timeout = std::chrono::seconds(2);
  StatusOr<std::unique_ptr<Store>> s = Store::Connect(o);
  if (!s.ok()) {
    EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable)) << what;
    return;
  }
  StatusOr<std::optional<KeyValue>> got = (*s)->Get("tls/secret");
  EXPECT_FALSE(got.ok()) << what << " read the store";
  EXPECT_FALSE((*s)->Put("tls/secret", "overwritten").ok()) << what << " wrote the store";
}

TEST_F(StoreTest, EtcdAdmitsOnlyClientsWithACertificateOfItsCa) {
  ASSERT_OK(store_->Put("tls/secret", "s3cret"));

  Options no_cert = MakeOptions();
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  ExpectRefused(no_cert, "a client without a certificate");

  Options plain = MakeOptions();
  plain.endpoints = {"http://" + etcd_.host_port()};
  ExpectRefused(plain, "a plaintext client");

  ASSERT_OK_AND_ASSIGN(tls::CertAndKey other_ca, tls::NewCa("gd2-other"));
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey foreign,
                       tls::IssueCert(other_ca, "intruder", {"127.0.0.1"}));
  Options stranger = MakeOptions();
  stranger.cert_file.clear();
  stranger.key_file.clear();
  stranger.cert_pem = foreign.cert_pem;
  stranger.key_pem = foreign.key_pem;
  ExpectRefused(stranger, "a client with another CA's certificate");

  // The client checks the server too: a name etcd's certificate does not carry is refused.
  Options wrong_name = MakeOptions();
  wrong_name.tls_server_name = "other.glusterd2.invalid";
  ExpectRefused(wrong_name, "a client expecting another server name");

  // The same certificate as PEM text works like the files, and nothing above changed the key.
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey mine,
                       tls::IssueCert(gd2::testing::TestCa(), "client", {"127.0.0.1"}));
  Options pem = MakeOptions();
  pem.ca_file.clear();
  pem.cert_file.clear();
  pem.key_file.clear();
  pem.ca_pem = gd2::testing::TestCa().cert_pem;
  pem.cert_pem = mine.cert_pem;
  pem.key_pem = mine.key_pem;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> via_pem, Store::Connect(pem));
  ASSERT_OK_AND_ASSIGN(std::optional<KeyValue> kv, via_pem->Get("tls/secret"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "s3cret");
}

TEST(StoreConnectTest, DeadEndpointFailsQuickly) {
  Options o;
  o.endpoints = {"http://127.0.0.1:" + std::to_string(gd2::testing::FreePort())};
  o.dial_timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto store = Store::Connect(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_THAT(store, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), HasSubstr("etcd unreachable"));
  EXPECT_THAT(store.status().message(), HasSubstr(o.endpoints[0]));
}

}  // namespace
}  // namespace gd2::store
