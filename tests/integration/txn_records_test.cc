// Transaction and pending-work records read back from the store are input: forged or damaged
// ones planted in etcd (path traversal in a volume name, brick paths of another tree, arguments
// of the wrong JSON type, text that is not JSON) must leave the filesystem untouched, must not
// take the daemon down at start or while it runs, and are moved to quarantine/ once. And the
// records of transactions that failed in ways that are hard to undo (an undo that meets another
// volume's brick, a commit etcd did not answer) are resolved while the daemon runs; a delete
// cleans its bricks only once it has committed, and finishes that later if it could not.
#include <signal.h>
#include <sys/xattr.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/volume_req.h"
#include "client/client.h"
#include "common/subprocess.h"
#include "common/uuid.h"
#include "store/store.h"
#include "support/daemon_process.h"
#include "support/etcd_process.h"
#include "support/immutable_dir.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class TxnRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_.Start();
    DaemonOptions o;
    o.etcd_endpoints = {etcd_.endpoint()};
    o.etcd_ca_file = etcd_.ca_file();
    o.etcd_cert_file = etcd_.cert_file();
    o.etcd_key_file = etcd_.key_file();
    daemon_ = std::make_unique<DaemonProcess>(o);
    ASSERT_TRUE(daemon_->Start());
    ASSERT_OK_AND_ASSIGN(api::HealthResp h, daemon_->NewClient()->Health());
    self_ = h.peer_id;
    prefix_ = "gluster-" + h.cluster_id + "/";
    store::Options so;
    so.endpoints = {etcd_.endpoint()};
    so.ca_file = etcd_.ca_file();
    so.cert_file = etcd_.cert_file();
    so.key_file = etcd_.key_file();
    ASSERT_OK_AND_ASSIGN(store_, store::Store::Connect(so));
    // A tree outside the workdir that "<workdir>/vols/../../<name>" names.
    victim_name_ = "gd2-victim-" + RandomHex(6);
    victim_ = fs::path(daemon_->workdir()).parent_path().string() + "/" + victim_name_;
    fs::create_directories(victim_ + "/sub");
    std::ofstream(victim_ + "/sub/precious") << "keep me\n";
  }
  void TearDown() override {
    std::error_code ec;
    if (!victim_.empty()) fs::remove_all(victim_, ec);
    for (const auto& dir : scratch_) fs::remove_all(dir, ec);
  }

  // The steps of a forged record: undoing them would remove or rewrite `victim_`.
  nlohmann::json ForgedSteps() const {
    nlohmann::json traversal = {{"volume", "../../" + victim_name_},
                                {"volume_id", NewUuid()},
                                {"paths", {victim_}},
                                {"create_dir", true}};
    nlohmann::json wrong_types = {{"volume", 42}, {"volume_id", false}, {"paths", "/"}};
    nlohmann::json start = {{"volume", {{"name", 5}, {"subvols", "x"}}}};
    return nlohmann::json::array({
        {{"name", "volume.prepare-bricks"}, {"args", traversal}, {"peers", {self_}}},
        {{"name", "volume.prepare-bricks"}, {"args", wrong_types}, {"peers", {self_}}},
        {{"name", "volume.start-bricks"}, {"args", start}, {"peers", {self_}}},
        {{"name", "volume.delete-bricks"}, {"args", traversal}, {"peers", {self_}}},
    });
  }

  // Plants records of every shape while the daemon is down; returns their keys.
  std::vector<std::string> PlantForgedRecords() {
    std::vector<std::string> keys;
    auto put = [&](const std::string& key, const std::string& value) {
      ASSERT_OK(store_->Put(prefix_ + key, value).status());
      keys.push_back(prefix_ + key);
    };
    nlohmann::json steps = ForgedSteps();
    // Recovery undoes this peer's own records at start; takeover a dead initiator's.
    for (size_t i = 0; i < steps.size(); ++i) {
      nlohmann::json one = nlohmann::json::array({steps[i]});
      put("txn/own" + std::to_string(i),
          nlohmann::json{{"id", "own" + std::to_string(i)}, {"initiator", self_}, {"steps", one}, {"started", 1}}
              .dump());
      put("txn/dead" + std::to_string(i), nlohmann::json{{"id", "dead" + std::to_string(i)},
                                                         {"initiator", NewUuid()},
                                                         {"steps", one},
                                                         {"started", 1}}
                                              .dump());
      put("txn/undo" + std::to_string(i), nlohmann::json{{"id", "undo" + std::to_string(i)},
                                                         {"initiator", NewUuid()},
                                                         {"steps", one},
                                                         {"started", 1},
                                                         {"undo_peers", {self_}}}
                                              .dump());
      // Committed: their steps would be done, not undone (only a step allowed after a commit,
      // with arguments it accepts).
      put("txn/done" + std::to_string(i), nlohmann::json{{"id", "done" + std::to_string(i)},
                                                         {"initiator", NewUuid()},
                                                         {"steps", one},
                                                         {"committed", true}}
                                              .dump());
      put("txn/finish" + std::to_string(i), nlohmann::json{{"id", "finish" + std::to_string(i)},
                                                           {"initiator", self_},
                                                           {"steps", one},
                                                           {"committed", true},
                                                           {"finish_peers", {self_}}}
                                                .dump());
    }
    // Well formed, but without the lock its step runs under: never undone beside the operations
    // that lock keeps out.
    put("txn/nolock",
        nlohmann::json{
            {"id", "nolock"},
            {"initiator", NewUuid()},
            {"steps",
             {{{"name", "volume.prepare-bricks"},
               {"args", {{"volume", "nolock1"}, {"volume_id", NewUuid()}, {"paths", {victim_}}}},
               {"peers", {self_}}}}},
            {"started", 1}}
            .dump());
    put("txn/notjson", "{\"id\": ");
    put("txn/types", R"({"id": 1, "initiator": [], "steps": {"a": 1}, "started": -3})");
    put("txn/hugestarted", nlohmann::json{{"id", "h"}, {"initiator", self_}, {"steps", steps}, {"started", 99}}.dump());
    // Pending work: the brick cleanup of a delete, as an offline peer finds it.
    put("pending/" + self_ + "/volume-delete.traversal",
        nlohmann::json{{"step", "volume.delete-bricks"}, {"args", steps[0]["args"]}}.dump());
    put("pending/" + self_ + "/volume-delete.types",
        nlohmann::json{{"step", "volume.delete-bricks"}, {"args", steps[1]["args"]}}.dump());
    put("pending/" + self_ + "/volume-delete.notjson", "\x01\x02not json");
    put("pending/" + self_ + "/volume-delete.step", R"({"step": 7, "args": []})");
    return keys;
  }

  // A transaction record as an initiator that died leaves it: its steps begun under `lock`, or
  // committed and their finish to do.
  static std::string DeadInitiatorRecord(const std::string& id, const std::string& lock,
                                         const nlohmann::json& steps, bool committed = false) {
    nlohmann::json r = {{"id", id}, {"initiator", NewUuid()}, {"locks", {lock}}, {"steps", steps}};
    if (committed) {
      r["committed"] = true;
    } else {
      r["started"] = steps.size();
    }
    return r.dump();
  }

  bool AllQuarantined(const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      auto here = store_->Get(k);
      auto q = store_->Get(prefix_ + "quarantine/" + k.substr(prefix_.size()));
      if (!here.ok() || here->has_value() || !q.ok() || !q->has_value()) return false;
    }
    return true;
  }

  // A directory beside the daemon's workdir for brick paths, removed at TearDown.
  std::string ScratchDir(const std::string& name) {
    scratch_.push_back(fs::path(daemon_->workdir()).parent_path().string() + "/gd2-" + name + "-" +
                       RandomHex(6));
    return scratch_.back();
  }

  // A distribute volume on `bricks` of this peer, its brick directories made by the create.
  nlohmann::json DistributeReq(const std::string& name, const std::vector<std::string>& bricks) {
    api::VolCreateReq req;
    req.name = name;
    req.force = true;
    req.flags = {{"create-brick-dir", true}, {"allow-root-dir", true}};
    api::SubvolReq sv;
    sv.type = "distribute";
    for (const auto& b : bricks) sv.bricks.push_back({daemon_->host(), b, ""});
    req.subvols = {sv};
    return req;
  }

  void ExpectVictimIntact() {
    EXPECT_TRUE(fs::exists(victim_ + "/sub/precious")) << "a forged record removed " << victim_;
    EXPECT_FALSE(fs::exists(victim_ + "/.glusterfs")) << "a forged record prepared " << victim_;
  }

  EtcdProcess etcd_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<store::Store> store_;
  std::string self_;
  std::string prefix_;
  std::string victim_name_;
  std::string victim_;
  std::vector<std::string> scratch_;
};

