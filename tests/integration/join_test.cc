// The authenticated join against real daemons: a fresh node refuses a join from anyone who does
// not know its own secret (and keeps its secret and store); `peer add` to a stranger's listener
// sends it nothing secret; `peer add` with the peer's secret (or a shared cluster secret) joins
// it and hands it the cluster secret and CA. See docs/trust-model.md.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "api/peer.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "common/tls_ca.h"
#include "peer/peer.grpc.pb.h"
#include "peer_rpc/client.h"
#include "peer_rpc/join_auth.h"
#include "support/daemon_process.h"
#include "support/recording_peer.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;

peer_rpc::JoinCall AttackerGrant() {
  peer_rpc::JoinCall call;
  call.cluster_id = "5f0b1c2e-0000-4000-8000-00000000a77a";
  call.etcd_endpoints = {"http://127.0.0.1:1"};
  call.auth_secret = "attacker-chosen-cluster-secret";
  call.initiator = "7e57e57e-0000-4000-8000-00000000a77a";
  return call;
}

TEST(JoinTest, FreshNodeRefusesAJoinWithAForeignSecretAndKeepsItsOwn) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  std::string secret = d.secret();
  ASSERT_OK_AND_ASSIGN(api::HealthResp before, d.NewClient()->Health());

  // Through our client: the node cannot prove the attacker's secret, so the client stops.
  peer_rpc::ClientOptions co;
  co.secret = [] { return std::string("attacker-chosen-cluster-secret"); };
  peer_rpc::Client attacker(co);
  auto r = attacker.Join(d.peer_address(), AttackerGrant(), "attacker-chosen-cluster-secret",
                         peer_rpc::Client::In(10s));
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kUnauthenticated));

  // Straight to the peer port, ignoring the node's proof: a proof and a grant made with the
  // attacker's secret are refused by the node.
  auto channel = grpc::CreateChannel(d.peer_address(), grpc::InsecureChannelCredentials());
  auto stub = gd2::peer::PeerService::NewStub(channel);
  gd2::peer::JoinHelloRequest hello;
  hello.set_initiator(AttackerGrant().initiator);
  hello.set_initiator_nonce(peer_rpc::join::NewNonce());
  gd2::peer::JoinHelloResponse challenge;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    ASSERT_TRUE(stub->JoinHello(&ctx, hello, &challenge).ok());
  }
  EXPECT_EQ(challenge.code(), 0) << challenge.message();
  peer_rpc::join::Transcript t{hello.initiator(), challenge.peer_id(), hello.initiator_nonce(),
                               challenge.target_nonce()};
  gd2::peer::JoinGrant grant;
  grant.set_cluster_id(AttackerGrant().cluster_id);
  grant.add_etcd_endpoints("http://127.0.0.1:1");
  grant.set_auth_secret("attacker-chosen-cluster-secret");
  gd2::peer::JoinRequest req;
  req.set_initiator(hello.initiator());
  req.set_initiator_nonce(t.initiator_nonce);
  req.set_target_nonce(t.target_nonce);
  req.set_initiator_proof(peer_rpc::join::InitiatorProof("attacker-chosen-cluster-secret", t));
  ASSERT_OK_AND_ASSIGN(std::string sealed, peer_rpc::join::Seal("attacker-chosen-cluster-secret", t,
                                                                grant.SerializeAsString()));
  req.set_sealed_grant(sealed);
  gd2::peer::JoinResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::Status s = stub->Join(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();

  // The node kept its secret, cluster and store, and did not restart.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(d.secret(), secret);
  ASSERT_OK_AND_ASSIGN(api::HealthResp after, d.NewClient()->Health());
  EXPECT_EQ(after.cluster_id, before.cluster_id);
  EXPECT_EQ(after.peer_id, before.peer_id);
  EXPECT_FALSE(std::filesystem::exists(d.workdir() + "/store.toml"));
  EXPECT_EQ(d.ReadLog().find("joining cluster"), std::string::npos);
}

TEST(JoinTest, PeerAddToAStrangerSendsItNothingSecret) {
  DaemonProcess d;
  ASSERT_TRUE(d.Start());
  // The cluster has a CA, whose key must not leak either.
  tls::TlsPaths paths = tls::TlsPathsIn(d.workdir());
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey ca, tls::EnsureCa(paths, "join-test"));
  RecordingPeer stranger;
  ASSERT_TRUE(stranger.ok());
  api::PeerAddReq req;
  req.addresses = {stranger.address()};
  auto added = d.NewClient()->AddPeer(req);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), StatusCode::kPermissionDenied) << added.status().ToString();
  EXPECT_THAT(added.status().message(), ::testing::HasSubstr("nothing was sent"));

  std::vector<RecordingPeer::Received> got = stranger.received();
  ASSERT_FALSE(got.empty());
  for (const auto& r : got) EXPECT_EQ(r.method, "JoinHello");
  ASSERT_OK_AND_ASSIGN(api::HealthResp h, d.NewClient()->Health());
  std::string all = stranger.AllBytes();
  std::string secret = d.secret();
  std::vector<std::string> never = {secret, h.cluster_id,
                                    "127.0.0.1:" + std::to_string(d.etcd_client_port())};
  // Any 24 bytes of the CA key's PEM body.
  std::string key_body = ca.key_pem.substr(ca.key_pem.find('\n') + 1, 24);
  never.push_back(key_body);
  for (const auto& s : never) EXPECT_EQ(all.find(s), std::string::npos) << "leaked: " << s;
}

