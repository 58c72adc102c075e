// Three glusterd2 peers on 127.0.0.11-13 form one cluster with `peer add`; replica volumes span
// them; peers are killed, restarted and removed while the data plane keeps serving.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/volume_req.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/gluster_mount.h"
#include "support/immutable_dir.h"
#include "support/loop_xfs.h"
#include "support/net_partition.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Peers 0-2 host bricks and run the cluster's three etcd members; peer 3 joins as a client of
// the store and becomes a member when peer 2 is removed.
constexpr int kPeers = 4;
constexpr int kBrickPeers = 3;
const char* const kHosts[kPeers] = {"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"};

// The glusterfs processes whose pid files are under `rundir` and still running (a pid file whose
// process is gone, or was reused by another program, is skipped).
std::vector<pid_t> SupervisedPids(const std::string& rundir) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(rundir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pid") continue;
    auto text = ReadFile(it->path().string());
    if (!text.ok()) continue;
    pid_t pid = std::atoi(text->c_str());
    if (pid <= 0) continue;
    auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline.ok() && cmdline->find("glusterfs") != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!LoopXfs::UnavailableReason().empty()) return;
    // Each peer runs in a process group of its own, so that the network between peers can be cut.
    auto net = NetPartition::Create();
    if (net.ok()) {
      net_ = net->release();
    } else {
      net_unavailable_ = net.status().ToString();
    }
    // Peers 0 and 3 start with a shared cluster secret (as from a Kubernetes Secret); 1 and 2
    // with secrets of their own, given to `peer add`.
    shared_secret_dir_ = new TempDir();
    std::string shared_secret = shared_secret_dir_->path() + "/cluster-secret";
    ASSERT_OK(WriteFileAtomic(shared_secret, "shared-cluster-secret-0123456789\n", 0600));
    for (int i = 0; i < kPeers; ++i) {
      DaemonOptions o;
      o.host = kHosts[i];
      o.client_port = 24007;
      if (i == 0 || i == 3) o.extra_args = {"--cluster-secret-file", shared_secret};
      if (net_ != nullptr) {
        auto group = net_->Group(GroupName(i));
        ASSERT_TRUE(group.ok()) << group.status().ToString();
        o.cgroup = *group;
      }
      peers_[i] = new DaemonProcess(o);
      ASSERT_TRUE(peers_[i]->Start());
    }
    auto c = peers_[0]->NewClient();
    for (int i = 1; i < kPeers; ++i) {
      api::PeerAddReq req;
      req.addresses = {peers_[i]->peer_address()};
      if (i != 3) {
        // Without its secret the peer is not even told the cluster exists.
        auto refused = c->AddPeer(req);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied)
            << refused.status().ToString();
        req.peer_secret = peers_[i]->secret();
      }
      auto added = c->AddPeer(req);
      ASSERT_TRUE(added.ok()) << added.status().ToString();
      // The joined daemon restarted in place with the cluster's secret.
    }
    for (int i = 0; i < kBrickPeers; ++i) {
      auto fs = LoopXfs::Create();
      ASSERT_TRUE(fs.ok()) << fs.status().ToString();
      fses_[i] = std::move(*fs).release();
    }
  }

  static void TearDownTestSuite() {
    // Bricks and self-heal daemons outlive their daemon by design: the pids their daemons wrote
    // are collected first (the workdirs go with the daemons) and killed after them.
    std::vector<pid_t> children;
    for (int i = 0; i < kPeers; ++i) {
      if (peers_[i] == nullptr) continue;
      for (pid_t pid : SupervisedPids(peers_[i]->workdir() + "/run")) children.push_back(pid);
    }
    for (int i = kPeers - 1; i >= 0; --i) {
      delete peers_[i];
      peers_[i] = nullptr;
    }
    for (pid_t pid : children) ::kill(pid, SIGKILL);
    delete shared_secret_dir_;
    shared_secret_dir_ = nullptr;
    delete net_;  // removes the cuts; kills whatever is left in the peers' groups
    net_ = nullptr;
    for (int i = 0; i < kPeers; ++i) {
      delete fses_[i];
      fses_[i] = nullptr;
    }
  }

  void SetUp() override {
    GD2_SKIP_UNLESS_LOOP_XFS();
    for (int i = 0; i < kPeers; ++i) ASSERT_NE(peers_[i], nullptr);
  }

  static std::unique_ptr<client::Client> Client(int i) { return peers_[i]->NewClient(); }

  // One brick per listed peer, in a directory named after the volume.
  static nlohmann::json ReplicaReq(const std::string& name, const std::vector<int>& on) {
    api::VolCreateReq req;
    req.name = name;
    api::SubvolReq sv;
    sv.type = on.size() > 1 ? "replicate" : "distribute";
    sv.replica = on.size() > 1 ? static_cast<int>(on.size()) : 0;
    for (int i : on) {
      std::string p = BrickPath(name, i);
      fs::create_directories(p);
      sv.bricks.push_back({kHosts[i], p, ""});
    }
    req.subvols.push_back(sv);
    return req;
  }

  static std::string BrickPath(const std::string& vol, int peer) {
    return fses_[peer]->mount_point() + "/" + vol;
  }

  // True if peer's brick of `vol` holds prefix0 .. prefix<count-1> (what a Writer wrote).
  static bool BrickHasFiles(const std::string& vol, int peer, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      if (!fs::exists(BrickPath(vol, peer) + "/" + prefix + std::to_string(i))) return false;
    }
    return true;
  }

  // The pid of `peer`'s brick of `vol` as that peer's daemon reports it, if the brick is online
  // and the pid is a running process serving that brick path; 0 otherwise.
  static pid_t BrickPid(const std::string& vol, int peer) {
    auto st = Client(peer)->Do("GET", "/v1/volumes/" + vol + "/bricks");
    if (!st.ok() || !st->is_array()) return 0;
    const std::string path = BrickPath(vol, peer);
    for (const auto& b : *st) {
      if (!b.contains("info") || b["info"].value("path", "") != path || !b.value("online", false))
        continue;
      const auto pid = b.value("pid", pid_t{0});
      if (pid <= 0) return 0;
      // /proc/<pid>/cmdline holds the arguments separated by NULs; the brick path is one of them.
      auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
      const std::string arg = std::string(1, '\0') + path + std::string(1, '\0');
      return cmdline.ok() && cmdline->find(arg) != std::string::npos ? pid : 0;
    }
    return 0;
  }

  static bool PeerOnline(int viewer, int peer) {
    auto peers = Client(viewer)->ListPeers();
    if (!peers.ok()) return false;
    for (const auto& p : *peers) {
      if (p.client_addresses.front().rfind(kHosts[peer], 0) == 0) return p.online;
    }
    return false;
  }

  static std::string PeerId(int i) {
    auto h = peers_[i]->NewClient()->Health();
    return h.ok() ? h->peer_id : "";
  }

  static std::string GroupName(int peer) { return "peer" + std::to_string(peer); }
  static NetPartition::Member NetMember(int peer) { return {GroupName(peer), kHosts[peer]}; }

  static DaemonProcess* peers_[kPeers];
  static LoopXfs* fses_[kPeers];
  static NetPartition* net_;
  static std::string net_unavailable_;
  static TempDir* shared_secret_dir_;
};