TEST_F(TxnRecordsTest, ForgedRecordsFoundAtStartAreQuarantinedAndTouchNothing) {
  ASSERT_EQ(daemon_->Stop(), 0);
  std::vector<std::string> keys = PlantForgedRecords();
  ASSERT_TRUE(daemon_->Start()) << "a bad record kept the daemon from starting";
  EXPECT_TRUE(WaitFor([&] { return AllQuarantined(keys); }, 30s)) << daemon_->ReadLog();
  ExpectVictimIntact();
  EXPECT_TRUE(ProcessAlive(daemon_->pid()));
  EXPECT_NE(daemon_->ReadLog().find("bad store record quarantined"), std::string::npos);
  // Restartable, and nothing is read again.
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->Start());
  ASSERT_OK(daemon_->NewClient()->ListPeers().status());
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty());
  ASSERT_OK_AND_ASSIGN(auto pending, store_->List(prefix_ + "pending/"));
  EXPECT_TRUE(pending.empty());
  ExpectVictimIntact();
}

TEST_F(TxnRecordsTest, ForgedRecordsWrittenWhileRunningAreQuarantinedAndTouchNothing) {
  std::vector<std::string> keys = PlantForgedRecords();
  // The takeover pass runs every 30 s and when a peer goes offline: make one go offline.
  std::string ghost = NewUuid();
  ASSERT_OK_AND_ASSIGN(store::Lease lease, store_->GrantLease(5));
  ASSERT_OK(store_->Put(prefix_ + "alive/" + ghost, "{}", lease.id).status());
  std::this_thread::sleep_for(500ms);
  ASSERT_OK(store_->RevokeLease(lease.id));
  // Pending work is read by the reconcile pass, run again when the session is renewed: a
  // restart covers it.
  // This peer's own records without undo_peers too: no transaction of this process runs them.
  std::vector<std::string> txn_keys;
  for (const auto& k : keys) {
    if (k.find("/txn/") != std::string::npos) txn_keys.push_back(k);
  }
  EXPECT_TRUE(WaitFor([&] { return AllQuarantined(txn_keys); }, 45s)) << daemon_->ReadLog();
  ExpectVictimIntact();
  EXPECT_TRUE(ProcessAlive(daemon_->pid()));
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->Start());
  EXPECT_TRUE(WaitFor([&] { return AllQuarantined(keys); }, 30s)) << daemon_->ReadLog();
  ExpectVictimIntact();
}

