// Fuzzes the JWT code the ReST server runs on every request (common/jwt.h). The first input byte
// picks a mode (byte % 6; the corpus uses the digits '0'..'5'), the rest is the payload:
//   0  the payload is a token for VerifyRequest
//   1  the payload is an Authorization header value for BearerToken (then VerifyRequest)
//   2  base64url: Decode the payload, and Encode/Decode the payload bytes
//   3  the payload is the claims JSON, signed with the server's secret, so that the claim checks
//      (iss, exp, iat, nbf, qsh) are reached past the signature check
//   4  the payload is the header JSON, signed (HMAC over header.claims) with valid claims, so that
//      the alg handling is reached
//   5  "<method> <path>" for SignRequest: the signed token must verify for that request only
// A failed verification must be kUnauthenticated with a message.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/jwt.h"

namespace {

using gd2::StatusCode;
namespace jwt = gd2::jwt;

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kMethod = "GET";
constexpr std::string_view kPath = "/v1/peers";
constexpr int64_t kNow = 1700000000;

void Check(bool cond) {
  if (!cond) std::abort();
}

void CheckRejection(const gd2::Status& s) {
  if (s.ok()) return;
  Check(s.code() == StatusCode::kUnauthenticated);
  Check(!s.message().empty());
}

void VerifyToken(std::string_view token) {
  CheckRejection(jwt::VerifyRequest(token, kSecret, {kMethod, kPath, ""}, "", kNow));
  // Another secret must never accept what the server's secret did not sign.
  gd2::Status other = jwt::VerifyRequest(token, "another secret", {kMethod, kPath, ""}, "", kNow);
  CheckRejection(other);
  // The head phase alone agrees with the whole check on tokens for an empty body.
  gd2::StatusOr<jwt::BodyCheck> head = jwt::VerifyHead(token, kSecret, {kMethod, kPath, ""}, kNow);
  if (head.ok()) CheckRejection(head->Verify(""));
}

void FuzzBearer(std::string_view header) {
  gd2::StatusOr<std::string> token = jwt::BearerToken(header);
  if (!token.ok()) {
    Check(token.status().code() == StatusCode::kUnauthenticated);
    return;
  }
  Check(!token->empty());
  Check(token->size() < header.size());
  VerifyToken(*token);
}

void FuzzBase64(std::string_view payload) {
  gd2::StatusOr<std::string> decoded = jwt::Base64UrlDecode(payload);
  if (decoded.ok()) {
    Check(decoded->size() == payload.size() * 3 / 4);
    // Trailing bits may differ, so compare bytes, not text.
    gd2::StatusOr<std::string> again = jwt::Base64UrlDecode(jwt::Base64UrlEncode(*decoded));
    Check(again.ok() && *again == *decoded);
  } else {
    Check(decoded.status().code() == StatusCode::kUnauthenticated);
  }
  std::string encoded = jwt::Base64UrlEncode(payload);
  Check(encoded.find_first_of("+/=") == std::string::npos);
  gd2::StatusOr<std::string> back = jwt::Base64UrlDecode(encoded);
  Check(back.ok() && *back == payload);
}

void FuzzClaims(std::string_view claims) {
  std::string token = jwt::SignClaims(kSecret, claims);
  VerifyToken(token);
}

// Signs "<b64 header>.<b64 claims>" with HMAC using the digest the header names (SHA-256 when it
// names none we know), as a client with the right secret would.
void FuzzHeader(std::string_view header) {
  nlohmann::json claims = {{"iss", jwt::kIssuer},
                           {"iat", kNow},
                           {"exp", kNow + 60},
                           {"qsh", jwt::QueryHash(kMethod, kPath)}};
  std::string input = jwt::Base64UrlEncode(header) + "." + jwt::Base64UrlEncode(claims.dump());
  const char* digest = "SHA256";
  if (header.find("HS384") != std::string_view::npos) digest = "SHA384";
  if (header.find("HS512") != std::string_view::npos) digest = "SHA512";
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, kSecret.data(), kSecret.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                sizeof(mac), &mac_len) == nullptr) {
    std::abort();
  }
  std::string token =
      input + "." +
      jwt::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
  VerifyToken(token);
}

// "<METHOD> <path>?<query>\n<body>": the signed request verifies, and no other query, body,
// path, time or secret does.
void FuzzSignRequest(std::string_view payload) {
  size_t nl = payload.find('\n');
  std::string_view line = payload.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? "" : payload.substr(nl + 1);
  size_t sp = line.find(' ');
  std::string_view method = line.substr(0, sp);
  std::string_view target = sp == std::string_view::npos ? "" : line.substr(sp + 1);
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  jwt::RequestHead head{method, path, query};
  std::string token = jwt::SignRequest(kSecret, head, body, kNow, 120);
  Check(jwt::VerifyRequest(token, kSecret, head, body, kNow).ok());
  std::string longer_path = std::string(path) + "x";
  std::string longer_query = std::string(query) + "x";
  std::string longer_body = std::string(body) + "x";
  Check(!jwt::VerifyRequest(token, kSecret, {method, longer_path, query}, body, kNow).ok());
  Check(!jwt::VerifyRequest(token, kSecret, {method, path, longer_query}, body, kNow).ok());
  Check(!jwt::VerifyRequest(token, kSecret, head, longer_body, kNow).ok());
  Check(!jwt::VerifyRequest(token, kSecret, head, body, kNow + 3600).ok());
  Check(!jwt::VerifyRequest(token, "another secret", head, body, kNow).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      VerifyToken(payload);
      break;
    case 1:
      FuzzBearer(payload);
      break;
    case 2:
      FuzzBase64(payload);
      break;
    case 3:
      FuzzClaims(payload);
      break;
    case 4:
      FuzzHeader(payload);
      break;
    case 5:
      FuzzSignRequest(payload);
      break;
  }
  return 0;
}
