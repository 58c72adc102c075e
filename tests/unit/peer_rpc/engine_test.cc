// End to end: txn::Engine on "peer A" runs steps on "peer B" through RemoteStepRunner and the
// peer RPC, and undoes them there when a later step fails. Real etcd, both peers in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
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
#include "txn/quarantine.h"
#include "txn/record.h"

namespace gd2::peer_rpc {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kSecret[] = "engine-test-secret";
// Peer ids are UUIDs: transaction records naming anything else are refused.
const std::string kPeerA = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kPeerB = "bbbbbbbb-0000-4000-8000-000000000002";
const std::string kPeerX = "cccccccc-0000-4000-8000-000000000003";
const std::string kPeerY = "dddddddd-0000-4000-8000-000000000004";

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

// test.record's arguments. Its decoder reads with json::at/get, which throw on a wrong type:
// the registry turns that into bad arguments.
struct NameArgs {
  std::string name;
};
nlohmann::json EncodeStepArgs(const NameArgs& a) { return {{"name", a.name}}; }
Status DecodeStepArgs(const nlohmann::json& j, NameArgs* a) {
  a->name = j.at("name").get<std::string>();
  return OkStatus();
}
constexpr txn::StepId<NameArgs> kRecordStep{"test.record"};
constexpr txn::StepId<txn::NoArgs> kFlakyUndoStep{"test.flaky-undo"};
constexpr txn::StepId<txn::NoArgs> kFlakyDoStep{"test.flaky-do"};
constexpr txn::StepId<txn::NoArgs> kFailStep{"test.fail"};
constexpr txn::StepId<txn::NoArgs> kThrowStep{"test.throw"};

// A step with arguments of several types, to see them cross the peer RPC intact.
struct BricksArgs {
  std::string volume;
  std::vector<std::string> paths;
  int replica = 0;
  bool force = false;
};
nlohmann::json EncodeStepArgs(const BricksArgs& a) {
  return {{"volume", a.volume}, {"paths", a.paths}, {"replica", a.replica}, {"force", a.force}};
}
Status DecodeStepArgs(const nlohmann::json& j, BricksArgs* a) {
  a->volume = j.at("volume").get<std::string>();
  a->paths = j.at("paths").get<std::vector<std::string>>();
  a->replica = j.at("replica").get<int>();
  a->force = j.at("force").get<bool>();
  return OkStatus();
}
constexpr txn::StepId<BricksArgs> kBricksStep{"test.bricks"};

void AddSteps(txn::StepRegistry& registry, Journal& journal, int* undo_failures_left,
              int* do_failures_left) {
  // Its do fails while *do_failures_left > 0 (a finish step that cannot clean up yet).
  registry.Add(
      kFlakyDoStep,
      [&journal, do_failures_left](txn::StepContext& ctx, const txn::NoArgs&) {
        if (*do_failures_left > 0) {
          --*do_failures_left;
          return InternalError("cannot clean up yet");
        }
        journal.Add("do:flaky-do", ctx.txn_id);
        return OkStatus();
      },
      nullptr);
  // Its undo fails while *undo_failures_left > 0 (a brick that cannot be cleaned up yet).
  registry.Add(
      kFlakyUndoStep,
      [&journal](txn::StepContext& ctx, const txn::NoArgs&) {
        journal.Add("do:flaky", ctx.txn_id);
        return OkStatus();
      },
      [&journal, undo_failures_left](txn::StepContext& ctx, const txn::NoArgs&) {
        if (*undo_failures_left > 0) {
          --*undo_failures_left;
          return InternalError("cannot clean up yet");
        }
        journal.Add("undo:flaky", ctx.txn_id);
        return OkStatus();
      });
  registry.Add(
      kRecordStep,
      [&journal](txn::StepContext& ctx, const NameArgs& args) {
        journal.Add("do:" + args.name, ctx.txn_id);
        return OkStatus();
      },
      [&journal](txn::StepContext& ctx, const NameArgs& args) {
        journal.Add("undo:" + args.name, ctx.txn_id);
        return OkStatus();
      });
  registry.Add(
      kThrowStep,
      [](txn::StepContext&, const txn::NoArgs&) -> Status { throw std::runtime_error("boom"); },
      nullptr);
  // Journals what it received: the decoded arguments and the context's request id and deadline.
  registry.Add(
      kBricksStep,
      [&journal](txn::StepContext& ctx, const BricksArgs& a) {
        std::string paths;
        for (const auto& p : a.paths) paths += p + ",";
        // The engine's step timeout here, the runner's 10 s (carried as the gRPC deadline) there.
        bool bounded = ctx.deadline <= std::chrono::steady_clock::now() + txn::Engine::kStepTimeout;
        journal.Add("bricks:" + a.volume + ":" + paths + std::to_string(a.replica) + ":" +
                        (a.force ? "force" : "no-force") + ":req=" + ctx.req_id +
                        (bounded ? ":deadline" : ":no-deadline"),
                    ctx.txn_id);
        return OkStatus();
      },
      nullptr);
  registry.Add(
      kFailStep,
      [](txn::StepContext&, const txn::NoArgs&) {
        return NotFoundError("brick path missing: path=/b1");
      },
      nullptr);
  registry.AllowAsFinish(kRecordStep);
  registry.AllowAsFinish(kFlakyDoStep);
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
  PeerIdentity Identity() override { return {kPeerB, "cluster"}; }

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

    AddSteps(registry_a_, journal_a_, &undo_failures_a_, &do_failures_a_);
    AddSteps(registry_b_, journal_b_, &undo_failures_b_, &do_failures_b_);

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
          if (peer_id == kPeerB) return address_b_;
          return NotFoundError("peer not found: peer_id=" + peer_id);
        },
        kPeerA, 10s);
    engine_ = std::make_unique<txn::Engine>(*store_, *session_, keys_, registry_a_, kPeerA,
                                            runner_.get());
  }

  void TearDown() override {
    engine_.reset();
    if (server_b_) server_b_->Stop();
    if (session_) session_->Stop();
  }

  static txn::Step Record(std::string name, std::vector<std::string> peers) {
    return txn::MakeStep(kRecordStep, NameArgs{std::move(name)}, std::move(peers));
  }
  static txn::Step Fail(std::vector<std::string> peers) {
    return txn::MakeStep(kFailStep, txn::NoArgs{}, std::move(peers));
  }

  gd2::testing::EtcdProcess etcd_;
  store::KeySpace keys_{NewUuid()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Session> session_;
  Journal journal_a_;
  Journal journal_b_;
  int undo_failures_a_ = 0;
  int undo_failures_b_ = 0;
  int do_failures_a_ = 0;
  int do_failures_b_ = 0;
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
  t.steps = {Record("s1", {kPeerA, kPeerB})};
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1"));
  ASSERT_EQ(journal_b_.txn_ids().size(), 1u);
  EXPECT_EQ(journal_b_.txn_ids()[0], journal_a_.txn_ids()[0]);
}

