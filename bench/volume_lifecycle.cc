// volume_lifecycle: the volume lifecycle (create, start, stop, delete) through glusterd2's ReST
// API next to the same lifecycle through the stock glusterd's `gluster` CLI, on the same brick
// filesystems, in one run. Prints per step the median (min..max) over the iterations and the
// ratio glusterd2/glusterd. Not a test: nothing is asserted about timing.
//
//   volume_lifecycle --bricks DIR1,...,DIR6 --workdir DIR --glusterd2 PATH
//                    [--iterations N] [--gd2-host IP] [--gd-host NAME] [--mount on|off]
//                    [--sides both|glusterd2|glusterd] [--glusterd-hooks on|off]
//                    [--three-peers on|off] [--etcd-members N] [--settle-ms N]
//                    [--peer-cpu MILLICORES]
//
// --bricks are six mounted filesystems (bench/volume_lifecycle.sh makes one loop XFS each); every
// iteration makes new brick directories on them, so nothing a delete leaves behind (the
// trusted.* xattrs, .glusterfs) is seen by a later create. Layouts: "rep3" (replica 3 on the
// first three filesystems) and "2x3" (distributed-replicate, 2 sets of 3, on all six).
//
// glusterd2 runs first with its state in <workdir>/gd2 and its client port at <gd2-host>:24007
// (stock clients ask <brick host>:24007 for brick ports); each step is the wall time of one ReST
// request as the client sees it. It is stopped before glusterd starts: both want port 24007.
// glusterd runs in the foreground (-N) from a glusterd.vol of ours: working and run directories
// under <workdir>/gd, the CLI socket there too, listening on 127.0.0.1:24007 only; the stock
// hook scripts are copied in unless --glusterd-hooks off. Each step is the wall time of one
// `gluster --mode=script ...` process. Bricks use --gd-host, which must be a name glusterd
// sees as itself (the CLI refuses 127.0.0.1 and localhost); default: this machine's host name.
// "mount" is the time until `mount -t glusterfs` returns for the started rep3 volume (not part
// of the lifecycle total). Everything this program starts is stopped before it exits.
//
// --three-peers on adds a second glusterd2 run after the first: three daemons on <gd2-host> and
// the next two addresses (127.0.0.41, .42, .43 by default) with one shared cluster secret, joined
// into one cluster by `peer add` on the first, each hosting one brick of every replica set
// (brick k on peer k mod 3). Its figures are printed next to the one-peer glusterd2 figures: a
// step that runs on every brick peer runs on them at once, so a 3-peer start or stop should take
// about as long as a 1-peer one. By default the cluster keeps three etcd members (on this one
// host and disk), so every store write is replicated; --etcd-members 1 keeps one, so that only
// the fan-out differs from the 1-peer run. With --three-peers on it also prints the CPU time one
// lifecycle cost, read from /proc of the daemons: their own, their etcd's, and that of the
// bricks and self-heal daemons they ran (added to a parent's cutime/cstime when it reaps them).
// All three peers share this host's cores, so the 3-peer figures include work that separate
// hosts would do at the same time (three self-heal daemons instead of one, three daemons).
// --settle-ms N waits N ms (untimed) between the start (or the mount) and the stop, so that the
// stop does not meet the bricks and self-heal daemons still starting up; the default, 0, stops
// at once, as a script would.
// --peer-cpu M (millicores, e.g. 666) runs every glusterd2 peer, the one of the 1-peer run and
// each of the three, in a cgroup of its own whose CPU quota is M/1000 of a core (10 ms period;
// cgroup v1 cpu or v2 cpu.max): the daemon, its etcd, its bricks and self-heal daemons, as if each
// peer had a host of that size to itself. With 666 the three peers together get this 2-core
// host, and the 1-peer run gets what one of them gets, so the two runs compare one host with
// three of the same size. The groups are <cgroup root>/<workdir name>-<peer>; the script removes
// them at exit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/peer.h"
#include "api/volume_req.h"
#include "client/client.h"
#include "common/files.h"
#include "common/status.h"
#include "common/subprocess.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kClientPort = 24007;
// Each step gets this long; glusterd's stop alone takes seconds.
constexpr milliseconds kStepTimeout{120000};

struct Args {
  std::vector<std::string> bricks;
  std::string workdir;
  std::string glusterd2;
  int iterations = 5;
  std::string gd2_host = "127.0.0.41";
  std::string gd_host;  // empty: host name
  bool mount = true;
  bool run_gd2 = true;
  bool run_gd = true;
  bool gd_hooks = true;
  bool three_peers = false;
  int etcd_members = 0;  // 0: the daemon's default
  int settle_ms = 0;     // pause between a start (or mount) and the stop; not timed
  int peer_cpu = 0;      // millicores per glusterd2 peer (cgroup CPU quota); 0: no limit
};

