// The real glusterd2 binary against real etcd: embedded etcd lifecycle, crash behaviour,
// external etcd restarts, auth on every route, request ids, errors and metrics.
#include <signal.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "api/peer.h"
#include "common/files.h"
#include "common/jwt.h"
#include "common/subprocess.h"
#include "store/store.h"
#include "support/daemon_process.h"
#include "support/etcd_process.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

httplib::Client Raw(const DaemonProcess& d) {
  httplib::Client c(d.endpoint());
  c.set_read_timeout(10, 0);
  return c;
}

httplib::Result Send(httplib::Client& c, const std::string& method, const std::string& path,
                     const httplib::Headers& h) {
  if (method == "POST") return c.Post(path, h, "{}", "application/json");
  if (method == "DELETE") return c.Delete(path, h);
  if (method == "PUT") return c.Put(path, h, "{}", "application/json");
  return c.Get(path, h);
}

// The body Send() posts for `method`, which a token must sign.
std::string SentBody(const std::string& method) {
  return method == "POST" || method == "PUT" ? "{}" : "";
}

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Client options for `etcd` with its TLS files.
store::Options StoreOptionsOf(const EtcdProcess& etcd) {
  store::Options so;
  so.endpoints = {etcd.endpoint()};
  so.ca_file = etcd.ca_file();
  so.cert_file = etcd.cert_file();
  so.key_file = etcd.key_file();
  return so;
}

// Daemon options for a daemon on the external `etcd`, with its TLS files.
DaemonOptions ExternalEtcdOptionsOf(const EtcdProcess& etcd) {
  DaemonOptions o;
  o.etcd_endpoints = {etcd.endpoint()};
  o.etcd_ca_file = etcd.ca_file();
  o.etcd_cert_file = etcd.cert_file();
  o.etcd_key_file = etcd.key_file();
  return o;
}

TEST(DaemonTest, EmbeddedEtcdComesUpAndStopsWithDaemon) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  pid_t etcd = d.EtcdPid();
  ASSERT_GT(etcd, 0) << "embedded etcd not running";
  // It compacts its history, so that the store does not grow with every write.
  std::string cmdline = ReadFile("/proc/" + std::to_string(etcd) + "/cmdline").value_or("");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  EXPECT_NE(cmdline.find("--auto-compaction-mode revision --auto-compaction-retention 10000 "),
            std::string::npos)
      << cmdline;

  auto c = d.NewClient();
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, c->Health());
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.store_mode, "embedded");
  ASSERT_EQ(h.members.size(), 1u);
  EXPECT_TRUE(h.members[0].healthy) << h.members[0].error;

  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, c->ListPeers());
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0].online);
  EXPECT_EQ(peers[0].pid, d.pid());
  EXPECT_EQ(peers[0].id, h.peer_id);
  ASSERT_OK_AND_ASSIGN(api::Peer one, c->GetPeer(peers[0].id));
  EXPECT_EQ(one.name, peers[0].name);
  EXPECT_THAT(c->GetPeer("00000000-0000-0000-0000-000000000000"),
              StatusIs(StatusCode::kNotFound));

  EXPECT_EQ(d.Stop(), 0);
  EXPECT_FALSE(ProcessAlive(etcd)) << "etcd outlived a clean daemon stop";
  std::string log = d.ReadLog();
  EXPECT_NE(log.find("embedded etcd stopped"), std::string::npos);
  EXPECT_NE(log.find("glusterd2 stopped"), std::string::npos);
  // The daemon's wait for etcd completes TLS handshakes: etcd logs no connection it rejected.
  ASSERT_OK_AND_ASSIGN(std::string etcd_log, ReadFile(d.workdir() + "/log/etcd.log"));
  EXPECT_NE(etcd_log.find("serving client traffic securely"), std::string::npos);
  EXPECT_EQ(etcd_log.find("rejected connection"), std::string::npos) << etcd_log;
}

TEST(DaemonTest, KillNineLeavesNoEtcdBehind) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  pid_t etcd = d.EtcdPid();
  ASSERT_GT(etcd, 0);
  d.Kill();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(etcd); }, 10s)) << "etcd orphaned: pid " << etcd;
}