// Records that pair a stored volume's id and brick paths with a made-up volume name: the undo
// of a create and the cleanup of a delete act on roots carrying that id, and would have removed
// the live volume's .glusterfs (its gfid handles and heal indices). Refused as bad arguments
// and quarantined; the live brick is untouched.
TEST_F(TxnRecordsTest, RecordsNamingALiveVolumesIdUnderAnotherNameTouchNothing) {
  const std::string brick = ScratchDir("live") + "/b1";
  ASSERT_OK_AND_ASSIGN(
      nlohmann::json live,
      daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("live1", {brick})));
  const std::string live_id = live["id"];
  ASSERT_TRUE(fs::exists(brick + "/.glusterfs"));
  const nlohmann::json args = {{"volume", "fake1"}, {"volume_id", live_id}, {"paths", {brick}}};
  const nlohmann::json steps = nlohmann::json::array(
      {{{"name", "volume.prepare-bricks"}, {"args", args}, {"peers", {self_}}}});
  const nlohmann::json cleanup = nlohmann::json::array(
      {{{"name", "volume.delete-bricks"}, {"args", args}, {"peers", {self_}}}});
  // The undo of a delete of the live volume itself, its own name and id, but another directory:
  // it would prepare the victim as a brick of the volume.
  const nlohmann::json undelete = nlohmann::json::array(
      {{{"name", "volume.delete-bricks"},
        {"args", {{"volume", "live1"}, {"volume_id", live_id}, {"paths", {victim_}}}},
        {"peers", {self_}}}});
  ASSERT_EQ(daemon_->Stop(), 0);
  std::vector<std::string> keys = {prefix_ + "txn/undolive", prefix_ + "txn/finishlive",
                                   prefix_ + "pending/" + self_ + "/volume-delete.fake1",
                                   prefix_ + "txn/undeletelive"};
  ASSERT_OK(store_->Put(keys[0], DeadInitiatorRecord("undolive", "volume.fake1", steps)).status());
  ASSERT_OK(store_
                ->Put(keys[1], DeadInitiatorRecord("finishlive", "volume.fake1", cleanup,
                                                   /*committed=*/true))
                .status());
  ASSERT_OK(
      store_->Put(keys[2], nlohmann::json{{"step", "volume.delete-bricks"}, {"args", args}}.dump())
          .status());
  ASSERT_OK(
      store_->Put(keys[3], DeadInitiatorRecord("undeletelive", "volume.live1", undelete)).status());
  ASSERT_TRUE(daemon_->Start());
  EXPECT_TRUE(WaitFor([&] { return AllQuarantined(keys); }, 30s)) << daemon_->ReadLog();
  EXPECT_TRUE(fs::exists(brick + "/.glusterfs"))
      << "a record naming the live volume's id cleaned it";
  std::string value(16, '\0');
  EXPECT_EQ(::getxattr(brick.c_str(), "trusted.glusterfs.volume-id", value.data(), value.size()),
            16);
  ASSERT_OK(daemon_->NewClient()->Do("GET", "/v1/volumes/live1"));
  ExpectVictimIntact();
}

