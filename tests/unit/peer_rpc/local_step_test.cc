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

class RunLocalStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Add(
        "test.record",
        [this](txn::StepContext& ctx, const nlohmann::json& args) {
          journal_.push_back("do:" + ctx.txn_id + ":" + args.at("name").get<std::string>());
          return OkStatus();
        },
        [this](txn::StepContext& ctx, const nlohmann::json& args) {
          journal_.push_back("undo:" + ctx.txn_id + ":" + args.at("name").get<std::string>());
          return OkStatus();
        });
    registry_.Add("test.no-undo", [](txn::StepContext&, const nlohmann::json&) {
      return OkStatus();
    }, nullptr);
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
  ASSERT_OK(RunLocalStep(registry_, Call("test.record", {{"name", "x"}}), log::Logger()));
  ASSERT_OK(RunLocalStep(registry_, Call("test.record", {{"name", "x"}}, true), log::Logger()));
  EXPECT_EQ(journal_, (std::vector<std::string>{"do:t1:x", "undo:t1:x"}));
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

TEST_F(RunLocalStepTest, PassedDeadlineIsNotRun) {
  StepCall c = Call("test.record", {{"name", "x"}});
  c.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_THAT(RunLocalStep(registry_, c, log::Logger()),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(journal_.empty());
}

}  // namespace
}  // namespace gd2::peer_rpc