std::string Tail(const std::string& s, size_t n) { return s.size() > n ? s.substr(s.size() - n) : s; }

// Writes small files prefix0, prefix1, ... through a mount until stopped (or destroyed, also
// when an assertion ends the test early).
struct Writer {
  explicit Writer(std::string prefix)
      : thread([this, prefix = std::move(prefix)] {
          while (!stop) {
            std::ofstream out(prefix + std::to_string(written.load()));
            out << "data";
            out.close();
            if (out.fail()) {
              errors++;
            } else {
              written++;
            }
            std::this_thread::sleep_for(5ms);
          }
        }) {}
  ~Writer() { Stop(); }
  void Stop() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0}, errors{0};
  std::thread thread;
};

DaemonProcess* ClusterTest::peers_[kPeers] = {};
LoopXfs* ClusterTest::fses_[kPeers] = {};
NetPartition* ClusterTest::net_ = nullptr;
std::string ClusterTest::net_unavailable_;
TempDir* ClusterTest::shared_secret_dir_ = nullptr;

TEST_F(ClusterTest, EveryPeerSeesTheWholeCluster) {
  for (int v = 0; v < kPeers; ++v) {
    ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, Client(v)->ListPeers());
    ASSERT_EQ(peers.size(), static_cast<size_t>(kPeers)) << "viewer " << v;
    for (const auto& p : peers) EXPECT_TRUE(p.online) << p.id;
  }
  // The cluster shares one id and one secret.
  ASSERT_OK_AND_ASSIGN(api::HealthResp h0, Client(0)->Health());
  ASSERT_OK_AND_ASSIGN(api::HealthResp h2, Client(2)->Health());
  EXPECT_EQ(h0.cluster_id, h2.cluster_id);
  EXPECT_EQ(peers_[0]->secret(), peers_[2]->secret());

  // Labels: a zone set through one peer is seen through another.
  api::PeerEditReq edit;
  edit.zone = "rack-b";
  edit.metadata = {{"owner", "ops"}};
  ASSERT_OK(Client(0)->EditPeer(PeerId(1), edit));
  ASSERT_OK_AND_ASSIGN(api::Peer p1, Client(2)->GetPeer(PeerId(1)));
  EXPECT_EQ(p1.metadata["_zone"], "rack-b");
  EXPECT_EQ(p1.metadata["owner"], "ops");
  api::PeerEditReq reserved;
  reserved.metadata = {{"_secret", "x"}};
  EXPECT_THAT(Client(0)->EditPeer(PeerId(1), reserved), StatusIs(StatusCode::kInvalidArgument));
  // Adding a peer that is already in the cluster is refused.
  api::PeerAddReq again;
  again.addresses = {peers_[1]->peer_address()};
  EXPECT_FALSE(Client(0)->AddPeer(again).ok());
  EXPECT_THAT(Client(0)->RemovePeer(PeerId(0)), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ClusterTest, Replica3SpansPeersAndServesThroughAnyPeer) {
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("crep", {0, 1, 2})));
  ASSERT_OK(Client(1)->Do("POST", "/v1/volumes/crep/start", nlohmann::json::object()));
  std::vector<pid_t> started;
  for (int i = 0; i < kBrickPeers; ++i) {
    started.push_back(BrickPid("crep", i));
    EXPECT_GT(started.back(), 0) << "no brick on peer " << i;
  }
  // Any peer reports every brick, including those of other peers.
  EXPECT_TRUE(WaitFor(
      [] {
        auto st = Client(0)->Do("GET", "/v1/volumes/crep/bricks");
        if (!st.ok() || st->size() != 3) return false;
        for (int i = 0; i < kBrickPeers; ++i) {
          const auto& b = (*st)[static_cast<size_t>(i)];
          if (!b["online"].get<bool>() || b["pid"].get<int>() != BrickPid("crep", i)) return false;
        }
        return true;
      },
      10s));
  // Another peer's brick is measured by that peer (asked over the peer RPC): its filesystem,
  // device, mount options and size, as for this peer's own.
  ASSERT_OK_AND_ASSIGN(nlohmann::json bricks, Client(0)->Do("GET", "/v1/volumes/crep/bricks"));
  ASSERT_EQ(bricks.size(), 3u);
  for (const auto& b : bricks) {
    EXPECT_FALSE(b["fs-type"].get<std::string>().empty()) << b.dump();
    EXPECT_FALSE(b["device"].get<std::string>().empty()) << b.dump();
    EXPECT_FALSE(b["mount-opts"].get<std::string>().empty()) << b.dump();
    EXPECT_GT(b["size"]["capacity"].get<uint64_t>(), 0u) << b.dump();
  }
  ASSERT_OK_AND_ASSIGN(nlohmann::json status, Client(1)->Do("GET", "/v1/volumes/crep/status"));
  EXPECT_GT(status["size"]["capacity"].get<uint64_t>(), 0u) << status.dump();
  // Any peer serves the volfile and the port map of its own bricks.
  auto m = GlusterMount::Mount(kHosts[2], 24007, "crep");
  ASSERT_OK(m);
  std::string data(64 * 1024, 'c');
  {
    std::ofstream out((*m)->path() + "/file", std::ios::binary);
    out << data;
  }
  for (int i = 0; i < kBrickPeers; ++i) {
    EXPECT_EQ(ReadFile(BrickPath("crep", i) + "/file").value_or(""), data) << "peer " << i;
  }
  m->reset();
  // A peer with bricks cannot be removed without force.
  EXPECT_THAT(Client(0)->RemovePeer(PeerId(2)), StatusIs(StatusCode::kPermissionDenied));
  ASSERT_OK(Client(2)->Do("POST", "/v1/volumes/crep/stop", nlohmann::json::object()));
  for (int i = 0; i < kBrickPeers; ++i) {
    EXPECT_EQ(BrickPid("crep", i), 0) << "brick shown online on peer " << i;
    EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(started[static_cast<size_t>(i)]); }, 10s))
        << "brick left on peer " << i;
  }
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/crep"));
  for (int i = 0; i < kBrickPeers; ++i) EXPECT_FALSE(fs::exists(BrickPath("crep", i) + "/.glusterfs"));
}