TEST_F(RemoteEngineTest, LocalFailureUndoesTheRemoteStep) {
  txn::Txn t;
  t.description = "remote then failing local";
  t.steps = {Record("s1", {kPeerB}), Fail({kPeerA})};
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
  t.steps = {Record("s1", {kPeerA}), Fail({kPeerB})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s.message(), HasSubstr("failed on peer " + kPeerB));
  EXPECT_THAT(s.message(), HasSubstr("brick path missing: path=/b1"));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
}

TEST_F(RemoteEngineTest, UnreachablePeerFailsTheTransaction) {
  server_b_->Stop();
  txn::Txn t;
  t.description = "peer b down";
  t.steps = {Record("s1", {kPeerA}), Record("s2", {kPeerB})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("peer unreachable"));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
  EXPECT_TRUE(journal_b_.entries().empty());
}

TEST_F(RemoteEngineTest, TakeOverRollsBackOnlyDeadInitiatorsTransactions) {
  // Progress records as initiators leave them when they crash after their first step: one of
  // peer X, which is dead (no liveness key), one of peer Y, which is alive.
  auto record = [](const std::string& id, const std::string& initiator) {
    return nlohmann::json{{"id", id},
                          {"initiator", initiator},
                          {"description", "volume create v-" + id},
                          {"locks", {"volume.v-" + id}},
                          {"steps", {{{"name", "test.record"},
                                      {"args", {{"name", id}}},
                                      {"peers", {kPeerA, kPeerB}}}}},
                          {"started", 1}}
        .dump();
  };
  ASSERT_OK_AND_ASSIGN(std::string dead_key, keys_.Txn("dead1"));
  ASSERT_OK_AND_ASSIGN(std::string live_key, keys_.Txn("live1"));
  ASSERT_OK(store_->Put(dead_key, record("dead1", kPeerX)).status());
  ASSERT_OK(store_->Put(live_key, record("live1", kPeerY)).status());
  ASSERT_OK_AND_ASSIGN(std::string alive_y, keys_.Alive(kPeerY));
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
                                            {"initiator", kPeerX},
                                            {"locks", {"volume.held"}},
                                            {"steps", {{{"name", "test.record"},
                                                        {"args", {{"name", "held1"}}},
                                                        {"peers", {kPeerA}}}}},
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

TEST_F(RemoteEngineTest, AStepArgumentOfTheWrongTypeIsRefusedNotThrown) {
  // test.record reads args["name"] with json::get<std::string>: a number throws inside it.
  for (const std::string& peer : {kPeerA, kPeerB}) {
    txn::Txn t;
    t.description = "wrong type on " + peer;
    t.steps = {txn::Step{"test.record", {{"name", 42}}, {peer}}};
    Status s = engine_->Run(std::move(t), log::Root());
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_TRUE(txn::IsBadArguments(s)) << s.ToString();
  }
}

TEST_F(RemoteEngineTest, ATypedStepRoundTripsThroughThePeerRpc) {
  txn::Txn t;
  t.description = "typed";
  t.req_id = "req-typed-1";
  t.steps = {
      txn::MakeStep(kBricksStep, BricksArgs{"v1", {"/b/1", "/b/2"}, 3, true}, {kPeerA, kPeerB})};
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  // Peer B decoded exactly what A encoded, with the request id and a deadline.
  EXPECT_THAT(journal_b_.entries(),
              ElementsAre("bricks:v1:/b/1,/b/2,3:force:req=req-typed-1:deadline"));
  EXPECT_THAT(journal_a_.entries(),
              ElementsAre("bricks:v1:/b/1,/b/2,3:force:req=req-typed-1:deadline"));
  EXPECT_EQ(journal_a_.txn_ids(), journal_b_.txn_ids());
}

TEST_F(RemoteEngineTest, APerPeerStepSendsEachPeerItsOwnArgumentsAndUndoesEachPart) {
  // Each peer its own bricks, in one step that runs on both at once; the next step fails, so
  // each undoes its own part.
  txn::Txn t;
  t.req_id = "req-own";
  t.steps = {txn::MakePerPeerStep(kRecordStep,
                                  std::map<std::string, NameArgs>{{kPeerA, NameArgs{"a-part"}},
                                                                  {kPeerB, NameArgs{"b-part"}}}),
             Fail({kPeerB})};
  EXPECT_THAT(engine_->Run(std::move(t), log::Root()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:a-part", "undo:a-part"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:b-part", "undo:b-part"));
}

TEST_F(RemoteEngineTest, TakeOverUndoesEachPeersOwnPartOfAPerPeerStep) {
  // A dead initiator's record with a per-peer step: peer B's entry replaces the shared `args`,
  // peer A (no entry) undoes with them.
  ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn("own1"));
  ASSERT_OK(store_
                ->Put(key, nlohmann::json{{"id", "own1"},
                                          {"initiator", kPeerX},
                                          {"locks", {"volume.own"}},
                                          {"steps",
                                           {{{"name", "test.record"},
                                             {"args", {{"name", "shared"}}},
                                             {"peers", {kPeerA, kPeerB}},
                                             {"peer_args", {{kPeerB, {{"name", "b-only"}}}}}}}},
                                          {"started", 1}}
                               .dump())
                .status());
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("undo:shared"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("undo:b-only"));
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> gone, store_->Get(key));
  EXPECT_FALSE(gone.has_value());
}

