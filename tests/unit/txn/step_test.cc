// txn::StepRegistry and typed steps: arguments decoded once in the registry, failures as Status.
#include "txn/step.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
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

TEST(NoArgsTest, AcceptsAnEmptyObjectOrNullOnly) {
  NoArgs a;
  EXPECT_EQ(EncodeStepArgs(a), nlohmann::json::object());
  EXPECT_OK(DecodeStepArgs(nlohmann::json::object(), &a));
  EXPECT_OK(DecodeStepArgs(nlohmann::json(), &a));
  EXPECT_FALSE(DecodeStepArgs(nlohmann::json::array(), &a).ok());
}

}  // namespace
}  // namespace gd2::txn
