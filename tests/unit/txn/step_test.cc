// txn::StepRegistry and typed steps: arguments decoded once in the registry, failures as Status.
#include "txn/step.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "support/status_matchers.h"

namespace gd2::txn {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

struct CopyArgs {
  std::string from;
  std::vector<std::string> to;
  bool force = false;
};
nlohmann::json EncodeStepArgs(const CopyArgs& a) {
  return {{"from", a.from}, {"to", a.to}, {"force", a.force}};
}
// Never throws: every field's type is checked.
Status DecodeStepArgs(const nlohmann::json& j, CopyArgs* a) {
  if (!j.is_object()) return InvalidArgumentError("expected an object");
  auto from = j.find("from");
  if (from == j.end() || !from->is_string()) return InvalidArgumentError("from: expected string");
  a->from = from->get<std::string>();
  auto to = j.find("to");
  if (to == j.end() || !to->is_array()) return InvalidArgumentError("to: expected array");
  for (const auto& t : *to) {
    if (!t.is_string()) return InvalidArgumentError("to: expected strings");
    a->to.push_back(t.get<std::string>());
  }
  auto force = j.find("force");
  if (force != j.end()) {
    if (!force->is_boolean()) return InvalidArgumentError("force: expected boolean");
    a->force = force->get<bool>();
  }
  return OkStatus();
}
constexpr StepId<CopyArgs> kCopy{"test.copy"};
constexpr StepId<NoArgs> kThrow{"test.throw"};

class StepRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Add(
        kCopy,
        [this](StepContext&, const CopyArgs& a) {
          seen_.push_back(a);
          return OkStatus();
        },
        nullptr,
        [](const CopyArgs& a) {
          return a.from.starts_with("/etc") ? InvalidArgumentError("from: under /etc") : OkStatus();
        });
    registry_.Add(
        kThrow, [](StepContext&, const NoArgs&) -> Status { throw std::logic_error("bug"); },
        [](StepContext&, const NoArgs&) { return OkStatus(); });
  }

  StepRegistry registry_;
  std::vector<CopyArgs> seen_;
  StepContext ctx_;
};

TEST_F(StepRegistryTest, MakeStepEncodesAndTheRegistryDecodesTheSameArguments) {
  Step step = MakeStep(kCopy, CopyArgs{"/a", {"/b", "/c"}, true}, {"p1", "p2"});
  EXPECT_EQ(step.name, "test.copy");
  EXPECT_EQ(step.peers, (std::vector<std::string>{"p1", "p2"}));
  ASSERT_OK(registry_.Run(step.name, false, ctx_, step.args));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].from, "/a");
  EXPECT_EQ(seen_[0].to, (std::vector<std::string>{"/b", "/c"}));
  EXPECT_TRUE(seen_[0].force);
}

TEST_F(StepRegistryTest, UndecodableOrRefusedArgumentsAreBadArgumentsAndNothingRuns) {
  for (const nlohmann::json& args :
       {nlohmann::json{{"from", 1}, {"to", nlohmann::json::array()}}, nlohmann::json::array(),
        nlohmann::json{{"from", "/etc/x"}, {"to", nlohmann::json::array()}}}) {
    Status s = registry_.Run("test.copy", false, ctx_, args);
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << args.dump();
    EXPECT_TRUE(IsBadArguments(s)) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("step=test.copy"));
  }
  EXPECT_TRUE(seen_.empty());
}

TEST_F(StepRegistryTest, AnActionThatThrowsIsAnInternalErrorNamingTheStep) {
  Status s = registry_.Run("test.throw", false, ctx_, nlohmann::json::object());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(s.message(), HasSubstr("step=test.throw"));
  EXPECT_THAT(s.message(), HasSubstr("bug"));
  EXPECT_FALSE(IsBadArguments(s));
  EXPECT_OK(registry_.Run("test.throw", true, ctx_, nlohmann::json::object()));
}

TEST_F(StepRegistryTest, AMissingActionSucceedsWithoutDecoding) {
  EXPECT_OK(registry_.Run("test.copy", true, ctx_, nlohmann::json("not even an object")));
}

TEST_F(StepRegistryTest, AnUnknownStepIsUnimplemented) {
  EXPECT_FALSE(registry_.Has("test.missing"));
  EXPECT_TRUE(registry_.Has("test.copy"));
  EXPECT_THAT(registry_.Run("test.missing", false, ctx_, nlohmann::json::object()),
              StatusIs(StatusCode::kUnimplemented));
}

// A step whose do holds on until the test lets it go, and which journals the order in which
// do and undo began and ended on this peer.
class StepTurnsTest : public ::testing::Test {
 protected:
  static constexpr StepId<NoArgs> kSlow{"test.slow"};
  static constexpr StepId<NoArgs> kOther{"test.other"};