bool ParseInt(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out > 0;
}

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t c = s.find(',');
    out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

std::optional<Args> ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string_view value = argv[++i];
    if (flag == "--bricks") {
      a.bricks = SplitComma(value);
    } else if (flag == "--workdir") {
      a.workdir = value;
    } else if (flag == "--glusterd2") {
      a.glusterd2 = value;
    } else if (flag == "--iterations") {
      if (!ParseInt(value, a.iterations)) return std::nullopt;
    } else if (flag == "--gd2-host") {
      a.gd2_host = value;
    } else if (flag == "--gd-host") {
      a.gd_host = value;
    } else if (flag == "--mount") {
      a.mount = value == "on";
    } else if (flag == "--three-peers") {
      a.three_peers = value == "on";
    } else if (flag == "--etcd-members") {
      if (!ParseInt(value, a.etcd_members)) return std::nullopt;
    } else if (flag == "--settle-ms") {
      if (!ParseInt(value, a.settle_ms) || a.settle_ms < 0) return std::nullopt;
    } else if (flag == "--glusterd-hooks") {
      a.gd_hooks = value == "on";
    } else if (flag == "--peer-cpu") {
      if (!ParseInt(value, a.peer_cpu)) return std::nullopt;
    } else if (flag == "--sides") {
      a.run_gd2 = value == "both" || value == "glusterd2";
      a.run_gd = value == "both" || value == "glusterd";
    } else {
      return std::nullopt;
    }
  }
  if (a.bricks.size() != 6 || a.workdir.empty() || (a.run_gd2 && a.glusterd2.empty())) {
    return std::nullopt;
  }
  return a;
}

// A TCP port on `host` that was free a moment ago.
int FreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortInUse(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bool in_use = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0;
  ::close(fd);
  return in_use;
}

bool WaitFor(const std::function<bool()>& cond, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    ::usleep(20000);
  }
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Kills (SIGKILL) every process other than this one whose command line mentions `needle`:
// bricks, self-heal daemons, mount clients and etcd that a stopped daemon left behind.
// Returns how many.
int KillProcessesMentioning(const std::string& needle) {
  int killed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) == std::string::npos) continue;
    if (::kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

// One timed step of one iteration; ok=false ends the side's run.
struct StepResult {
  bool ok = true;
  double ms = 0;
  std::string error;
};

// The four lifecycle steps plus a mount, driven either through glusterd2 or through glusterd.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string Name() const = 0;
  // Host the bricks are named by and clients mount from.
  virtual std::string Host() const = 0;
  virtual StepResult Create(const std::string& vol, const std::vector<std::string>& bricks) = 0;
  virtual StepResult Start(const std::string& vol) = 0;
  virtual StepResult Stop(const std::string& vol) = 0;
  virtual StepResult Delete(const std::string& vol) = 0;
  // The daemons whose CPU use (and their children's) is reported; none: not reported.
  virtual std::vector<pid_t> DaemonPids() const { return {}; }
};

// CPU time from /proc, in ms: the daemons themselves, their children still running (etcd), and
// the children they reaped (bricks, self-heal daemons: their time is added to the parent's
// cutime/cstime when it reaps them).
struct CpuUse {
  double daemon = 0, etcd = 0, reaped = 0;
  CpuUse operator-(const CpuUse& o) const {
    return {daemon - o.daemon, etcd - o.etcd, reaped - o.reaped};
  }
};

// utime+stime and cutime+cstime of `pid` in ms (zeros when it cannot be read, or when it is a
// zombie: its time reaches its parent's cutime when it is reaped).
std::pair<double, double> ProcessCpuMs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {0, 0};
  // Fields after the command (which may hold spaces): state is field 3, utime 14 .. cstime 17.
  size_t rp = line.rfind(')');
  if (rp == std::string::npos) return {0, 0};
  std::vector<std::string> f;
  size_t pos = rp + 2;
  while (pos < line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string::npos) sp = line.size();
    f.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  if (f.size() < 15 || f[0] == "Z") return {0, 0};
  double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto num = [&](size_t field) { return std::strtod(f[field - 3].c_str(), nullptr) * tick_ms; };
  return {num(14) + num(15), num(16) + num(17)};
}

