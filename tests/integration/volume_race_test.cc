// Racing operations on one volume: start, stop, delete, option set and a create of the same
// name, two at a time from two clients, many times. Whatever wins, the store, the brick
// processes and the brick metadata (volume-id and gfid xattrs, .glusterfs) must agree
// afterwards: a handler checks the volume's state under its lock, so a request that loses the
// race is refused before any of its steps touched a brick.
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/volume_req.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kHost = "127.0.0.24";
constexpr const char* kVol = "race";

// The volume-id xattr of `path` as a canonical UUID, or "" if it has none.
std::string VolumeIdOf(const std::string& path) {
  unsigned char b[16];
  ssize_t n = ::getxattr(path.c_str(), "trusted.glusterfs.volume-id", b, sizeof b);
  if (n != 16) return "";
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

bool IsStarted(const nlohmann::json& v) {
  return v.value("state", "") == "Started" || v.value("state", "") == "VolStarted";
}

bool HasGfid(const std::string& path) {
  return ::getxattr(path.c_str(), "trusted.gfid", nullptr, 0) == 16;
}

int BrickProcesses(const std::string& path) {
  auto r = RunCommand({"pgrep", "-f", "brick-name " + path + "( |$)"}, 5s);
  if (!r.ok() || r->exit.code != 0) return 0;
  return static_cast<int>(std::count(r->output.begin(), r->output.end(), '\n'));
}

class VolumeRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    ASSERT_OK_AND_ASSIGN(fs_, LoopXfs::Create());
    DaemonOptions o;
    o.host = kHost;
    o.client_port = 24007;
    daemon_ = std::make_unique<DaemonProcess>(o);
    ASSERT_TRUE(daemon_->Start());
    a_ = daemon_->NewClient();
    b_ = daemon_->NewClient();
  }
  void TearDown() override {
    if (!daemon_ || !a_) return;
    auto v = a_->Do("GET", std::string("/v1/volumes/") + kVol);
    if (v.ok()) {
      a_->Do("POST", std::string("/v1/volumes/") + kVol + "/stop", nlohmann::json{{"force", true}})
          .status()
          .IgnoreError();
      a_->Do("DELETE", std::string("/v1/volumes/") + kVol).status().IgnoreError();
    }
  }

  std::string NewBrickPath() {
    std::string p = fs_->mount_point() + "/b" + std::to_string(next_brick_++) + "x";
    fs::create_directories(p);
    paths_.push_back(p);
    return p;
  }

  StatusOr<nlohmann::json> Create(client::Client& c, const std::string& path) {
    api::VolCreateReq req;
    req.name = kVol;
    req.force = true;
    api::SubvolReq sv;
    sv.type = "distribute";
    sv.bricks.push_back({kHost, path, ""});
    req.subvols.push_back(sv);
    return c.Do("POST", "/v1/volumes", nlohmann::json(req));
  }

  // A stopped volume whose brick has run once (gfid and .glusterfs filled), started if asked.
  void Fresh(bool started) {
    std::string path = NewBrickPath();
    ASSERT_OK(Create(*a_, path).status());
    ASSERT_OK(
        a_->Do("POST", std::string("/v1/volumes/") + kVol + "/start", nlohmann::json::object())
            .status());
    std::ofstream(path + "/file") << "data\n";
    if (!started) {
      ASSERT_OK(
          a_->Do("POST", std::string("/v1/volumes/") + kVol + "/stop", nlohmann::json::object())
              .status());
    }
  }

  StatusOr<nlohmann::json> Op(const std::string& op, client::Client& c) {
    std::string base = std::string("/v1/volumes/") + kVol;
    if (op == "start") return c.Do("POST", base + "/start", nlohmann::json::object());
    if (op == "stop") return c.Do("POST", base + "/stop", nlohmann::json::object());
    if (op == "delete") return c.Do("DELETE", base);
    if (op == "set")
      return c.Do("POST", base + "/options",
                  nlohmann::json{{"options", {{"performance.readdir-ahead", "off"}}}});
    // Each client creates on a brick of its own: the loser's brick must stay unprepared.
    if (op == "create") return Create(c, &c == a_.get() ? create_path_ : create_path_b_);
    return InvalidArgumentError("unknown op");
  }

  // Store, processes and brick metadata agree; returns a description of what does not.
  std::string Disagreements() {
    std::string out;
    auto v = a_->Do("GET", std::string("/v1/volumes/") + kVol);
    std::set<std::string> live;
    if (v.ok()) {
      std::string id = (*v)["id"];
      bool started = IsStarted(*v);
      for (const auto& sv : (*v)["subvols"]) {
        for (const auto& b : sv["bricks"]) {
          std::string path = b["path"];
          live.insert(path);
          if (VolumeIdOf(path) != id)
            out += " brick " + path + " lacks the volume-id of the stored volume;";
          if (!fs::exists(path + "/.glusterfs")) out += " brick " + path + " lost .glusterfs;";
          if (started) {
            if (!WaitFor([&] { return BrickProcesses(path) == 1; }, 15s))
              out += " started volume, brick " + path + " not running;";
            if (!HasGfid(path)) out += " started volume, brick " + path + " lost trusted.gfid;";
          } else if (BrickProcesses(path) != 0) {
            out += " stopped volume, brick " + path + " running;";
          }
        }
      }
    } else if (v.status().code() != StatusCode::kNotFound) {
      out += " volume read failed: " + v.status().ToString();
    }
    for (const auto& p : paths_) {
      if (live.count(p) != 0) continue;
      if (!VolumeIdOf(p).empty())
        out += " brick dir " + p + " of no volume carries volume-id " + VolumeIdOf(p) + ";";
      if (BrickProcesses(p) != 0) out += " brick " + p + " of no volume is running;";
    }
    return out;
  }

  // Back to "no volume" between rounds.
  void Clear() {
    auto v = a_->Do("GET", std::string("/v1/volumes/") + kVol);
    if (!v.ok()) return;
    if (IsStarted(*v)) {
      ASSERT_OK(
          a_->Do("POST", std::string("/v1/volumes/") + kVol + "/stop", nlohmann::json::object())
              .status());
    }
    ASSERT_OK(a_->Do("DELETE", std::string("/v1/volumes/") + kVol).status());
  }

  // Runs `first` and, `delay` later, `second`, each from its own client.
  std::pair<Status, Status> Race(const std::string& first, const std::string& second,
                                 std::chrono::milliseconds delay) {
    create_path_ = NewBrickPath();
    create_path_b_ = NewBrickPath();
    auto f = std::async(std::launch::async, [&] { return Op(first, *a_).status(); });
    std::this_thread::sleep_for(delay);
    auto s = std::async(std::launch::async, [&] { return Op(second, *b_).status(); });
    return {f.get(), s.get()};
  }

  std::unique_ptr<LoopXfs> fs_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<client::Client> a_, b_;
  std::vector<std::string> paths_;
  std::string create_path_;
  std::string create_path_b_;
  int next_brick_ = 0;
};

