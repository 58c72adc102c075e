// store_bench: latency of glusterd2's etcd client (store::Store) against a real etcd it starts
// on 127.0.0.1, next to what etcd itself reports for the same operations: WAL fsync and backend
// commit durations and gRPC handling time, read from etcd's /metrics before and after each phase.
//
//   store_bench [--ops N] [--value-bytes N] [--data-dir DIR] [--etcd PATH]
//
// Phases: put (distinct keys), get (the same keys), txn (compare-and-swap on one key: compare
// its mod revision, put a new value). Each phase runs N sequential operations. --data-dir puts
// etcd's data on the disk under test (default: a temporary directory under $TMPDIR or /tmp,
// removed at exit). Not a test: nothing is asserted about timing.
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/subprocess.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int ops = 2000;
  int value_bytes = 100;
  std::string data_dir;  // empty: a fresh temporary directory
  std::string etcd = "etcd";
};

bool ParseInt(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out > 0;
}

std::optional<Args> ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    std::string_view value = argv[++i];
    if (flag == "--ops") {
      if (!ParseInt(value, a.ops)) return std::nullopt;
    } else if (flag == "--value-bytes") {
      if (!ParseInt(value, a.value_bytes)) return std::nullopt;
    } else if (flag == "--data-dir") {
      a.data_dir = value;
    } else if (flag == "--etcd") {
      a.etcd = value;
    } else {
      return std::nullopt;
    }
  }
  return a;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// One etcd member on loopback with extensive metrics (per-method gRPC histograms).
class EtcdServer {
 public:
  explicit EtcdServer(Args args) : args_(std::move(args)) {}
  ~EtcdServer() { Stop(); }

  gd2::Status Start() {
    if (args_.data_dir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/gd2-store-bench.XXXXXX";
      if (::mkdtemp(tmpl.data()) == nullptr) return gd2::ErrnoError("mkdtemp " + tmpl, errno);
      dir_ = tmpl;
      owns_dir_ = true;
    } else {
      dir_ = args_.data_dir;
      std::error_code ec;
      std::filesystem::create_directories(dir_, ec);
      if (ec) return gd2::InternalError("cannot create " + dir_ + ": " + ec.message());
    }
    client_port_ = FreePort();
    int peer_port = FreePort();
    std::string curl = endpoint();
    std::string purl = "http://127.0.0.1:" + std::to_string(peer_port);
    gd2::SpawnOptions so;
    // clang-format off
    so.argv = {args_.etcd,
               "--name", "bench",
               "--data-dir", dir_ + "/data",
               "--listen-client-urls", curl,
               "--advertise-client-urls", curl,
               "--listen-peer-urls", purl,
               "--initial-advertise-peer-urls", purl,
               "--initial-cluster", "bench=" + purl,
               "--metrics", "extensive",  // per-method grpc_server_handling_seconds
               "--logger", "zap",
               "--log-outputs", dir_ + "/etcd.log"};
    // clang-format on
    so.output_file = dir_ + "/etcd.out";
    GD2_ASSIGN_OR_RETURN(pid_, gd2::Spawn(so));
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (gd2::PollExit(pid_)) {
        pid_ = -1;
        return gd2::UnavailableError("etcd exited at start; see " + dir_ + "/etcd.log");
      }
      httplib::Client c("127.0.0.1", client_port_);
      c.set_connection_timeout(0, 200000);
      auto r = c.Get("/health");
      if (r && r->status == 200) return gd2::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return gd2::DeadlineExceededError("etcd did not answer /health within 20 s");
  }

  void Stop() {
    if (pid_ > 0) gd2::StopProcess(pid_, std::chrono::seconds(5));
    pid_ = -1;
    if (owns_dir_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      owns_dir_ = false;
    }
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }
  const std::string& dir() const { return dir_; }