TEST_F(RemoteEngineTest, AStepThatThrowsFailsCleanlyLocallyAndRemotely) {
  for (const std::string& peer : {kPeerA, kPeerB}) {
    txn::Txn t;
    t.description = "throws on " + peer;
    t.steps = {Record("before", {kPeerA, kPeerB}),
               txn::MakeStep(kThrowStep, txn::NoArgs{}, {peer})};
    Status s = engine_->Run(std::move(t), log::Root());
    EXPECT_THAT(s, StatusIs(StatusCode::kInternal)) << peer;
    EXPECT_THAT(s.message(), HasSubstr("step=test.throw"));
    EXPECT_THAT(s.message(), HasSubstr("boom"));
    EXPECT_FALSE(txn::IsBadArguments(s));
  }
  // The step before it was undone on both peers both times; the peer B server still answers.
  EXPECT_THAT(journal_a_.entries(),
              ElementsAre("do:before", "undo:before", "do:before", "undo:before"));
  EXPECT_THAT(journal_b_.entries(),
              ElementsAre("do:before", "undo:before", "do:before", "undo:before"));
}

TEST_F(RemoteEngineTest, WhenOnePeerFailsAnotherPeersPartIsToldToStopAndUndoneAfterItEnds) {
  static constexpr txn::StepId<txn::NoArgs> kSlowOrFail{"test.slow-or-fail"};
  auto began_on_b = [this] { return !journal_b_.entries().empty(); };
  // Peer A fails once peer B's part is under way.
  registry_a_.Add(
      kSlowOrFail,
      [&](txn::StepContext&, const txn::NoArgs&) {
        for (auto until = std::chrono::steady_clock::now() + 10s;
             !began_on_b() && std::chrono::steady_clock::now() < until;) {
          std::this_thread::sleep_for(5ms);
        }
        return NotFoundError("brick root missing: path=/b1");
      },
      nullptr);
  // Peer B's part works until told to stop (20 s at most), then winds down for a moment.
  registry_b_.Add(
      kSlowOrFail,
      [this](txn::StepContext& ctx, const txn::NoArgs&) {
        journal_b_.Add("do:begin", ctx.txn_id);
        for (auto until = std::chrono::steady_clock::now() + 20s;
             !ctx.cancel.stop_requested() && std::chrono::steady_clock::now() < until;) {
          std::this_thread::sleep_for(5ms);
        }
        bool told = ctx.cancel.stop_requested();
        std::this_thread::sleep_for(300ms);
        journal_b_.Add(told ? "do:end:told to stop" : "do:end:not told", ctx.txn_id);
        return Status(StatusCode::kCancelled, "stopped");
      },
      [this](txn::StepContext& ctx, const txn::NoArgs&) {
        journal_b_.Add("undo", ctx.txn_id);
        return OkStatus();
      });
  txn::Txn t;
  t.description = "one peer fails";
  // Peer B first in the step's order: its stopped part is not named as the failure.
  t.steps = {txn::MakeStep(kSlowOrFail, txn::NoArgs{}, {kPeerB, kPeerA})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s.message(), HasSubstr("failed on peer " + kPeerA));
  EXPECT_THAT(s.message(), HasSubstr("brick root missing"));
  // The undo, sent once the cancelled call returned, ran only after the do had ended.
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:begin", "do:end:told to stop", "undo"));
  // Nothing is left to undo later.
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> records, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(records.empty());
}

