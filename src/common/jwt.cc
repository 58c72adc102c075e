#include "common/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/hex.h"

namespace gd2::jwt {
namespace {

const char* DigestFor(std::string_view alg) {
  if (alg == "HS256") return "SHA256";
  if (alg == "HS384") return "SHA384";
  if (alg == "HS512") return "SHA512";
  return nullptr;
}

std::string Hmac(const char* digest, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  // A zero-length key is legal for HMAC but EVP wants a non-null pointer.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* r = EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key_ptr, key.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                               out, sizeof(out), &out_len);
  GD2_CHECK(r != nullptr);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

StatusOr<int64_t> NumericClaim(const nlohmann::json& claims, const char* name, bool required) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    if (required) return UnauthenticatedError(std::string("token has no ") + name + " claim");
    return int64_t{-1};
  }
  if (!it->is_number()) return UnauthenticatedError(std::string("token claim is not a number: ") + name);
  double v = it->get<double>();
  if (v < 0 || v > 1e15) return UnauthenticatedError(std::string("token claim out of range: ") + name);
  return static_cast<int64_t>(v);
}

}  // namespace

std::string Base64UrlEncode(std::string_view in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (in.size() - i == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

StatusOr<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return UnauthenticatedError("malformed token: bad base64url length");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int d = DecodeChar(c);
    if (d < 0) return UnauthenticatedError("malformed token: invalid base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string QueryHash(std::string_view method, std::string_view path) {
  std::string input;
  for (char c : method) input += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  input += '&';
  input += path;
  return Sha256Hex(input);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return HexBytes(d, sizeof(d));
}

std::string SignClaims(std::string_view secret, std::string_view claims_json, std::string_view alg) {
  const char* digest = DigestFor(alg);
  GD2_CHECK(digest != nullptr);
  std::string header = nlohmann::json{{"alg", alg}, {"typ", "JWT"}}.dump();
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims_json);
  return signing_input + "." + Base64UrlEncode(Hmac(digest, secret, signing_input));
}

std::string SignRequest(std::string_view secret, const RequestHead& head, std::string_view body,
                        int64_t now_unix, int64_t ttl_seconds, std::string_view issuer) {
  GD2_CHECK(ttl_seconds > 0 && ttl_seconds <= kMaxLifetimeSeconds);
  nlohmann::json claims = {{"iss", issuer},
                           {"iat", now_unix},
                           {"exp", now_unix + ttl_seconds},
                           {"qsh", QueryHash(head.method, head.path)}};
  if (!head.query.empty()) claims["qrh"] = Sha256Hex(head.query);
  if (!body.empty()) claims["bdh"] = Sha256Hex(body);
  return SignClaims(secret, claims.dump());
}

StatusOr<std::string> BearerToken(std::string_view v) {
  if (v.empty()) return UnauthenticatedError("missing Authorization header");
  size_t sp = v.find(' ');
  if (sp == std::string_view::npos) return UnauthenticatedError("malformed Authorization header");
  std::string scheme(v.substr(0, sp));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer") return UnauthenticatedError("Authorization scheme is not Bearer");
  std::string_view token = v.substr(sp + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return UnauthenticatedError("empty bearer token");
  return std::string(token);
}

StatusOr<BodyCheck> VerifyHead(std::string_view token, std::string_view secret,
                               const RequestHead& head, int64_t now_unix) {
  if (token.size() > kMaxTokenBytes) return UnauthenticatedError("malformed token: too long");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return UnauthenticatedError("malformed token: want three dot-separated parts");
  }
  GD2_ASSIGN_OR_RETURN(std::string header_text, Base64UrlDecode(token.substr(0, d1)));
  GD2_ASSIGN_OR_RETURN(std::string claims_text, Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)));
  GD2_ASSIGN_OR_RETURN(std::string signature, Base64UrlDecode(token.substr(d2 + 1)));

  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return UnauthenticatedError("malformed token: header is not a JSON object");
  }
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return UnauthenticatedError("token has no alg");
  const char* digest = DigestFor(alg->get<std::string>());
  if (digest == nullptr) {
    return UnauthenticatedError("unsupported token algorithm: " + alg->get<std::string>());
  }
  std::string expected = Hmac(digest, secret, token.substr(0, d2));
  if (expected.size() != signature.size() ||
      CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return UnauthenticatedError("token signature is invalid");
  }

  nlohmann::json claims = nlohmann::json::parse(claims_text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return UnauthenticatedError("malformed token: claims are not a JSON object");
  }
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || iss->get<std::string>() != kIssuer) {
    return UnauthenticatedError("invalid App ID");
  }
  GD2_ASSIGN_OR_RETURN(int64_t exp, NumericClaim(claims, "exp", true));
  GD2_ASSIGN_OR_RETURN(int64_t iat, NumericClaim(claims, "iat", true));
  GD2_ASSIGN_OR_RETURN(int64_t nbf, NumericClaim(claims, "nbf", false));
  if (now_unix >= exp + kClockSkewSeconds) return UnauthenticatedError("token is expired");
  if (iat > now_unix + kClockSkewSeconds) return UnauthenticatedError("token used before issued");
  if (nbf > now_unix + kClockSkewSeconds) return UnauthenticatedError("token is not valid yet");
  if (exp <= iat || exp - iat > kMaxLifetimeSeconds) {
    return UnauthenticatedError("token lifetime exp - iat must be 1.." +
                                std::to_string(kMaxLifetimeSeconds) + " seconds");
  }
  auto qsh = claims.find("qsh");
  if (qsh == claims.end() || !qsh->is_string()) return UnauthenticatedError("token has no qsh claim");
  if (qsh->get<std::string>() != QueryHash(head.method, head.path)) {
    return UnauthenticatedError("token qsh does not match the request");
  }
  auto qrh = claims.find("qrh");
  if (qrh == claims.end()) {
    if (!head.query.empty()) return UnauthenticatedError("token does not allow a query string");
  } else if (!qrh->is_string() || qrh->get<std::string>() != Sha256Hex(head.query)) {
    return UnauthenticatedError("token query hash does not match the request");
  }
  BodyCheck check;
  auto bdh = claims.find("bdh");
  if (bdh != claims.end()) {
    if (!bdh->is_string() || bdh->get<std::string>().size() != 2 * SHA256_DIGEST_LENGTH) {
      return UnauthenticatedError("malformed token: bdh is not a SHA-256 hex digest");
    }
    check.body_hash_ = bdh->get<std::string>();
  }
  return check;
}

Status BodyCheck::Verify(std::string_view body) const {
  if (body_hash_.empty()) {
    if (!body.empty()) return UnauthenticatedError("token does not allow a request body");
    return OkStatus();
  }
  std::string actual = Sha256Hex(body);
  if (CRYPTO_memcmp(actual.data(), body_hash_.data(), actual.size()) != 0) {
    return UnauthenticatedError("token body hash does not match the request");
  }
  return OkStatus();
}

Status VerifyRequest(std::string_view token, std::string_view secret, const RequestHead& head,
                     std::string_view body, int64_t now_unix) {
  GD2_ASSIGN_OR_RETURN(BodyCheck check, VerifyHead(token, secret, head, now_unix));
  return check.Verify(body);
}

}  // namespace gd2::jwt