  gd2::StatusOr<std::string> Metrics() const {
    httplib::Client c("127.0.0.1", client_port_);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/metrics");
    if (!r) return gd2::UnavailableError("GET /metrics failed: " + httplib::to_string(r.error()));
    if (r->status != 200)
      return gd2::UnavailableError("GET /metrics: HTTP " + std::to_string(r->status));
    return r->body;
  }

 private:
  Args args_;
  std::string dir_;
  bool owns_dir_ = false;
  int client_port_ = 0;
  pid_t pid_ = -1;
};

// A Prometheus histogram (cumulative buckets by upper bound), summed over the series selected.
struct PromHistogram {
  std::map<double, double> cumulative;  // le -> count; +Inf is infinity()
  double sum = 0;
  double count = 0;
};

// Reads histogram `name` from exposition text, adding up every series whose label set contains
// `label` (e.g. grpc_method="Put"; empty: all series).
PromHistogram ParseHistogram(const std::string& text, const std::string& name,
                             const std::string& label) {
  PromHistogram h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos) continue;
    std::string_view series(line.data(), name_end);
    std::string labels;
    size_t value_at = name_end;
    if (line[name_end] == '{') {
      size_t close = line.find('}', name_end);
      if (close == std::string::npos) continue;
      labels = line.substr(name_end + 1, close - name_end - 1);
      value_at = close + 1;
    }
    if (!label.empty() && labels.find(label) == std::string::npos) continue;
    double value = std::strtod(line.c_str() + value_at, nullptr);
    if (series == name + "_sum") {
      h.sum += value;
    } else if (series == name + "_count") {
      h.count += value;
    } else if (series == name + "_bucket") {
      size_t le = labels.find("le=\"");
      if (le == std::string::npos) continue;
      std::string bound = labels.substr(le + 4, labels.find('"', le + 4) - le - 4);
      double b = bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                 : std::strtod(bound.c_str(), nullptr);
      h.cumulative[b] += value;
    }
  }
  return h;
}

PromHistogram Delta(const PromHistogram& after, const PromHistogram& before) {
  PromHistogram d = after;
  d.sum -= before.sum;
  d.count -= before.count;
  for (auto& [le, c] : d.cumulative) {
    auto it = before.cumulative.find(le);
    if (it != before.cumulative.end()) c -= it->second;
  }
  return d;
}

// Quantile estimate by linear interpolation inside the bucket that holds the rank, as
// Prometheus' histogram_quantile does. NaN without observations. `in_first_bucket` tells that the
// rank fell in the lowest bucket, where the estimate says little more than "below its bound".
double Quantile(const PromHistogram& h, double q, bool* in_first_bucket = nullptr) {
  if (in_first_bucket != nullptr) *in_first_bucket = false;
  if (h.count <= 0) return std::nan("");
  double rank = q * h.count;
  double lower = 0;
  double below = 0;
  bool first = true;
  for (const auto& [le, c] : h.cumulative) {
    if (c >= rank) {
      if (in_first_bucket != nullptr) *in_first_bucket = first;
      if (std::isinf(le)) return lower;
      if (first) return le;
      if (c == below) return le;
      return lower + (le - lower) * (rank - below) / (c - below);
    }
    lower = le;
    below = c;
    first = false;
  }
  return lower;
}

// "1.234", "<1.000" (rank in the lowest bucket: only its bound is known) or "-" (no data), in ms.
std::string FormatQuantileMs(const PromHistogram& h, double q) {
  bool first = false;
  double v = Quantile(h, q, &first);
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%.3f", first ? "<" : "", v * 1e3);
  return buf;
}

std::string FormatMs(double seconds) {
  if (std::isnan(seconds)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", seconds * 1e3);
  return buf;
}

double Mean(const PromHistogram& h) { return h.count > 0 ? h.sum / h.count : std::nan(""); }

struct Samples {
  std::vector<double> seconds;
  int errors = 0;
  std::string first_error;

  double At(double q) const {
    if (seconds.empty()) return std::nan("");
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(seconds.size()))) - 1;
    return seconds[std::min(i, seconds.size() - 1)];
  }
  double Mean() const {
    double s = 0;
    for (double v : seconds) s += v;
    return seconds.empty() ? std::nan("") : s / static_cast<double>(seconds.size());
  }
};