TEST_F(RemoteEngineTest, UndecodableArgumentsFailCleanlyOnTheRemotePeer) {
  txn::Txn t;
  t.steps = {txn::Step{"test.bricks", {{"volume", "v1"}, {"paths", "not-a-list"}}, {kPeerB}}};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn::IsBadArguments(s)) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("step=test.bricks"));
  EXPECT_TRUE(journal_b_.entries().empty());
}

TEST_F(RemoteEngineTest, PlanRunsUnderTheLocksAndItsErrorRunsNothing) {
  store::Session other(*store_, store::SessionOptions{});
  ASSERT_OK(other.Start());
  txn::Txn t;
  t.description = "planned";
  t.locks = {"volume.planned"};
  bool lock_was_held = false;
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    auto g = store::Lock::Acquire(*store_, other, keys_, "volume.planned", 200ms);
    lock_was_held = !g.ok();
    if (g.ok()) g->Release().IgnoreError();
    return FailedPreconditionError("volume already started");
  };
  t.steps = {Record("never", {kPeerA})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(lock_was_held);
  EXPECT_TRUE(journal_a_.entries().empty());
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> records, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(records.empty());
  // The lock was released.
  ASSERT_OK_AND_ASSIGN(store::LockGuard g, store::Lock::Acquire(*store_, other, keys_, "volume.planned", 2s));
  ASSERT_OK(g.Release());

  // A plan's steps replace the ones given.
  txn::Txn u;
  u.locks = {"volume.planned"};
  u.plan = [] { return StatusOr<std::vector<txn::Step>>(std::vector<txn::Step>{Record("planned", {kPeerA})}); };
  ASSERT_OK(engine_->Run(std::move(u), log::Root()));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:planned"));
  other.Stop();
}

