// The store behind TLS: a real glusterd2's embedded etcd admits only clients with a certificate
// of the cluster CA (over gRPC and over etcd's HTTP gateway), while the daemon itself works;
// the etcd options are checked at start.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/peer.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "common/tls_ca.h"
#include "store/store.h"
#include "support/daemon_process.h"
#include "support/status_matchers.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A store of the daemon's embedded etcd with the daemon's own certificate.
store::Options NodeStoreOptions(const DaemonProcess& d) {
  tls::TlsPaths paths = tls::TlsPathsIn(d.workdir());
  store::Options o;
  o.endpoints = {d.etcd_client_url()};
  o.ca_file = paths.ca_cert();
  o.cert_file = paths.node_cert();
  o.key_file = paths.node_key();
  o.tls_server_name = tls::kStoreServerName;
  o.dial_timeout = 5s;
  o.request_timeout = 5s;
  return o;
}

// Every call of a store with these options fails: Connect refuses, or the first call does
// (with TLS 1.3 a client learns that its certificate was refused only then).
void ExpectRefused(store::Options o, const std::string& key, const std::string& what) {
  o.dial_timeout = 2s;
  o.request_timeout = 2s;
  auto s = store::Store::Connect(o);
  if (!s.ok()) {
    EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable)) << what;
    return;
  }
  EXPECT_FALSE((*s)->List(key).ok()) << what << " read the store";
  EXPECT_FALSE((*s)->Put(key + "intruder", "x").ok()) << what << " wrote the store";
}

std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// etcd's HTTP gateway: a range read of every key under `prefix`.
template <typename HttpClient>
httplib::Result RangeRequest(HttpClient& c, const std::string& prefix) {
  std::string end = prefix;
  end.back()++;
  std::string body = R"({"key":")" + Base64(prefix) + R"(","range_end":")" + Base64(end) + R"("})";
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  return c.Post("/v3/kv/range", body, "application/json");
}

TEST(StoreTlsTest, EmbeddedEtcdAdmitsOnlyCertificatesOfTheClusterCa) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  // The daemon works through its TLS store, health checks of the members included.
  auto c = d.NewClient();
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, c->Health());
  EXPECT_EQ(h.store_mode, "embedded");
  EXPECT_TRUE(h.healthy) << d.ReadLog();
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, c->ListPeers());
  ASSERT_EQ(peers.size(), 1u);

  tls::TlsPaths paths = tls::TlsPathsIn(d.workdir());
  EXPECT_EQ(Mode(paths.dir), 0700u);
  for (const std::string& f :
       {paths.ca_cert(), paths.ca_key(), paths.node_cert(), paths.node_key()}) {
    EXPECT_EQ(Mode(f), 0600u) << f;
  }
  std::string prefix = "gluster-" + h.cluster_id + "/";

  // With the node's certificate the peer record is there to read (so the refusals below are
  // the certificate's doing).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::Store> node,
                       store::Store::Connect(NodeStoreOptions(d)));
  ASSERT_OK_AND_ASSIGN(std::vector<store::KeyValue> records, node->List(prefix + "peers/"));
  EXPECT_EQ(records.size(), 1u);

  store::Options plain = NodeStoreOptions(d);
  plain.endpoints = {"http://" + d.host() + ":" + std::to_string(d.etcd_client_port())};
  ExpectRefused(plain, prefix, "plaintext gRPC");

  store::Options no_cert = NodeStoreOptions(d);
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  ExpectRefused(no_cert, prefix, "gRPC over TLS without a client certificate");

  ASSERT_OK_AND_ASSIGN(tls::CertAndKey other_ca, tls::NewCa("gd2-other-cluster"));
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey foreign, tls::IssueCert(other_ca, "intruder", {d.host()}));
  store::Options stranger = NodeStoreOptions(d);
  stranger.cert_file.clear();
  stranger.key_file.clear();
  stranger.cert_pem = foreign.cert_pem;
  stranger.key_pem = foreign.key_pem;
  ExpectRefused(stranger, prefix, "gRPC with another CA's certificate");

  // The HTTP gateway: plain HTTP gets no data, nor does HTTPS without a client certificate.
  // etcd drops such connections while the client may still write: no SIGPIPE for that.
  ::signal(SIGPIPE, SIG_IGN);
  httplib::Client http("http://" + d.host() + ":" + std::to_string(d.etcd_client_port()));
  httplib::Result r = RangeRequest(http, prefix);
  if (r) {
    EXPECT_NE(r->status, 200);
    EXPECT_EQ(r->body.find("kvs"), std::string::npos) << r->body;
  }
  httplib::SSLClient anonymous(d.host(), d.etcd_client_port());
  anonymous.set_ca_cert_path(paths.ca_cert());
  anonymous.enable_server_certificate_verification(true);
  r = RangeRequest(anonymous, prefix);
  if (r) {
    EXPECT_NE(r->status, 200);
    EXPECT_EQ(r->body.find("kvs"), std::string::npos) << r->body;
  }
  httplib::SSLClient with_cert(d.host(), d.etcd_client_port(), paths.node_cert(), paths.node_key());
  with_cert.set_ca_cert_path(paths.ca_cert());
  with_cert.enable_server_certificate_verification(true);
  r = RangeRequest(with_cert, prefix);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("kvs"), std::string::npos) << r->body;

  // Still serving after all that.
  EXPECT_OK(c->ListPeers().status());
}

