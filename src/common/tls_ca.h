// The cluster's certificate authority: a self-signed CA made when a cluster is created, kept by
// every peer under <workdir>/tls, and the node certificates it signs (one per peer, for the
// peer's addresses, usable as TLS server and client certificate). The embedded etcd and its
// clients authenticate each other with these. EC P-256 keys, PEM files, OpenSSL's C API.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gd2::tls {

// A certificate and its private key, both PEM.
struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// The files of one node's TLS directory (<workdir>/tls, mode 0700; every file 0600).
struct TlsPaths {
  std::string dir;
  std::string ca_cert() const { return dir + "/ca.crt"; }
  std::string ca_key() const { return dir + "/ca.key"; }
  std::string node_cert() const { return dir + "/node.crt"; }
  std::string node_key() const { return dir + "/node.key"; }
};
// <workdir>/tls.
TlsPaths TlsPathsIn(const std::string& workdir);

// How long what NewCa and IssueCert make stays valid, and how close to its end a node
// certificate is re-issued.
inline constexpr std::chrono::hours kCaValidity{24 * 365 * 20};
inline constexpr std::chrono::hours kNodeCertValidity{24 * 365 * 5};
inline constexpr std::chrono::hours kRenewBefore{24 * 30};
// Limits on what IssueCert accepts.
inline constexpr size_t kMaxHosts = 32;
inline constexpr size_t kMaxNameLength = 253;

// Makes a new self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign) with subject
// CN=`common_name` and a fresh key. kInvalidArgument for an empty or over-long name or one with
// characters other than letters, digits and "-_.:"; kInternal if OpenSSL fails.
StatusOr<CertAndKey> NewCa(std::string_view common_name);

// Checks that `ca` parses, is a CA certificate, is valid now, and that its key matches it.
// kInvalidArgument saying what is wrong.
Status CheckCa(const CertAndKey& ca);

// Issues a certificate signed by `ca` for `hosts`: an IP SAN for each IPv4/IPv6 address, a DNS
// SAN for each name (letters, digits, '-' and '.', at most kMaxNameLength), extended key usage
// serverAuth and clientAuth, subject CN=`common_name`, a fresh key. kInvalidArgument for a bad
// `ca` (see CheckCa), no hosts, more than kMaxHosts, or a host that is neither an address nor
// a valid name; kInternal if OpenSSL fails.
StatusOr<CertAndKey> IssueCert(const CertAndKey& ca, std::string_view common_name,
                               const std::vector<std::string>& hosts);

// Whether `cert_pem` is signed by the CA certificate `ca_cert_pem`, valid from now until at
// least kRenewBefore from now, and carries exactly the SANs IssueCert would give `hosts` (in any
// order). False for anything that does not parse.
bool CertFits(const std::string& cert_pem, const std::string& ca_cert_pem,
              const std::vector<std::string>& hosts);

// Reads <dir>/ca.crt and <dir>/ca.key. kNotFound if either is missing; kInvalidArgument (naming
// the file) if they do not pass CheckCa.
StatusOr<CertAndKey> LoadCa(const TlsPaths& paths);

// Checks `ca` (CheckCa) and writes it to <dir>/ca.key and <dir>/ca.crt (0600, atomically),
// creating the directory 0700. The node certificate no longer verifies against a different CA,
// so EnsureNodeCert re-issues it on the next start. This is how a joining peer takes on the
// cluster's CA. Errors: kInvalidArgument from CheckCa, file errors.
Status InstallCa(const TlsPaths& paths, const CertAndKey& ca);

// The CA in `paths`, made (NewCa, InstallCa) when there is none yet: the first start of a
// node creates its cluster's CA. `*created` (if not null) tells which happened.
StatusOr<CertAndKey> EnsureCa(const TlsPaths& paths, std::string_view cluster_name,
                              bool* created = nullptr);

// Keeps <dir>/node.crt and node.key when the certificate CertFits `ca` and `hosts` and the key
// matches it; otherwise issues a new pair (IssueCert) and writes both (0600, key first).
// `*issued` (if not null) tells which happened. Errors as IssueCert, and file errors.
Status EnsureNodeCert(const TlsPaths& paths, const CertAndKey& ca, std::string_view common_name,
                      const std::vector<std::string>& hosts, bool* issued = nullptr);

}  // namespace gd2::tls
