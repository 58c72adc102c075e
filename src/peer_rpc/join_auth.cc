#include "peer_rpc/join_auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

namespace gd2::peer_rpc::join {
namespace {

constexpr std::string_view kTargetLabel = "gd2 join v1 target proof";
constexpr std::string_view kInitiatorLabel = "gd2 join v1 initiator proof";
constexpr std::string_view kSealLabel = "gd2 join v1 grant key";
constexpr size_t kKeyBytes = 32;
constexpr size_t kIvBytes = 12;
constexpr size_t kTagBytes = 16;

void AppendField(std::string& out, std::string_view field) {
  uint32_t n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out += field;
}

// label || len(initiator_id) initiator_id || len(target_id) target_id || ... (4-byte lengths)
std::string Encode(std::string_view label, const Transcript& t) {
  std::string out;
  AppendField(out, label);
  AppendField(out, t.initiator_id);
  AppendField(out, t.target_id);
  AppendField(out, t.initiator_nonce);
  AppendField(out, t.target_nonce);
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* r = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_ptr, key.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                               out, sizeof(out), &out_len);
  GD2_CHECK(r != nullptr);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

StatusOr<std::string> DeriveKey(std::string_view secret, std::string salt, std::string info) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                        &EVP_KDF_free);
  if (!kdf) return InternalError("openssl: no HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) return InternalError("openssl: cannot make an HKDF context");
  std::string ikm(secret);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm.data(), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::string key(kKeyBytes, '\0');
  int ok =
      EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(), params);
  OPENSSL_cleanse(ikm.data(), ikm.size());
  if (ok != 1) return InternalError("openssl: HKDF failed");
  return key;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

Status CheckTranscript(const Transcript& t) {
  if (t.initiator_nonce.size() != kNonceBytes || t.target_nonce.size() != kNonceBytes) {
    return InvalidArgumentError("join nonce must have " + std::to_string(kNonceBytes) + " bytes");
  }
  if (t.initiator_id.empty() || t.initiator_id.size() > kMaxIdBytes || t.target_id.empty() ||
      t.target_id.size() > kMaxIdBytes) {
    return InvalidArgumentError("join peer id must have 1.." + std::to_string(kMaxIdBytes) +
                                " bytes");
  }
  return OkStatus();
}

std::string NewNonce() {
  std::string n(kNonceBytes, '\0');
  GD2_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(n.data()), static_cast<int>(n.size())) ==
            1);
  return n;
}

std::string TargetProof(std::string_view secret, const Transcript& t) {
  return HmacSha256(secret, Encode(kTargetLabel, t));
}

std::string InitiatorProof(std::string_view secret, const Transcript& t) {
  return HmacSha256(secret, Encode(kInitiatorLabel, t));
}

bool ProofMatches(std::string_view expected, std::string_view received) {
  return expected.size() == received.size() &&
         CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

namespace {

StatusOr<std::string> AeadSeal(std::string_view secret, std::string salt, std::string info,
                               const std::string& aad, std::string_view plain) {
  GD2_ASSIGN_OR_RETURN(std::string key, DeriveKey(secret, std::move(salt), std::move(info)));
  std::string out(kIvBytes + plain.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  GD2_CHECK(RAND_bytes(o, kIvBytes) == 1);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok = ctx &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()), o) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), o + kIvBytes, &len,
                              reinterpret_cast<const unsigned char*>(plain.data()),
                              static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), o + kIvBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                o + kIvBytes + plain.size()) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) return InternalError("openssl: AES-256-GCM seal failed");
  return out;
}

// `sealed` is at least kIvBytes + kTagBytes long (checked by the callers).
StatusOr<std::string> AeadOpen(std::string_view secret, std::string salt, std::string info,
                               const std::string& aad, std::string_view sealed) {
  GD2_ASSIGN_OR_RETURN(std::string key, DeriveKey(secret, std::move(salt), std::move(info)));
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  size_t n = sealed.size() - kIvBytes - kTagBytes;
  std::string plain(n, '\0');
  std::string tag(sealed.substr(kIvBytes + n));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        in + kIvBytes, static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) ==
          1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return UnauthenticatedError("sealed message does not open (wrong secret or tampered)");
  }
  return plain;
}

}  // namespace

StatusOr<std::string> Seal(std::string_view secret, const Transcript& t, std::string_view plain) {
  GD2_RETURN_IF_ERROR(CheckTranscript(t));
  if (plain.size() > kMaxGrantBytes) return InvalidArgumentError("join grant too large");
  return AeadSeal(secret, t.initiator_nonce + t.target_nonce, Encode(kSealLabel, t),
                  Encode(kSealLabel, t), plain);
}

StatusOr<std::string> Open(std::string_view secret, const Transcript& t, std::string_view sealed) {
  GD2_RETURN_IF_ERROR(CheckTranscript(t));
  if (sealed.size() < kIvBytes + kTagBytes) return InvalidArgumentError("join grant too short");
  if (sealed.size() > kIvBytes + kMaxGrantBytes + kTagBytes) {
    return InvalidArgumentError("join grant too large");
  }
  auto r = AeadOpen(secret, t.initiator_nonce + t.target_nonce, Encode(kSealLabel, t),
                    Encode(kSealLabel, t), sealed);
  if (!r.ok()) return UnauthenticatedError("join grant does not open (wrong secret or tampered)");
  return r;
}

StatusOr<std::string> SealWithSecret(std::string_view secret, std::string_view label,
                                     std::string_view plain) {
  if (secret.empty()) return FailedPreconditionError("no secret to seal with");
  if (plain.size() > kMaxSealedBytes) return InvalidArgumentError("message too large to seal");
  std::string salt = NewNonce();
  std::string info;
  AppendField(info, label);
  GD2_ASSIGN_OR_RETURN(std::string sealed, AeadSeal(secret, salt, info, info, plain));
  return salt + sealed;
}

StatusOr<std::string> OpenWithSecret(std::string_view secret, std::string_view label,
                                     std::string_view sealed) {
  if (sealed.size() < kNonceBytes + kIvBytes + kTagBytes) {
    return InvalidArgumentError("sealed message too short");
  }
  if (sealed.size() > kNonceBytes + kIvBytes + kMaxSealedBytes + kTagBytes) {
    return InvalidArgumentError("sealed message too large");
  }
  std::string info;
  AppendField(info, label);
  return AeadOpen(secret, std::string(sealed.substr(0, kNonceBytes)), info, info,
                  sealed.substr(kNonceBytes));
}

}  // namespace gd2::peer_rpc::join