TEST_F(ClusterTest, ConcurrentCreatesOfOneNameFromTwoPeers) {
  std::atomic<int> ok{0}, conflict{0};
  auto create = [&](int via, std::vector<int> on) {
    auto r = Client(via)->Do("POST", "/v1/volumes", ReplicaReq("crace", on));
    if (r.ok()) {
      ok++;
    } else if (r.status().code() == StatusCode::kAborted) {
      conflict++;
    }
  };
  // Different bricks, same name, different initiators.
  fs::create_directories(BrickPath("crace", 0));
  std::thread a(create, 0, std::vector<int>{0});
  std::thread b(create, 1, std::vector<int>{1});
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 1);
  ASSERT_OK_AND_ASSIGN(nlohmann::json v, Client(2)->Do("GET", "/v1/volumes/crace"));
  // The loser left nothing behind on its brick.
  std::string winner_path = v["subvols"][0]["bricks"][0]["path"];
  for (int i : {0, 1}) {
    if (BrickPath("crace", i) != winner_path) {
      EXPECT_FALSE(fs::exists(BrickPath("crace", i) + "/.glusterfs")) << "loser's brick prepared";
    }
  }
  ASSERT_OK(Client(2)->Do("DELETE", "/v1/volumes/crace"));
}

TEST_F(ClusterTest, ParticipantKilledMidCreateLeavesNothing) {
  for (const std::string point : {"participant.before-step:volume.prepare-bricks",
                                  "participant.after-step:volume.prepare-bricks"}) {
    SCOPED_TRACE(point);
    peers_[1]->Kill();
    ASSERT_TRUE(peers_[1]->StartWithEnv({{"GD2_FAILPOINT", point}}));
    ASSERT_TRUE(WaitFor([] { return PeerOnline(0, 1); }, 20s));
    auto r = Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cpart", {0, 1, 2}));
    EXPECT_FALSE(r.ok());
    std::cerr << "create with a dying participant: " << r.status().ToString() << "\n";
    EXPECT_TRUE(WaitFor([] { return !ProcessAlive(peers_[1]->pid()); }, 10s))
        << peers_[1]->ReadLog().substr(peers_[1]->ReadLog().size() > 6000 ? peers_[1]->ReadLog().size() - 6000 : 0);
    EXPECT_THAT(Client(0)->Do("GET", "/v1/volumes/cpart"), StatusIs(StatusCode::kNotFound));
    for (int i : {0, 2}) {
      EXPECT_FALSE(fs::exists(BrickPath("cpart", i) + "/.glusterfs")) << "peer " << i;
    }
    // The participant undoes its own part when it is back.
    peers_[1]->Kill();
    ASSERT_TRUE(peers_[1]->StartWithEnv({}));
    EXPECT_TRUE(WaitFor([] { return !fs::exists(BrickPath("cpart", 1) + "/.glusterfs"); }, 20s));
  }
  // And the create works once everyone is healthy.
  ASSERT_TRUE(WaitFor([] { return PeerOnline(0, 1); }, 20s));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cpart", {0, 1, 2})));
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/cpart"));
}

