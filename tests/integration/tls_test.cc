// The ReST API over TLS: the real glusterd2 binary with --cert-file/--key-file (certificates made
// by the openssl CLI), driven with client::Client. HTTPS works with the right CA and a JWT; plain
// HTTP on the same port and clients trusting another CA are refused; bad TLS files stop the
// daemon at startup with exit code 1 and a message naming the file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "support/daemon_process.h"
#include "support/etcd_process.h"
#include "support/ports.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

struct CertFiles {
  std::string cert;
  std::string key;
};

// Makes a self-signed certificate for 127.0.0.1 (CN and IP SAN) with the openssl CLI.
CertFiles MakeSelfSigned(const std::string& dir, const std::string& name) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  auto r =
      RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", f.key, "-out", f.cert},
                 30s);
  EXPECT_TRUE(r.ok() && r->exit.code == 0)
      << "openssl failed: " << (r.ok() ? r->output : r.status().ToString());
  return f;
}

// A glusterd2 serving only HTTPS. DaemonProcess waits for plain-HTTP /ping, which a TLS-only
// daemon refuses, so this starts the binary itself (against an external etcd) and waits over
// HTTPS.
class TlsDaemon {
 public:
  TlsDaemon(const EtcdProcess& etcd, CertFiles files)
      : dir_("gd2tls"), port_(FreePort()), etcd_(etcd), files_(std::move(files)) {}
  ~TlsDaemon() {
    if (pid_ > 0) StopProcess(pid_, 10s);
  }

  std::vector<std::string> Argv() const {
    // clang-format off
    return {DaemonProcess::BuildPath("src/daemon/glusterd2"),
            "--workdir", dir_.path(),
            "--client-address", "127.0.0.1:" + std::to_string(port_),
            "--peer-address", "127.0.0.1:" + std::to_string(FreePort()),
            "--etcd-endpoints", etcd_.endpoint(),
            "--etcd-ca-file", etcd_.ca_file(),
            "--etcd-cert-file", etcd_.cert_file(),
            "--etcd-key-file", etcd_.key_file(),
            "--log-file", dir_.path() + "/glusterd2.log",
            "--lease-ttl", "4",
            "--cert-file", files_.cert,
            "--key-file", files_.key};
    // clang-format on
  }

  // Starts the daemon and waits until /ping answers over HTTPS (verified with `ca_file`).
  bool Start(const std::string& ca_file) {
    SpawnOptions so;
    so.argv = Argv();
    so.output_file = dir_.path() + "/stderr.log";
    auto pid = Spawn(so);
    if (!pid.ok()) {
      ADD_FAILURE() << "cannot start glusterd2: " << pid.status().ToString();
      return false;
    }
    pid_ = *pid;
    auto c = NewClient(ca_file, /*with_secret=*/false);
    bool up = WaitFor([&] { return PollExit(pid_).has_value() || c->Ping().ok(); }, 30s);
    if (up && ProcessAlive(pid_)) return true;
    ADD_FAILURE() << "glusterd2 did not come up over https; stderr:\n"
                  << ReadFile(dir_.path() + "/stderr.log").value_or("") << "\nlog:\n"
                  << ReadFile(dir_.path() + "/glusterd2.log").value_or("");
    return false;
  }

  std::string https_endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string http_endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<client::Client> NewClient(const std::string& ca_file, bool with_secret,
                                            const std::string& endpoint = "") const {
    client::ClientOptions co;
    co.endpoints = {endpoint.empty() ? https_endpoint() : endpoint};
    co.ca_file = ca_file;
    co.timeout = 5s;
    if (with_secret) co.secret = ReadFile(dir_.path() + "/auth").value_or("");
    auto c = client::Client::Create(co);
    EXPECT_OK(c.status());
    return c.ok() ? std::move(*c) : nullptr;
  }

 private:
  TempDir dir_;
  int port_;
  const EtcdProcess& etcd_;
  CertFiles files_;
  pid_t pid_ = -1;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { etcd_.Start(); }

  // Runs glusterd2 with these TLS files to completion (it must fail at startup).
  RunResult RunExpectingFailure(const CertFiles& files) {
    TlsDaemon d(etcd_, files);
    auto r = RunCommand(d.Argv(), 60s);
    EXPECT_OK(r.status());
    return r.ok() ? *r : RunResult{};
  }