// The daemon restarts its embedded etcd when it dies, at once, and keeps trying while a restart
// fails (here: its data dir is replaced by a file for a while).
TEST(DaemonTest, EmbeddedEtcdIsRestartedUntilItComesBack) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  pid_t first = d.EtcdPid();
  ASSERT_GT(first, 0);
  auto c = d.NewClient();
  const std::string data = d.workdir() + "/store";
  const std::string aside = d.workdir() + "/store.aside";
  std::filesystem::rename(data, aside);
  ASSERT_OK(WriteFileAtomic(data, "not a directory\n", 0600));
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // Two restarts fail (100 ms, then 200 ms after the death) before the data dir is back.
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string log = d.ReadLog();
        size_t n = 0;
        for (size_t at = log.find("embedded etcd restart failed"); at != std::string::npos;
             at = log.find("embedded etcd restart failed", at + 1)) {
          ++n;
        }
        return n >= 2;
      },
      20s))
      << d.ReadLog();
  std::filesystem::remove(data);
  std::filesystem::rename(aside, data);
  ASSERT_TRUE(WaitFor([&] { return c->Health().ok() && c->Health()->healthy; }, 30s))
      << "etcd did not come back";
  pid_t second = d.EtcdPid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  std::string log = d.ReadLog();
  auto has_line = [&log](const std::string& a, const std::string& b) {
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(
      has_line("warn embedded etcd died, restarting", " pid=" + std::to_string(first) + " "))
      << log;
  EXPECT_TRUE(has_line("error embedded etcd restart failed; trying again", "retry_in_ms=")) << log;
  EXPECT_TRUE(has_line("info embedded etcd restarted", " pid=" + std::to_string(second))) << log;
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, c->ListPeers());
  EXPECT_EQ(peers.size(), 1u);
  EXPECT_EQ(d.Stop(), 0);
  EXPECT_FALSE(ProcessAlive(second)) << "etcd outlived a clean daemon stop";
}

TEST(DaemonTest, IdentityAndSecretSurviveRestart) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  ASSERT_OK_AND_ASSIGN(api::HealthResp before, d.NewClient()->Health());
  std::string secret = d.secret();
  EXPECT_EQ(secret.size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat((d.workdir() + "/auth").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "auth file readable by others";
  EXPECT_EQ(d.Stop(), 0);
  ASSERT_TRUE(d.Start());
  ASSERT_OK_AND_ASSIGN(api::HealthResp after, d.NewClient()->Health());
  EXPECT_EQ(before.peer_id, after.peer_id);
  EXPECT_EQ(before.cluster_id, after.cluster_id);
  EXPECT_EQ(secret, d.secret());
}

TEST(DaemonTest, SecondDaemonOnSameWorkdirIsRefused) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  auto r = RunCommand({DaemonProcess::BuildPath("src/daemon/glusterd2"), "--workdir", d.workdir(),
                       "--client-address", "127.0.0.1:0", "--etcd-endpoints",
                       "http://127.0.0.1:1"},
                      20s);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit.code, 1);
  EXPECT_NE(r->output.find("another glusterd2 is running"), std::string::npos) << r->output;
}

TEST(DaemonTest, WithExternalEtcdPeersJoinOnlyAsClients) {
  EtcdProcess etcd;
  etcd.Start();
  DaemonOptions o = ExternalEtcdOptionsOf(etcd);
  DaemonProcess a(o), b(o);
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  // A daemon with an embedded etcd cannot join a cluster on external etcd.
  DaemonProcess embedded;
  ASSERT_TRUE(embedded.Start());
  api::PeerAddReq bad;
  bad.addresses = {embedded.peer_address()};
  bad.peer_secret = embedded.secret();
  auto refused = a.NewClient()->AddPeer(bad);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("external etcd"));

  api::PeerAddReq req;
  req.addresses = {b.peer_address()};
  req.peer_secret = b.secret();
  ASSERT_OK(a.NewClient()->AddPeer(req).status());
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, b.NewClient()->ListPeers());
  EXPECT_EQ(peers.size(), 2u);
  // Nobody became an etcd member: the external etcd still has its one member, and b runs no
  // etcd of its own and keeps no store.toml.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::Store> st,
                       store::Store::Connect(StoreOptionsOf(etcd)));
  ASSERT_OK_AND_ASSIGN(std::vector<store::Member> members, st->MemberList());
  EXPECT_EQ(members.size(), 1u);
  EXPECT_EQ(b.EtcdPid(), -1);
  EXPECT_FALSE(std::filesystem::exists(b.workdir() + "/store.toml"));
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, b.NewClient()->Health());
  EXPECT_EQ(h.store_mode, "external");
}

