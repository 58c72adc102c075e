// The cryptography of the authenticated join, and of peer RPC fields sealed under the cluster
// secret (no sockets, no gRPC). A node joins a cluster only
// when the initiator proves it knows the JOINING node's own secret (its <workdir>/auth), and the
// joining node proves the same BEFORE anything secret is sent to it:
//
//   initiator -> target  JoinHello{initiator id, nonce_i}                       (nothing secret)
//   target -> initiator  {target id, nonce_t, TargetProof}                      (nothing secret)
//       the initiator checks TargetProof with the secret it was given; a listener that does not
//       know that secret cannot compute it, so the exchange stops here and nothing else is sent
//   initiator -> target  Join{nonce_i, nonce_t, InitiatorProof, Seal(grant)}
//       the target checks InitiatorProof with its own secret, accepts each nonce_t once, and
//       opens the grant (cluster id and secret, store endpoints, cluster CA)
//
// Proofs are HMAC-SHA256 over the Transcript (both identities and both nonces) under distinct
// labels, so neither side's answer can be reflected as the other's. The grant is sealed with
// AES-256-GCM under a key derived with HKDF-SHA256 from the secret, salted with both nonces and
// bound to the transcript, so a passive listener learns nothing and a captured grant opens for
// no other exchange.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::peer_rpc::join {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;
// Largest grant (plaintext) a target opens; a CA certificate and key are a few KiB.
inline constexpr size_t kMaxGrantBytes = 256 * 1024;
// Longest peer id carried in a transcript.
inline constexpr size_t kMaxIdBytes = 128;

// Everything both proofs and the seal are bound to.
struct Transcript {
  std::string initiator_id;
  std::string target_id;
  std::string initiator_nonce;  // kNonceBytes random bytes
  std::string target_nonce;     // kNonceBytes random bytes
};

// kInvalidArgument unless both nonces have kNonceBytes and both ids 1..kMaxIdBytes bytes.
Status CheckTranscript(const Transcript& t);

// kNonceBytes from the OpenSSL CSPRNG.
std::string NewNonce();

// HMAC-SHA256(secret, label || length-prefixed transcript fields).
std::string TargetProof(std::string_view secret, const Transcript& t);
std::string InitiatorProof(std::string_view secret, const Transcript& t);

// Constant-time comparison of a received proof with the expected one.
bool ProofMatches(std::string_view expected, std::string_view received);

// AES-256-GCM with a key from HKDF-SHA256(secret, salt = nonces, info = label || transcript),
// a random 12-byte IV, the transcript as additional data. Output: iv || ciphertext || tag.
// kInvalidArgument for a bad transcript or a plaintext over kMaxGrantBytes.
StatusOr<std::string> Seal(std::string_view secret, const Transcript& t, std::string_view plain);
// The inverse; kUnauthenticated "join grant does not open" for any tampering, wrong secret or
// wrong transcript; kInvalidArgument for a malformed or over-long input.
StatusOr<std::string> Open(std::string_view secret, const Transcript& t, std::string_view sealed);

// Messages under the CLUSTER secret, for peer RPC fields that carry secrets (step arguments hold
// brick credentials): AES-256-GCM under HKDF-SHA256(secret, salt = 32 random bytes, info =
// label), the label also as additional data, so a message sealed for one purpose does not open
// for another. Output: salt || iv || ciphertext || tag. kInvalidArgument over kMaxSealedBytes;
// OpenWithSecret: kUnauthenticated for a wrong secret, label or any tampering.
inline constexpr size_t kMaxSealedBytes = 64 * 1024 * 1024;
StatusOr<std::string> SealWithSecret(std::string_view secret, std::string_view label,
                                     std::string_view plain);
StatusOr<std::string> OpenWithSecret(std::string_view secret, std::string_view label,
                                     std::string_view sealed);

}  // namespace gd2::peer_rpc::join