// The undo of a start for a volume that is not stored (its record forged or left from long
// ago) naming a running volume's brick: the brick keeps running. Real glusterfsd on loop XFS.
TEST_F(TxnRecordsTest, AnUndoOfAStartNamingAnotherVolumesBrickStopsNothing) {
  GD2_SKIP_UNLESS_LOOP_XFS();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LoopXfs> xfs, LoopXfs::Create());
  const std::string brick = xfs->mount_point() + "/b1";
  auto c = daemon_->NewClient();
  ASSERT_OK(c->Do("POST", "/v1/volumes", DistributeReq("run1", {brick})));
  struct StopAndDelete {
    client::Client* c;
    ~StopAndDelete() {
      c->Do("POST", "/v1/volumes/run1/stop", nlohmann::json::object()).status().IgnoreError();
      c->Do("DELETE", "/v1/volumes/run1").status().IgnoreError();
    }
  } cleanup{c.get()};
  ASSERT_OK(c->Do("POST", "/v1/volumes/run1/start", nlohmann::json::object()));
  ASSERT_OK_AND_ASSIGN(nlohmann::json st, c->Do("GET", "/v1/volumes/run1/status"));
  ASSERT_EQ(st["bricks"].size(), 1u);
  const pid_t pid = st["bricks"][0]["pid"].get<pid_t>();
  ASSERT_TRUE(ProcessAlive(pid));
  // The stored volume under another name and id: "the start of fake2" on the same brick.
  ASSERT_OK_AND_ASSIGN(auto stored, store_->Get(prefix_ + "volumes/run1"));
  ASSERT_TRUE(stored.has_value());
  nlohmann::json forged = nlohmann::json::parse(stored->value);
  forged["name"] = "fake2";
  forged["id"] = NewUuid();
  const std::string key = prefix_ + "txn/undostart";
  const nlohmann::json steps = nlohmann::json::array(
      {{{"name", "volume.start-bricks"}, {"args", {{"volume", forged}}}, {"peers", {self_}}}});
  ASSERT_OK(store_->Put(key, DeadInitiatorRecord("undostart", "volume.fake2", steps)).status());
  // Rolled back after the restart by the takeover pass (its initiator is dead; the brick
  // outlives the daemon by design).
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->Start());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto kv = store_->Get(key);
        return kv.ok() && !kv->has_value();
      },
      30s))
      << daemon_->ReadLog();
  // Rolled back (its arguments are well formed), not set aside.
  ASSERT_OK_AND_ASSIGN(auto quarantined, store_->Get(prefix_ + "quarantine/txn/undostart"));
  EXPECT_FALSE(quarantined.has_value()) << quarantined->value;
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(ProcessAlive(pid)) << "the undo of another volume's start stopped run1's brick";
  ASSERT_OK_AND_ASSIGN(st, c->Do("GET", "/v1/volumes/run1/status"));
  EXPECT_EQ(st["bricks"][0]["pid"].get<pid_t>(), pid);
}