// A store that cannot be reached when the daemon starts (an etcd restarting, a member just
// promoted) does not end it: the start is tried again and succeeds once etcd answers.
TEST(DaemonTest, StartIsTriedAgainWhileTheStoreIsUnreachable) {
  EtcdProcess etcd;
  etcd.Start();
  {
    // Serving (its first write done), so that the member that comes back is a whole one.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::Store> st,
                         store::Store::Connect(StoreOptionsOf(etcd)));
    ASSERT_OK(st->Put("probe", "1"));
  }
  etcd.Kill();  // data and ports kept: Start() brings the same member back
  DaemonOptions o = ExternalEtcdOptionsOf(etcd);
  DaemonProcess d(o);
  // etcd comes back 7 s later (after the first attempt's 5 s dial timeout), started by a thread
  // that lives until etcd is stopped (a spawned process ends with the thread that spawned it).
  std::promise<void> done;
  std::thread later([&etcd, finished = done.get_future()] {
    std::this_thread::sleep_for(7s);
    etcd.Start();
    finished.wait();
    etcd.Stop();
  });
  bool up = d.Start();
  std::string log = d.ReadLog();
  StatusOr<std::vector<api::Peer>> peers =
      up ? d.NewClient()->ListPeers() : UnavailableError("not up");
  d.Stop();
  done.set_value();
  later.join();
  ASSERT_TRUE(up);
  EXPECT_NE(log.find("startup failed; starting again"), std::string::npos) << log;
  ASSERT_OK(peers.status());
  EXPECT_EQ(peers->size(), 1u);
}

TEST(DaemonTest, SurvivesExternalEtcdRestartAndLeaseLoss) {
  EtcdProcess etcd;
  etcd.Start();
  DaemonOptions o = ExternalEtcdOptionsOf(etcd);
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  auto c = d.NewClient();
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, c->Health());
  EXPECT_EQ(h.store_mode, "external");
  EXPECT_EQ(d.EtcdPid(), -1) << "external mode must not start etcd";

  etcd.Kill();
  // While etcd is down the API answers with a clear 503. A read may still be served from the
  // local view for the moment it takes its watch to see the stream break.
  EXPECT_TRUE(
      WaitFor([&] { return c->ListPeers().status().code() == StatusCode::kUnavailable; }, 5s))
      << c->ListPeers().status().ToString();
  etcd.Start();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto peers = c->ListPeers();
        return peers.ok() && peers->size() == 1 && (*peers)[0].online;
      },
      30s))
      << d.ReadLog();

  // Lose the lease behind the daemon's back: the session must notice and re-register.
  ASSERT_OK_AND_ASSIGN(auto st, store::Store::Connect(StoreOptionsOf(etcd)));
  ASSERT_OK_AND_ASSIGN(auto alive, st->List("gluster-" + h.cluster_id + "/alive/"));
  ASSERT_EQ(alive.size(), 1u);
  // The lease may also have run out on its own meanwhile (etcd was down for longer than its
  // TTL and the daemon is about to notice): it is lost either way.
  Status revoked = st->RevokeLease(alive[0].lease);
  ASSERT_TRUE(revoked.ok() || revoked.code() == StatusCode::kNotFound) << revoked.ToString();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto a = st->List("gluster-" + h.cluster_id + "/alive/");
        return a.ok() && a->size() == 1 && (*a)[0].lease != alive[0].lease;
      },
      30s))
      << d.ReadLog();

  // The peer watch resumed: a new peer's liveness key is seen by the daemon.
  std::string fake = "11111111-2222-3333-4444-555555555555";
  ASSERT_OK(st->Put("gluster-" + h.cluster_id + "/alive/" + fake, R"({"pid":1})"));
  auto logged_online = [&] {
    std::string log = d.ReadLog();
    for (size_t pos = 0; (pos = log.find("peer online", pos)) != std::string::npos; ++pos) {
      std::string line = log.substr(pos, log.find('\n', pos) - pos);
      if (line.find("peer=" + fake) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitFor(logged_online,
                      10s))
      << d.ReadLog();
  EXPECT_EQ(d.Stop(), 0);
}

TEST(DaemonTest, EveryAuthenticatedRouteRejectsBadTokens) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  auto raw = Raw(d);
  auto eps = raw.Get("/endpoints");
  ASSERT_TRUE(eps);
  ASSERT_EQ(eps->status, 200);
  auto routes = nlohmann::json::parse(eps->body);
  ASSERT_GE(routes.size(), 6u);
  std::string secret = d.secret();
  int64_t now = std::time(nullptr);
  int checked = 0;
  for (const auto& r : routes) {
    std::string path = r["path"];
    std::string method = r["methods"];
    if (path == "/ping" || path == "/endpoints") {
      auto res = raw.Get(path);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200) << path;
      continue;
    }
    std::string p = path;
    for (size_t b; (b = p.find('{')) != std::string::npos;) p.replace(b, p.find('}', b) - b + 1, "x");
    std::vector<std::pair<std::string, httplib::Headers>> bad = {
        {"no token", {}},
        {"not bearer", {{"Authorization", "Basic abc"}}},
        {"garbage", Bearer("not.a.jwt")},
        {"wrong secret", Bearer(jwt::SignRequest("wrong-secret-wrong-secret", {method, p, ""},
                                                 SentBody(method), now))},
        {"expired",
         Bearer(jwt::SignRequest(secret, {method, p, ""}, SentBody(method), now - 3600))},
        {"other path",
         Bearer(jwt::SignRequest(secret, {method, p + "x", ""}, SentBody(method), now))},
        {"other method",
         Bearer(jwt::SignRequest(secret, {method == "GET" ? "DELETE" : "GET", p, ""},
                                 SentBody(method), now))},
        {"wrong issuer",
         Bearer(jwt::SignRequest(secret, {method, p, ""}, SentBody(method), now, 120, "someone"))},
    };
    for (const auto& [why, headers] : bad) {
      httplib::Result res = Send(raw, method, p, headers);
      ASSERT_TRUE(res) << method << " " << p;
      EXPECT_EQ(res->status, 401) << method << " " << p << " " << why;
      auto body = nlohmann::json::parse(res->body, nullptr, false);
      EXPECT_TRUE(body.contains("errors")) << res->body;
      EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
      ++checked;
    }
    // And the right token gets past auth (whatever the route then says).
    auto good = Bearer(jwt::SignRequest(secret, {method, p, ""}, SentBody(method), now));
    httplib::Result res = Send(raw, method, p, good);
    ASSERT_TRUE(res);
    EXPECT_NE(res->status, 401) << method << " " << p << ": " << res->body;
  }
  EXPECT_GE(checked, 8 * 5);
}