TEST(StoreTlsTest, RestartKeepsTheCaAndTheCertificate) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  tls::TlsPaths paths = tls::TlsPathsIn(d.workdir());
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey ca, tls::LoadCa(paths));
  ASSERT_OK_AND_ASSIGN(std::string cert, ReadFile(paths.node_cert()));
  EXPECT_EQ(d.Stop(), 0);
  ASSERT_TRUE(d.Start());
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey ca_after, tls::LoadCa(paths));
  ASSERT_OK_AND_ASSIGN(std::string cert_after, ReadFile(paths.node_cert()));
  EXPECT_EQ(ca_after.cert_pem, ca.cert_pem);
  EXPECT_EQ(cert_after, cert);
  EXPECT_OK(d.NewClient()->ListPeers().status());
}

// A node whose etcd data dates from plain http: its member still advertises the http:// peer
// URL (joining members would dial it); the daemon moves it to its https:// one at start.
TEST(StoreTlsTest, PlainHttpPeerUrlOfAnOlderStartIsUpdated) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, d.NewClient()->Health());
  std::string https_url;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::Store> node,
                         store::Store::Connect(NodeStoreOptions(d)));
    ASSERT_OK_AND_ASSIGN(std::vector<store::Member> members, node->MemberList());
    ASSERT_EQ(members.size(), 1u);
    EXPECT_EQ(members[0].name, h.peer_id);
    ASSERT_EQ(members[0].peer_urls.size(), 1u);
    https_url = members[0].peer_urls[0];
    ASSERT_TRUE(https_url.starts_with("https://")) << https_url;
    ASSERT_OK(node->MemberUpdate(members[0].id, {"http://" + https_url.substr(8)}));
  }
  EXPECT_EQ(d.Stop(), 0);
  ASSERT_TRUE(d.Start());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::Store> node,
                       store::Store::Connect(NodeStoreOptions(d)));
  ASSERT_OK_AND_ASSIGN(std::vector<store::Member> members, node->MemberList());
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].peer_urls, std::vector<std::string>{https_url});
  EXPECT_NE(d.ReadLog().find("etcd member peer URL updated"), std::string::npos);
  ASSERT_EQ(members[0].client_urls.size(), 1u);
  EXPECT_TRUE(members[0].client_urls[0].starts_with("https://"));
}

TEST(StoreTlsTest, BadEtcdTlsOptionsExitTwo) {
  std::string bin = DaemonProcess::BuildPath("src/daemon/glusterd2");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--etcd-ca-file", "/tmp/ca.pem"}, "for an external etcd"},
      {{"--etcd-client-url", "http://127.0.0.1:2379"}, "serves only https"},
      {{"--etcd-peer-url", "http://127.0.0.1:2380"}, "serves only https"},
      {{"--etcd-endpoints", "http://127.0.0.1:1", "--etcd-ca-file", "/tmp/ca.pem"}, "not https"},
      {{"--etcd-endpoints", "https://127.0.0.1:1", "--etcd-cert-file", "/tmp/c.pem"},
       "etcd-cert-file and etcd-key-file"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {bin, "--workdir", "/nonexistent/gd2"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunCommand(argv, 10s);
    ASSERT_OK(r);
    EXPECT_EQ(r->exit.code, 2) << c.args[0] << ": " << r->output;
    EXPECT_NE(r->output.find(c.message), std::string::npos) << r->output;
  }
}

}  // namespace
}  // namespace gd2::testing