TEST_F(RemoteEngineTest, AFailedLocalUndoIsRetriedByTheNextTakeOverPass) {
  undo_failures_a_ = 1;
  txn::Txn t;
  t.description = "undo fails once";
  t.locks = {"volume.flaky"};
  t.steps = {txn::MakeStep(kFlakyUndoStep, txn::NoArgs{}, {kPeerA}), Fail({kPeerA})};
  EXPECT_THAT(engine_->Run(std::move(t), log::Root()), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> left, store_->List(keys_.TxnPrefix()));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_THAT(left[0].value, HasSubstr(kPeerA));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:flaky"));
  // While the daemon runs (no restart): the periodic pass undoes this peer's part.
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:flaky", "undo:flaky"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> after, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(after.empty());
}

TEST_F(RemoteEngineTest, AnUndoThatKeepsFailingStaysForTheNextPass) {
  undo_failures_a_ = 2;  // the transaction's own undo and the first pass fail
  txn::Txn t;
  t.steps = {txn::MakeStep(kFlakyUndoStep, txn::NoArgs{}, {kPeerA}), Fail({kPeerA})};
  EXPECT_FALSE(engine_->Run(std::move(t), log::Root()).ok());
  ASSERT_OK_AND_ASSIGN(int first, engine_->TakeOver(log::Root()));
  EXPECT_EQ(first, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> kept, store_->List(keys_.TxnPrefix()));
  ASSERT_EQ(kept.size(), 1u);  // still there, still naming this peer
  EXPECT_THAT(kept[0].value, HasSubstr("undo_peers"));
  ASSERT_OK_AND_ASSIGN(int second, engine_->TakeOver(log::Root()));
  EXPECT_EQ(second, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:flaky", "undo:flaky"));
}

TEST_F(RemoteEngineTest, FinishStepsRunAfterTheCommitUnderTheLocksOnEveryPeer) {
  const std::string committed_key = "/test/" + NewUuid();
  // Seen from inside a finish step on peer A: the commit is in the store, and the
  // transaction's lock is still held.
  constexpr txn::StepId<txn::NoArgs> kObserve{"test.observe"};
  store::Session other(*store_, store::SessionOptions{});
  ASSERT_OK(other.Start());
  registry_a_.Add(
      kObserve,
      [&](txn::StepContext& ctx, const txn::NoArgs&) {
        auto kv = store_->Get(committed_key);
        bool committed = kv.ok() && kv->has_value();
        auto lock = store::Lock::Acquire(*store_, other, keys_, "volume.fin", 200ms);
        journal_a_.Add(std::string("observe:") + (committed ? "committed" : "not-committed") +
                           (lock.ok() ? ":lock-free" : ":lock-held"),
                       ctx.txn_id);
        if (lock.ok()) lock->Release().IgnoreError();
        return OkStatus();
      },
      nullptr);
  registry_a_.AllowAsFinish(kObserve);
  txn::Txn t;
  t.description = "with finish steps";
  t.locks = {"volume.fin"};
  t.steps = {Record("s1", {kPeerA, kPeerB})};
  t.commit = [&]() -> StatusOr<txn::Commit> {
    txn::Commit c;
    c.ops.push_back(store::Op::Put(committed_key, "yes"));
    c.finish = {txn::MakeStep(kObserve, txn::NoArgs{}, {kPeerA}), Record("f1", {kPeerA, kPeerB}),
                Record("f2", {kPeerB})};
    return c;
  };
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "observe:committed:lock-held", "do:f1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1", "do:f1", "do:f2"));
  // All under the transaction's id; then the record is gone and the lock free.
  EXPECT_EQ(journal_b_.txn_ids()[2], journal_a_.txn_ids()[0]);
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> left, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(left.empty());
  auto lock = store::Lock::Acquire(*store_, other, keys_, "volume.fin", 200ms);
  ASSERT_OK(lock.status());
  ASSERT_OK(lock->Release());
  other.Stop();
}