TEST_F(ClusterTest, InitiatorKilledMidCreateIsRolledBackOnRestart) {
  // After the first step, and after the last one just before the commit.
  for (const std::string point : {"txn.after-step:volume.prepare-bricks", "txn.before-commit"}) {
    SCOPED_TRACE(point);
    peers_[2]->Kill();
    ASSERT_TRUE(peers_[2]->StartWithEnv({{"GD2_FAILPOINT", point}}));
    ASSERT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 20s));
    // Bricks on peers 0 and 1: the initiator dies after peer 0 prepared its brick.
    EXPECT_FALSE(Client(2)->Do("POST", "/v1/volumes", ReplicaReq("cinit", {0, 1})).ok());
    ASSERT_TRUE(WaitFor([] { return !ProcessAlive(peers_[2]->pid()); }, 10s));
    EXPECT_TRUE(fs::exists(BrickPath("cinit", 0) + "/.glusterfs"));
    EXPECT_THAT(Client(0)->Do("GET", "/v1/volumes/cinit"), StatusIs(StatusCode::kNotFound));
    peers_[2]->Kill();
    ASSERT_TRUE(peers_[2]->StartWithEnv({}));
    EXPECT_TRUE(WaitFor([] { return !fs::exists(BrickPath("cinit", 0) + "/.glusterfs"); }, 20s))
        << "recovery did not undo the remote step";
    EXPECT_TRUE(WaitFor([] { return !fs::exists(BrickPath("cinit", 1) + "/.glusterfs"); }, 20s));
    // Its locks are gone too: the same create succeeds at once.
    ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cinit", {0, 1})));
    ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/cinit"));
  }
}

TEST_F(ClusterTest, InitiatorThatStaysDeadIsRolledBackByAnotherPeer) {
  peers_[2]->Kill();
  ASSERT_TRUE(peers_[2]->StartWithEnv({{"GD2_FAILPOINT", "txn.after-step:volume.prepare-bricks"}}));
  ASSERT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 20s));
  EXPECT_FALSE(Client(2)->Do("POST", "/v1/volumes", ReplicaReq("corphan", {0, 1})).ok());
  ASSERT_TRUE(WaitFor([] { return !ProcessAlive(peers_[2]->pid()); }, 10s));
  peers_[2]->Kill();  // reaped; it stays down
  EXPECT_TRUE(fs::exists(BrickPath("corphan", 0) + "/.glusterfs"));
  // Its lease expires (4 s), which frees its locks and shows it offline; a surviving peer then
  // undoes the steps it left.
  EXPECT_TRUE(WaitFor([] { return !fs::exists(BrickPath("corphan", 0) + "/.glusterfs"); }, 30s))
      << "no peer took over the dead initiator's transaction";
  EXPECT_THAT(Client(1)->Do("GET", "/v1/volumes/corphan"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("corphan", {0, 1})));
  ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/corphan"));
  ASSERT_TRUE(peers_[2]->StartWithEnv({}));
  EXPECT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 20s));
}

