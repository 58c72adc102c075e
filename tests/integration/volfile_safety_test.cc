// What a volfile may carry, tested on the real data plane: glusterd2 + embedded etcd + stock
// glusterfsd bricks on loop XFS + the stock FUSE client. GlusterFS runs text between backticks
// in a volfile through a shell, as root, in every brick and client that reads it; these tests
// put a backtick command that touches a marker file into every field that reaches a volfile,
// through the API and straight into the store, and check that it is refused and that the
// marker never appears. Also: symlinked and colliding bricks, and content-caused errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/volume.h"
#include "api/volume_req.h"
#include "common/files.h"
#include "common/tls_ca.h"
#include "store/store.h"
#include "support/daemon_process.h"
#include "support/gluster_mount.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// This suite's own loopback address: clients reach the portmapper on <brick host>:24007.
constexpr const char* kHost = "127.0.0.23";
constexpr const char* kRefusedLog = "volume record refused, volfile not served";

class VolfileSafetyTest : public ::testing::Test {
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
    marker_dir_ = std::make_unique<TempDir>("gd2marker");
    marker_ = marker_dir_->path() + "/ran";
  }

  void TearDown() override {
    for (const auto& name : created_) {
      client_->Do("POST", "/v1/volumes/" + name + "/stop", nlohmann::json::object())
          .status()
          .IgnoreError();
      client_->Do("DELETE", "/v1/volumes/" + name).status().IgnoreError();
    }
  }

  // The command the volfile reader would run: it leaves the marker file behind.
  std::string Cmd() const { return "`touch " + marker_ + "`"; }
  bool MarkerAppears(std::chrono::milliseconds within) const {
    return WaitFor([&] { return fs::exists(marker_); }, within);
  }

  std::string Brick(const std::string& rel) {
    std::string p = fs_->mount_point() + "/" + rel;
    fs::create_directories(p);
    return p;
  }

  static nlohmann::json Req(const std::string& name, const std::vector<std::string>& paths,
                            const std::string& type = "distribute", int replica = 0) {
    api::VolCreateReq req;
    req.name = name;
    req.force = true;  // every brick is on this one peer
    api::SubvolReq sv;
    sv.type = type;
    sv.replica = replica;
    for (const auto& p : paths) sv.bricks.push_back({kHost, p, ""});
    req.subvols.push_back(sv);
    return req;
  }

  StatusOr<nlohmann::json> Create(const nlohmann::json& req) {
    auto r = client_->Do("POST", "/v1/volumes", req);
    if (r.ok()) created_.push_back(req["name"]);
    return r;
  }

  int RefusalsLogged() const {
    std::string log = daemon_->ReadLog();
    int n = 0;
    for (size_t pos = 0; (pos = log.find(kRefusedLog, pos)) != std::string::npos; ++pos) ++n;
    return n;
  }

  std::unique_ptr<store::Store> StoreClient() {
    // The embedded etcd admits only certificates of the cluster CA: use the node's own.
    tls::TlsPaths paths = tls::TlsPathsIn(daemon_->workdir());
    store::Options so;
    so.endpoints = {daemon_->etcd_client_url()};
    so.ca_file = paths.ca_cert();
    so.cert_file = paths.node_cert();
    so.key_file = paths.node_key();
    so.tls_server_name = tls::kStoreServerName;
    auto st = store::Store::Connect(so);
    EXPECT_OK(st);
    return st.ok() ? std::move(*st) : nullptr;
  }

  std::string VolumeKey(const std::string& name) {
    auto h = client_->Health();
    EXPECT_OK(h);
    return "gluster-" + (h.ok() ? h->cluster_id : std::string()) + "/volumes/" + name;
  }

  static DaemonProcess* daemon_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<LoopXfs> fs_;
  std::unique_ptr<TempDir> marker_dir_;
  std::string marker_;
  std::vector<std::string> created_;
};

DaemonProcess* VolfileSafetyTest::daemon_ = nullptr;