// A create refused because one brick root still carries another volume's id (a leftover of an
// old cluster) is undone on the other bricks and leaves no transaction record: the undo leaves
// the other volume's root alone instead of failing on it, which kept the record and retried it
// every 30 s forever.
TEST_F(TxnRecordsTest, ACreateRefusedForAnotherVolumesBrickLeavesNoRecord) {
  const std::string dir = ScratchDir("refused");
  const std::string fresh = dir + "/fresh";
  const std::string left = dir + "/left";
  fs::create_directories(left);
  const std::string other = "ANOTHER-VOLUME16";  // its id: the xattr's 16 bytes
  ASSERT_EQ(other.size(), 16u);
  ASSERT_EQ(::setxattr(left.c_str(), "trusted.glusterfs.volume-id", other.data(), other.size(), 0),
            0);
  auto created =
      daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("refused", {fresh, left}));
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.status().message(), ::testing::HasSubstr(left));
  // Undone here: the fresh brick directory, made by the create, is gone again.
  EXPECT_FALSE(fs::exists(fresh));
  // The other volume's root is as it was.
  std::string value(16, '\0');
  ASSERT_EQ(::getxattr(left.c_str(), "trusted.glusterfs.volume-id", value.data(), value.size()),
            16);
  EXPECT_EQ(value, other);
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty()) << txns.front().key << " " << txns.front().value;
  EXPECT_EQ(daemon_->ReadLog().find("step undo failed"), std::string::npos) << daemon_->ReadLog();
}

