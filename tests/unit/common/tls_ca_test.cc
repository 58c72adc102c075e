// The cluster CA: certificates checked with the openssl CLI as an independent verifier, the
// files under <workdir>/tls, and when a node certificate is kept or re-issued.
#include "common/tls_ca.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/subprocess.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace gd2::tls {
namespace {

using ::gd2::testing::StatusIs;
using namespace std::chrono_literals;

// Runs the openssl CLI; returns its exit code and output.
std::pair<int, std::string> Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  auto r = RunCommand(args, 30s);
  if (!r.ok()) return {-1, r.status().ToString()};
  return {r->exit.signaled ? -1 : r->exit.code, r->output};
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class TlsCaTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& data) {
    std::string path = dir_.path() + "/" + name;
    EXPECT_OK(WriteFileAtomic(path, data, 0600));
    return path;
  }

  gd2::testing::TempDir dir_{"gd2tlsca"};
  TlsPaths paths_{dir_.path() + "/tls"};
};

TEST_F(TlsCaTest, NewCaIsASelfSignedCa) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, NewCa("gd2-cluster-1234"));
  EXPECT_OK(CheckCa(ca));
  std::string cert = Write("ca.crt", ca.cert_pem);
  auto [code, out] =
      Openssl({"x509", "-in", cert, "-noout", "-subject", "-ext", "basicConstraints,keyUsage"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("CN = gd2-cluster-1234"), std::string::npos) << out;
  EXPECT_NE(out.find("CA:TRUE"), std::string::npos) << out;
  EXPECT_NE(out.find("Certificate Sign"), std::string::npos) << out;
  auto [vcode, vout] = Openssl({"verify", "-CAfile", cert, cert});
  EXPECT_EQ(vcode, 0) << vout;
}

