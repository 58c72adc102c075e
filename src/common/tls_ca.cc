#include "common/tls_ca.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <set>

#include "common/files.h"

namespace gd2::tls {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(ASN1_OCTET_STRING* p) const { ASN1_OCTET_STRING_free(p); }
};
using X509Ptr = std::unique_ptr<X509, Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

constexpr size_t kMaxCommonName = 64;  // ub-common-name in RFC 5280
// Certificates are backdated a little so a peer whose clock is slightly behind accepts them.
constexpr long kBackdateSeconds = 3600;

// The first queued OpenSSL error as text (and the queue cleared), for kInternal messages.
Status OpensslError(std::string_view what) {
  unsigned long e = ERR_get_error();
  std::string msg(what);
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return InternalError(msg);
}

bool ValidCommonName(std::string_view s) {
  if (s.empty() || s.size() > kMaxCommonName) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

bool ValidDnsName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || s.front() == '.' || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

// One SAN as a comparable string: "IP:" + the address bytes, or "DNS:" + the lower-case name.
StatusOr<std::string> SanKey(std::string_view host) {
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned char addr[16];
  if (inet_pton(AF_INET, h.c_str(), addr) == 1) return "IP:" + std::string(addr, addr + 4);
  if (inet_pton(AF_INET6, h.c_str(), addr) == 1) return "IP:" + std::string(addr, addr + 16);
  if (!ValidDnsName(h)) {
    return InvalidArgumentError("certificate host is neither an IP address nor a DNS name: host=" +
                                std::string(host.substr(0, kMaxNameLength)));
  }
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  return "DNS:" + h;
}

StatusOr<std::set<std::string>> SanKeys(const std::vector<std::string>& hosts) {
  if (hosts.empty()) return InvalidArgumentError("certificate needs at least one host");
  if (hosts.size() > kMaxHosts) {
    return InvalidArgumentError("too many certificate hosts: count=" +
                                std::to_string(hosts.size()) + " max=" + std::to_string(kMaxHosts));
  }
  std::set<std::string> keys;
  for (const auto& h : hosts) {
    GD2_ASSIGN_OR_RETURN(std::string k, SanKey(h));
    keys.insert(std::move(k));
  }
  return keys;
}

// The SANs of a certificate in SanKey form; names of other kinds are kept as "?" so they never
// match.
std::set<std::string> CertSanKeys(X509* cert) {
  std::set<std::string> keys;
  std::unique_ptr<GENERAL_NAMES, Free> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return keys;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = g->d.iPAddress;
      keys.insert("IP:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ip)),
                                      ASN1_STRING_length(ip)));
    } else if (g->type == GEN_DNS) {
      std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                       ASN1_STRING_length(g->d.dNSName));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      keys.insert("DNS:" + name);
    } else {
      keys.insert("?");
    }
  }
  return keys;
}

X509Ptr ParseCert(const std::string& pem) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert;
}

KeyPtr ParseKey(const std::string& pem) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return OpensslError("cannot encode certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("cannot encode private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

StatusOr<KeyPtr> NewKey() {
  ERR_clear_error();
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpensslError("cannot generate EC key");
  return key;
}

// True when now lies in [notBefore, notAfter - margin).
bool ValidFor(X509* cert, std::chrono::seconds margin) {
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) return false;
  time_t until = std::time(nullptr) + static_cast<time_t>(margin.count());
  return X509_cmp_time(X509_get0_notAfter(cert), &until) > 0;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpensslError(std::string("cannot add certificate extension: ") + OBJ_nid2sn(nid));
  }
  return OkStatus();
}

// A certificate for `key` named `common_name`, valid for `validity`, without extensions;
// issuer name from `issuer` (null: self-signed).
StatusOr<X509Ptr> NewCert(EVP_PKEY* key, std::string_view common_name, X509* issuer,
                          std::chrono::hours validity) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpensslError("cannot make certificate");
  }
  std::unique_ptr<BIGNUM, Free> serial(BN_new());
  // 127 random bits: unique in practice and always a positive 16-byte INTEGER.
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpensslError("cannot set certificate serial");
  }
  long seconds = static_cast<long>(std::chrono::seconds(validity).count());
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), seconds) == nullptr) {
    return OpensslError("cannot set certificate validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return OpensslError("cannot set certificate subject");
  }
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject;
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return OpensslError("cannot set certificate issuer or key");
  }
  return cert;
}