// 17.1, 15.7, 15.8: every string field that reaches a volfile is refused with a 400 naming it,
// as are symlinked bricks, bricks on filesystems without xattrs, overlong components and unknown
// enum values; nothing is created and nothing runs.
TEST_F(VolfileSafetyTest, ApiRefusesUnsafeValuesInEveryField) {
  const std::string b1 = Brick("b1");
  const std::string target = Brick("target");
  const std::string link = fs_->mount_point() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  struct Case {
    std::string what;
    nlohmann::json req;
    std::string message;  // names the field
  };
  auto with_options = [&](nlohmann::json options) {
    nlohmann::json r = Req("opts1", {b1});
    r["options"] = std::move(options);
    return r;
  };
  nlohmann::json host_req = Req("host1", {b1});
  host_req["subvols"][0]["bricks"][0]["peerid"] = Cmd();
  nlohmann::json weird = Req("weird1", {b1});
  weird["subvols"][0]["type"] = "weird";
  std::vector<Case> cases = {
      {"volume name", Req("v" + Cmd(), {b1}), "invalid volume name"},
      {"brick path", Req("path1", {b1 + "/" + Cmd()}), "brick path has a character"},
      {"brick host", host_req, "peerid"},
      {"auth.allow", with_options({{"auth.allow", Cmd()}}), "invalid value for auth.allow"},
      {"auth.reject", with_options({{"auth.reject", "10.0.0.1," + Cmd()}}),
       "invalid value for auth.reject"},
      {"enum option", with_options({{"diagnostics.brick-log-level", "INFO" + Cmd()}}),
       "invalid value for diagnostics.brick-log-level"},
      {"option key", with_options({{"auth.allow" + Cmd(), "*"}}), "unknown option"},
      {"symlinked brick", Req("link1", {link}), "symlink (" + link + ")"},
      {"brick through a symlink", Req("link2", {link + "/sub"}), "path=" + link + "/sub"},
      {"brick under /proc", Req("proc1", {"/proc/tty"}), "path=/proc/tty"},
      {"5000-character component", Req("long1", {b1 + "/" + std::string(5000, 'x')}),
       "brick path is longer than"},
      {"unknown subvol type", weird, "unknown value weird"},
  };
  for (const auto& c : cases) {
    auto r = Create(c.req);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << c.what;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.what;
  }
  ASSERT_OK_AND_ASSIGN(nlohmann::json list, client_->Do("GET", "/v1/volumes"));
  EXPECT_EQ(list.size(), 0u) << list.dump();
  EXPECT_FALSE(fs::exists(b1 + "/.glusterfs"));
  EXPECT_FALSE(fs::exists(target + "/.glusterfs")) << "a brick was prepared through a symlink";
  char buf[64];
  EXPECT_LT(::getxattr(target.c_str(), "trusted.glusterfs.volume-id", buf, sizeof(buf)), 0);

  // On a started volume: option changes are refused the same way, and a 1 MB unknown key is
  // refused at once instead of costing seconds of "did you mean" search.
  ASSERT_OK(Create(Req("safe1", {b1})));
  ASSERT_OK(client_->Do("POST", "/v1/volumes/safe1/start", nlohmann::json::object()));
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"auth.allow", Cmd()},
                                                        {"auth.allow", "127.0.0.1\n    option x y"},
                                                        {"auth.reject", "a$(id)"},
                                                        {"performance.cache-size", "1MB" + Cmd()},
                                                        {"auth.allow", "volume"}}) {
    auto r = client_->Do("POST", "/v1/volumes/safe1/options",
                         nlohmann::json{{"options", {{key, value}}}});
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << key << "=" << value;
    EXPECT_THAT(r.status().message(), HasSubstr("invalid value for " + key));
  }
  auto start = std::chrono::steady_clock::now();
  auto huge = client_->Do("POST", "/v1/volumes/safe1/options",
                          nlohmann::json{{"options", {{std::string(1000000, 'k'), "1"}}}});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(huge, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(huge.status().message(), HasSubstr("longer than 128 characters"));
  EXPECT_LT(took, 1s) << "a 1 MB option key took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  // A valid address list still works.
  ASSERT_OK(client_->Do("POST", "/v1/volumes/safe1/options",
                        nlohmann::json{{"options", {{"auth.allow", "127.0.0.*,10.0.0.0/8"}}}}));
  EXPECT_FALSE(MarkerAppears(3s)) << "a command from a volfile ran";
}