TEST_F(ClusterTest, KilledPeerGoesOfflineMountKeepsServingAndItRejoins) {
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("ckill", {0, 1, 2})));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/ckill/start", nlohmann::json::object()));
  auto m = GlusterMount::Mount(kHosts[0], 24007, "ckill");
  ASSERT_OK(m);
  Writer writer((*m)->path() + "/w");
  auto& written = writer.written;
  auto& errors = writer.errors;
  ASSERT_TRUE(WaitFor([&] { return written > 20; }, 20s));
  // Peer 2 dies with its brick.
  pid_t brick = BrickPid("ckill", 2);
  peers_[2]->Kill();
  if (brick > 0) ::kill(brick, SIGKILL);
  int at_kill = written;
  EXPECT_TRUE(WaitFor([&] { return written > at_kill + 50; }, 30s)) << "mount stalled";
  EXPECT_TRUE(WaitFor([] { return !PeerOnline(0, 2); }, 15s)) << "peer 2 still shown online";
  // Heal info through peer 1 covers every brick: peer 0's (asked of peer 0) has entries to
  // heal onto peer 2's, which is down.
  EXPECT_TRUE(WaitFor(
      [] {
        auto hi = Client(1)->Do("GET", "/v1/volumes/ckill/heal-info");
        if (!hi.ok() || hi->size() != 3) return false;
        return (*hi)[0]["host-id"] == PeerId(0) && (*hi)[0]["total-entries"].get<int>() > 0 &&
               (*hi)[2]["status"] == "Transport endpoint is not connected";
      },
      15s))
      << Client(1)->Do("GET", "/v1/volumes/ckill/heal-info").value_or(nlohmann::json()).dump();
  // Stop and delete of another volume that does not involve peer 2 still work meanwhile.
  ASSERT_OK(Client(1)->Do("POST", "/v1/volumes", ReplicaReq("cside", {0, 1})));
  ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/cside"));
  // Peer 2 comes back: rejoins, restarts its brick, and heal brings it level.
  ASSERT_TRUE(peers_[2]->StartWithEnv({}));
  EXPECT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 20s));
  EXPECT_TRUE(WaitFor([] { return BrickPid("ckill", 2) > 0; }, 30s)) << "brick not restarted";
  writer.Stop();
  EXPECT_EQ(errors.load(), 0);
  int total = written;
  EXPECT_TRUE(WaitFor([&] { return BrickHasFiles("ckill", 2, "w", total); }, 90s))
      << "heal did not bring peer 2's brick level";
  // And heal info, asked through peer 2, shows nothing left on any brick.
  EXPECT_TRUE(WaitFor(
      [] {
        auto hi = Client(2)->Do("GET", "/v1/volumes/ckill/heal-info");
        if (!hi.ok() || hi->size() != 3) return false;
        for (const auto& b : *hi) {
          if (b["status"] != "Connected" || b["total-entries"].get<int>() != 0) return false;
        }
        return true;
      },
      90s))
      << Client(2)->Do("GET", "/v1/volumes/ckill/heal-info").value_or(nlohmann::json()).dump();
  m->reset();
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/ckill/stop", nlohmann::json::object()));
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/ckill"));
}