Status AddSans(X509* cert, const std::vector<std::string>& hosts) {
  std::unique_ptr<GENERAL_NAMES, Free> names(sk_GENERAL_NAME_new_null());
  if (!names) return OpensslError("cannot make subject alternative names");
  for (const auto& host : hosts) {
    GD2_ASSIGN_OR_RETURN(std::string key, SanKey(host));
    GENERAL_NAME* g = GENERAL_NAME_new();
    if (g == nullptr) return OpensslError("cannot make subject alternative name");
    if (sk_GENERAL_NAME_push(names.get(), g) == 0) {
      GENERAL_NAME_free(g);
      return OpensslError("cannot make subject alternative name");
    }
    bool ip = key.starts_with("IP:");
    std::string value = key.substr(ip ? 3 : 4);
    ASN1_STRING* s = ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (s == nullptr || ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_STRING_free(s);
      return OpensslError("cannot make subject alternative name");
    }
    GENERAL_NAME_set0_value(g, ip ? GEN_IPADD : GEN_DNS, s);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpensslError("cannot add subject alternative names");
  }
  return OkStatus();
}

Status Sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) return OpensslError("cannot sign certificate");
  return OkStatus();
}

struct ParsedCa {
  X509Ptr cert;
  KeyPtr key;
};

StatusOr<ParsedCa> ParseCa(const CertAndKey& ca) {
  ParsedCa p{ParseCert(ca.cert_pem), ParseKey(ca.key_pem)};
  if (!p.cert) return InvalidArgumentError("CA certificate does not parse as PEM");
  if (!p.key) return InvalidArgumentError("CA key does not parse as PEM");
  if (X509_check_ca(p.cert.get()) < 1) {
    return InvalidArgumentError("CA certificate is not a CA (basicConstraints CA:TRUE)");
  }
  if (!ValidFor(p.cert.get(), std::chrono::seconds(0))) {
    return InvalidArgumentError("CA certificate is not valid now");
  }
  if (X509_check_private_key(p.cert.get(), p.key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("CA key does not match the CA certificate");
  }
  return p;
}

Status WritePrivate(const std::string& path, const std::string& data) {
  return WriteFileAtomic(path, data, 0600);
}

Status MakeTlsDir(const TlsPaths& paths) {
  GD2_RETURN_IF_ERROR(MakeDirs(paths.dir, 0700));
  if (::chmod(paths.dir.c_str(), 0700) != 0) return ErrnoError("chmod " + paths.dir, errno);
  return OkStatus();
}

}  // namespace

TlsPaths TlsPathsIn(const std::string& workdir) { return TlsPaths{workdir + "/tls"}; }

StatusOr<CertAndKey> NewCa(std::string_view common_name) {
  if (!ValidCommonName(common_name)) {
    return InvalidArgumentError("bad CA common name: name=" +
                                std::string(common_name.substr(0, kMaxCommonName)));
  }
  GD2_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  GD2_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(key.get(), common_name, nullptr, kCaValidity));
  GD2_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  GD2_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  GD2_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  GD2_RETURN_IF_ERROR(Sign(cert.get(), key.get()));
  CertAndKey out;
  GD2_ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert.get()));
  GD2_ASSIGN_OR_RETURN(out.key_pem, KeyPem(key.get()));
  return out;
}

Status CheckCa(const CertAndKey& ca) { return ParseCa(ca).status(); }

