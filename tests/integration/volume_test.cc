// Volumes on the real data plane: glusterd2 + embedded etcd + stock glusterfsd bricks on loop
// XFS filesystems + the stock FUSE client. Every volume type is created, started, mounted,
// written and checked on the bricks, then stopped and deleted; bricks and the daemon are killed
// under a running writer.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/volume.h"
#include "api/volume_req.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/gluster_mount.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// This suite's own loopback address: clients reach the portmapper on <brick host>:24007.
constexpr const char* kHost = "127.0.0.21";

class VolumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!LoopXfs::UnavailableReason().empty()) return;
    DaemonOptions o;
    o.host = kHost;
    o.client_port = 24007;
    daemon_ = new DaemonProcess(o);
    ASSERT_TRUE(daemon_->Start());
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    ASSERT_NE(daemon_, nullptr);
    client_ = daemon_->NewClient();
    ASSERT_OK_AND_ASSIGN(fs_, LoopXfs::Create());
  }

  void TearDown() override {
    // Leave nothing running on the loop filesystem, whatever the test did.
    for (const auto& name : created_) {
      client_->Do("POST", "/v1/volumes/" + name + "/stop", nlohmann::json::object()).status().IgnoreError();
      client_->Do("DELETE", "/v1/volumes/" + name).status().IgnoreError();
    }
  }

  std::vector<std::string> BrickPaths(int n) {
    std::vector<std::string> out;
    for (int i = 1; i <= n; ++i) {
      std::string p = fs_->mount_point() + "/b" + std::to_string(i);
      fs::create_directories(p);
      out.push_back(p);
    }
    return out;
  }

  // Explicit-layout create request, one subvol request per set like glustercli builds it.
  nlohmann::json CreateReq(const std::string& name, const std::vector<std::string>& bricks,
                           const std::string& type, int set_size, int arbiter = 0,
                           int redundancy = 0) {
    api::VolCreateReq req;
    req.name = name;
    req.force = true;  // all bricks are on this one peer
    for (size_t i = 0; i < bricks.size(); i += static_cast<size_t>(set_size)) {
      api::SubvolReq sv;
      sv.type = type;
      if (type == "replicate") sv.replica = set_size;
      if (type == "disperse") {
        sv.disperse_count = set_size;
        sv.disperse_redundancy = redundancy;
      }
      sv.arbiter = arbiter;
      for (size_t k = i; k < i + static_cast<size_t>(set_size) && k < bricks.size(); ++k) {
        sv.bricks.push_back({kHost, bricks[k], ""});
      }
      req.subvols.push_back(sv);
    }
    return req;
  }

  api::Volume CreateAndStart(const nlohmann::json& req) {
    auto created = client_->Do("POST", "/v1/volumes", req);
    EXPECT_OK(created);
    created_.push_back(req["name"]);
    auto started = client_->Do("POST", "/v1/volumes/" + req["name"].get<std::string>() + "/start",
                               nlohmann::json::object());
    EXPECT_OK(started);
    auto v = api::VolumeFromJson(started.ok() ? *started : nlohmann::json::object());
    EXPECT_OK(v);
    return v.ok() ? *v : api::Volume{};
  }

  std::unique_ptr<GlusterMount> MountVolume(const std::string& name) {
    auto m = GlusterMount::Mount(kHost, daemon_->client_port(), name);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(*m) : nullptr;
  }

  void StopAndDelete(const std::string& name) {
    EXPECT_OK(client_->Do("POST", "/v1/volumes/" + name + "/stop", nlohmann::json::object()));
    EXPECT_OK(client_->Do("DELETE", "/v1/volumes/" + name));
    EXPECT_THAT(client_->Do("GET", "/v1/volumes/" + name), StatusIs(StatusCode::kNotFound));
    created_.erase(std::remove(created_.begin(), created_.end(), name), created_.end());
  }

  static void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }

  static std::string ReadAll(const std::string& path) { return ReadFile(path).value_or(""); }

  // The daemon's log lines that contain `text`.
  static std::vector<std::string> LogLinesWith(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(daemon_->ReadLog());
    for (std::string line; std::getline(in, line);) {
      if (line.find(text) != std::string::npos) out.push_back(line);
    }
    return out;
  }

  static DaemonProcess* daemon_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<LoopXfs> fs_;
  std::vector<std::string> created_;
};