// Heal info of another peer's bricks is that peer's own count, read over the peer RPC: an entry
// planted in peer 0's brick index shows when asked through peer 1, and not the other way round.
TEST_F(ClusterTest, HealInfoOfAnotherPeersBricksComesOverThePeerRpc) {
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cheal", {0, 1})));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cheal/start", nlohmann::json::object()));
  // Not a gfid, so the self-heal daemon leaves it alone; the brick's count includes it.
  std::string index = BrickPath("cheal", 0) + "/.glusterfs/indices/xattrop";
  fs::create_directories(index);
  std::ofstream(index + "/gd2-planted-entry").put('x');
  auto brick_of = [](const nlohmann::json& list, int peer) {
    for (const auto& b : list) {
      if (b["host-id"] == PeerId(peer)) return b;
    }
    return nlohmann::json();
  };
  nlohmann::json seen;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto hi = Client(1)->Do("GET", "/v1/volumes/cheal/heal-info");
        if (!hi.ok() || hi->size() != 2) return false;
        seen = *hi;
        nlohmann::json b0 = brick_of(*hi, 0);
        nlohmann::json b1 = brick_of(*hi, 1);
        return b0.is_object() && b1.is_object() && b0["status"] == "Connected" &&
               b1["status"] == "Connected" && b0["total-entries"].get<int>() >= 1;
      },
      20s))
      << seen.dump();
  nlohmann::json remote = brick_of(seen, 0);
  ASSERT_TRUE(remote.is_object()) << seen.dump();
  EXPECT_EQ(remote["entries"], remote["total-entries"]);
  bool listed = false;
  for (const auto& f : remote["file-gfid"]) listed = listed || f["gfid"] == "gd2-planted-entry";
  EXPECT_TRUE(listed) << remote.dump();
  // Asked through peer 0, peer 1's brick (read remotely) has nothing planted.
  ASSERT_OK_AND_ASSIGN(nlohmann::json from0, Client(0)->Do("GET", "/v1/volumes/cheal/heal-info"));
  nlohmann::json other = brick_of(from0, 1);
  ASSERT_TRUE(other.is_object()) << from0.dump();
  EXPECT_EQ(other["status"], "Connected");
  EXPECT_EQ(other["total-entries"], 0);
  fs::remove(index + "/gd2-planted-entry");
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cheal/stop", nlohmann::json::object()));
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/cheal"));
}

TEST_F(ClusterTest, StopAndDeleteWithAPeerDownReconcileWhenItReturns) {
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cdown", {0, 1, 2})));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cdown/start", nlohmann::json::object()));
  const pid_t brick0 = BrickPid("cdown", 0);
  const pid_t brick2 = BrickPid("cdown", 2);
  ASSERT_GT(brick0, 0);
  ASSERT_GT(brick2, 0);
  peers_[2]->Kill();  // its brick keeps running, as bricks outlive their daemon
  ASSERT_TRUE(WaitFor([] { return !PeerOnline(0, 2); }, 15s));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cdown/stop", nlohmann::json::object()));
  EXPECT_EQ(BrickPid("cdown", 0), 0);
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(brick0); }, 10s)) << "brick of peer 0 still runs";
  EXPECT_TRUE(ProcessAlive(brick2));
  ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/cdown"));
  EXPECT_FALSE(fs::exists(BrickPath("cdown", 0) + "/.glusterfs"));
  EXPECT_TRUE(fs::exists(BrickPath("cdown", 2) + "/.glusterfs"));
  // The first cleanup on return fails: the filesystem refuses to remove an immutable directory
  // in the brick's .glusterfs. The work stays for another try.
  const std::string stuck = BrickPath("cdown", 2) + "/.glusterfs/stuck";
  fs::create_directories(stuck);
  ImmutableDir immutable{stuck};
  ASSERT_TRUE(immutable.Set(true));
  ASSERT_TRUE(peers_[2]->StartWithEnv({}));
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(brick2); }, 30s)) << "brick not stopped on return";
  EXPECT_TRUE(WaitFor(
      [] {
        return peers_[2]->ReadLog().find("deferred brick cleanup failed") != std::string::npos;
      },
      30s))
      << Tail(peers_[2]->ReadLog(), 6000);
  EXPECT_TRUE(fs::exists(stuck));
  ASSERT_TRUE(immutable.Set(false));
  // Tried again after the reconcile backoff (5 s), this time to the end.
  EXPECT_TRUE(WaitFor(
      [] { return peers_[2]->ReadLog().find("deferred brick cleanup done") != std::string::npos; },
      30s))
      << Tail(peers_[2]->ReadLog(), 6000);
  EXPECT_FALSE(fs::exists(BrickPath("cdown", 2) + "/.glusterfs")) << "brick not cleaned on return";
}