CpuUse MeasureCpu(const std::vector<pid_t>& daemons) {
  CpuUse u;
  for (pid_t d : daemons) {
    auto [self, reaped] = ProcessCpuMs(d);
    u.daemon += self;
    u.reaped += reaped;
    std::error_code ec;
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(d) + "/task", ec)) {
      std::ifstream children(t.path() / "children");
      pid_t c = 0;
      while (children >> c) u.etcd += ProcessCpuMs(c).first;
    }
  }
  return u;
}

StepResult TimeCommand(const std::vector<std::string>& argv) {
  auto t0 = Clock::now();
  auto r = gd2::RunCommand(argv, kStepTimeout);
  StepResult s;
  s.ms = MsSince(t0);
  if (!r.ok()) {
    s.ok = false;
    s.error = r.status().ToString();
  } else if (r->exit.code != 0) {
    s.ok = false;
    s.error = argv[0] + " exited " + r->exit.ToString() + ": " + r->output;
  }
  return s;
}

// Writes `text` to a cgroup control file.
gd2::Status WriteControl(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) return gd2::InternalError("cannot write " + path + ": " + text);
  return gd2::OkStatus();
}

// Makes the cgroup `name` whose processes get `millicores` of CPU (--peer-cpu) and returns its
// directory: cgroup v2 (cpu.max) where the root offers the cpu controller, else cgroup v1's cpu
// hierarchy (CFS quota). A 10 ms period keeps the throttling fine-grained. The script removes
// the group at exit, once the processes in it are gone.
gd2::StatusOr<std::string> MakeCpuGroup(const std::string& name, int millicores) {
  constexpr int kPeriodUs = 10000;
  const std::string quota = std::to_string(millicores * kPeriodUs / 1000);
  const std::string period = std::to_string(kPeriodUs);
  std::string controllers = gd2::ReadFile("/sys/fs/cgroup/cgroup.controllers").value_or("");
  std::string word;
  bool v2_cpu = false;
  for (std::istringstream in(controllers); in >> word;) v2_cpu = v2_cpu || word == "cpu";
  std::error_code ec;
  if (v2_cpu) {
    WriteControl("/sys/fs/cgroup/cgroup.subtree_control", "+cpu").IgnoreError();
    std::string dir = "/sys/fs/cgroup/" + name;
    fs::create_directory(dir, ec);
    GD2_RETURN_IF_ERROR(WriteControl(dir + "/cpu.max", quota + " " + period));
    return dir;
  }
  if (fs::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {
    std::string dir = "/sys/fs/cgroup/cpu/" + name;
    fs::create_directory(dir, ec);
    GD2_RETURN_IF_ERROR(WriteControl(dir + "/cpu.cfs_period_us", period));
    GD2_RETURN_IF_ERROR(WriteControl(dir + "/cpu.cfs_quota_us", quota));
    return dir;
  }
  return gd2::UnavailableError(
      "--peer-cpu: no cgroup cpu controller (neither cgroup v2 with cpu "
      "nor cgroup v1 at /sys/fs/cgroup/cpu)");
}

class Glusterd2Driver : public Driver {
 public:
  // `extra_args` are added to the daemon's command line.
  Glusterd2Driver(std::string binary, std::string host, std::string dir,
                  std::vector<std::string> extra_args = {})
      : binary_(std::move(binary)),
        host_(std::move(host)),
        dir_(std::move(dir)),
        extra_args_(std::move(extra_args)),
        brick_hosts_{host_} {}
  ~Glusterd2Driver() override { Shutdown(); }

  gd2::Status Launch() {
    if (PortInUse(host_, kClientPort)) {
      return gd2::UnavailableError("port in use: " + host_ + ":24007");
    }
    fs::create_directories(dir_);
    peer_address_ = host_ + ":" + std::to_string(FreePort(host_));
    gd2::SpawnOptions so;
    so.argv = {binary_,
               "--workdir",
               dir_,
               "--client-address",
               host_ + ":" + std::to_string(kClientPort),
               "--peer-address",
               peer_address_,
               "--etcd-client-url",
               "https://" + host_ + ":" + std::to_string(FreePort(host_)),
               "--etcd-peer-url",
               "https://" + host_ + ":" + std::to_string(FreePort(host_)),
               "--log-file",
               dir_ + "/glusterd2.log"};
    so.argv.insert(so.argv.end(), extra_args_.begin(), extra_args_.end());
    so.output_file = dir_ + "/stderr.log";
    so.cgroup = cgroup_;
    GD2_ASSIGN_OR_RETURN(pid_, gd2::Spawn(so));
    gd2::client::ClientOptions co;
    co.endpoints = {"http://" + host_ + ":" + std::to_string(kClientPort)};
    co.timeout = milliseconds(500);
    GD2_ASSIGN_OR_RETURN(auto probe, gd2::client::Client::Create(co));
    bool up = WaitFor([&] { return gd2::PollExit(pid_).has_value() || probe->Ping().ok(); },
                      milliseconds(60000));
    if (!up || !gd2::ProcessAlive(pid_)) {
      return gd2::UnavailableError("glusterd2 did not come up; see " + dir_ + "/glusterd2.log");
    }
    GD2_ASSIGN_OR_RETURN(std::string secret, gd2::ReadFile(dir_ + "/auth"));
    co.secret = secret;
    co.timeout = kStepTimeout;
    GD2_ASSIGN_OR_RETURN(client_, gd2::client::Client::Create(co));
    return gd2::OkStatus();
  }

  void Shutdown() {
    client_.reset();
    if (pid_ > 0) gd2::StopProcess(pid_, milliseconds(20000));
    pid_ = -1;
    KillProcessesMentioning(dir_);  // its etcd, should it outlive it
  }

  std::string Name() const override { return "glusterd2"; }
  std::vector<pid_t> DaemonPids() const override {
    return pid_ > 0 ? std::vector<pid_t>{pid_} : std::vector<pid_t>{};
  }
  std::string Host() const override { return host_; }
  const std::string& peer_address() const { return peer_address_; }
  gd2::client::Client& client() { return *client_; }
  // Brick k of a volume goes to brick_hosts[k mod size] (default: this daemon's host).
  void set_brick_hosts(std::vector<std::string> hosts) { brick_hosts_ = std::move(hosts); }
  // The daemon, and everything it starts, runs in this cgroup (--peer-cpu).
  void set_cgroup(std::string dir) { cgroup_ = std::move(dir); }

  StepResult Create(const std::string& vol, const std::vector<std::string>& bricks) override {
    gd2::api::VolCreateReq req;
    req.name = vol;
    req.force = true;
    for (size_t i = 0; i < bricks.size(); i += 3) {
      gd2::api::SubvolReq sv;
      sv.type = "replicate";
      sv.replica = 3;
      for (size_t k = i; k < i + 3; ++k) {
        sv.bricks.push_back({brick_hosts_[k % brick_hosts_.size()], bricks[k], ""});
      }
      req.subvols.push_back(sv);
    }
    return Time("POST", "/v1/volumes", nlohmann::json(req));
  }
  StepResult Start(const std::string& vol) override {
    return Time("POST", "/v1/volumes/" + vol + "/start", nlohmann::json::object());
  }
  StepResult Stop(const std::string& vol) override {
    return Time("POST", "/v1/volumes/" + vol + "/stop", nlohmann::json::object());
  }
  StepResult Delete(const std::string& vol) override {
    return Time("DELETE", "/v1/volumes/" + vol, std::nullopt);
  }

 private:
  StepResult Time(std::string_view method, const std::string& path,
                  const std::optional<nlohmann::json>& body) {
    auto t0 = Clock::now();
    auto r = client_->Do(method, path, body);
    StepResult s;
    s.ms = MsSince(t0);
    if (!r.ok()) {
      s.ok = false;
      s.error = std::string(method) + " " + path + ": " + r.status().ToString();
    }
    return s;
  }

  std::string binary_;
  std::string host_;
  std::string dir_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> brick_hosts_;
  std::string peer_address_;
  std::string cgroup_;
  pid_t pid_ = -1;
  std::unique_ptr<gd2::client::Client> client_;
};

// The next IPv4 address after `host` ("127.0.0.41" -> "127.0.0.42").
std::string NextHost(const std::string& host, int n) {
  in_addr a{};
  ::inet_pton(AF_INET, host.c_str(), &a);
  a.s_addr = htonl(ntohl(a.s_addr) + static_cast<uint32_t>(n));
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

// Three glusterd2 daemons with one shared cluster secret, joined into one cluster; the lifecycle
// is driven through the first, and the bricks are spread over all three.
class Glusterd2ClusterDriver : public Driver {
 public:
  static constexpr int kPeers = 3;

  // `etcd_members` > 0: --etcd-members for every daemon (1 keeps one etcd member, so that the
  // store's writes cost what they cost on one peer and only the fan-out differs).
  Glusterd2ClusterDriver(const std::string& binary, const std::string& host, const std::string& dir,
                         int etcd_members)
      : dir_(dir) {
    fs::create_directories(dir_);
    std::vector<std::string> hosts;
    for (int i = 0; i < kPeers; ++i) hosts.push_back(NextHost(host, i));
    std::vector<std::string> extra = {"--cluster-secret-file", dir_ + "/cluster-secret"};
    if (etcd_members > 0) {
      extra.push_back("--etcd-members");
      extra.push_back(std::to_string(etcd_members));
    }
    for (int i = 0; i < kPeers; ++i) {
      daemons_.push_back(std::make_unique<Glusterd2Driver>(
          binary, hosts[static_cast<size_t>(i)], dir_ + "/peer" + std::to_string(i), extra));
    }
    daemons_.front()->set_brick_hosts(hosts);
  }
  ~Glusterd2ClusterDriver() override {
    for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) (*it)->Shutdown();
  }
  // Peer `i`'s daemon, to set up before Launch().
  Glusterd2Driver& peer(int i) { return *daemons_[static_cast<size_t>(i)]; }

  gd2::Status Launch() {
    GD2_RETURN_IF_ERROR(gd2::WriteFileAtomic(dir_ + "/cluster-secret",
                                             "volume-lifecycle-bench-secret-0123456789\n", 0600));
    for (auto& d : daemons_) GD2_RETURN_IF_ERROR(d->Launch());
    gd2::client::Client& c = daemons_.front()->client();
    for (size_t i = 1; i < daemons_.size(); ++i) {
      gd2::api::PeerAddReq req;
      req.addresses = {daemons_[i]->peer_address()};
      GD2_RETURN_IF_ERROR(
          c.AddPeer(req).status().WithContext("peer add " + daemons_[i]->peer_address()));
    }
    // A joined daemon restarts in place with the cluster's store: wait until every peer is online.
    bool up = WaitFor(
        [&] {
          auto peers = c.ListPeers();
          if (!peers.ok() || peers->size() != daemons_.size()) return false;
          return std::all_of(peers->begin(), peers->end(),
                             [](const gd2::api::Peer& p) { return p.online; });
        },
        milliseconds(60000));
    if (!up) return gd2::UnavailableError("the three glusterd2 peers did not all come online");
    return gd2::OkStatus();
  }

  std::string Name() const override { return "glusterd2 x3"; }
  std::vector<pid_t> DaemonPids() const override {
    std::vector<pid_t> pids;
    for (const auto& d : daemons_) {
      auto p = d->DaemonPids();
      pids.insert(pids.end(), p.begin(), p.end());
    }
    return pids;
  }
  std::string Host() const override { return daemons_.front()->Host(); }
  StepResult Create(const std::string& vol, const std::vector<std::string>& bricks) override {
    return daemons_.front()->Create(vol, bricks);
  }
  StepResult Start(const std::string& vol) override { return daemons_.front()->Start(vol); }
  StepResult Stop(const std::string& vol) override { return daemons_.front()->Stop(vol); }
  StepResult Delete(const std::string& vol) override { return daemons_.front()->Delete(vol); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<Glusterd2Driver>> daemons_;
};

class GlusterdDriver : public Driver {
 public:
  GlusterdDriver(std::string host, std::string dir, bool hooks)
      : host_(std::move(host)), dir_(std::move(dir)), hooks_(hooks) {}
  ~GlusterdDriver() override { Shutdown(); }

  gd2::Status Launch() {
    if (PortInUse("127.0.0.1", kClientPort)) {
      return gd2::UnavailableError("port in use: 127.0.0.1:24007");
    }
    std::error_code ec;
    fs::create_directories(dir_ + "/state", ec);
    fs::create_directories(dir_ + "/run", ec);
    if (hooks_) {
      for (const char* sub : {"hooks", "groups"}) {
        fs::copy(std::string("/var/lib/glusterd/") + sub, dir_ + "/state/" + sub,
                 fs::copy_options::recursive, ec);
      }
    }
    std::ofstream vol(dir_ + "/glusterd.vol");
    // The packaged /etc/glusterfs/glusterd.vol with private directories and a loopback listener.
    vol << "volume management\n"
           "    type mgmt/glusterd\n"
           "    option working-directory "
        << dir_
        << "/state\n"
           "    option run-directory "
        << dir_
        << "/run\n"
           "    option glusterd-sockfile "
        << socket()
        << "\n"
           "    option transport-type socket\n"
           "    option transport.socket.bind-address 127.0.0.1\n"
           "    option transport.socket.keepalive-time 10\n"
           "    option transport.socket.keepalive-interval 2\n"
           "    option transport.socket.read-fail-log off\n"
           "    option transport.socket.listen-port 24007\n"
           "    option ping-timeout 0\n"
           "    option event-threads 1\n"
           "    option max-port  60999\n"
           "end-volume\n";
    vol.close();
    gd2::SpawnOptions so;
    so.argv = {"glusterd", "-N",
               "-f",       dir_ + "/glusterd.vol",
               "-l",       dir_ + "/glusterd.log",
               "-p",       dir_ + "/run/glusterd.pid"};
    so.output_file = dir_ + "/stderr.log";
    GD2_ASSIGN_OR_RETURN(pid_, gd2::Spawn(so));
    bool up = WaitFor(
        [&] {
          if (gd2::PollExit(pid_).has_value()) return true;
          auto r = gd2::RunCommand(Cli({"volume", "list"}), milliseconds(5000));
          return r.ok() && r->exit.code == 0;
        },
        milliseconds(60000));
    if (!up || !gd2::ProcessAlive(pid_)) {
      return gd2::UnavailableError("glusterd did not come up; see " + dir_ + "/glusterd.log");
    }
    return gd2::OkStatus();
  }

  void Shutdown() {
    if (pid_ > 0) gd2::StopProcess(pid_, milliseconds(20000));
    pid_ = -1;
    // glusterd leaves its bricks and self-heal daemon running when it exits; their command
    // lines name our run directory.
    KillProcessesMentioning(dir_);
  }

  std::string Name() const override { return "glusterd"; }
  std::string Host() const override { return host_; }

  StepResult Create(const std::string& vol, const std::vector<std::string>& bricks) override {
    std::vector<std::string> args = {"volume", "create", vol, "replica", "3"};
    for (const auto& b : bricks) args.push_back(host_ + ":" + b);
    args.push_back("force");
    return TimeCommand(Cli(args));
  }
  StepResult Start(const std::string& vol) override {
    return TimeCommand(Cli({"volume", "start", vol}));
  }
  StepResult Stop(const std::string& vol) override {
    return TimeCommand(Cli({"volume", "stop", vol}));
  }
  StepResult Delete(const std::string& vol) override {
    return TimeCommand(Cli({"volume", "delete", vol}));
  }

 private:
  std::string socket() const { return dir_ + "/run/glusterd.socket"; }
  std::vector<std::string> Cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"gluster", "--mode=script", "--glusterd-sock=" + socket(),
                                     "--log-file=" + dir_ + "/cli.log"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  std::string host_;
  std::string dir_;
  bool hooks_;
  pid_t pid_ = -1;
};

struct Layout {
  std::string name;  // "rep3", "2x3"
  int bricks;
};

const std::vector<Layout> kLayouts = {{"rep3", 3}, {"2x3", 6}};
const std::vector<std::string> kSteps = {"create", "start", "mount", "stop", "delete"};

// samples[layout][step] -> one value per iteration; step "total" is create+start+stop+delete.
using Samples = std::map<std::string, std::map<std::string, std::vector<double>>>;

// Runs every layout `iterations` times through `d`. Returns false after the first failed step
// (having tried to stop and delete that volume); the samples gathered so far stay.
std::string FormatMs(double ms);

// cpu[layout]: the CPU the daemons used over all iterations of the layout (when they say).
bool RunSide(Driver& d, const Args& a, const std::string& tag, Samples& out,
             std::map<std::string, CpuUse>* cpu = nullptr) {
  for (const auto& layout : kLayouts) {
    CpuUse before = MeasureCpu(d.DaemonPids());
    for (int it = 1; it <= a.iterations; ++it) {
      std::string vol = "vb" + tag + layout.name + "i" + std::to_string(it);
      std::vector<std::string> bricks;
      for (int k = 0; k < layout.bricks; ++k) {
        std::string p = a.bricks[static_cast<size_t>(k)] + "/" + vol;
        std::error_code ec;
        fs::create_directories(p, ec);
        if (ec) {
          std::fprintf(stderr, "cannot make brick directory %s: %s\n", p.c_str(),
                       ec.message().c_str());
          return false;
        }
        bricks.push_back(p);
      }
      auto fail = [&](const std::string& step, const StepResult& r) {
        std::fprintf(stderr, "%s: %s %s failed: %s\n", d.Name().c_str(), vol.c_str(), step.c_str(),
                     r.error.c_str());
        d.Stop(vol);
        d.Delete(vol);
        return false;
      };
      double total = 0;
      StepResult r = d.Create(vol, bricks);
      if (!r.ok) return fail("create", r);
      out[layout.name]["create"].push_back(r.ms);
      total += r.ms;
      r = d.Start(vol);
      if (!r.ok) return fail("start", r);
      out[layout.name]["start"].push_back(r.ms);
      total += r.ms;
      if (a.mount && layout.name == "rep3") {
        std::string mnt = a.workdir + "/mnt";
        fs::create_directories(mnt);
        r = TimeCommand({"mount", "-t", "glusterfs", "-o",
                         "log-file=" + a.workdir + "/mount-" + vol + ".log", d.Host() + ":/" + vol,
                         mnt});
        if (!r.ok) return fail("mount", r);
        out[layout.name]["mount"].push_back(r.ms);
        auto u = gd2::RunCommand({"umount", mnt}, milliseconds(30000));
        if (!u.ok() || u->exit.code != 0) {
          gd2::RunCommand({"umount", "-l", mnt}, milliseconds(30000)).status().IgnoreError();
        }
      }
      if (a.settle_ms > 0) std::this_thread::sleep_for(milliseconds(a.settle_ms));
      r = d.Stop(vol);
      if (!r.ok) return fail("stop", r);
      out[layout.name]["stop"].push_back(r.ms);
      total += r.ms;
      r = d.Delete(vol);
      if (!r.ok) return fail("delete", r);
      out[layout.name]["delete"].push_back(r.ms);
      total += r.ms;
      out[layout.name]["total"].push_back(total);
      std::fprintf(stderr, "%s %s iteration %d: %.1f ms\n", d.Name().c_str(), layout.name.c_str(),
                   it, total);
    }
    if (cpu != nullptr && !d.DaemonPids().empty()) {
      // The daemons reap a stopped process 100 ms after it exits: wait for the last ones.
      std::this_thread::sleep_for(milliseconds(300));
      (*cpu)[layout.name] = MeasureCpu(d.DaemonPids()) - before;
    }
  }
  return true;
}

// CPU per lifecycle of the 1-peer and 3-peer runs, side by side.
void PrintCpu(const std::map<std::string, CpuUse>& one, const std::map<std::string, CpuUse>& three,
              int iterations, int settle_ms) {
  std::printf(
      "\nCPU per lifecycle (create+start+stop+delete), from /proc: the daemons, their running "
      "children (etcd), the children they reaped (bricks, self-heal daemons); clock ticks of "
      "%ld ms, over %d iterations%s\n",
      1000 / ::sysconf(_SC_CLK_TCK), iterations,
      settle_ms > 0 ? "; the --settle-ms pause between start and stop is included" : "");
  std::printf("%-7s %-20s %12s %12s %14s %12s\n", "layout", "side", "glusterd2", "etcd",
              "bricks+shd", "all");
  for (const auto& layout : kLayouts) {
    for (const auto& [name, m] :
         {std::pair{"glusterd2, 1 peer", &one}, std::pair{"glusterd2, 3 peers", &three}}) {
      auto it = m->find(layout.name);
      if (it == m->end()) continue;
      const CpuUse& u = it->second;
      double n = iterations;
      std::printf("%-7s %-20s %12s %12s %14s %12s\n", layout.name.c_str(), name,
                  FormatMs(u.daemon / n).c_str(), FormatMs(u.etcd / n).c_str(),
                  FormatMs(u.reaped / n).c_str(),
                  FormatMs((u.daemon + u.etcd + u.reaped) / n).c_str());
    }
  }
}

struct Summary {
  double median = 0, min = 0, max = 0;
  int n = 0;
};

Summary Summarize(std::vector<double> v) {
  Summary s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  s.median = v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

std::string FormatMs(double ms) {
  char buf[32];
  if (ms >= 1000) {
    std::snprintf(buf, sizeof(buf), "%.2f s", ms / 1000);
  } else if (ms >= 100) {
    std::snprintf(buf, sizeof(buf), "%.0f ms", ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f ms", ms);
  }
  return buf;
}

std::string FormatCell(const Summary& s) {
  if (s.n == 0) return "-";
  return FormatMs(s.median) + " (" + FormatMs(s.min) + " .. " + FormatMs(s.max) + ")";
}

void PrintTable(const Samples& gd2, const Samples& gd, int iterations,
                const char* name_a = "glusterd2", const char* name_b = "glusterd",
                const char* ratio_name = "ratio gd2/gd") {
  std::printf("volume lifecycle, %d iterations each: median (min .. max)\n", iterations);
  std::printf("%-13s %-34s %-34s %s\n", "step", name_a, name_b, ratio_name);
  auto get = [](const Samples& s, const std::string& l, const std::string& step) {
    auto li = s.find(l);
    if (li == s.end()) return Summary{};
    auto si = li->second.find(step);
    return si == li->second.end() ? Summary{} : Summarize(si->second);
  };
  for (const auto& layout : kLayouts) {
    std::vector<std::string> steps = kSteps;
    steps.push_back("total");
    for (const auto& step : steps) {
      Summary a = get(gd2, layout.name, step);
      Summary b = get(gd, layout.name, step);
      if (a.n == 0 && b.n == 0) continue;
      std::string ratio = "-";
      if (a.n > 0 && b.n > 0 && b.median > 0) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.3f", a.median / b.median);
        ratio = buf;
      }
      std::string label = layout.name + " " + step;
      std::printf("%-13s %-34s %-34s %s\n", label.c_str(), FormatCell(a).c_str(),
                  FormatCell(b).c_str(), ratio.c_str());
    }
  }
  std::printf("total = create + start + stop + delete of one iteration (mount not included)\n");
}

std::string HostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  if (!args) {
    std::fprintf(stderr,
                 "usage: %s --bricks D1,..,D6 --workdir DIR --glusterd2 PATH [--iterations N]\n"
                 "       [--gd2-host IP] [--gd-host NAME] [--mount on|off]\n"
                 "       [--sides both|glusterd2|glusterd] [--glusterd-hooks on|off]\n"
                 "       [--three-peers on|off] [--etcd-members N] [--settle-ms N]\n"
                 "       [--peer-cpu MILLICORES]\n",
                 argv[0]);
    return 2;
  }
  if (args->gd_host.empty()) args->gd_host = HostName();

  Samples gd2_samples, gd_samples, gd2x3_samples;
  std::map<std::string, CpuUse> gd2_cpu, gd2x3_cpu;
  bool ok = true;
  // --peer-cpu: one CPU group per glusterd2 peer, named after the workdir (the script's).
  const std::string group_prefix = fs::path(args->workdir).filename().string() + "-";
  auto limit = [&](Glusterd2Driver& d, const std::string& peer) -> gd2::Status {
    if (args->peer_cpu == 0) return gd2::OkStatus();
    GD2_ASSIGN_OR_RETURN(std::string dir, MakeCpuGroup(group_prefix + peer, args->peer_cpu));
    d.set_cgroup(dir);
    return gd2::OkStatus();
  };
  if (args->peer_cpu > 0) {
    std::printf(
        "each glusterd2 peer (daemon, etcd, bricks, self-heal daemons) limited to %d "
        "millicores, as on a host of its own\n",
        args->peer_cpu);
  }
  if (args->run_gd2) {
    Glusterd2Driver d(args->glusterd2, args->gd2_host, args->workdir + "/gd2");
    gd2::Status s = limit(d, "gd2");
    if (s.ok()) s = d.Launch();
    if (!s.ok()) {
      std::fprintf(stderr, "glusterd2: %s\n", s.ToString().c_str());
      ok = false;
    } else {
      ok = RunSide(d, *args, "g2", gd2_samples, &gd2_cpu) && ok;
    }
  }  // glusterd2 stopped here, before glusterd wants the port
  if (args->run_gd2 && args->three_peers) {
    Glusterd2ClusterDriver d(args->glusterd2, args->gd2_host, args->workdir + "/gd2x3",
                             args->etcd_members);
    gd2::Status s;
    for (int i = 0; i < Glusterd2ClusterDriver::kPeers && s.ok(); ++i) {
      s = limit(d.peer(i), "peer" + std::to_string(i));
    }
    if (s.ok()) s = d.Launch();
    if (!s.ok()) {
      std::fprintf(stderr, "glusterd2 x3: %s\n", s.ToString().c_str());
      ok = false;
    } else {
      ok = RunSide(d, *args, "g3", gd2x3_samples, &gd2x3_cpu) && ok;
    }
  }
  if (args->run_gd) {
    GlusterdDriver d(args->gd_host, args->workdir + "/gd", args->gd_hooks);
    gd2::Status s = d.Launch();
    if (!s.ok()) {
      std::fprintf(stderr, "glusterd: %s\n", s.ToString().c_str());
      ok = false;
    } else {
      ok = RunSide(d, *args, "gd", gd_samples) && ok;
    }
  }
  if (!args->three_peers || args->run_gd) PrintTable(gd2_samples, gd_samples, args->iterations);
  if (args->three_peers) {
    std::printf("\n");
    PrintTable(gd2_samples, gd2x3_samples, args->iterations, "glusterd2, 1 peer",
               "glusterd2, 3 peers", "ratio 1/3 peers");
    PrintCpu(gd2_cpu, gd2x3_cpu, args->iterations, args->settle_ms);
  }
  return ok ? 0 : 1;
}