TEST(JoinTest, PeerAddWithThePeersSecretJoinsItAndHandsOverSecretAndCa) {
  DaemonProcess a, b;
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  ASSERT_OK_AND_ASSIGN(tls::CertAndKey ca,
                       tls::EnsureCa(tls::TlsPathsIn(a.workdir()), "join-test"));
  std::string b_secret = b.secret();

  // With a's own secret (b has another one): refused before anything is sent.
  api::PeerAddReq req;
  req.addresses = {b.peer_address()};
  auto refused = a.NewClient()->AddPeer(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_EQ(b.secret(), b_secret);

  // glustercli peer add HOST --peer-secret-file F.
  TempDir tmp;
  std::string file = tmp.path() + "/b.auth";
  ASSERT_OK(WriteFileAtomic(file, b_secret + "\n", 0600));
  std::string a_secret_file = tmp.path() + "/a.auth";
  ASSERT_OK(WriteFileAtomic(a_secret_file, a.secret(), 0600));
  auto run = RunCommand(
      {DaemonProcess::BuildPath("src/cli/glustercli"), "--endpoints", a.endpoint(), "--secret-file",
       a_secret_file, "peer", "add", b.peer_address(), "--peer-secret-file", file},
      90s);
  ASSERT_OK(run);
  EXPECT_EQ(run->exit.code, 0) << run->output;

  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, a.NewClient()->ListPeers());
  EXPECT_EQ(peers.size(), 2u);
  EXPECT_EQ(b.secret(), a.secret());
  // b took on the cluster CA, private.
  ASSERT_OK_AND_ASSIGN(std::string b_ca_key, ReadFile(b.workdir() + "/tls/ca.key"));
  ASSERT_OK_AND_ASSIGN(std::string b_ca_cert, ReadFile(b.workdir() + "/tls/ca.crt"));
  EXPECT_EQ(b_ca_key, ca.key_pem);
  EXPECT_EQ(b_ca_cert, ca.cert_pem);
  struct stat st {};
  ASSERT_EQ(::stat((b.workdir() + "/tls/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(JoinTest, PeersStartedWithASharedClusterSecretJoinWithoutAPeerSecret) {
  TempDir tmp;
  std::string shared = tmp.path() + "/cluster-secret";
  ASSERT_OK(WriteFileAtomic(shared, "shared-cluster-secret-for-the-test\n", 0600));
  DaemonOptions o;
  o.extra_args = {"--cluster-secret-file", shared};
  DaemonProcess a(o), b(o);
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  EXPECT_EQ(a.secret(), "shared-cluster-secret-for-the-test");
  api::PeerAddReq req;
  req.addresses = {b.peer_address()};
  ASSERT_OK(a.NewClient()->AddPeer(req).status());
  ASSERT_OK_AND_ASSIGN(std::vector<api::Peer> peers, b.NewClient()->ListPeers());
  EXPECT_EQ(peers.size(), 2u);
}

// Whether a TCP connection to host:port is accepted.
bool Connects(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int PortOf(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

TEST(JoinTest, PeerPortListensOnThePeerAddressOnlyUnlessToldOtherwise) {
  DaemonProcess d;  // peer address 127.0.0.1:<port>
  ASSERT_TRUE(d.Start());
  int port = PortOf(d.peer_address());
  EXPECT_TRUE(Connects("127.0.0.1", port));
  // Another address of this host (all of 127/8 is local) does not reach it.
  EXPECT_FALSE(Connects("127.0.0.2", port));

  DaemonOptions all;
  all.extra_args = {"--peer-listen-all", "true"};
  // The free port the test picks is free on 127.0.0.1; on 0.0.0.0 an outgoing connection of
  // another program may hold it, so a few fresh picks are allowed.
  std::unique_ptr<DaemonProcess> e;
  for (int attempt = 0; attempt < 3 && !e; ++attempt) {
    auto candidate = std::make_unique<DaemonProcess>(all);
    if (candidate->Start()) e = std::move(candidate);
  }
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(Connects("127.0.0.2", PortOf(e->peer_address())));
}

}  // namespace
}  // namespace gd2::testing
