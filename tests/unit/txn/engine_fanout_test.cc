// txn::Engine runs a step on all its peers at once, and undoes it on all of them at once. The
// other peers are a fake StepRunner (the peer RPC is a process boundary) that sleeps like a
// brick start-up; the store is a real etcd.
#include "txn/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/uuid.h"
#include "store/keys.h"
#include "store/session.h"
#include "store/store.h"
#include "support/etcd_process.h"
#include "support/status_matchers.h"

namespace gd2::txn {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kSelf = "aaaaaaaa-0000-4000-8000-000000000000";

std::string PeerId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "bbbbbbbb-0000-4000-8000-%012d", i);
  return buf;
}

std::vector<std::string> Peers(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back(PeerId(i));
  return out;
}

struct SleepArgs {
  int ms = 0;
};
nlohmann::json EncodeStepArgs(const SleepArgs& a) { return {{"ms", a.ms}}; }
Status DecodeStepArgs(const nlohmann::json& j, SleepArgs* a) {
  if (!j.is_object() || !j.contains("ms") || !j["ms"].is_number_integer()) {
    return InvalidArgumentError("ms: expected integer");
  }
  a->ms = j["ms"].get<int>();
  return OkStatus();
}
constexpr StepId<SleepArgs> kSleep{"test.sleep"};

// Other peers: each call sleeps `do_ms` (or `undo_ms`), counts how many calls overlap, and fails
// for the peers in `fail`.
class SleepingPeers : public StepRunner {
 public:
  Status Run(const std::string& peer_id, bool undo, StepContext& ctx, const Step& step) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++running_;
      max_running_ = std::max(max_running_, running_);
      calls_.push_back((undo ? "undo:" : "do:") + step.name + ":" + peer_id);
      deadlines_.push_back(ctx.deadline);
      req_ids_.push_back(ctx.req_id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(undo ? undo_ms : do_ms));
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    if (!undo && fail.count(peer_id) != 0)
      return UnavailableError("brick did not start on " + peer_id);
    return OkStatus();
  }

  int max_running() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_running_;
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::string> req_ids() {
    std::lock_guard<std::mutex> lock(mu_);
    return req_ids_;
  }
  std::vector<Deadline> deadlines() {
    std::lock_guard<std::mutex> lock(mu_);
    return deadlines_;
  }

  int do_ms = 0;
  int undo_ms = 0;
  std::set<std::string> fail;

 private:
  std::mutex mu_;
  int running_ = 0;
  int max_running_ = 0;
  std::vector<std::string> calls_;
  std::vector<Deadline> deadlines_;
  std::vector<std::string> req_ids_;
};

double MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

class EngineFanOutTest : public ::testing::Test {
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
    engine_ = std::make_unique<Engine>(*store_, *session_, keys_, registry_, kSelf, &peers_);
  }

  void TearDown() override {
    engine_.reset();
    if (session_) session_->Stop();
  }

  // How many calls of each kind the peers saw, as "do:<step>:<peer>" counts.
  std::map<std::string, int> CallCounts() {
    std::map<std::string, int> out;
    for (const auto& c : peers_.calls()) ++out[c];
    return out;
  }

  gd2::testing::EtcdProcess etcd_;
  store::KeySpace keys_{NewUuid()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Session> session_;
  StepRegistry registry_;
  SleepingPeers peers_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineFanOutTest, AStepOnThreePeersTakesAboutAsLongAsTheSlowestPeer) {
  constexpr int kSingleMs = 600;
  peers_.do_ms = kSingleMs;
  Txn t;
  t.description = "start on three peers";
  t.req_id = "req-fan";
  t.steps = {MakeStep(kSleep, SleepArgs{kSingleMs}, Peers(3))};
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  double ms = MillisSince(t0);
  // One after the other would take 3 x 600 ms.
  EXPECT_GE(ms, kSingleMs);
  EXPECT_LT(ms, 2 * kSingleMs) << "the three peers did not run at once";
  EXPECT_EQ(peers_.max_running(), 3);
  EXPECT_EQ(peers_.calls().size(), 3u);
  // Every peer got the request id and a deadline bounded by the engine's step timeout.
  for (const auto& id : peers_.req_ids()) EXPECT_EQ(id, "req-fan");
  for (const auto& d : peers_.deadlines()) {
    EXPECT_LE(d, std::chrono::steady_clock::now() + Engine::kStepTimeout);
    EXPECT_GT(d, std::chrono::steady_clock::now());
  }
}