  void SetUp() override {
    registry_.Add(
        kSlow,
        [this](StepContext& ctx, const NoArgs&) {
          Note("do:begin:" + ctx.txn_id);
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [this] { return released_; });
          journal_.push_back("do:end:" + ctx.txn_id);
          return OkStatus();
        },
        [this](StepContext& ctx, const NoArgs&) {
          Note("undo:" + ctx.txn_id);
          return OkStatus();
        });
    registry_.Add(
        kOther,
        [this](StepContext& ctx, const NoArgs&) {
          Note("other:" + ctx.txn_id);
          return OkStatus();
        },
        nullptr);
  }
  void TearDown() override { Release(); }

  void Note(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    journal_.push_back(what);
    cv_.notify_all();
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitFor(const std::string& entry) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::find(journal_.begin(), journal_.end(), entry) != journal_.end();
    });
  }
  std::vector<std::string> Journal() {
    std::lock_guard<std::mutex> lock(mu_);
    return journal_;
  }
  static StepContext Ctx(std::string txn_id, Deadline deadline = std::chrono::steady_clock::now() +
                                                                 std::chrono::seconds(20)) {
    StepContext ctx;
    ctx.txn_id = std::move(txn_id);
    ctx.deadline = deadline;
    return ctx;
  }
  // Runs the do of test.slow for `txn_id` on a thread of its own and waits until it began.
  std::future<Status> StartDo(const std::string& txn_id) {
    auto done = std::async(std::launch::async, [this, txn_id] {
      StepContext ctx = Ctx(txn_id);
      return registry_.Run("test.slow", false, ctx, nlohmann::json::object());
    });
    EXPECT_TRUE(WaitFor("do:begin:" + txn_id));
    return done;
  }

  StepRegistry registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<std::string> journal_;
};

TEST_F(StepTurnsTest, AnUndoWaitsForTheDoOfItsPartToEnd) {
  std::future<Status> running = StartDo("t1");
  auto undone = std::async(std::launch::async, [this] {
    StepContext ctx = Ctx("t1");
    return registry_.Run("test.slow", true, ctx, nlohmann::json::object());
  });
  // The undo does not begin while the do runs.
  EXPECT_EQ(undone.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  Release();
  EXPECT_OK(running.get());
  EXPECT_OK(undone.get());
  EXPECT_EQ(Journal(), (std::vector<std::string>{"do:begin:t1", "do:end:t1", "undo:t1"}));
}

TEST_F(StepTurnsTest, OtherPartsDoNotWait) {
  std::future<Status> running = StartDo("t1");
  // Another transaction's undo of the same step, and another step of the same transaction.
  StepContext other_txn = Ctx("t2");
  EXPECT_OK(registry_.Run("test.slow", true, other_txn, nlohmann::json::object()));
  StepContext other_step = Ctx("t1");
  EXPECT_OK(registry_.Run("test.other", false, other_step, nlohmann::json::object()));
  EXPECT_EQ(Journal(), (std::vector<std::string>{"do:begin:t1", "undo:t2", "other:t1"}));
  Release();
  EXPECT_OK(running.get());
}

TEST_F(StepTurnsTest, AWaitEndsAtItsDeadlineOrCancelAndRunsNothing) {
  std::future<Status> running = StartDo("t1");
  StepContext late = Ctx("t1", std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
  Status s = registry_.Run("test.slow", true, late, nlohmann::json::object());
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(s.message(), HasSubstr("step=test.slow txn_id=t1 (undo)"));

  std::stop_source stop;
  StepContext given_up = Ctx("t1");
  given_up.cancel = stop.get_token();
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.request_stop();
  });
  EXPECT_THAT(registry_.Run("test.slow", true, given_up, nlohmann::json::object()),
              StatusIs(StatusCode::kCancelled));
  stopper.join();
  EXPECT_EQ(Journal(), (std::vector<std::string>{"do:begin:t1"}));
  Release();
  EXPECT_OK(running.get());
}

TEST_F(StepTurnsTest, ADoThatComesAfterItsPartsUndoIsRefused) {
  Release();  // a do that runs returns at once
  StepContext undo = Ctx("t1");
  EXPECT_OK(registry_.Run("test.slow", true, undo, nlohmann::json::object()));
  StepContext late_do = Ctx("t1");
  Status s = registry_.Run("test.slow", false, late_do, nlohmann::json::object());
  EXPECT_THAT(s, StatusIs(StatusCode::kAborted));
  EXPECT_THAT(s.message(), HasSubstr("undone on this peer already"));
  // Another transaction's do of the same step runs.
  StepContext other = Ctx("t2");
  EXPECT_OK(registry_.Run("test.slow", false, other, nlohmann::json::object()));
  EXPECT_EQ(Journal(), (std::vector<std::string>{"undo:t1", "do:begin:t2", "do:end:t2"}));
}

TEST_F(StepTurnsTest, RunsWithoutATransactionIdDoNotTakeTurns) {
  std::future<Status> running = StartDo("");
  StepContext ctx = Ctx("");
  EXPECT_OK(registry_.Run("test.slow", true, ctx, nlohmann::json::object()));
  Release();
  EXPECT_OK(running.get());
  EXPECT_EQ(Journal(), (std::vector<std::string>{"do:begin:", "undo:", "do:end:"}));
}

TEST(NoArgsTest, AcceptsAnEmptyObjectOrNullOnly) {
  NoArgs a;
  EXPECT_EQ(EncodeStepArgs(a), nlohmann::json::object());
  EXPECT_OK(DecodeStepArgs(nlohmann::json::object(), &a));
  EXPECT_OK(DecodeStepArgs(nlohmann::json(), &a));
  EXPECT_FALSE(DecodeStepArgs(nlohmann::json::array(), &a).ok());
}

}  // namespace
}  // namespace gd2::txn