DaemonProcess* VolumeTest::daemon_ = nullptr;

// Appends small files through the mount until stopped; counts failures.
class Writer {
 public:
  explicit Writer(std::string dir) : dir_(std::move(dir)), thread_([this] { Run(); }) {}
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int written() const { return written_; }
  int errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }

 private:
  void Run() {
    std::string block(4096, 'w');
    while (!stop_) {
      std::string p = dir_ + "/w" + std::to_string(written_.load());
      int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
      bool ok = fd >= 0 && ::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()) &&
                ::fsync(fd) == 0;
      if (fd >= 0 && ::close(fd) != 0) ok = false;
      if (ok) {
        written_++;
      } else {
        if (errors_++ == 0) first_error_ = p + ": " + std::strerror(errno);
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  std::string dir_;
  std::atomic<bool> stop_{false};
  std::atomic<int> written_{0};
  std::atomic<int> errors_{0};
  std::string first_error_;
  std::thread thread_;
};

TEST_F(VolumeTest, DistributeHashesFilesAcrossBricks) {
  auto bricks = BrickPaths(3);
  api::Volume v = CreateAndStart(CreateReq("dist1", bricks, "distribute", 3));
  EXPECT_EQ(v.type, api::VolumeType::kDistribute);
  auto m = MountVolume("dist1");
  ASSERT_NE(m, nullptr);
  for (int i = 0; i < 30; ++i) WriteFile(m->path() + "/f" + std::to_string(i), "data" + std::to_string(i));
  std::set<std::string> used;
  for (int i = 0; i < 30; ++i) {
    std::string f = "/f" + std::to_string(i);
    int copies = 0;
    for (const auto& b : bricks) {
      if (fs::exists(b + f)) {
        ++copies;
        used.insert(b);
        EXPECT_EQ(ReadAll(b + f), "data" + std::to_string(i));
      }
    }
    EXPECT_EQ(copies, 1) << f;
  }
  EXPECT_GE(used.size(), 2u) << "files were not spread over the distribute subvolumes";
  m.reset();
  StopAndDelete("dist1");
}

TEST_F(VolumeTest, Replica3KeepsACopyOnEveryBrick) {
  auto bricks = BrickPaths(3);
  api::Volume v = CreateAndStart(CreateReq("rep3", bricks, "replicate", 3));
  EXPECT_EQ(v.type, api::VolumeType::kReplicate);
  auto m = MountVolume("rep3");
  ASSERT_NE(m, nullptr);
  std::string data(100000, 'r');
  WriteFile(m->path() + "/file", data);
  for (const auto& b : bricks) EXPECT_EQ(ReadAll(b + "/file"), data) << b;
  // The self-heal daemon runs for replicate volumes.
  auto r = RunCommand({"pgrep", "-f", "volfile-id shd/rep3"}, 5s);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit.code, 0) << "no self-heal daemon for rep3";
  m.reset();
  StopAndDelete("rep3");
  auto gone = RunCommand({"pgrep", "-f", "volfile-id shd/rep3"}, 5s);
  ASSERT_OK(gone);
  EXPECT_NE(gone->exit.code, 0) << "self-heal daemon outlived volume stop";
  // A stop that was asked for is logged as one, not as a brick that went down.
  for (const auto& b : bricks) {
    std::vector<std::string> lines = LogLinesWith("=" + b);
    EXPECT_THAT(lines,
                Contains(AllOf(HasSubstr(" info process stopped "), HasSubstr(" kind=brick "))))
        << b;
    EXPECT_THAT(lines, Not(Contains(HasSubstr(" warn ")))) << b;
  }
}

