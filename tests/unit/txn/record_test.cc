#include "txn/record.h"

#include <gtest/gtest.h>

#include "store/keys.h"
#include "support/status_matchers.h"
#include "txn/quarantine.h"

namespace gd2::txn {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kPeer = "aaaaaaaa-0000-4000-8000-000000000001";
const std::string kPeer2 = "aaaaaaaa-0000-4000-8000-000000000002";

nlohmann::json Good() {
  return {{"id", "0a1b2c3d"},
          {"initiator", kPeer},
          {"description", "volume create v1"},
          {"locks", {"volume.v1"}},
          {"steps", {{{"name", "volume.prepare-bricks"}, {"args", {{"volume", "v1"}}}, {"peers", {kPeer}}}}},
          {"started", 1}};
}

TEST(RecordTest, ReadsWhatTheEngineWritesAndRoundTrips) {
  ASSERT_OK_AND_ASSIGN(Record r, ParseRecord(Good().dump()));
  EXPECT_EQ(r.initiator, kPeer);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.started, 1u);
  ASSERT_OK_AND_ASSIGN(Record again, ParseRecord(SerializeRecord(r)));
  EXPECT_EQ(SerializeRecord(again), SerializeRecord(r));
  // A step without per-peer arguments is written without the field, as before it existed.
  EXPECT_EQ(SerializeRecord(r).find("peer_args"), std::string::npos);
}

TEST(RecordTest, ACommittedRecordRoundTripsAndOwesItsFinishPeers) {
  nlohmann::json j = Good();
  j["undo_peers"] = {kPeer2};
  ASSERT_OK_AND_ASSIGN(Record undoing, ParseRecord(j.dump()));
  EXPECT_FALSE(undoing.committed);
  EXPECT_EQ(undoing.owed_peers(), std::vector<std::string>{kPeer2});
  // Written without the finish fields, as before they existed.
  EXPECT_EQ(SerializeRecord(undoing).find("committed"), std::string::npos);

  j.erase("undo_peers");
  j["committed"] = true;
  ASSERT_OK_AND_ASSIGN(Record finishing, ParseRecord(j.dump()));
  EXPECT_TRUE(finishing.committed);
  EXPECT_TRUE(finishing.owed_peers().empty());
  finishing.finish_peers = {kPeer};
  ASSERT_OK_AND_ASSIGN(Record again, ParseRecord(SerializeRecord(finishing)));
  EXPECT_TRUE(again.committed);
  EXPECT_EQ(again.owed_peers(), std::vector<std::string>{kPeer});
  EXPECT_EQ(SerializeRecord(again), SerializeRecord(finishing));
}

TEST(RecordTest, PerPeerArgumentsRoundTrip) {
  nlohmann::json j = Good();
  j["steps"][0]["peers"] = {kPeer, kPeer2};
  j["steps"][0]["peer_args"] = {{kPeer2, {{"volume", "v1"}, {"paths", {"/b2"}}}}};
  ASSERT_OK_AND_ASSIGN(Record r, ParseRecord(j.dump()));
  ASSERT_EQ(r.steps.size(), 1u);
  ASSERT_EQ(r.steps[0].peer_args.size(), 1u);
  EXPECT_EQ(r.steps[0].peer_args.at(kPeer2)["paths"][0], "/b2");
  ASSERT_OK_AND_ASSIGN(Record again, ParseRecord(SerializeRecord(r)));
  EXPECT_EQ(again.steps[0].peer_args, r.steps[0].peer_args);
  EXPECT_EQ(SerializeRecord(again), SerializeRecord(r));
}

TEST(RecordTest, RefusesEveryFieldOfTheWrongShape) {
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> change;
    const char* message;
  };
  std::vector<Case> cases = {
      {"not an object", [](nlohmann::json& j) { j = nlohmann::json::array(); },
       "not a JSON object"},
      {"initiator type", [](nlohmann::json& j) { j["initiator"] = 5; },
       "initiator: expected string"},
      {"initiator traversal", [](nlohmann::json& j) { j["initiator"] = "../x"; }, "not a UUID"},
      {"id with slash", [](nlohmann::json& j) { j["id"] = "a/b"; }, "invalid transaction id"},
      {"lock type", [](nlohmann::json& j) { j["locks"] = {1}; }, "locks[0]: expected string"},
      {"lock chars", [](nlohmann::json& j) { j["locks"] = {"a/../b"}; }, "invalid lock name"},
      {"steps type", [](nlohmann::json& j) { j["steps"] = "x"; }, "steps: expected array"},
      {"step name", [](nlohmann::json& j) { j["steps"][0]["name"] = "Volume/x"; },
       "invalid step name"},
      {"args type", [](nlohmann::json& j) { j["steps"][0]["args"] = "x"; },
       "args: expected object"},
      {"peer id", [](nlohmann::json& j) { j["steps"][0]["peers"] = {"peer-1"}; }, "not a UUID"},
      {"started type", [](nlohmann::json& j) { j["started"] = "1"; }, "started"},
      {"started range", [](nlohmann::json& j) { j["started"] = 2; }, "started"},
      {"negative started", [](nlohmann::json& j) { j["started"] = -1; }, "started"},
      {"undo peers", [](nlohmann::json& j) { j["undo_peers"] = {7}; }, "undo_peers[0]"},
      {"committed type", [](nlohmann::json& j) { j["committed"] = "yes"; },
       "committed: expected boolean"},
      {"committed with steps not begun",
       [](nlohmann::json& j) {
         j["committed"] = true;
         j["started"] = 0;
       },
       "a committed record runs all its steps"},
      {"undo peers of a committed record",
       [](nlohmann::json& j) {
         j["committed"] = true;
         j["undo_peers"] = {kPeer};
       },
       "undo_peers: the record is committed"},
      {"finish peers of a record not committed",
       [](nlohmann::json& j) { j["finish_peers"] = {kPeer}; },
       "finish_peers: the record is not committed"},
      {"finish peers",
       [](nlohmann::json& j) {
         j["committed"] = true;
         j["finish_peers"] = {"../x"};
       },
       "finish_peers[0]"},
      {"peer args type",
       [](nlohmann::json& j) {
         j["steps"][0]["peer_args"] = {1, 2};
       },
       "peer_args: expected object"},
      {"peer args key",
       [](nlohmann::json& j) {
         j["steps"][0]["peer_args"] = {{"../x", nlohmann::json::object()}};
       },
       "not a UUID"},
      {"peer args for another peer",
       [](nlohmann::json& j) {
         j["steps"][0]["peer_args"] = {{kPeer2, nlohmann::json::object()}};
       },
       "not a peer of the step"},
      {"peer args value",
       [](nlohmann::json& j) {
         j["steps"][0]["peer_args"] = {{kPeer, "x"}};
       },
       "expected object"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = Good();
    c.change(j);
    Status s = ParseRecord(j.dump()).status();
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << c.what;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.what;
  }
  EXPECT_THAT(ParseRecord("{").status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRecord(std::string(kMaxRecordBytes + 1, ' ')).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(RecordTest, QuarantineKeyStaysInTheClusterAndIsNotNested) {
  store::KeySpace keys("c1");
  ASSERT_OK_AND_ASSIGN(std::string k, QuarantineKey(keys, keys.Prefix() + "txn/abc"));
  EXPECT_EQ(k, keys.Prefix() + "quarantine/txn/abc");
  EXPECT_THAT(QuarantineKey(keys, "gluster-other/txn/abc").status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(QuarantineKey(keys, k).status(), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gd2::txn
