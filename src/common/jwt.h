// JSON Web Tokens (HMAC family) as GlusterD2 uses them for ReST auth: claims `iss`, `exp` and
// `qsh` = hex SHA-256 of "<METHOD>&<path>", which binds a token to one request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::jwt {

// The only issuer ReST clients use; its key is the cluster's auth secret.
inline constexpr std::string_view kIssuer = "glustercli";

// Lower-case hex SHA-256 of "<METHOD>&<path>" (method upper-cased, path without query).
std::string QueryHash(std::string_view method, std::string_view path);

// Builds an HS256 token for a request: iss, iat = now, exp = now + ttl_seconds, qsh.
std::string SignRequest(std::string_view secret, std::string_view method, std::string_view path,
                        int64_t now_unix, int64_t ttl_seconds = 120,
                        std::string_view issuer = kIssuer);

// Signs arbitrary claims (a JSON object text) with HS256. Exposed for tests.
std::string SignClaims(std::string_view secret, std::string_view claims_json,
                       std::string_view alg = "HS256");

// Verifies `token` for a request. Returns kUnauthenticated with a message saying why:
// malformed token, unsupported algorithm, bad signature, "invalid App ID" (iss), missing or
// expired exp, iat/nbf in the future, qsh mismatch.
Status VerifyRequest(std::string_view token, std::string_view secret, std::string_view method,
                     std::string_view path, int64_t now_unix);

// Extracts the token from an Authorization header value ("Bearer <t>", scheme case-insensitive).
// Returns kUnauthenticated if the header is missing or has another scheme.
StatusOr<std::string> BearerToken(std::string_view header_value);

// base64url without padding; decode rejects invalid characters. Exposed for tests and fuzzing.
std::string Base64UrlEncode(std::string_view in);
StatusOr<std::string> Base64UrlDecode(std::string_view in);

}  // namespace gd2::jwt