TEST_F(VolumeTest, ArbiterHoldsMetadataOnly) {
  auto bricks = BrickPaths(3);
  api::Volume v = CreateAndStart(CreateReq("arb1", bricks, "replicate", 3, 1));
  ASSERT_EQ(v.subvols.size(), 1u);
  EXPECT_EQ(v.subvols[0].bricks[2].type, api::BrickType::kArbiter);
  auto m = MountVolume("arb1");
  ASSERT_NE(m, nullptr);
  std::string data(50000, 'a');
  WriteFile(m->path() + "/file", data);
  EXPECT_EQ(ReadAll(bricks[0] + "/file"), data);
  EXPECT_EQ(ReadAll(bricks[1] + "/file"), data);
  ASSERT_TRUE(fs::exists(bricks[2] + "/file"));
  EXPECT_EQ(fs::file_size(bricks[2] + "/file"), 0u) << "arbiter brick holds data";
  m.reset();
  StopAndDelete("arb1");
}

TEST_F(VolumeTest, DisperseStoresFragments) {
  auto bricks = BrickPaths(6);
  api::Volume v = CreateAndStart(CreateReq("disp1", bricks, "disperse", 6, 0, 2));
  EXPECT_EQ(v.type, api::VolumeType::kDisperse);
  auto m = MountVolume("disp1");
  ASSERT_NE(m, nullptr);
  std::string data(1 << 20, 'd');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  WriteFile(m->path() + "/file", data);
  EXPECT_EQ(ReadAll(m->path() + "/file"), data);
  for (const auto& b : bricks) {
    ASSERT_TRUE(fs::exists(b + "/file")) << b;
    // 4 data fragments: each brick holds a quarter of the file.
    EXPECT_EQ(fs::file_size(b + "/file"), data.size() / 4) << b;
    EXPECT_NE(ReadAll(b + "/file"), data.substr(0, data.size() / 4)) << "fragment is plain data";
  }
  m.reset();
  StopAndDelete("disp1");
}

TEST_F(VolumeTest, DistributedReplicate2x3) {
  auto bricks = BrickPaths(6);
  api::Volume v = CreateAndStart(CreateReq("drep", bricks, "replicate", 3));
  EXPECT_EQ(v.type, api::VolumeType::kDistReplicate);
  ASSERT_EQ(v.subvols.size(), 2u);
  auto m = MountVolume("drep");
  ASSERT_NE(m, nullptr);
  std::set<int> sets_used;
  for (int i = 0; i < 20; ++i) {
    std::string f = "/f" + std::to_string(i);
    WriteFile(m->path() + f, "x");
    std::vector<int> holders;
    for (int b = 0; b < 6; ++b) {
      if (fs::exists(bricks[static_cast<size_t>(b)] + f)) holders.push_back(b);
    }
    ASSERT_EQ(holders.size(), 3u) << f;
    int set = holders[0] / 3;
    for (int h : holders) EXPECT_EQ(h / 3, set) << f << " split across replica sets";
    sets_used.insert(set);
  }
  EXPECT_EQ(sets_used.size(), 2u);
  m.reset();
  StopAndDelete("drep");
  // The six bricks of this peer were cleaned up together: each root lost .glusterfs and the
  // volume's xattrs, and kept the files written through the mount.
  for (const std::string& b : bricks) {
    EXPECT_FALSE(fs::exists(b + "/.glusterfs")) << b;
    EXPECT_LT(::getxattr(b.c_str(), "trusted.glusterfs.volume-id", nullptr, 0), 0) << b;
    EXPECT_LT(::getxattr(b.c_str(), "trusted.gfid", nullptr, 0), 0) << b;
  }
  for (int i = 0; i < 20; ++i) {
    int copies = 0;
    for (const std::string& b : bricks) copies += fs::exists(b + "/f" + std::to_string(i)) ? 1 : 0;
    EXPECT_EQ(copies, 3) << "f" << i;
  }
}