TEST_F(EngineFanOutTest, ConcurrencyIsBoundedAndEveryPeerRuns) {
  peers_.do_ms = 100;
  constexpr int kPeers = static_cast<int>(Engine::kMaxParallelPeers) + 4;
  Txn t;
  t.steps = {MakeStep(kSleep, SleepArgs{100}, Peers(kPeers))};
  ASSERT_OK(engine_->Run(std::move(t), log::Root()));
  EXPECT_EQ(peers_.max_running(), static_cast<int>(Engine::kMaxParallelPeers));
  std::map<std::string, int> counts = CallCounts();
  EXPECT_EQ(counts.size(), static_cast<size_t>(kPeers));
  for (const auto& [call, n] : counts) EXPECT_EQ(n, 1) << call;
}

TEST_F(EngineFanOutTest, UndoFansOutToEveryPeerOfTheStepsBegun) {
  constexpr int kUndoMs = 600;
  peers_.undo_ms = kUndoMs;
  // The second step fails on one of its three peers: the first step is undone on its three
  // peers, and the second on all three as well (the failing peer may have done part of it, and
  // the others may have succeeded).
  peers_.fail = {PeerId(5)};
  Txn t;
  t.description = "second step fails on one peer";
  t.steps = {MakeStep(kSleep, SleepArgs{0}, Peers(3)),
             Step{"test.other", EncodeStepArgs(SleepArgs{0}), {PeerId(4), PeerId(5), PeerId(6)}}};
  auto t0 = std::chrono::steady_clock::now();
  Status s = engine_->Run(std::move(t), log::Root());
  double ms = MillisSince(t0);
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("step test.other failed on peer " + PeerId(5)));
  std::map<std::string, int> counts = CallCounts();
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(counts["undo:test.sleep:" + PeerId(i)], 1) << i;
  for (int i = 4; i <= 6; ++i) EXPECT_EQ(counts["undo:test.other:" + PeerId(i)], 1) << i;
  // Two undo rounds of 600 ms each, three peers at once in each: well under 6 x 600 ms.
  EXPECT_LT(ms, 4 * kUndoMs) << "undo did not fan out";
  EXPECT_GE(peers_.max_running(), 3);
  // Every peer was reached: nothing is left for recovery.
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> left, store_->List(keys_.TxnPrefix()));
  EXPECT_TRUE(left.empty());
}

TEST_F(EngineFanOutTest, ALocalStepThatThrowsFailsTheTransactionCleanly) {
  registry_.Add(
      kSleep, [](StepContext&, const SleepArgs&) -> Status { throw std::runtime_error("boom"); },
      nullptr);
  Txn t;
  t.steps = {MakeStep(kSleep, SleepArgs{0}, {PeerId(1)}), MakeStep(kSleep, SleepArgs{0}, {kSelf})};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(s.message(), HasSubstr("step=test.sleep"));
  EXPECT_EQ(CallCounts()["undo:test.sleep:" + PeerId(1)], 1);
}

TEST_F(EngineFanOutTest, ALocalStepWithUndecodableArgumentsIsBadArguments) {
  registry_.Add(
      kSleep, [](StepContext&, const SleepArgs&) { return OkStatus(); }, nullptr);
  Txn t;
  t.steps = {Step{"test.sleep", {{"ms", "soon"}}, {kSelf}}};
  Status s = engine_->Run(std::move(t), log::Root());
  EXPECT_TRUE(IsBadArguments(s)) << s.ToString();
}

}  // namespace
}  // namespace gd2::txn