// Runs `op` n times, timing each call.
Samples Run(int n, const std::function<gd2::Status(int)>& op) {
  Samples s;
  s.seconds.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto start = Clock::now();
    gd2::Status st = op(i);
    double dt = std::chrono::duration<double>(Clock::now() - start).count();
    if (st.ok()) {
      s.seconds.push_back(dt);
    } else if (s.errors++ == 0) {
      s.first_error = st.ToString();
    }
  }
  std::sort(s.seconds.begin(), s.seconds.end());
  return s;
}

double Ms(double seconds) { return seconds * 1e3; }

struct PhaseResult {
  std::string name;
  Samples client;
  PromHistogram grpc;
  PromHistogram wal_fsync;
  PromHistogram backend_commit;
};

gd2::StatusOr<PhaseResult> Phase(const EtcdServer& etcd, std::string name,
                                 const std::string& grpc_method, int n,
                                 const std::function<gd2::Status(int)>& op) {
  const std::string method_label = "grpc_method=\"" + grpc_method + "\"";
  GD2_ASSIGN_OR_RETURN(std::string before, etcd.Metrics());
  PhaseResult r;
  r.name = std::move(name);
  r.client = Run(n, op);
  GD2_ASSIGN_OR_RETURN(std::string after, etcd.Metrics());
  auto delta = [&](const std::string& metric, const std::string& label) {
    return Delta(ParseHistogram(after, metric, label), ParseHistogram(before, metric, label));
  };
  r.grpc = delta("grpc_server_handling_seconds", method_label);
  r.wal_fsync = delta("etcd_disk_wal_fsync_duration_seconds", "");
  r.backend_commit = delta("etcd_disk_backend_commit_duration_seconds", "");
  return r;
}

void PrintReport(const std::vector<PhaseResult>& phases, const Args& args, const EtcdServer& etcd) {
  std::printf("\nstore_bench: %d sequential ops per phase, %d-byte values, etcd data in %s\n",
              args.ops, args.value_bytes, etcd.dir().c_str());
  std::printf("\nclient latency (store::Store, measured around each call), ms\n");
  std::printf("%-5s %6s %6s %8s %8s %8s %8s %8s\n", "op", "ok", "errors", "mean", "p50", "p90",
              "p99", "max");
  for (const auto& p : phases) {
    const Samples& s = p.client;
    std::printf("%-5s %6zu %6d %8.3f %8.3f %8.3f %8.3f %8.3f\n", p.name.c_str(), s.seconds.size(),
                s.errors, Ms(s.Mean()), Ms(s.At(0.50)), Ms(s.At(0.90)), Ms(s.At(0.99)),
                Ms(s.seconds.empty() ? std::nan("") : s.seconds.back()));
    if (s.errors > 0) std::printf("      first error: %s\n", s.first_error.c_str());
  }

  std::printf(
      "\netcd's view during each phase (deltas of its /metrics histograms), ms. mean is "
      "exact (sum/count);\n~p50/~p99 interpolate inside buckets (fsync/commit buckets "
      "start at 1 ms, gRPC at 5 ms; \"<b\": below the lowest bucket bound b)\n");
  std::printf("%-5s %-24s %7s %8s %8s %8s\n", "op", "histogram", "count", "mean", "~p50", "~p99");
  for (const auto& p : phases) {
    auto row = [&](const char* label, const PromHistogram& h) {
      std::printf("%-5s %-24s %7.0f %8s %8s %8s\n", p.name.c_str(), label, h.count,
                  FormatMs(Mean(h)).c_str(), FormatQuantileMs(h, 0.50).c_str(),
                  FormatQuantileMs(h, 0.99).c_str());
    };
    row("grpc_server_handling", p.grpc);
    row("wal_fsync", p.wal_fsync);
    row("backend_commit", p.backend_commit);
  }

  std::printf("\nclient latency / etcd WAL fsync latency (writes only)\n");
  std::printf("%-5s %10s %16s %18s\n", "op", "fsyncs/op", "client/fsync mean", "client-grpc mean");
  for (const auto& p : phases) {
    if (p.wal_fsync.count <= 0 || p.client.seconds.empty()) continue;
    std::printf("%-5s %10.2f %16.2f %15.3f ms\n", p.name.c_str(),
                p.wal_fsync.count / static_cast<double>(p.client.seconds.size()),
                p.client.Mean() / Mean(p.wal_fsync), Ms(p.client.Mean() - Mean(p.grpc)));
    bool first = false;
    double fsync_p50 = Quantile(p.wal_fsync, 0.50, &first);
    if (!first) {
      std::printf("%-5s client p50 / fsync ~p50 = %.2f\n", "", p.client.At(0.50) / fsync_p50);
    } else {
      std::printf(
          "%-5s client p50 / fsync ~p50: fsync p50 is below %.3f ms (lowest bucket), "
          "ratio > %.2f\n",
          "", Ms(fsync_p50), p.client.At(0.50) / fsync_p50);
    }
  }
  std::printf(
      "(client-grpc mean = time spent outside etcd's gRPC handler: our client, gRPC and "
      "loopback)\n");
}

