// RunLocalStep: the receiving side of a remote step.
#include "peer_rpc/local_step.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/status_matchers.h"

namespace gd2::peer_rpc {
namespace {

using ::gd2::testing::StatusIs;

// A typed test step. Its decoder reads with json::at/get, which throw on a wrong shape: the
// registry must turn that into bad arguments.
struct NameArgs {
  std::string name;
};
nlohmann::json EncodeStepArgs(const NameArgs& a) { return {{"name", a.name}}; }
Status DecodeStepArgs(const nlohmann::json& j, NameArgs* a) {
  a->name = j.at("name").get<std::string>();
  if (a->name.empty()) return InvalidArgumentError("name: empty");
  return OkStatus();
}
constexpr txn::StepId<NameArgs> kRecord{"test.record"};
constexpr txn::StepId<txn::NoArgs> kNoUndo{"test.no-undo"};
constexpr txn::StepId<NameArgs> kThrows{"test.throws"};

class RunLocalStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Add(
        kRecord,
        [this](txn::StepContext& ctx, const NameArgs& args) {
          journal_.push_back("do:" + ctx.txn_id + ":" + args.name);
          return OkStatus();
        },
        [this](txn::StepContext& ctx, const NameArgs& args) {
          journal_.push_back("undo:" + ctx.txn_id + ":" + args.name);
          return OkStatus();
        });
    registry_.Add(
        kNoUndo, [](txn::StepContext&, const txn::NoArgs&) { return OkStatus(); }, nullptr);
    registry_.Add(
        kThrows,
        [](txn::StepContext&, const NameArgs& args) -> Status {
          throw std::runtime_error("boom " + args.name);
        },
        nullptr);
  }

  static StepCall Call(std::string step, nlohmann::json args, bool undo = false) {
    StepCall c;
    c.txn_id = "t1";
    c.step = std::move(step);
    c.args = std::move(args);
    c.undo = undo;
    c.initiator = "peer-a";
    return c;
  }

  txn::StepRegistry registry_;
  std::vector<std::string> journal_;
};

TEST_F(RunLocalStepTest, RunsDoAndUndo) {
  txn::Step step = txn::MakeStep(kRecord, NameArgs{"x"}, {"peer-b"});
  ASSERT_OK(RunLocalStep(registry_, Call(step.name, step.args), log::Logger()));
  ASSERT_OK(RunLocalStep(registry_, Call(step.name, step.args, true), log::Logger()));
  EXPECT_EQ(journal_, (std::vector<std::string>{"do:t1:x", "undo:t1:x"}));
}

TEST_F(RunLocalStepTest, AnInvalidTransactionIdIsRefusedAndNothingRuns) {
  for (std::string id : {std::string(), std::string("t1\nx"), std::string(65, 'a')}) {
    StepCall c = Call("test.record", {{"name", "x"}});
    c.txn_id = id;
    Status s = RunLocalStep(registry_, c, log::Logger());
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << id;
    EXPECT_THAT(s.message(), ::testing::HasSubstr("invalid transaction id"));
  }
  EXPECT_TRUE(journal_.empty());
}

TEST_F(RunLocalStepTest, MissingUndoSucceeds) {
  EXPECT_OK(RunLocalStep(registry_, Call("test.no-undo", {}, true), log::Logger()));
}

TEST_F(RunLocalStepTest, UnknownStepIsUnimplemented) {
  EXPECT_THAT(RunLocalStep(registry_, Call("test.missing", {}), log::Logger()),
              StatusIs(StatusCode::kUnimplemented));
}

TEST_F(RunLocalStepTest, StepThatThrowsOnItsArgumentsIsInvalidArgument) {
  // args.at("name") throws: the daemon must survive it.
  EXPECT_THAT(RunLocalStep(registry_, Call("test.record", {{"other", 1}}), log::Logger()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(journal_.empty());
}

TEST_F(RunLocalStepTest, UndecodableArgumentsAreBadArguments) {
  Status s = RunLocalStep(registry_, Call("test.record", {{"name", ""}}), log::Logger());
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(txn::IsBadArguments(s)) << s.ToString();
  EXPECT_THAT(s.message(), ::testing::HasSubstr("step=test.record"));
  EXPECT_TRUE(journal_.empty());
}

TEST_F(RunLocalStepTest, StepThatThrowsIsAnInternalErrorNamingIt) {
  Status s = RunLocalStep(registry_, Call("test.throws", {{"name", "x"}}), log::Logger());
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("step=test.throws"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("boom x"));
}

TEST_F(RunLocalStepTest, TheStepSeesTheCallsDeadlineAndRequestId) {
  txn::Deadline seen;
  std::string req_id;
  txn::StepRegistry registry;
  registry.Add(
      kNoUndo,
      [&](txn::StepContext& ctx, const txn::NoArgs&) {
        seen = ctx.deadline;
        req_id = ctx.req_id;
        return OkStatus();
      },
      nullptr);
  StepCall c = Call("test.no-undo", nlohmann::json::object());
  c.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  c.req_id = "req-7";
  ASSERT_OK(RunLocalStep(registry, c, log::Logger()));
  EXPECT_EQ(seen, c.deadline);
  EXPECT_EQ(req_id, "req-7");
}

TEST_F(RunLocalStepTest, PassedDeadlineIsNotRun) {
  StepCall c = Call("test.record", {{"name", "x"}});
  c.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_THAT(RunLocalStep(registry_, c, log::Logger()),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(journal_.empty());
}

}  // namespace
}  // namespace gd2::peer_rpc
