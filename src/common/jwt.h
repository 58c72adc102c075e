// JSON Web Tokens (HMAC family) for ReST and peer RPC auth. A token binds one request:
//   iss  issuer ("glustercli" for ReST clients)
//   iat  issue time (Unix seconds), required
//   exp  expiry, required; exp - iat is at most kMaxLifetimeSeconds
//   qsh  hex SHA-256 of "<METHOD>&<path>" (GlusterD2's claim, unchanged)
//   qrh  hex SHA-256 of the raw query string (what follows '?', as sent); ABSENT means the
//        request must have no query
//   bdh  hex SHA-256 of the request body; ABSENT means the body must be empty
// so a captured token cannot be replayed with another query or body. Verification runs in two
// phases: VerifyHead (signature, times, qsh, qrh: everything known from the request line and
// headers) before a server reads the body, then BodyCheck::Verify once the bounded body has
// arrived.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::jwt {

// The only issuer ReST clients use; its key is the cluster's auth secret.
inline constexpr std::string_view kIssuer = "glustercli";
// Longest accepted exp - iat. The CLI's tokens live seconds; 300 s allows a slow body upload.
inline constexpr int64_t kMaxLifetimeSeconds = 300;
// Clock difference tolerated between signer and verifier (iat in the future, exp just passed).
inline constexpr int64_t kClockSkewSeconds = 30;
// Longest token accepted.
inline constexpr size_t kMaxTokenBytes = 8192;

// What a token is checked against before the body is read.
struct RequestHead {
  std::string_view method;  // "GET"; compared case-insensitively
  std::string_view path;    // URL path without the query, as GlusterD2's qsh wants it
  std::string_view query;   // raw query string after '?' (without it); "" when none
};

// Lower-case hex SHA-256 of "<METHOD>&<path>" (method upper-cased, path without query).
std::string QueryHash(std::string_view method, std::string_view path);
// Lower-case hex SHA-256 of `data` (the qrh and bdh claims).
std::string Sha256Hex(std::string_view data);

// Builds an HS256 token for one request: iss, iat = now, exp = now + ttl_seconds, qsh, and qrh
// / bdh when the query / body is not empty. ttl_seconds must be in 1..kMaxLifetimeSeconds
// (checked: a longer token would be refused anyway).
std::string SignRequest(std::string_view secret, const RequestHead& head, std::string_view body,
                        int64_t now_unix, int64_t ttl_seconds = 120,
                        std::string_view issuer = kIssuer);

// Signs arbitrary claims (a JSON object text) with HS256. Exposed for tests.
std::string SignClaims(std::string_view secret, std::string_view claims_json,
                       std::string_view alg = "HS256");

// The second phase: what the token says about the body.
class BodyCheck {
 public:
  // True if the token allows only an empty body (no bdh claim): a server can refuse a request
  // announcing a body at once.
  bool wants_empty_body() const { return body_hash_.empty(); }
  // kUnauthenticated "token body hash does not match the request" unless `body` is the body the
  // token was signed for ("" if it had none).
  Status Verify(std::string_view body) const;

 private:
  friend StatusOr<BodyCheck> VerifyHead(std::string_view, std::string_view, const RequestHead&,
                                        int64_t);
  std::string body_hash_;  // "" = body must be empty
};

// The first phase, from the request line and headers. Returns kUnauthenticated with a message
// saying why: malformed or over-long token, unsupported algorithm, bad signature, "invalid App
// ID" (iss), missing iat or exp, expired, iat/nbf in the future (beyond kClockSkewSeconds),
// lifetime over kMaxLifetimeSeconds, qsh mismatch, query hash mismatch, malformed bdh.
StatusOr<BodyCheck> VerifyHead(std::string_view token, std::string_view secret,
                               const RequestHead& head, int64_t now_unix);

// Both phases at once, for callers that have the whole request.
Status VerifyRequest(std::string_view token, std::string_view secret, const RequestHead& head,
                     std::string_view body, int64_t now_unix);

// Extracts the token from an Authorization header value ("Bearer <t>", scheme case-insensitive).
// Returns kUnauthenticated if the header is missing or has another scheme.
StatusOr<std::string> BearerToken(std::string_view header_value);

// base64url without padding; decode rejects invalid characters. Exposed for tests and fuzzing.
std::string Base64UrlEncode(std::string_view in);
StatusOr<std::string> Base64UrlDecode(std::string_view in);

}  // namespace gd2::jwt