// A commit etcd does not answer (it stops answering between the steps and the commit) is not
// undone by its initiator, since it may have taken effect: the client is told its outcome is not
// known. Once etcd answers again, the record, still there because the commit did not take
// effect, is rolled back by the initiator itself, without a restart, within seconds (its
// takeover pass comes every second while an outcome is awaited, not every half minute), and a
// retry of the request then succeeds.
TEST_F(TxnRecordsTest, ACommitEtcdDidNotAnswerIsRolledBackOnceItAnswers) {
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->StartWithEnv({{"GD2_FAILPOINT", "txn.before-commit@sleep=3000"}}));
  const std::string brick = ScratchDir("unknown") + "/b1";
  const nlohmann::json req = DistributeReq("unknown1", {brick});
  client::ClientOptions co;
  co.endpoints = {daemon_->endpoint()};
  co.secret = daemon_->secret();
  co.timeout = std::chrono::seconds(90);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<client::Client> c, client::Client::Create(co));
  auto created = std::async(std::launch::async, [&] { return c->Do("POST", "/v1/volumes", req); });
  // The step ran (the brick is prepared) and the commit waits at the failpoint: etcd stops.
  ASSERT_TRUE(WaitFor([&] { return fs::exists(brick + "/.glusterfs"); }, 10s));
  const pid_t etcd = etcd_.pid();
  ASSERT_EQ(::kill(etcd, SIGSTOP), 0);
  struct ContinueAtExit {
    pid_t pid;
    ~ContinueAtExit() { ::kill(pid, SIGCONT); }
  } cont{etcd};
  StatusOr<nlohmann::json> r = created.get();
  // The daemon counts the outcome it awaits (its metrics need no etcd).
  auto awaited = [&]() -> std::string {
    auto m = daemon_->NewClient()->Do("GET", "/metrics");
    if (!m.ok() || !m->is_string()) return "?";
    const std::string text = m->get<std::string>();
    const std::string name = "gd2_txn_outcomes_awaited ";
    size_t at = text.find("\n" + name);
    if (at == std::string::npos) return "absent";
    at += 1 + name.size();
    return text.substr(at, text.find('\n', at) - at);
  };
  EXPECT_EQ(awaited(), "1");
  ASSERT_EQ(::kill(etcd, SIGCONT), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("outcome of the commit is not known"));
  EXPECT_TRUE(fs::exists(brick + "/.glusterfs"))
      << "undone though the commit may have taken effect";
  // Rolled back by the takeover pass: the brick directory the create made is gone, and nothing
  // is awaited any more (the pass is back to every 30 s).
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(brick); }, 10s)) << daemon_->ReadLog();
  EXPECT_TRUE(WaitFor([&] { return awaited() == "0"; }, 5s)) << awaited();
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty());
  EXPECT_THAT(daemon_->NewClient()->Do("GET", "/v1/volumes/unknown1"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_NE(daemon_->ReadLog().find("rolling back unfinished transaction"), std::string::npos);
  // The retry the error asks for.
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", req));
}

// A delete cleans the bricks once it has committed (txn::Commit::finish). A cleanup that fails
// does not fail the delete, loses nothing on the bricks not yet cleaned, and is finished later:
// here at the next start (the takeover pass, every 30 s, does it too while the daemon runs).
TEST_F(TxnRecordsTest, ADeleteWhoseBrickCleanupFailsIsFinishedLater) {
  const std::string dir = ScratchDir("finish");
  const std::string b1 = dir + "/b1";
  const std::string b2 = dir + "/b2";
  const std::string b3 = dir + "/b3";
  ASSERT_OK(
      daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("finish1", {b1, b2, b3})));
  ASSERT_TRUE(fs::exists(b2 + "/.glusterfs"));
  // The filesystem refuses to remove an immutable directory in b2's .glusterfs.
  const std::string stuck = b2 + "/.glusterfs/stuck";
  fs::create_directories(stuck);
  ImmutableDir immutable{stuck};
  ASSERT_TRUE(immutable.Set(true));
  ASSERT_OK(daemon_->NewClient()->Do("DELETE", "/v1/volumes/finish1"));
  EXPECT_THAT(daemon_->NewClient()->Do("GET", "/v1/volumes/finish1"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(b1 + "/.glusterfs"));
  EXPECT_TRUE(fs::exists(b2 + "/.glusterfs"));
  // The committed record names this peer's part as still to do.
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  ASSERT_EQ(txns.size(), 1u);
  nlohmann::json record = nlohmann::json::parse(txns[0].value);
  EXPECT_EQ(record["committed"], true);
  EXPECT_EQ(record["finish_peers"], nlohmann::json::array({self_}));
  // b2 is not free yet: a create on it is refused, and changes nothing. b1, cleaned, is: a new
  // volume takes it, and the cleanup's retry below leaves it to that volume.
  EXPECT_FALSE(
      daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("finish2", {b2})).ok());
  EXPECT_TRUE(fs::exists(stuck));
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("finish3", {b1})));
  ASSERT_TRUE(fs::exists(b1 + "/.glusterfs"));
  // b3, cleaned too, is taken by a volume whose create has not committed yet (its id is set, the
  // store does not know it): the retry leaves it alone as well.
  ASSERT_FALSE(fs::exists(b3 + "/.glusterfs"));
  const std::string taker = "TAKER-VOLUME-016";
  ASSERT_EQ(::setxattr(b3.c_str(), "trusted.glusterfs.volume-id", taker.data(), taker.size(), 0),
            0);
  fs::create_directories(b3 + "/.glusterfs/00");

  ASSERT_TRUE(immutable.Set(false));
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->Start());
  ASSERT_OK(daemon_->NewClient()->ListPeers().status());
  EXPECT_FALSE(fs::exists(b2 + "/.glusterfs")) << daemon_->ReadLog();
  ASSERT_OK_AND_ASSIGN(txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty());
  EXPECT_NE(daemon_->ReadLog().find("finishing committed transaction"), std::string::npos);
  // The path is free again, and the new volume's brick untouched.
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("finish2", {b2})));
  EXPECT_TRUE(fs::exists(b1 + "/.glusterfs"));
  ASSERT_OK(daemon_->NewClient()->Do("GET", "/v1/volumes/finish3"));
  EXPECT_TRUE(fs::exists(b3 + "/.glusterfs/00"));
  std::string value(16, '\0');
  ASSERT_EQ(::getxattr(b3.c_str(), "trusted.glusterfs.volume-id", value.data(), value.size()), 16);
  EXPECT_EQ(value, taker);
}