TEST_F(VolumeTest, BadRequestsChangeNothing) {
  auto bricks = BrickPaths(4);
  struct Case {
    std::string what;
    nlohmann::json req;
    StatusCode code;
  };
  nlohmann::json nested = CreateReq("bad5", {bricks[0], bricks[0] + "/sub", bricks[1]}, "replicate", 3);
  nlohmann::json no_force = CreateReq("bad6", {bricks[0], bricks[1], bricks[2]}, "replicate", 3);
  no_force["force"] = false;
  nlohmann::json in_workdir = CreateReq("bad7", {daemon_->workdir() + "/x"}, "distribute", 1);
  std::vector<Case> cases = {
      {"name with slash", CreateReq("a/b", {bricks[0]}, "distribute", 1), StatusCode::kInvalidArgument},
      {"name ..", CreateReq("..", {bricks[0]}, "distribute", 1), StatusCode::kInvalidArgument},
      {"relative path", CreateReq("bad1", {"rel/path"}, "distribute", 1), StatusCode::kInvalidArgument},
      {"dotdot path", CreateReq("bad2", {bricks[0] + "/../b2"}, "distribute", 1), StatusCode::kInvalidArgument},
      {"count", CreateReq("bad3", {bricks[0], bricks[1], bricks[2], bricks[3]}, "replicate", 3),
       StatusCode::kInvalidArgument},
      {"duplicate", CreateReq("bad4", {bricks[0], bricks[0], bricks[1]}, "replicate", 3),
       StatusCode::kInvalidArgument},
      {"nested", nested, StatusCode::kInvalidArgument},
      {"same peer", no_force, StatusCode::kInvalidArgument},
      {"workdir", in_workdir, StatusCode::kInvalidArgument},
      {"unknown peer", nlohmann::json::parse(R"({"name":"bad8","subvols":[{"type":"distribute",
         "bricks":[{"peerid":"no-such-host","path":"/x"}]}]})"), StatusCode::kNotFound},
      {"unknown field", nlohmann::json::parse(R"({"name":"bad9","bogus":1,"subvols":[]})"),
       StatusCode::kInvalidArgument},
      {"bad option", [&] {
         auto r = CreateReq("bad10", {bricks[0]}, "distribute", 1);
         r["options"] = {{"perfomance.cache-size", "1MB"}};
         return r;
       }(), StatusCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto r = client_->Do("POST", "/v1/volumes", c.req);
    EXPECT_THAT(r, StatusIs(c.code)) << c.what;
  }
  auto list = client_->Do("GET", "/v1/volumes");
  ASSERT_OK(list);
  EXPECT_EQ(list->size(), 0u) << list->dump();
  for (const auto& b : bricks) {
    EXPECT_FALSE(fs::exists(b + "/.glusterfs")) << "a refused create touched " << b;
  }

  // A brick path belongs to one volume; a started volume cannot be deleted; states are checked.
  ASSERT_OK(client_->Do("POST", "/v1/volumes", CreateReq("own1", {bricks[0]}, "distribute", 1)));
  created_.push_back("own1");
  EXPECT_THAT(client_->Do("POST", "/v1/volumes", CreateReq("own2", {bricks[0]}, "distribute", 1)),
              StatusIs(StatusCode::kAborted));  // 409: path in use
  EXPECT_THAT(client_->Do("POST", "/v1/volumes", CreateReq("own1", {bricks[1]}, "distribute", 1)),
              StatusIs(StatusCode::kAborted));  // 409: exists
  EXPECT_THAT(client_->Do("POST", "/v1/volumes/own1/stop", nlohmann::json::object()),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(client_->Do("POST", "/v1/volumes/own1/start", nlohmann::json::object()));
  EXPECT_THAT(client_->Do("POST", "/v1/volumes/own1/start", nlohmann::json::object()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Do("DELETE", "/v1/volumes/own1"), StatusIs(StatusCode::kInvalidArgument));
  StopAndDelete("own1");
  EXPECT_THAT(client_->Do("GET", "/v1/volumes/nope/status"), StatusIs(StatusCode::kNotFound));
}

// GlusterD2's clients match these error texts (its CSI driver treats "volume not found" on a
// delete as done, "volume already stopped" on a stop likewise): they stay byte-identical.
TEST_F(VolumeTest, ErrorTextsGlusterD2ClientsMatchOnAreExact) {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/volumes/nope"},
                                                        {"POST", "/v1/volumes/nope/stop"},
                                                        {"POST", "/v1/volumes/nope/start"},
                                                        {"DELETE", "/v1/volumes/nope"}}) {
    std::optional<nlohmann::json> body;
    if (method == "POST") body = nlohmann::json::object();
    auto r = client_->Do(method, path, body);
    ASSERT_FALSE(r.ok()) << method << " " << path;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << method << " " << path;
    EXPECT_EQ(r.status().message(), "volume not found") << method << " " << path;
  }
  ASSERT_OK(client_->Do("POST", "/v1/volumes", CreateReq("texts1", BrickPaths(3), "replicate", 3)));
  auto stop = client_->Do("POST", "/v1/volumes/texts1/stop", nlohmann::json::object());
  ASSERT_FALSE(stop.ok());
  EXPECT_EQ(stop.status().message(), "volume already stopped");
  ASSERT_OK(client_->Do("DELETE", "/v1/volumes/texts1"));
}