TEST_F(RemoteEngineTest, AFinishStepThatFailsIsDoneLaterAndNothingIsUndone) {
  do_failures_a_ = 2;  // the transaction's own finish and the first pass fail on peer A
  do_failures_b_ = 1;  // and the transaction's own on peer B
  txn::Txn t;
  t.description = "finish fails";
  t.locks = {"volume.later"};
  t.steps = {Record("s1", {kPeerA, kPeerB})};
  t.commit = [&]() -> StatusOr<txn::Commit> {
    txn::Commit c;
    c.finish = {txn::MakeStep(kFlakyDoStep, txn::NoArgs{}, {kPeerA, kPeerB}),
                Record("f2", {kPeerA, kPeerB})};
    return c;
  };
  // Committed: the transaction succeeded, whatever its finish steps did.
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  // A peer whose finish step failed does not go on to the next one.
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> kept, store_->List(keys_.TxnPrefix()));
  ASSERT_EQ(kept.size(), 1u);
  ASSERT_OK_AND_ASSIGN(txn::Record r, txn::ParseRecord(kept[0].value));
  EXPECT_TRUE(r.committed);
  EXPECT_THAT(r.finish_peers, ::testing::UnorderedElementsAre(kPeerA, kPeerB));
  // The lock was released all the same.
  store::Session other(*store_, store::SessionOptions{});
  ASSERT_OK(other.Start());
  auto lock = store::Lock::Acquire(*store_, other, keys_, "volume.later", 200ms);
  ASSERT_OK(lock.status());
  ASSERT_OK(lock->Release());
  other.Stop();

  // Peer A's passes do its own part only (B does its own), and keep it while it fails.
  ASSERT_OK_AND_ASSIGN(int first, engine_->TakeOver(log::Root()));
  EXPECT_EQ(first, 0);
  ASSERT_OK_AND_ASSIGN(int second, engine_->TakeOver(log::Root()));
  EXPECT_EQ(second, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "do:flaky-do", "do:f2"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1"));
  ASSERT_OK_AND_ASSIGN(kept, store_->List(keys_.TxnPrefix()));
  ASSERT_EQ(kept.size(), 1u);
  ASSERT_OK_AND_ASSIGN(r, txn::ParseRecord(kept[0].value));
  EXPECT_THAT(r.finish_peers, ElementsAre(kPeerB));
  ASSERT_OK_AND_ASSIGN(int third, engine_->TakeOver(log::Root()));
  EXPECT_EQ(third, 0);
}

TEST_F(RemoteEngineTest, ADeadInitiatorsCommittedTransactionIsFinishedNotRolledBack) {
  // As peer X leaves it when it dies between its commit and the end of its finish steps.
  ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn("done1"));
  ASSERT_OK(store_
                ->Put(key, nlohmann::json{{"id", "done1"},
                                          {"initiator", kPeerX},
                                          {"locks", {"volume.done"}},
                                          {"committed", true},
                                          {"steps",
                                           {{{"name", "test.record"},
                                             {"args", {{"name", "f1"}}},
                                             {"peers", {kPeerA, kPeerB}}}}}}
                               .dump())
                .status());
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:f1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:f1"));
  EXPECT_THAT(journal_b_.txn_ids(), ElementsAre("done1"));
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> gone, store_->Get(key));
  EXPECT_FALSE(gone.has_value());
}