// An initiator that dies between a delete's commit and the cleanup of its bricks: the cleanup
// is done at its next start.
TEST_F(TxnRecordsTest, ADeleteInterruptedAfterItsCommitIsFinishedAtTheNextStart) {
  const std::string brick = ScratchDir("crash") + "/b1";
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("crash1", {brick})));
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->StartWithEnv({{"GD2_FAILPOINT", "txn.before-finish"}}));
  EXPECT_FALSE(daemon_->NewClient()->Do("DELETE", "/v1/volumes/crash1").ok());
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(daemon_->pid()); }, 10s));
  // Committed, not cleaned.
  EXPECT_TRUE(fs::exists(brick + "/.glusterfs"));
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  ASSERT_EQ(txns.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(txns[0].value)["committed"], true);
  // Its locks are held until the dead daemon's lease expires (4 s): then the start's recovery
  // takes them and finishes the delete.
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(daemon_->Start());
  EXPECT_THAT(daemon_->NewClient()->Do("GET", "/v1/volumes/crash1"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(brick + "/.glusterfs"); }, 10s))
      << daemon_->ReadLog();
  ASSERT_OK_AND_ASSIGN(txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty());
}

// A commit that took effect though its answer was lost on the way back (GD2_FAILPOINT acts out
// the lost answer after etcd applied it) is not undone: the initiator reads the record back. A
// create's commit deleted it; a delete's marked it committed, and its bricks are then cleaned.
TEST_F(TxnRecordsTest, ACommitWhoseAnswerWasLostIsKeptAndFinished) {
  const std::string brick = ScratchDir("lost") + "/b1";
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->StartWithEnv({{"GD2_FAILPOINT", "txn.commit-answer-lost"}}));
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("lost1", {brick})));
  ASSERT_OK(daemon_->NewClient()->Do("GET", "/v1/volumes/lost1"));
  EXPECT_TRUE(fs::exists(brick + "/.glusterfs")) << "a create that committed was undone";

  ASSERT_OK(daemon_->NewClient()->Do("DELETE", "/v1/volumes/lost1"));
  EXPECT_THAT(daemon_->NewClient()->Do("GET", "/v1/volumes/lost1"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(fs::exists(brick + "/.glusterfs")) << "the delete's bricks were not cleaned";
  ASSERT_OK_AND_ASSIGN(auto txns, store_->List(prefix_ + "txn/"));
  EXPECT_TRUE(txns.empty()) << txns.front().value;
  const std::string log = daemon_->ReadLog();
  size_t first = log.find("commit applied though its answer was lost");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_NE(log.find("commit applied though its answer was lost", first + 1), std::string::npos);
  EXPECT_EQ(log.find("step undo"), std::string::npos) << log;
  // Both released their locks: a volume of the same name can be made at once.
  ASSERT_OK(daemon_->NewClient()->Do("POST", "/v1/volumes", DistributeReq("lost1", {brick})));
}

}  // namespace
}  // namespace gd2::testing