TEST(DaemonTest, RequestIdsErrorsAndLimits) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  auto raw = Raw(d);
  std::string secret = d.secret();
  int64_t now = std::time(nullptr);

  httplib::Headers h = Bearer(jwt::SignRequest(secret, {"GET", "/v1/peers", ""}, "", now));
  h.emplace("X-Request-ID", "my-req-42");
  auto res = raw.Get("/v1/peers", h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "my-req-42");
  EXPECT_FALSE(res->get_header_value("X-Gluster-Peer-Id").empty());
  EXPECT_FALSE(res->get_header_value("X-Gluster-Cluster-Id").empty());
  EXPECT_NE(res->get_header_value("Content-Type").find("application/json"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return d.ReadLog().find("req_id=my-req-42") != std::string::npos; }, 5s));

  auto nf =
      raw.Get("/v1/nothing", Bearer(jwt::SignRequest(secret, {"GET", "/v1/nothing", ""}, "", now)));
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  auto body = nlohmann::json::parse(nf->body);
  ASSERT_TRUE(body["errors"].is_array());
  EXPECT_EQ(body["errors"][0]["code"], 1);
  EXPECT_TRUE(body["errors"][0]["message"].is_string());

  auto wrong_method =
      raw.Delete("/version", Bearer(jwt::SignRequest(secret, {"DELETE", "/version", ""}, "", now)));
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);

  std::string huge(2 << 20, 'x');
  auto big =
      raw.Post("/v1/peers", Bearer(jwt::SignRequest(secret, {"POST", "/v1/peers", ""}, huge, now)),
               huge, "application/json");
  if (big) {
    EXPECT_EQ(big->status, 413);
  }

  auto m = raw.Get("/metrics", Bearer(jwt::SignRequest(secret, {"GET", "/metrics", ""}, "", now)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("gd2_http_requests_total{route=\"GetPeers\",code=\"200\"}"), std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("gd2_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m->body.find("gd2_etcd_request_duration_seconds"), std::string::npos);
}

// A token binds the query and the body: one captured for a request cannot be replayed with
// another query or body; tokens without iat, living longer than the cap, or issued in the
// future are refused.
TEST(DaemonTest, TokensBindQueryAndBodyAndAreShortLived) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  auto raw = Raw(d);
  std::string secret = d.secret();
  int64_t now = std::time(nullptr);

  // POST /v1/peers/{id} with a metadata body, signed for that body.
  auto peers =
      raw.Get("/v1/peers", Bearer(jwt::SignRequest(secret, {"GET", "/v1/peers", ""}, "", now)));
  ASSERT_TRUE(peers);
  ASSERT_EQ(peers->status, 200) << peers->body;
  std::string id = nlohmann::json::parse(peers->body)[0]["id"];
  std::string path = "/v1/peers/" + id;
  std::string body = R"({"metadata":{"rack":"r1"}})";
  httplib::Headers signed_for_body =
      Bearer(jwt::SignRequest(secret, {"POST", path, ""}, body, now));
  auto ok = raw.Post(path, signed_for_body, body, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  // Replayed with another body: refused, and nothing changed.
  auto replay =
      raw.Post(path, signed_for_body, R"({"metadata":{"rack":"evil"}})", "application/json");
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401) << replay->body;
  EXPECT_NE(replay->body.find("body hash"), std::string::npos) << replay->body;
  auto after = raw.Get(path, Bearer(jwt::SignRequest(secret, {"GET", path, ""}, "", now)));
  ASSERT_TRUE(after);
  EXPECT_EQ(nlohmann::json::parse(after->body)["metadata"]["rack"], "r1") << after->body;

  // A token for DELETE without a query replayed with ?force=true, and one for a query replayed
  // with another: refused before the handler runs.
  auto forced = raw.Delete(path + "?force=true",
                           Bearer(jwt::SignRequest(secret, {"DELETE", path, ""}, "", now)));
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->status, 401) << forced->body;
  auto other_query =
      raw.Get("/v1/peers?key=rack&value=r2",
              Bearer(jwt::SignRequest(secret, {"GET", "/v1/peers", "key=rack&value=r1"}, "", now)));
  ASSERT_TRUE(other_query);
  EXPECT_EQ(other_query->status, 401) << other_query->body;
  auto right_query =
      raw.Get("/v1/peers?key=rack&value=r1",
              Bearer(jwt::SignRequest(secret, {"GET", "/v1/peers", "key=rack&value=r1"}, "", now)));
  ASSERT_TRUE(right_query);
  EXPECT_EQ(right_query->status, 200) << right_query->body;

  std::string qsh = jwt::QueryHash("GET", "/v1/peers");
  auto claims = [&](int64_t iat, int64_t exp, bool with_iat = true) {
    nlohmann::json c = {{"iss", "glustercli"}, {"exp", exp}, {"qsh", qsh}};
    if (with_iat) c["iat"] = iat;
    return Bearer(jwt::SignClaims(secret, c.dump()));
  };
  std::vector<std::pair<std::string, httplib::Headers>> refused = {
      {"iat 0, exp a million years ahead", claims(0, now + 1'000'000LL * 365 * 86400)},
      {"no iat", claims(0, now + 60, false)},
      {"lifetime over the cap", claims(now, now + jwt::kMaxLifetimeSeconds + 1)},
      {"issued an hour ahead", claims(now + 3600, now + 3660)},
  };
  for (const auto& [why, headers] : refused) {
    auto res = raw.Get("/v1/peers", headers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << why << ": " << res->body;
  }
  auto fine = raw.Get("/v1/peers", claims(now, now + jwt::kMaxLifetimeSeconds));
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200) << fine->body;
}