TEST_F(VolumeTest, StatusOptionsAndLiveReconfigure) {
  auto bricks = BrickPaths(3);
  CreateAndStart(CreateReq("opt1", bricks, "replicate", 3));
  ASSERT_OK_AND_ASSIGN(nlohmann::json st, client_->Do("GET", "/v1/volumes/opt1/status"));
  ASSERT_EQ(st["bricks"].size(), 3u);
  for (const auto& b : st["bricks"]) {
    EXPECT_TRUE(b["online"].get<bool>()) << b.dump();
    EXPECT_GE(b["port"].get<int>(), 49152);
    EXPECT_TRUE(ProcessAlive(b["pid"].get<pid_t>()));
    EXPECT_EQ(b["fs-type"], "xfs");
  }
  EXPECT_TRUE(st["online"].get<bool>());
  EXPECT_GT(st["size"]["capacity"].get<uint64_t>(), 0u);

  auto m = MountVolume("opt1");
  ASSERT_NE(m, nullptr);
  ASSERT_OK(client_->Do("POST", "/v1/volumes/opt1/options",
                        nlohmann::json{{"options", {{"performance.cache-size", "64MB"}}}}));
  // The running client reconfigures its quick-read xlator without a remount.
  EXPECT_TRUE(WaitFor(
      [&] {
        return ReadFile(m->log_path()).value_or("").find(
                   "opt1-quick-read: option cache-size using set value 64MB") != std::string::npos;
      },
      20s))
      << ReadFile(m->log_path()).value_or("");
  // A graph change (an xlator switched off) makes the client build and switch to a new graph.
  ASSERT_OK(client_->Do("POST", "/v1/volumes/opt1/options",
                        nlohmann::json{{"options", {{"performance.write-behind", "off"}}}}));
  EXPECT_TRUE(WaitFor(
      [&] {
        // FUSE switches to a new graph on its next request.
        std::error_code ec;
        (void)fs::exists(m->path() + "/probe", ec);
        std::string log = ReadFile(m->log_path()).value_or("");
        size_t first = log.find("switched to graph ");
        return first != std::string::npos && log.find("switched to graph ", first + 1) != std::string::npos;
      },
      20s))
      << ReadFile(m->log_path()).value_or("");
  WriteFile(m->path() + "/after-switch", "still works");
  EXPECT_EQ(ReadAll(bricks[0] + "/after-switch"), "still works");
  ASSERT_OK_AND_ASSIGN(nlohmann::json opt, client_->Do("GET", "/v1/volumes/opt1/options/performance.cache-size"));
  EXPECT_EQ(opt["value"], "64MB");
  EXPECT_EQ(opt["modified"], true);
  EXPECT_THAT(client_->Do("POST", "/v1/volumes/opt1/options",
                          nlohmann::json{{"options", {{"performance.cache-size", "lots"}}}}),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(client_->Do("DELETE", "/v1/volumes/opt1/options",
                        nlohmann::json{{"options", {"performance.cache-size"}}}));
  ASSERT_OK_AND_ASSIGN(nlohmann::json reset, client_->Do("GET", "/v1/volumes/opt1/options/performance.cache-size"));
  EXPECT_EQ(reset["modified"], false);
  m.reset();
  StopAndDelete("opt1");
}

// Requests as GlusterD2's own Go client makes them: a create carrying every VolCreateReq field
// ("size": 0 and "provisioner": "" among them), an option named by its xlator path (with a
// '/'), the option groups (never taken for a volume name), and heal info in its shapes.
TEST_F(VolumeTest, GlusterD2ClientRequestsAndShapes) {
  auto bricks = BrickPaths(2);
  nlohmann::json req = CreateReq("gocl", bricks, "replicate", 2);
  const nlohmann::json go_fields = {{"size", 0},
                                    {"provisioner", ""},
                                    {"distribute", 0},
                                    {"snapshot", false},
                                    {"snapshot-reserve-factor", 0},
                                    {"limit-peers", nlohmann::json::array()},
                                    {"exclude-zones", nullptr},
                                    {"subvolume-zones-overlap", false},
                                    {"max-brick-size", 0},
                                    {"average-file-size", 0}};
  for (const auto& [k, v] : go_fields.items()) req[k] = v;
  CreateAndStart(req);
  nlohmann::json smart = CreateReq("gocl2", BrickPaths(2), "replicate", 2);
  smart["size"] = 1 << 30;
  StatusOr<nlohmann::json> refused = client_->Do("POST", "/v1/volumes", smart);
  EXPECT_THAT(refused, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("field \"size\""));

  ASSERT_OK_AND_ASSIGN(nlohmann::json by_path,
                       client_->Do("GET", "/v1/volumes/gocl/options/cluster/replicate.eager-lock"));
  ASSERT_OK_AND_ASSIGN(nlohmann::json by_name,
                       client_->Do("GET", "/v1/volumes/gocl/options/cluster.eager-lock"));
  EXPECT_EQ(by_path, by_name);
  EXPECT_EQ(by_path["name"], "cluster.eager-lock");
  ASSERT_OK_AND_ASSIGN(api::OptionInfo typed,
                       client_->GetOption("gocl", "cluster/replicate.eager-lock"));
  EXPECT_EQ(typed.name, "cluster.eager-lock");

  ASSERT_OK_AND_ASSIGN(nlohmann::json groups, client_->Do("GET", "/v1/volumes/options-group"));
  EXPECT_TRUE(groups.is_array()) << groups.dump();

  ASSERT_OK_AND_ASSIGN(nlohmann::json heal, client_->Do("GET", "/v1/volumes/gocl/heal-info"));
  ASSERT_EQ(heal.size(), 2u) << heal.dump();
  for (const auto& b : heal) {
    EXPECT_TRUE(b["entries"].is_number_integer()) << b.dump();
    EXPECT_TRUE(b["total-entries"].is_number_integer()) << b.dump();
    EXPECT_TRUE(b["file-gfid"].is_array()) << b.dump();
  }
  StopAndDelete("gocl");
}

TEST_F(VolumeTest, KilledBrickRestartsAndHeals) {
  auto bricks = BrickPaths(3);
  CreateAndStart(CreateReq("heal1", bricks, "replicate", 3));
  auto m = MountVolume("heal1");
  ASSERT_NE(m, nullptr);
  ASSERT_OK_AND_ASSIGN(nlohmann::json st, client_->Do("GET", "/v1/volumes/heal1/bricks"));
  pid_t victim = st[1]["pid"].get<pid_t>();
  Writer writer(m->path());
  ASSERT_TRUE(WaitFor([&] { return writer.written() > 20; }, 20s));
  ::kill(victim, SIGKILL);
  int at_kill = writer.written();
  // The supervisor brings the brick back on its own.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto b = client_->Do("GET", "/v1/volumes/heal1/bricks");
        return b.ok() && (*b)[1]["online"].get<bool>() && (*b)[1]["pid"].get<pid_t>() != victim;
      },
      30s));
  // A death is a warning, with what ended the process.
  EXPECT_THAT(
      LogLinesWith("pid=" + std::to_string(victim) + " "),
      Contains(AllOf(HasSubstr(" warn process died; restarting "),
                     HasSubstr("key=" + bricks[1] + " "), HasSubstr("killed by signal 9"))));
  ASSERT_TRUE(WaitFor([&] { return writer.written() > at_kill + 50; }, 30s));
  writer.Stop();
  EXPECT_EQ(writer.errors(), 0) << writer.first_error();
  // Heal brings the restarted brick level: every file on all three bricks, nothing pending.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = client_->Do("GET", "/v1/volumes/heal1/heal-info");
        if (!h.ok()) return false;
        for (const auto& b : *h) {
          if (b["total-entries"].get<int>() != 0) return false;
        }
        for (int i = 0; i < writer.written(); ++i) {
          if (!fs::exists(bricks[1] + "/w" + std::to_string(i))) return false;
        }
        return true;
      },
      90s))
      << "heal did not complete";
  m.reset();
  StopAndDelete("heal1");
}

