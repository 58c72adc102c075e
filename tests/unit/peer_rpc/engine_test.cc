// End to end: txn::Engine on "peer A" runs steps on "peer B" through RemoteStepRunner and the
// peer RPC, and undoes them there when a later step fails. Real etcd, both peers in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "peer_rpc/client.h"
#include "peer_rpc/local_step.h"
#include "peer_rpc/remote_step_runner.h"
#include "peer_rpc/server.h"
#include "store/keys.h"
#include "store/lock.h"
#include "store/session.h"
#include "store/store.h"
#include "support/etcd_process.h"
#include "support/status_matchers.h"
#include "txn/engine.h"

namespace gd2::peer_rpc {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kSecret[] = "engine-test-secret";

// What each step did on one peer, in order: "do:<name>" / "undo:<name>", plus the txn ids seen.
class Journal {
 public:
  void Add(const std::string& entry, const std::string& txn_id) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(entry);
    txn_ids_.push_back(txn_id);
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }
  std::vector<std::string> txn_ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return txn_ids_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> entries_;
  std::vector<std::string> txn_ids_;
};

void AddSteps(txn::StepRegistry& registry, Journal& journal) {
  registry.Add(
      "test.record",
      [&journal](txn::StepContext& ctx, const nlohmann::json& args) {
        journal.Add("do:" + args.at("name").get<std::string>(), ctx.txn_id);
        return OkStatus();
      },
      [&journal](txn::StepContext& ctx, const nlohmann::json& args) {
        journal.Add("undo:" + args.at("name").get<std::string>(), ctx.txn_id);
        return OkStatus();
      });
  registry.Add(
      "test.fail",
      [](txn::StepContext&, const nlohmann::json&) {
        return NotFoundError("brick path missing: path=/b1");
      },
      nullptr);
}

// Peer B's side, as the daemon wires it: the peer RPC handler forwards steps to its registry.
class RegistryHandler : public Handler {
 public:
  explicit RegistryHandler(const txn::StepRegistry& registry) : registry_(registry) {}
  Status RunStep(const StepCall& call) override {
    return RunLocalStep(registry_, call, log::Root());
  }
  StatusOr<JoinResult> Join(const JoinCall&) override {
    return FailedPreconditionError("peer already belongs to a cluster");
  }
  Status Leave(const LeaveCall&) override { return OkStatus(); }
  PeerIdentity Identity() override { return {"peer-b", "cluster"}; }

 private:
  const txn::StepRegistry& registry_;
};

class RemoteEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_.Start();
    store::Options so;
    so.endpoints = {etcd_.endpoint()};
    so.ca_file = etcd_.ca_file();
    so.cert_file = etcd_.cert_file();
    so.key_file = etcd_.key_file();
    auto store = store::Store::Connect(so);
    ASSERT_OK(store);
    store_ = std::move(store).value();
    session_ = std::make_unique<store::Session>(*store_, store::SessionOptions{});
    ASSERT_OK(session_->Start());

    AddSteps(registry_a_, journal_a_);
    AddSteps(registry_b_, journal_b_);

    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.secret = [] { return std::string(kSecret); };
    server_b_ = std::make_unique<Server>(std::move(o), handler_b_);
    ASSERT_OK(server_b_->Start());
    address_b_ = "127.0.0.1:" + std::to_string(server_b_->port());

    ClientOptions co;
    co.secret = [] { return std::string(kSecret); };
    co.dial_timeout = 2s;
    client_ = std::make_unique<Client>(std::move(co));
    runner_ = std::make_unique<RemoteStepRunner>(
        *client_,
        [this](const std::string& peer_id) -> StatusOr<std::string> {
          if (peer_id == "peer-b") return address_b_;
          return NotFoundError("peer not found: peer_id=" + peer_id);
        },
        "peer-a", 10s);
    engine_ = std::make_unique<txn::Engine>(*store_, *session_, keys_, registry_a_, "peer-a",
                                            runner_.get());
  }

  void TearDown() override {
    engine_.reset();
    if (server_b_) server_b_->Stop();
    if (session_) session_->Stop();
  }

  static txn::Step Record(std::string name, std::vector<std::string> peers) {
    return txn::Step{"test.record", {{"name", std::move(name)}}, std::move(peers)};
  }
  static txn::Step Fail(std::vector<std::string> peers) {
    return txn::Step{"test.fail", nlohmann::json::object(), std::move(peers)};
  }

  gd2::testing::EtcdProcess etcd_;
  store::KeySpace keys_{NewUuid()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Session> session_;
  Journal journal_a_;
  Journal journal_b_;
  txn::StepRegistry registry_a_;
  txn::StepRegistry registry_b_;
  RegistryHandler handler_b_{registry_b_};
  std::unique_ptr<Server> server_b_;
  std::string address_b_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<RemoteStepRunner> runner_;
  std::unique_ptr<txn::Engine> engine_;
};