// A delete that fails on one peer leaves the other peers' bricks as they were: the processes are
// stopped on every peer first, so a peer that cannot be reached fails the delete before any brick
// is cleaned (before, the others lost their .glusterfs, and the undo put back an empty one).
TEST_F(ClusterTest, ADeleteThatFailsOnAPeerLeavesTheOtherBricksIntact) {
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cfail", {0, 1, 2})));
  const std::string marker = BrickPath("cfail", 0) + "/.glusterfs/marker";
  ASSERT_OK(WriteFileAtomic(marker, "kept\n", 0600));
  // Killed: it is still shown online until its lease ends (4 s), so the delete plans a part for
  // it, and the peer RPC to it is refused.
  peers_[2]->Kill();
  auto del = Client(0)->Do("DELETE", "/v1/volumes/cfail");
  EXPECT_FALSE(del.ok()) << "deleted, as if peer 2 had been seen offline";
  EXPECT_TRUE(fs::exists(marker)) << "peer 0's brick was cleaned by a delete that failed";
  EXPECT_TRUE(fs::exists(BrickPath("cfail", 1) + "/.glusterfs"));
  ASSERT_OK(Client(0)->Do("GET", "/v1/volumes/cfail").status());
  ASSERT_TRUE(peers_[2]->StartWithEnv({}));
  ASSERT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 30s));
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/cfail"));
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(ClusterTest, PartitionedPeerIsHandledLikeADeadOne) {
  if (net_ == nullptr) GTEST_SKIP() << "network partitions unavailable: " << net_unavailable_;
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cnet", {0, 1, 2})));
  // The client gives up on an unreachable brick after 5 s instead of the default 42.
  api::VolOptionReq opt;
  opt.options = {{"network.ping-timeout", "5"}};
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cnet/options", nlohmann::json(opt)));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cnet/start", nlohmann::json::object()));
  // A second volume, stopped and deleted while peer 2 is cut off.
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes", ReplicaReq("cnet2", {0, 1, 2})));
  ASSERT_OK(Client(0)->Do("POST", "/v1/volumes/cnet2/start", nlohmann::json::object()));
  const pid_t brick0 = BrickPid("cnet2", 0);
  const pid_t brick2 = BrickPid("cnet2", 2);
  ASSERT_GT(brick0, 0);
  ASSERT_GT(brick2, 0);
  // The mount runs on peer 0's side of the cut.
  auto group0 = net_->Group(GroupName(0));
  ASSERT_OK(group0.status());
  auto m = GlusterMount::Mount(kHosts[0], 24007, "cnet", *group0);
  ASSERT_OK(m);
  Writer writer((*m)->path() + "/p");
  auto& written = writer.written;
  auto& errors = writer.errors;
  ASSERT_TRUE(WaitFor([&] { return written > 20; }, 20s));

  ASSERT_OK(net_->Cut({NetMember(2)}, {NetMember(0), NetMember(1)}));
  struct HealAtExit {
    ~HealAtExit() { net_->Heal().IgnoreError(); }
  } heal_at_exit;
  int at_cut = written;
  // The mount stalls for at most the ping timeout, then goes on with the two bricks it reaches.
  EXPECT_TRUE(WaitFor([&] { return written > at_cut + 50; }, 30s)) << "mount stalled";
  // Peer 2 can no longer renew its lease with the majority: it is shown offline.
  EXPECT_TRUE(WaitFor([] { return !PeerOnline(0, 2); }, 20s)) << "peer 2 still shown online";
  // Operations that do not need peer 2 go on: a volume on peers 0 and 1 only...
  ASSERT_OK(Client(1)->Do("POST", "/v1/volumes", ReplicaReq("cnetside", {0, 1})));
  ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/cnetside"));
  // ... and stopping and deleting a volume with a brick on peer 2, whose part waits for it.
  ASSERT_OK(Client(1)->Do("POST", "/v1/volumes/cnet2/stop", nlohmann::json::object()));
  ASSERT_OK(Client(0)->Do("DELETE", "/v1/volumes/cnet2"));
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(brick0); }, 10s)) << "brick of peer 0 still runs";
  EXPECT_FALSE(fs::exists(BrickPath("cnet2", 1) + "/.glusterfs"));
  EXPECT_TRUE(ProcessAlive(brick2)) << "the cut-off peer cannot have heard of the stop";

  ASSERT_OK(net_->Heal());
  EXPECT_TRUE(WaitFor([] { return PeerOnline(0, 2); }, 30s)) << "peer 2 not back online";
  // Back in touch, peer 2 catches up on what happened meanwhile.
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(brick2); }, 30s)) << "brick not stopped";
  EXPECT_TRUE(WaitFor([] { return !fs::exists(BrickPath("cnet2", 2) + "/.glusterfs"); }, 30s))
      << "brick not cleaned";
  writer.Stop();
  EXPECT_EQ(errors.load(), 0);
  // Files written during the cut reach peer 2's brick through self-heal.
  int total = written;
  EXPECT_TRUE(WaitFor([&] { return BrickHasFiles("cnet", 2, "p", total); }, 90s))
      << "heal did not bring peer 2's brick level";
  m->reset();
  ASSERT_OK(Client(2)->Do("POST", "/v1/volumes/cnet/stop", nlohmann::json::object()));
  ASSERT_OK(Client(2)->Do("DELETE", "/v1/volumes/cnet"));
}