TEST_F(TlsCaTest, NewCaRefusesBadNames) {
  EXPECT_THAT(NewCa(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NewCa("a/b"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NewCa(std::string(65, 'a')), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TlsCaTest, IssuedCertVerifiesAsServerAndClientWithItsSans) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, NewCa("gd2-test"));
  ASSERT_OK_AND_ASSIGN(CertAndKey node,
                       IssueCert(ca, "peer-1", {"127.0.0.2", "node1.example", "::1"}));
  std::string ca_file = Write("ca.crt", ca.cert_pem);
  std::string cert = Write("node.crt", node.cert_pem);
  for (const std::string purpose : {"sslserver", "sslclient"}) {
    auto [code, out] = Openssl({"verify", "-CAfile", ca_file, "-purpose", purpose, cert});
    EXPECT_EQ(code, 0) << purpose << ": " << out;
  }
  auto [code, out] = Openssl({"verify", "-CAfile", ca_file, "-verify_ip", "127.0.0.2", cert});
  EXPECT_EQ(code, 0) << out;
  auto [hcode, hout] =
      Openssl({"verify", "-CAfile", ca_file, "-verify_hostname", "node1.example", cert});
  EXPECT_EQ(hcode, 0) << hout;
  auto [bad, bout] = Openssl({"verify", "-CAfile", ca_file, "-verify_ip", "127.0.0.3", cert});
  EXPECT_NE(bad, 0) << bout;
  // The key is the certificate's.
  std::string key = Write("node.key", node.key_pem);
  auto [pc, pub_cert] = Openssl({"x509", "-in", cert, "-noout", "-pubkey"});
  auto [pk, pub_key] = Openssl({"pkey", "-in", key, "-pubout"});
  ASSERT_EQ(pc, 0);
  ASSERT_EQ(pk, 0);
  EXPECT_EQ(pub_cert, pub_key);
  // Another CA does not verify it.
  ASSERT_OK_AND_ASSIGN(CertAndKey other, NewCa("gd2-other"));
  std::string other_file = Write("other.crt", other.cert_pem);
  auto [ocode, oout] = Openssl({"verify", "-CAfile", other_file, cert});
  EXPECT_NE(ocode, 0) << oout;
}

TEST_F(TlsCaTest, IssueCertRefusesBadInput) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, NewCa("gd2-test"));
  EXPECT_THAT(IssueCert(ca, "n", {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "n", {"a b"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "n", {"-x"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "n", {"host,DNS:evil"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "n", {std::string(254, 'a')}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "n", std::vector<std::string>(kMaxHosts + 1, "h")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert(ca, "bad name", {"h"}), StatusIs(StatusCode::kInvalidArgument));
  // A leaf is not a CA, and a key of another CA does not match.
  ASSERT_OK_AND_ASSIGN(CertAndKey leaf, IssueCert(ca, "n", {"h"}));
  EXPECT_THAT(IssueCert(leaf, "n", {"h"}), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(CertAndKey other, NewCa("gd2-other"));
  EXPECT_THAT(IssueCert({ca.cert_pem, other.key_pem}, "n", {"h"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IssueCert({"garbage", ca.key_pem}, "n", {"h"}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TlsCaTest, CertFitsChecksCaAndSans) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, NewCa("gd2-test"));
  ASSERT_OK_AND_ASSIGN(CertAndKey node, IssueCert(ca, "p", {"10.0.0.1", "Node.Example"}));
  EXPECT_TRUE(CertFits(node.cert_pem, ca.cert_pem, {"node.example", "10.0.0.1"}));
  EXPECT_TRUE(CertFits(node.cert_pem, ca.cert_pem, {"10.0.0.1", "node.example", "10.0.0.1"}));
  EXPECT_FALSE(CertFits(node.cert_pem, ca.cert_pem, {"10.0.0.1"}));
  EXPECT_FALSE(CertFits(node.cert_pem, ca.cert_pem, {"10.0.0.2", "node.example"}));
  EXPECT_FALSE(CertFits(node.cert_pem, ca.cert_pem, {"10.0.0.1", "node.example", "x"}));
  ASSERT_OK_AND_ASSIGN(CertAndKey other, NewCa("gd2-test"));
  EXPECT_FALSE(CertFits(node.cert_pem, other.cert_pem, {"10.0.0.1", "node.example"}));
  EXPECT_FALSE(CertFits("garbage", ca.cert_pem, {"10.0.0.1"}));
}

TEST_F(TlsCaTest, EnsureCaCreatesOnceWithPrivateFiles) {
  bool created = false;
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, EnsureCa(paths_, "gd2-cluster-x", &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(Mode(paths_.dir), 0700u);
  EXPECT_EQ(Mode(paths_.ca_cert()), 0600u);
  EXPECT_EQ(Mode(paths_.ca_key()), 0600u);
  ASSERT_OK_AND_ASSIGN(CertAndKey again, EnsureCa(paths_, "gd2-cluster-x", &created));
  EXPECT_FALSE(created);
  EXPECT_EQ(again.cert_pem, ca.cert_pem);
  EXPECT_EQ(again.key_pem, ca.key_pem);
  ASSERT_OK_AND_ASSIGN(CertAndKey loaded, LoadCa(paths_));
  EXPECT_EQ(loaded.cert_pem, ca.cert_pem);
}

TEST_F(TlsCaTest, LoadCaRefusesBrokenFiles) {
  EXPECT_THAT(LoadCa(paths_), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, EnsureCa(paths_, "gd2-a"));
  ASSERT_OK_AND_ASSIGN(CertAndKey other, NewCa("gd2-b"));
  ASSERT_OK(WriteFileAtomic(paths_.ca_key(), other.key_pem, 0600));
  EXPECT_THAT(LoadCa(paths_), StatusIs(StatusCode::kInvalidArgument));
  // EnsureCa does not paper over a broken CA with a new one.
  EXPECT_THAT(EnsureCa(paths_, "gd2-a"), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(WriteFileAtomic(paths_.ca_key(), "not pem", 0600));
  EXPECT_THAT(LoadCa(paths_), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TlsCaTest, InstallCaRefusesWhatIsNotACaAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, EnsureCa(paths_, "gd2-a"));
  ASSERT_OK_AND_ASSIGN(CertAndKey leaf, IssueCert(ca, "n", {"h"}));
  EXPECT_THAT(InstallCa(paths_, leaf), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(CertAndKey other, NewCa("gd2-b"));
  EXPECT_THAT(InstallCa(paths_, {other.cert_pem, ca.key_pem}),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(CertAndKey loaded, LoadCa(paths_));
  EXPECT_EQ(loaded.cert_pem, ca.cert_pem);
  EXPECT_EQ(loaded.key_pem, ca.key_pem);
}

TEST_F(TlsCaTest, NodeCertIsKeptOrReissuedAsNeeded) {
  ASSERT_OK_AND_ASSIGN(CertAndKey ca, EnsureCa(paths_, "gd2-a"));
  bool issued = false;
  ASSERT_OK(EnsureNodeCert(paths_, ca, "peer-1", {"127.0.0.1", "localhost"}, &issued));
  EXPECT_TRUE(issued);
  EXPECT_EQ(Mode(paths_.node_cert()), 0600u);
  EXPECT_EQ(Mode(paths_.node_key()), 0600u);
  ASSERT_OK_AND_ASSIGN(std::string first, ReadFile(paths_.node_cert()));
  EXPECT_TRUE(CertFits(first, ca.cert_pem, {"127.0.0.1", "localhost"}));

  // Same CA and hosts: kept.
  ASSERT_OK(EnsureNodeCert(paths_, ca, "peer-1", {"localhost", "127.0.0.1"}, &issued));
  EXPECT_FALSE(issued);
  ASSERT_OK_AND_ASSIGN(std::string kept, ReadFile(paths_.node_cert()));
  EXPECT_EQ(kept, first);

  // Other hosts: re-issued.
  ASSERT_OK(EnsureNodeCert(paths_, ca, "peer-1", {"127.0.0.2"}, &issued));
  EXPECT_TRUE(issued);
  ASSERT_OK_AND_ASSIGN(std::string moved, ReadFile(paths_.node_cert()));
  EXPECT_TRUE(CertFits(moved, ca.cert_pem, {"127.0.0.2"}));

  // The cluster's CA arrived with a join: re-issued under it.
  ASSERT_OK_AND_ASSIGN(CertAndKey cluster, NewCa("gd2-cluster"));
  ASSERT_OK(InstallCa(paths_, cluster));
  ASSERT_OK_AND_ASSIGN(CertAndKey now, LoadCa(paths_));
  ASSERT_OK(EnsureNodeCert(paths_, now, "peer-1", {"127.0.0.2"}, &issued));
  EXPECT_TRUE(issued);
  ASSERT_OK_AND_ASSIGN(std::string joined, ReadFile(paths_.node_cert()));
  EXPECT_TRUE(CertFits(joined, cluster.cert_pem, {"127.0.0.2"}));
  EXPECT_FALSE(CertFits(joined, ca.cert_pem, {"127.0.0.2"}));

  // A key that does not belong to the certificate: re-issued.
  ASSERT_OK(WriteFileAtomic(paths_.node_key(), cluster.key_pem, 0600));
  ASSERT_OK(EnsureNodeCert(paths_, now, "peer-1", {"127.0.0.2"}, &issued));
  EXPECT_TRUE(issued);
}

}  // namespace
}  // namespace gd2::tls