TEST_F(RemoteEngineTest, ACommitThatDoesNotTakeEffectRunsNoFinishStep) {
  txn::Txn t;
  t.description = "commit refused";
  t.steps = {Record("s1", {kPeerA, kPeerB})};
  t.commit = [&]() -> StatusOr<txn::Commit> {
    txn::Commit c;
    c.compares.push_back(store::Compare::KeyExists("/test/" + NewUuid()));  // never true
    c.finish = {Record("f1", {kPeerA, kPeerB})};
    return c;
  };
  EXPECT_THAT(engine_->Run(std::move(t), log::Root()), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
  EXPECT_THAT(journal_b_.entries(), ElementsAre("do:s1", "undo:s1"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> left, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(left.empty());
}

TEST_F(RemoteEngineTest, OnlyStepsAllowedAsFinishStepsRunAfterACommit) {
  txn::Txn t;
  t.description = "finish step not allowed";
  t.steps = {Record("s1", {kPeerA})};
  t.commit = [&]() -> StatusOr<txn::Commit> {
    txn::Commit c;
    c.finish = {txn::MakeStep(kFlakyUndoStep, txn::NoArgs{}, {kPeerA})};
    return c;
  };
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(s.message(), HasSubstr("cannot run after a commit"));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:s1", "undo:s1"));
}

TEST_F(RemoteEngineTest, AStepRunsOnlyUnderTheLocksItRequires) {
  constexpr txn::StepId<NameArgs> kLocked{"test.locked"};
  registry_a_.Add(
      kLocked,
      [this](txn::StepContext& ctx, const NameArgs& a) {
        journal_a_.Add("do:" + a.name, ctx.txn_id);
        return OkStatus();
      },
      [this](txn::StepContext& ctx, const NameArgs& a) {
        journal_a_.Add("undo:" + a.name, ctx.txn_id);
        return OkStatus();
      });
  registry_a_.RequireLocks(
      kLocked, [](const NameArgs& a) { return std::vector<std::string>{"volume." + a.name}; });
  // A transaction without the lock is a bug of its caller: nothing runs.
  txn::Txn t;
  t.steps = {txn::MakeStep(kLocked, NameArgs{"l1"}, {kPeerA})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(s.message(), HasSubstr("runs under lock volume.l1"));
  EXPECT_TRUE(journal_a_.entries().empty());
  txn::Txn u;
  u.locks = {"volume.l1"};
  u.steps = {txn::MakeStep(kLocked, NameArgs{"l1"}, {kPeerA})};
  ASSERT_OK(engine_->Run(std::move(u), log::Root()));
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:l1"));
  // A dead initiator's record without the lock (forged or damaged) is set aside, not undone
  // beside the operations that lock keeps out; with it, it is undone.
  for (const auto& [id, locks] : std::map<std::string, nlohmann::json>{
           {"nolock", nlohmann::json::array()}, {"withlock", {"volume.l2"}}}) {
    ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn(id));
    ASSERT_OK(store_
                  ->Put(key, nlohmann::json{{"id", id},
                                            {"initiator", kPeerX},
                                            {"locks", locks},
                                            {"steps",
                                             {{{"name", "test.locked"},
                                               {"args", {{"name", "l2"}}},
                                               {"peers", {kPeerA}}}}},
                                            {"started", 1}}
                                 .dump())
                  .status());
  }
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("do:l1", "undo:l2"));
  ASSERT_OK_AND_ASSIGN(std::string nolock_key, keys_.Txn("nolock"));
  ASSERT_OK_AND_ASSIGN(std::string qkey, txn::QuarantineKey(keys_, nolock_key));
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> q, store_->Get(qkey));
  EXPECT_TRUE(q.has_value());
}

TEST_F(RemoteEngineTest, BadRecordsAreQuarantinedAndNeverStopAPass) {
  auto& counter = metrics::Default().GetCounter("gd2_store_records_quarantined_total",
                                                "store records set aside because their content is invalid",
                                                {{"kind", "txn"}});
  double before = counter.value();
  auto step = [](nlohmann::json args, std::vector<std::string> peers) {
    return nlohmann::json{{"name", "test.record"}, {"args", std::move(args)}, {"peers", std::move(peers)}};
  };
  std::map<std::string, std::string> bad = {
      {"notjson", "{not json"},
      {"array", "[1,2]"},
      {"initiatortype",
       nlohmann::json{{"id", "x"}, {"initiator", 5}, {"steps", nlohmann::json::array()}}.dump()},
      {"peertraversal",
       nlohmann::json{
           {"id", "y"}, {"initiator", kPeerX}, {"steps", {step({{"name", "a"}}, {"../../victim"})}}}
           .dump()},
      {"startedtype", nlohmann::json{{"id", "z"},
                                     {"initiator", kPeerX},
                                     {"started", "1"},
                                     {"steps", {step({{"name", "a"}}, {kPeerA})}}}
                          .dump()},
      {"committedundo", nlohmann::json{{"id", "v"},
                                       {"initiator", kPeerX},
                                       {"committed", true},
                                       {"undo_peers", {kPeerA}},
                                       {"steps", {step({{"name", "a"}}, {kPeerA})}}}
                            .dump()},
      // Parses, but the step refuses its argument (a number): found when undoing it, or when
      // doing it for a committed record.
      // Well formed, but its step is not one that runs after a commit: its do never runs.
      {"committednotfinish", nlohmann::json{{"id", "t"},
                                            {"initiator", kPeerX},
                                            {"committed", true},
                                            {"steps",
                                             {{{"name", "test.flaky-undo"},
                                               {"args", nlohmann::json::object()},
                                               {"peers", {kPeerA}}}}}}
                                 .dump()},
      {"committedargtype", nlohmann::json{{"id", "u"},
                                          {"initiator", kPeerX},
                                          {"committed", true},
                                          {"steps", {step({{"name", 7}}, {kPeerA})}}}
                               .dump()},
      {"argtype", nlohmann::json{{"id", "w"},
                                 {"initiator", kPeerX},
                                 {"started", 1},
                                 {"steps", {step({{"name", 7}}, {kPeerA})}}}
                      .dump()},
  };
  for (const auto& [id, value] : bad) {
    ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn(id));
    ASSERT_OK(store_->Put(key, value).status());
  }
  // A good dead initiator's record beside them is still rolled back.
  ASSERT_OK_AND_ASSIGN(std::string good_key, keys_.Txn("good"));
  ASSERT_OK(store_->Put(good_key, nlohmann::json{{"id", "good"},
                                                 {"initiator", kPeerX},
                                                 {"started", 1},
                                                 {"steps", {step({{"name", "good"}}, {kPeerA})}}}
                                      .dump())
                .status());
  ASSERT_OK(engine_->Recover(log::Root()).status());
  ASSERT_OK_AND_ASSIGN(int n, engine_->TakeOver(log::Root()));
  EXPECT_EQ(n, 1);
  EXPECT_THAT(journal_a_.entries(), ElementsAre("undo:good"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> left, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(left.empty());
  for (const auto& [id, value] : bad) {
    ASSERT_OK_AND_ASSIGN(std::string key, keys_.Txn(id));
    ASSERT_OK_AND_ASSIGN(std::string qkey, txn::QuarantineKey(keys_, key));
    ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> q, store_->Get(qkey));
    ASSERT_TRUE(q.has_value()) << id;
    nlohmann::json j = nlohmann::json::parse(q->value);
    EXPECT_EQ(j["key"], key);
    EXPECT_EQ(j["value"], value);
  }
  EXPECT_EQ(counter.value() - before, static_cast<double>(bad.size()));
  // Nothing is read again: a second pass does nothing and quarantines nothing more.
  ASSERT_OK_AND_ASSIGN(int again, engine_->TakeOver(log::Root()));
  EXPECT_EQ(again, 0);
  EXPECT_EQ(counter.value() - before, static_cast<double>(bad.size()));
}

}  // namespace
}  // namespace gd2::peer_rpc