TEST_F(ClusterTest, EtcdMembersAreElasticAndSurviveTheLossOfOne) {
  // Peers 1 and 2 joined while the cluster had fewer than 3 etcd members and became members;
  // peer 3 joined a cluster that had its 3 and is a client.
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, Client(1)->Health());
  EXPECT_EQ(h.members.size(), 3u);
  for (const auto& m : h.members) {
    EXPECT_TRUE(m.healthy) << m.name << ": " << m.error;
    EXPECT_NE(m.name, PeerId(3));
  }
  // Peer 0's own etcd member freezes (SIGSTOP): peer 0, which founded the cluster, goes on
  // through the other members and stays online.
  pid_t etcd0 = peers_[0]->EtcdPid();
  ASSERT_GT(etcd0, 0);
  ::kill(etcd0, SIGSTOP);
  struct ContinueAtExit {
    pid_t pid;
    ~ContinueAtExit() { ::kill(pid, SIGCONT); }
  } cont{etcd0};
  // After at most a leader election it answers again, through the other members.
  EXPECT_TRUE(WaitFor([] { return Client(0)->ListPeers().ok(); }, 20s));
  for (int i = 0; i < 5; ++i) EXPECT_OK(Client(0)->ListPeers().status());
  EXPECT_TRUE(WaitFor([] { return PeerOnline(1, 0); }, 10s));
  ::kill(etcd0, SIGCONT);
  // The first peer dies, and its etcd member with it: the other two keep the store's quorum.
  peers_[0]->Kill();
  // After a leader election (a second or so) the survivors answer again.
  EXPECT_TRUE(WaitFor(
      [] {
        auto peers = Client(1)->ListPeers();
        if (!peers.ok()) return false;
        for (const auto& p : *peers) {
          if (p.client_addresses.front().rfind(kHosts[0], 0) == 0) return !p.online;
        }
        return false;
      },
      30s));
  auto created = Client(1)->Do("POST", "/v1/volumes", ReplicaReq("cquorum", {1, 2}));
  ASSERT_TRUE(created.ok()) << created.status().ToString() << "\n" << peers_[1]->ReadLog().substr(peers_[1]->ReadLog().size() - 3000);
  ASSERT_OK(Client(2)->Do("POST", "/v1/volumes/cquorum/start", nlohmann::json::object()));
  ASSERT_OK(Client(2)->Do("POST", "/v1/volumes/cquorum/stop", nlohmann::json::object()));
  ASSERT_OK(Client(1)->Do("DELETE", "/v1/volumes/cquorum"));
  ASSERT_TRUE(peers_[0]->StartWithEnv({}));
  EXPECT_TRUE(WaitFor([] { return PeerOnline(1, 0); }, 20s));
  ASSERT_OK_AND_ASSIGN(api::HealthResp back, Client(0)->Health());
  EXPECT_TRUE(back.healthy);
}

TEST_F(ClusterTest, RemovedPeerBecomesASingleNodeCluster) {
  // Runs last (gtest keeps file order): peer 2 leaves for good.
  std::string id = PeerId(2);
  std::string promoted = PeerId(3);  // before it restarts as a member
  ASSERT_FALSE(promoted.empty());
  auto removed = Client(0)->RemovePeer(id);
  ASSERT_TRUE(removed.ok()) << removed.ToString();
  EXPECT_THAT(Client(0)->GetPeer(id), StatusIs(StatusCode::kNotFound));
  // It restarts on a store of its own with a new cluster id and secret.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto c = peers_[2]->NewClient();
        auto peers = c ? c->ListPeers() : StatusOr<std::vector<api::Peer>>(UnavailableError("x"));
        return peers.ok() && peers->size() == 1 && (*peers)[0].id == id;
      },
      30s));
  EXPECT_NE(peers_[2]->secret(), peers_[0]->secret());
  // Its etcd member left the cluster's membership, and the client peer 3 took its place: the
  // cluster is back at three healthy voting members, peer 3 among them.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto hh = Client(0)->Health();
        if (!hh.ok() || hh->members.size() != 3) return false;
        bool found = false;
        for (const auto& m : hh->members) {
          if (!m.healthy || m.name == id) return false;
          found = found || m.name == promoted;
        }
        return found;
      },
      60s))
      << nlohmann::json(Client(0)->Health().value_or(api::HealthResp{})).dump() << "\n"
      << Tail(peers_[3]->ReadLog(), 8000);
  EXPECT_NE(peers_[3]->EtcdPid(), -1);
  // The promoted member carries the store: with peer 0's member gone, peers 1 and 3 keep quorum.
  ASSERT_TRUE(WaitFor([] { return PeerOnline(1, 3); }, 30s));
  peers_[0]->Kill();
  EXPECT_TRUE(WaitFor([] { return !PeerOnline(1, 0); }, 30s));
  auto created = Client(3)->Do("POST", "/v1/volumes", ReplicaReq("cpromo", {1}));
  EXPECT_TRUE(created.ok()) << created.status().ToString() << "\n"
                            << ReadFile(peers_[3]->workdir() + "/stderr.log").value_or("") << "\n"
                            << Tail(peers_[3]->ReadLog(), 6000);
  if (created.ok()) {
    EXPECT_OK(Client(1)->Do("DELETE", "/v1/volumes/cpromo"));
  }
}

}  // namespace
}  // namespace gd2::testing