// 17.1: records written straight into the store (no API involved) with a command in the brick
// host (the third case of the issue: mounted clients refetch on the change), the brick path or an
// option value are refused by the volfile builder; the running brick and the mounted stock client
// keep their graphs, a new mount fails, and no command runs anywhere.
TEST_F(VolfileSafetyTest, PlantedRecordsAreNeverServed) {
  const std::string b1 = Brick("b1");
  const std::string b2 = Brick("b2");
  ASSERT_OK(Create(Req("plant1", {b1, b2}, "replicate", 2)));
  ASSERT_OK(client_->Do("POST", "/v1/volumes/plant1/start", nlohmann::json::object()));
  auto m = GlusterMount::Mount(kHost, daemon_->client_port(), "plant1");
  ASSERT_OK(m);
  { std::ofstream(m.value()->path() + "/before") << "ok"; }
  ASSERT_TRUE(fs::exists(b1 + "/before"));

  std::unique_ptr<store::Store> st = StoreClient();
  ASSERT_NE(st, nullptr);
  const std::string key = VolumeKey("plant1");
  ASSERT_OK_AND_ASSIGN(std::optional<store::KeyValue> kv, st->Get(key));
  ASSERT_TRUE(kv.has_value());
  const std::string original = kv->value;

  std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> plants = {
      {"brick host", [&](nlohmann::json& v) { v["subvols"][0]["bricks"][0]["host"] = Cmd(); }},
      {"brick path", [&](nlohmann::json& v) { v["subvols"][0]["bricks"][1]["path"] = b2 + Cmd(); }},
      {"auth.allow", [&](nlohmann::json& v) { v["options"]["auth.allow"] = Cmd(); }},
      {"volume name", [&](nlohmann::json& v) { v["name"] = "plant1" + Cmd(); }},
  };
  for (const auto& [what, plant] : plants) {
    nlohmann::json v = nlohmann::json::parse(original);
    plant(v);
    const int refused_before = RefusalsLogged();
    ASSERT_OK(st->Put(key, v.dump()));
    // The change makes the daemon push FETCHSPEC to the brick, the self-heal daemon and the
    // mounted client; each asks for its volfile again and is refused.
    EXPECT_TRUE(WaitFor([&] { return RefusalsLogged() > refused_before; }, 20s))
        << what << "\n"
        << daemon_->ReadLog();
    // A new client asking for the volume is refused too.
    auto fresh = GlusterMount::Mount(kHost, daemon_->client_port(), "plant1");
    EXPECT_FALSE(fresh.ok()) << what;
    EXPECT_FALSE(MarkerAppears(2s)) << "a command from a volfile ran after planting " << what;
    // The mounted client kept its graph and still writes to the bricks.
    std::ofstream(m.value()->path() + "/after-" + std::to_string(refused_before)) << "ok";
    EXPECT_TRUE(
        WaitFor([&] { return fs::exists(b1 + "/after-" + std::to_string(refused_before)); }, 10s))
        << what;
  }
  EXPECT_THAT(daemon_->ReadLog(), HasSubstr("key=" + key));
  ASSERT_OK(st->Put(key, original));
  EXPECT_FALSE(fs::exists(marker_));
  m->reset();
}

// 17.6: "/b/d-x" and "/b/d/x" would share a volfile id, pid file and log file. Refused with a
// 409 naming both bricks, within one volume and across volumes.
TEST_F(VolfileSafetyTest, CollidingBrickNamesAreRefused) {
  const std::string dash = Brick("d-x");
  const std::string slash = Brick("d/x");
  auto within = Create(Req("coll1", {dash, slash}));
  EXPECT_THAT(within, StatusIs(StatusCode::kAborted));
  EXPECT_THAT(within.status().message(), HasSubstr(dash + " (volume coll1"));
  EXPECT_THAT(within.status().message(), HasSubstr(slash + " (volume coll1"));

  ASSERT_OK(Create(Req("coll2", {dash})));
  auto across = Create(Req("coll3", {slash}));
  EXPECT_THAT(across, StatusIs(StatusCode::kAborted));
  EXPECT_THAT(across.status().message(), HasSubstr(slash + " (volume coll3"));
  EXPECT_THAT(across.status().message(), HasSubstr(dash + " (volume coll2"));
  EXPECT_FALSE(fs::exists(slash + "/.glusterfs"));
  // Names that differ stay apart: both volumes start and their bricks run.
  const std::string other = Brick("d/y");
  ASSERT_OK(Create(Req("coll4", {other})));
  ASSERT_OK(client_->Do("POST", "/v1/volumes/coll2/start", nlohmann::json::object()));
  ASSERT_OK(client_->Do("POST", "/v1/volumes/coll4/start", nlohmann::json::object()));
  for (const char* name : {"coll2", "coll4"}) {
    ASSERT_OK_AND_ASSIGN(nlohmann::json b,
                         client_->Do("GET", std::string("/v1/volumes/") + name + "/bricks"));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_TRUE(b[0]["online"].get<bool>()) << name;
  }
}

}  // namespace
}  // namespace gd2::testing