TEST_F(VolumeRaceTest, StartThenDeleteTwentyMillisecondsLaterKeepsTheStartedBrick) {
  for (int round = 0; round < 10; ++round) {
    Fresh(/*started=*/false);
    auto [start, del] = Race("start", "delete", 20ms);
    std::printf("round %d: start=%s delete=%s\n", round, start.ToString().c_str(),
                del.ToString().c_str());
    std::string bad = Disagreements();
    EXPECT_EQ(bad, "") << "round " << round << ": start=" << start.ToString()
                       << " delete=" << del.ToString();
    if (start.ok()) {
      // Start won: the delete was refused before it touched the brick.
      EXPECT_FALSE(del.ok());
    }
    Clear();
  }
  EXPECT_EQ(Disagreements(), "");
}

TEST_F(VolumeRaceTest, EveryPairOfOperationsLeavesStoreProcessesAndBricksInAgreement) {
  const std::vector<std::string> ops = {"start", "stop", "delete", "set", "create"};
  int rounds = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    for (size_t j = i; j < ops.size(); ++j) {
      for (int k = 0; k < 4; ++k) {
        // Alternate the starting state and the delay between the two requests; two creates
        // race for a free name.
        Fresh(/*started=*/k % 2 == 1);
        if (ops[i] == "create" && ops[j] == "create") Clear();
        auto [r1, r2] = Race(ops[i], ops[j], k < 2 ? 20ms : 0ms);
        std::printf("%s vs %s (%s): %s / %s\n", ops[i].c_str(), ops[j].c_str(),
                    k < 2 ? "20 ms" : "at once", r1.ToString().c_str(), r2.ToString().c_str());
        std::string bad = Disagreements();
        EXPECT_EQ(bad, "") << ops[i] << " vs " << ops[j] << " round " << k << ": " << r1.ToString()
                           << " / " << r2.ToString();
        // A conflict is a 4xx, never a 500.
        for (const Status& s : {r1, r2}) EXPECT_NE(s.code(), StatusCode::kInternal) << s.ToString();
        if (ops[i] == "create" && ops[j] == "create") {
          EXPECT_NE(r1.ok(), r2.ok()) << "exactly one create wins";
        }
        Clear();
        ++rounds;
      }
    }
  }
  EXPECT_EQ(rounds, 60);
  EXPECT_EQ(Disagreements(), "");
}

}  // namespace
}  // namespace gd2::testing