  TempDir certs_{"gd2certs"};
  EtcdProcess etcd_;
};

TEST_F(TlsTest, HttpsWithTheRightCaAndJwtListsPeers) {
  CertFiles server = MakeSelfSigned(certs_.path(), "server");
  TlsDaemon d(etcd_, server);
  ASSERT_TRUE(d.Start(server.cert));

  auto c = d.NewClient(server.cert, /*with_secret=*/true);
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, c->ListPeers());
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0].online);

  // TLS does not replace the JWT: the same connection without a token is 401.
  auto anonymous = d.NewClient(server.cert, /*with_secret=*/false);
  EXPECT_THAT(anonymous->ListPeers(), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortIsRefused) {
  CertFiles server = MakeSelfSigned(certs_.path(), "server");
  TlsDaemon d(etcd_, server);
  ASSERT_TRUE(d.Start(server.cert));

  auto plain = d.NewClient("", /*with_secret=*/true, d.http_endpoint());
  ASSERT_NE(plain, nullptr);
  EXPECT_THAT(plain->Ping(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(plain->ListPeers(), StatusIs(StatusCode::kUnavailable));

  httplib::Client raw(d.http_endpoint());
  raw.set_read_timeout(5, 0);
  httplib::Result r = raw.Get("/ping");
  EXPECT_FALSE(r) << "plain HTTP got an answer: HTTP " << r->status;

  // The daemon is still serving HTTPS afterwards.
  EXPECT_OK(d.NewClient(server.cert, /*with_secret=*/false)->Ping());
}

TEST_F(TlsTest, ClientTrustingAnotherCaFailsVerification) {
  CertFiles server = MakeSelfSigned(certs_.path(), "server");
  CertFiles other = MakeSelfSigned(certs_.path(), "other");
  TlsDaemon d(etcd_, server);
  ASSERT_TRUE(d.Start(server.cert));

  auto wrong_ca = d.NewClient(other.cert, /*with_secret=*/true);
  StatusOr<std::vector<api::Peer>> peers = wrong_ca->ListPeers();
  EXPECT_THAT(peers, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(peers.status().message().find("cannot reach glusterd2"), std::string::npos)
      << peers.status().message();

  // Without a CA file the system store is used, which does not know our self-signed cert.
  auto system_ca = d.NewClient("", /*with_secret=*/true);
  EXPECT_THAT(system_ca->ListPeers(), StatusIs(StatusCode::kUnavailable));
}

TEST_F(TlsTest, KeyNotMatchingTheCertificateStopsStartup) {
  CertFiles a = MakeSelfSigned(certs_.path(), "a");
  CertFiles b = MakeSelfSigned(certs_.path(), "b");
  RunResult r = RunExpectingFailure({a.cert, b.key});
  EXPECT_EQ(r.exit.code, 1) << r.output;
  EXPECT_NE(r.output.find(b.key), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("does not match"), std::string::npos) << r.output;
}

TEST_F(TlsTest, MissingCertificateFileStopsStartup) {
  CertFiles a = MakeSelfSigned(certs_.path(), "a");
  std::string missing = certs_.path() + "/no-such.crt";
  RunResult r = RunExpectingFailure({missing, a.key});
  EXPECT_EQ(r.exit.code, 1) << r.output;
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
}

TEST_F(TlsTest, MissingKeyFileStopsStartup) {
  CertFiles a = MakeSelfSigned(certs_.path(), "a");
  std::string missing = certs_.path() + "/no-such.key";
  RunResult r = RunExpectingFailure({a.cert, missing});
  EXPECT_EQ(r.exit.code, 1) << r.output;
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
}

TEST_F(TlsTest, CertificateWithoutKeyIsAConfigurationError) {
  CertFiles a = MakeSelfSigned(certs_.path(), "a");
  TlsDaemon d(etcd_, a);
  std::vector<std::string> argv = d.Argv();
  argv.resize(argv.size() - 2);  // drop --key-file <path>
  auto r = RunCommand(argv, 60s);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->exit.code, 2) << r->output;
  EXPECT_NE(r->output.find("cert-file and key-file must be given together"), std::string::npos)
      << r->output;
}

}  // namespace
}  // namespace gd2::testing