int Main(int argc, char** argv) {
  std::optional<Args> args = ParseArgs(argc, argv);
  if (!args) {
    std::fprintf(stderr, "usage: %s [--ops N] [--value-bytes N] [--data-dir DIR] [--etcd PATH]\n",
                 argv[0]);
    return 2;
  }
  EtcdServer etcd(*args);
  if (gd2::Status s = etcd.Start(); !s.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  gd2::store::Options so;
  so.endpoints = {etcd.endpoint()};
  auto store = gd2::store::Store::Connect(so);
  if (!store.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", store.status().ToString().c_str());
    return 1;
  }
  gd2::store::Store& st = **store;
  const std::string value(static_cast<size_t>(args->value_bytes), 'v');
  auto key = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "bench/key-%06d", i);
    return std::string(buf);
  };

  // Warm up the channel and etcd before measuring.
  for (int i = 0; i < 100; ++i) st.Put("bench/warmup", value).status().IgnoreError();

  std::vector<PhaseResult> phases;
  auto add = [&](gd2::StatusOr<PhaseResult> r) {
    if (!r.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", r.status().ToString().c_str());
      return false;
    }
    phases.push_back(std::move(*r));
    return true;
  };
  if (!add(Phase(etcd, "put", "Put", args->ops,
                 [&](int i) { return st.Put(key(i), value).status(); }))) {
    return 1;
  }
  if (!add(Phase(etcd, "get", "Range", args->ops, [&](int i) -> gd2::Status {
        GD2_ASSIGN_OR_RETURN(auto kv, st.Get(key(i)));
        if (!kv) return gd2::NotFoundError("key vanished: " + key(i));
        return gd2::OkStatus();
      }))) {
    return 1;
  }
  // Compare-and-swap chain on one key: each step expects the revision the previous one wrote.
  const std::string cas_key = "bench/cas";
  auto first = st.Put(cas_key, value);
  if (!first.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", first.status().ToString().c_str());
    return 1;
  }
  int64_t revision = *first;
  if (!add(Phase(etcd, "txn", "Txn", args->ops, [&](int i) -> gd2::Status {
        GD2_ASSIGN_OR_RETURN(gd2::store::TxnResult r,
                             st.Txn({gd2::store::Compare::ModRevisionEquals(cas_key, revision)},
                                    {gd2::store::Op::Put(cas_key, value + std::to_string(i))}));
        if (!r.succeeded) return gd2::AbortedError("compare failed at step " + std::to_string(i));
        revision = r.revision;
        return gd2::OkStatus();
      }))) {
    return 1;
  }
  PrintReport(phases, *args, etcd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