TEST(DaemonTest, AuthCanBeTurnedOffWithAWarning) {
  DaemonOptions o;
  o.rest_auth = false;
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  auto raw = Raw(d);
  auto res = raw.Get("/v1/peers");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(d.ReadLog().find("ReST authentication is OFF"), std::string::npos);
}

TEST(DaemonTest, BadConfigurationExitsTwo) {
  TempDir dir;
  std::string bin = DaemonProcess::BuildPath("src/daemon/glusterd2");
  ASSERT_OK(WriteFileAtomic(dir.path() + "/bad.toml", "workdir = \"/tmp/x\"\nbogus-key = 1\n"));
  ASSERT_OK(WriteFileAtomic(dir.path() + "/badval.toml", "client-address = \"host:notaport\"\n"));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--bogus"}, "command line"},
      {{"--config", dir.path() + "/bad.toml"}, "unknown key: bogus-key"},
      {{"--config", dir.path() + "/badval.toml"}, "bad port"},
      {{"--config", dir.path() + "/missing.toml"}, "config file"},
      {{"--log-level", "loud"}, "log-level"},
      {{"--workdir", "relative/path"}, "absolute"},
      {{"--etcd-endpoints", "ftp://x:1"}, "etcd-endpoints"},
      {{"--cert-file", "/tmp/c.pem"}, "together"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {bin};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunCommand(argv, 10s);
    ASSERT_OK(r);
    EXPECT_EQ(r->exit.code, 2) << c.args[0] << ": " << r->output;
    EXPECT_NE(r->output.find(c.message), std::string::npos) << r->output;
  }
  auto env = RunCommand({"env", "GD2_LOG_FORMAT=xml", bin}, 10s);
  ASSERT_OK(env);
  EXPECT_EQ(env->exit.code, 2);
  EXPECT_NE(env->output.find("GD2_LOG_FORMAT"), std::string::npos) << env->output;
  auto help = RunCommand({bin, "--help"}, 10s);
  ASSERT_OK(help);
  EXPECT_EQ(help->exit.code, 0);
  EXPECT_NE(help->output.find("--etcd-endpoints"), std::string::npos);
}

