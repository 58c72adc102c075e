// The peer RPC over mutual TLS, with a throwaway CA and certificates made by the openssl CLI.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"
#include "peer_rpc/client.h"
#include "peer_rpc/server.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"
#include "test_handler.h"

namespace gd2::peer_rpc {
namespace {

using ::gd2::testing::StatusIs;
using namespace std::chrono_literals;

constexpr char kSecret[] = "tls-test-secret";

void Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  auto r = RunCommand(args, 30s);
  ASSERT_TRUE(r.ok() && !r->exit.signaled && r->exit.code == 0)
      << "openssl failed: " << (r.ok() ? r->output : r.status().ToString());
}

class PeerRpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string ec = "ec_paramgen_curve:prime256v1";
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", File("ca.key"),
             "-out", File("ca.pem"), "-days", "1", "-subj", "/CN=gd2-test-ca"});
    std::ofstream(File("server.ext")) << "subjectAltName=IP:127.0.0.1\n";
    std::ofstream(File("client.ext")) << "extendedKeyUsage=clientAuth\n";
    for (const std::string name : {"server", "client"}) {
      Openssl({"req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", File(name + ".key"),
               "-out", File(name + ".csr"), "-subj", "/CN=" + name});
      Openssl({"x509", "-req", "-in", File(name + ".csr"), "-CA", File("ca.pem"), "-CAkey",
               File("ca.key"), "-CAcreateserial", "-out", File(name + ".pem"), "-days", "1",
               "-extfile", File(name + ".ext")});
    }

    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.secret = [] { return std::string(kSecret); };
    o.tls = {File("server.pem"), File("server.key"), File("ca.pem"), ""};
    server_ = std::make_unique<Server>(std::move(o), handler_);
    ASSERT_OK(server_->Start());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  std::string File(const std::string& name) const { return dir_.path() + "/" + name; }

  ClientOptions Options(TlsOptions tls) const {
    ClientOptions o;
    o.secret = [] { return std::string(kSecret); };
    o.tls = std::move(tls);
    o.dial_timeout = 5s;
    return o;
  }

  gd2::testing::TempDir dir_{"gd2peertls"};
  TestHandler handler_;
  std::unique_ptr<Server> server_;
  std::string address_;
};

TEST_F(PeerRpcTlsTest, MutualTlsRoundTrip) {
  Client client(Options({File("client.pem"), File("client.key"), File("ca.pem"), ""}));
  ASSERT_OK_AND_ASSIGN(PeerIdentity id, client.Ping(address_, Client::In(10s)));
  EXPECT_EQ(id.peer_id, "peer-b");
  StepCall call;
  call.txn_id = "t1";
  call.step = "test.step";
  call.args = {{"k", 1}};
  ASSERT_OK(client.RunStep(address_, call, Client::In(10s)));
  EXPECT_EQ(handler_.LastStep().args, call.args);
}

TEST_F(PeerRpcTlsTest, ClientWithoutCertificateIsRefused) {
  Client client(Options({"", "", File("ca.pem"), ""}));
  EXPECT_FALSE(client.Ping(address_, Client::In(10s)).ok());
  EXPECT_EQ(handler_.step_calls.load(), 0);
}

TEST_F(PeerRpcTlsTest, PlaintextClientIsRefused) {
  Client client(Options({}));
  EXPECT_THAT(client.Ping(address_, Client::In(10s)), StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace gd2::peer_rpc