StatusOr<CertAndKey> IssueCert(const CertAndKey& ca, std::string_view common_name,
                               const std::vector<std::string>& hosts) {
  if (!ValidCommonName(common_name)) {
    return InvalidArgumentError("bad certificate common name: name=" +
                                std::string(common_name.substr(0, kMaxCommonName)));
  }
  GD2_RETURN_IF_ERROR(SanKeys(hosts).status());
  GD2_ASSIGN_OR_RETURN(ParsedCa parsed, ParseCa(ca));
  GD2_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  GD2_ASSIGN_OR_RETURN(X509Ptr cert,
                       NewCert(key.get(), common_name, parsed.cert.get(), kNodeCertValidity));
  X509* c = cert.get();
  X509* issuer = parsed.cert.get();
  GD2_RETURN_IF_ERROR(AddExtension(c, issuer, NID_basic_constraints, "critical,CA:FALSE"));
  GD2_RETURN_IF_ERROR(
      AddExtension(c, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  GD2_RETURN_IF_ERROR(AddExtension(c, issuer, NID_ext_key_usage, "serverAuth,clientAuth"));
  GD2_RETURN_IF_ERROR(AddExtension(c, issuer, NID_subject_key_identifier, "hash"));
  GD2_RETURN_IF_ERROR(AddExtension(c, issuer, NID_authority_key_identifier, "keyid:always"));
  GD2_RETURN_IF_ERROR(AddSans(c, hosts));
  GD2_RETURN_IF_ERROR(Sign(c, parsed.key.get()));
  CertAndKey out;
  GD2_ASSIGN_OR_RETURN(out.cert_pem, CertPem(c));
  GD2_ASSIGN_OR_RETURN(out.key_pem, KeyPem(key.get()));
  return out;
}

bool CertFits(const std::string& cert_pem, const std::string& ca_cert_pem,
              const std::vector<std::string>& hosts) {
  X509Ptr cert = ParseCert(cert_pem);
  X509Ptr ca = ParseCert(ca_cert_pem);
  if (!cert || !ca) return false;
  EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
  bool signed_by_ca = ca_key != nullptr && X509_check_issued(ca.get(), cert.get()) == X509_V_OK &&
                      X509_verify(cert.get(), ca_key) == 1;
  ERR_clear_error();
  if (!signed_by_ca || !ValidFor(cert.get(), kRenewBefore)) return false;
  auto want = SanKeys(hosts);
  return want.ok() && *want == CertSanKeys(cert.get());
}

StatusOr<CertAndKey> LoadCa(const TlsPaths& paths) {
  CertAndKey ca;
  GD2_ASSIGN_OR_RETURN(ca.cert_pem, ReadFile(paths.ca_cert()));
  GD2_ASSIGN_OR_RETURN(ca.key_pem, ReadFile(paths.ca_key()));
  Status s = CheckCa(ca);
  if (!s.ok()) {
    return InvalidArgumentError(s.message() + ": cert=" + paths.ca_cert() +
                                " key=" + paths.ca_key());
  }
  return ca;
}

Status InstallCa(const TlsPaths& paths, const CertAndKey& ca) {
  GD2_RETURN_IF_ERROR(CheckCa(ca));
  GD2_RETURN_IF_ERROR(MakeTlsDir(paths));
  // Key first: a crash in between leaves a key that does not match the old certificate, which
  // LoadCa refuses instead of silently using a half-replaced CA.
  GD2_RETURN_IF_ERROR(WritePrivate(paths.ca_key(), ca.key_pem));
  return WritePrivate(paths.ca_cert(), ca.cert_pem);
}

StatusOr<CertAndKey> EnsureCa(const TlsPaths& paths, std::string_view cluster_name, bool* created) {
  if (created) *created = false;
  auto ca = LoadCa(paths);
  if (ca.ok() || ca.status().code() != StatusCode::kNotFound) return ca;
  GD2_ASSIGN_OR_RETURN(CertAndKey fresh, NewCa(cluster_name));
  GD2_RETURN_IF_ERROR(InstallCa(paths, fresh));
  if (created) *created = true;
  return fresh;
}

Status EnsureNodeCert(const TlsPaths& paths, const CertAndKey& ca, std::string_view common_name,
                      const std::vector<std::string>& hosts, bool* issued) {
  if (issued) *issued = false;
  auto cert = ReadFile(paths.node_cert());
  auto key = ReadFile(paths.node_key());
  if (cert.ok() && key.ok() && CertFits(*cert, ca.cert_pem, hosts)) {
    X509Ptr c = ParseCert(*cert);
    KeyPtr k = ParseKey(*key);
    bool matches = c && k && X509_check_private_key(c.get(), k.get()) == 1;
    ERR_clear_error();
    if (matches) return OkStatus();
  }
  GD2_ASSIGN_OR_RETURN(CertAndKey fresh, IssueCert(ca, common_name, hosts));
  GD2_RETURN_IF_ERROR(MakeTlsDir(paths));
  GD2_RETURN_IF_ERROR(WritePrivate(paths.node_key(), fresh.key_pem));
  GD2_RETURN_IF_ERROR(WritePrivate(paths.node_cert(), fresh.cert_pem));
  if (issued) *issued = true;
  return OkStatus();
}

}  // namespace gd2::tls