// A workdir, rundir or logdir others may write (where they could plant links for the daemon to
// write through) or that belongs to someone else stops the daemon at start, naming the fix.
TEST(DaemonTest, RefusesDirectoriesOthersCanWrite) {
  std::string bin = DaemonProcess::BuildPath("src/daemon/glusterd2");
  for (const char* which : {"workdir", "rundir", "logdir"}) {
    TempDir dir;
    std::string work = dir.path() + "/work";
    std::string target = std::string(which) == "workdir" ? work : dir.path() + "/" + which;
    ASSERT_OK(MakeDirs(target, 0755));
    ASSERT_EQ(::chmod(target.c_str(), 0777), 0);
    std::vector<std::string> argv = {bin, "--workdir", work, "--client-address", "127.0.0.1:0",
                                     "--peer-address", "127.0.0.1:0"};
    if (std::string(which) != "workdir") {
      argv.push_back(std::string("--") + which);
      argv.push_back(target);
    }
    auto r = RunCommand(argv, 20s);
    ASSERT_OK(r);
    EXPECT_NE(r->exit.code, 0) << which << ": " << r->output;
    EXPECT_NE(r->output.find(std::string(which) + " is writable by group or others"),
              std::string::npos)
        << r->output;
    EXPECT_NE(r->output.find("chmod go-w " + target), std::string::npos) << r->output;
    EXPECT_FALSE(std::filesystem::exists(work + "/uuid.toml")) << "nothing was written";
  }
}

TEST(DaemonTest, DaemonWorksInItsRundir) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  std::error_code ec;
  auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(d.pid()) + "/cwd", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(cwd.string(), d.workdir() + "/run");
  pid_t etcd = d.EtcdPid();
  if (etcd > 0) {
    auto etcd_cwd = std::filesystem::read_symlink("/proc/" + std::to_string(etcd) + "/cwd", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(etcd_cwd.string(), d.workdir() + "/run") << "children inherit the rundir";
  }
}

TEST(DaemonTest, JsonLogsAndEffectiveConfigAreWritten) {
  DaemonOptions o;
  o.extra_args = {"--log-format", "json", "--key-file", "", "--peer-name", "node-a"};
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  std::string log = d.ReadLog();
  size_t start = log.find('{');
  ASSERT_NE(start, std::string::npos);
  std::string first = log.substr(start, log.find('\n', start) - start);
  auto j = nlohmann::json::parse(first, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << first;
  EXPECT_TRUE(j.contains("time"));
  EXPECT_TRUE(j.contains("level"));
  EXPECT_TRUE(j.contains("peer_id"));
  EXPECT_NE(log.find("peer-name = node-a"), std::string::npos);
}

}  // namespace
}  // namespace gd2::testing