TEST_F(VolumeTest, DaemonRestartDoesNotInterruptIo) {
  auto bricks = BrickPaths(3);
  CreateAndStart(CreateReq("live1", bricks, "replicate", 3));
  auto m = MountVolume("live1");
  ASSERT_NE(m, nullptr);
  ASSERT_OK_AND_ASSIGN(nlohmann::json before, client_->Do("GET", "/v1/volumes/live1/bricks"));
  Writer writer(m->path());
  ASSERT_TRUE(WaitFor([&] { return writer.written() > 20; }, 20s));
  daemon_->Kill();
  int at_kill = writer.written();
  ASSERT_TRUE(WaitFor([&] { return writer.written() > at_kill + 20; }, 20s))
      << "I/O stopped while the daemon was down";
  ASSERT_TRUE(daemon_->Start());
  client_ = daemon_->NewClient();
  int at_start = writer.written();
  ASSERT_TRUE(WaitFor([&] { return writer.written() > at_start + 20; }, 20s));
  writer.Stop();
  EXPECT_EQ(writer.errors(), 0) << writer.first_error();
  // The same brick processes were adopted, not restarted.
  ASSERT_OK_AND_ASSIGN(nlohmann::json after, client_->Do("GET", "/v1/volumes/live1/bricks"));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(after[i]["pid"], before[i]["pid"]);
    EXPECT_TRUE(after[i]["online"].get<bool>());
  }
  m.reset();
  StopAndDelete("live1");
}

// Brick status names the mount that holds each brick, as GlusterD2 did: its device and options.
TEST_F(VolumeTest, BrickStatusNamesTheBrickMount) {
  auto bricks = BrickPaths(1);
  CreateAndStart(CreateReq("mnt1", bricks, "distribute", 1));
  ASSERT_OK_AND_ASSIGN(nlohmann::json st, client_->Do("GET", "/v1/volumes/mnt1/bricks"));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0]["device"], fs_->device()) << st.dump();
  std::string opts = st[0].value("mount-opts", "");
  EXPECT_EQ(opts.rfind("rw", 0), 0u) << st.dump();
  EXPECT_EQ(st[0]["fs-type"], "xfs");
  StopAndDelete("mnt1");
}

}  // namespace
}  // namespace gd2::testing