TEST_F(RemoteEngineTest, StepsRunOnBothPeersWithTheSameTxnId) {
  txn::Txn t;
  t.description = "two peers";
  t.locks = {"vol-1"};
  t.steps = {Record("s1", {"peer-a", "peer-b"})};
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1"));
  ASSERT_EQ(journal_b_.txn_ids().size(), 1u);
  EXPECT_EQ(journal_b_.txn_ids()[0], journal_a_.txn_ids()[0]);
}

TEST_F(RemoteEngineTest, LocalFailureUndoesTheRemoteStep) {
  txn::Txn t;
  t.description = "remote then failing local";
  t.steps = {Record("s1", {"peer-b"}), Fail({"peer-a"})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1", "undo:s1"));
  std::vector<std::string> ids = journal_b_.txn_ids();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], ids[1]);
}

TEST_F(RemoteEngineTest, RemoteFailureKeepsItsCodeAndUndoesLocalWork) {
  txn::Txn t;
  t.description = "local then failing remote";
  t.steps = {Record("s1", {"peer-a"}), Fail({"peer-b"})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s.message(), HasSubstr("failed on peer peer-b"));
  EXPECT_THAT(s.message(), HasSubstr("brick path missing: path=/b1"));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
}

TEST_F(RemoteEngineTest, UnreachablePeerFailsTheTransaction) {
  server_b_->Stop();
  txn::Txn t;
  t.description = "peer b down";
  t.steps = {Record("s1", {"peer-a"}), Record("s2", {"peer-b"})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("peer unreachable"));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
  EXPECT_TRUE(journal_b_.entries().empty());
}

TEST_F(RemoteEngineTest, TakeOverRollsBackOnlyDeadInitiatorsTransactions) {
  // Progress records as initiators leave them when they crash after their first step: one of
  // "peer-x", which is dead (no liveness key), one of "peer-y", which is alive.
  auto record = [](const std::string& id, const std::string& initiator) {
    return nlohmann::json{{"id", id},
                          {"initiator", initiator},
                          {"description", "volume create v-" + id},
                          {"locks", {"volume.v-" + id}},
                          {"steps", {{{"name", "test.record"},
                                      {"args", {{"name", id}}},
                                      {"peers", {"peer-a", "peer-b"}}}}},
                          {"started", 1}}
        .dump();
  };
  ASSERT_OK_AND_ASSIGN(std::string dead_key, keys_.Txn("dead1"));
  ASSERT_OK_AND_ASSIGN(std::string live_key, keys_.Txn("live1"));
  ASSERT_OK(store_->Put(dead_key, record("dead1", "peer-x")).status());
  ASSERT_OK(store_->Put(live_key, record("live1", "peer-y")).status());
  ASSERT_OK_AND_ASSIGN(std::string alive_y, keys_.Alive("peer-y"));
  ASSERT_OK(store_->Put(alive_y, "{}", session_->lease_id()).status());

  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  // Undone on both peers of the step, under the dead transaction's id; the record is gone.
  EXPECT_THAT(journal_a_.entries(), ElementsAre("undo:dead1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("undo:dead1"));
  EXPECT_THAT(journal_b_.txn_ids(), ElementsAre("dead1"));
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> gone, store_->Get(dead_key));
  EXPECT_FALSE(gone.has_value());
  // The live initiator's transaction is left to it.
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> kept, store_->Get(live_key));
  EXPECT_TRUE(kept.has_value());
  // A second pass finds nothing more to do.
  ASSERT_OK_AND_ASSIGN(int again, engine_->TakeOver(log::Root()));
  EXPECT_EQ(again, 0);
}

TEST_F(RemoteEngineTest, TakeOverWaitsWhileTheTransactionsLocksAreHeld) {
  // A dead initiator's record whose lock someone still holds (its lease has not expired):
  // left alone until the lock is free.
  ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn("held1"));
  ASSERT_OK(store_->Put(key, nlohmann::json{{"id", "held1"},
                                            {"initiator", "peer-x"},
                                            {"locks", {"volume.held"}},
                                            {"steps", {{{"name", "test.record"},
                                                        {"args", {{"name", "held1"}}},
                                                        {"peers", {"peer-a"}}}}},
                                            {"started", 1}}
                                 .dump())
                .status());
  store::Session other(*store_, store::SessionOptions{});
  ASSERT_OK(other.Start());
  ASSERT_OK_AND_ASSIGN(store::LockGuard held,
                       store::Lock::Acquire(*store_, other, keys_, "volume.held", 2s));
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(journal_a_.entries().empty());
  ASSERT_OK(held.Release());
  ASSERT_OK_AND_ASSIGN(int later, engine_->TakeOver(log::Root()));
  EXPECT_EQ(later, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("undo:held1"));
  other.Stop();
}

}  // namespace
}  // namespace gd2::peer_rpc
