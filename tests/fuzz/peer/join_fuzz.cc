// Fuzzes what a node does with a Join it did not expect: arbitrary bytes as a sealed grant, a
// proof and a transcript must be refused with kUnauthenticated or kInvalidArgument, never open
// (only the right secret and transcript open a grant), never crash; and whatever opens must
// parse as a JoinGrant or be refused. Also checks Seal/Open round trips on fuzzed plaintexts.
//
// Input: byte 0 selects the mode; the rest is the payload.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "peer/peer.pb.h"
#include "peer_rpc/join_auth.h"

namespace {

namespace join = gd2::peer_rpc::join;
using gd2::StatusCode;

constexpr std::string_view kSecret = "node-own-secret-0123456789abcdef";

void Check(bool cond) {
  if (!cond) std::abort();
}

join::Transcript FixedTranscript() {
  return {"initiator-id", "target-id", std::string(join::kNonceBytes, 'i'),
          std::string(join::kNonceBytes, 't')};
}

// Arbitrary bytes as a sealed grant: never opens (the tag cannot be forged).
void FuzzOpen(std::string_view sealed) {
  auto r = join::Open(kSecret, FixedTranscript(), sealed);
  Check(!r.ok());
  Check(r.status().code() == StatusCode::kUnauthenticated ||
        r.status().code() == StatusCode::kInvalidArgument);
}

// Arbitrary bytes split into transcript fields and a proof.
void FuzzProof(std::string_view payload) {
  join::Transcript t;
  size_t quarter = payload.size() / 4;
  t.initiator_id = std::string(payload.substr(0, quarter));
  t.target_id = std::string(payload.substr(quarter, quarter));
  t.initiator_nonce = std::string(payload.substr(2 * quarter, quarter));
  t.target_nonce = std::string(payload.substr(3 * quarter));
  std::string proof = join::InitiatorProof(kSecret, t);
  Check(proof.size() == join::kProofBytes);
  Check(join::ProofMatches(proof, proof));
  Check(!join::ProofMatches(proof, join::TargetProof(kSecret, t)));
  Check(!join::ProofMatches(proof, join::InitiatorProof("another-secret-0123456789", t)));
  auto sealed = join::Seal(kSecret, t, "grant");
  Check(sealed.ok() == join::CheckTranscript(t).ok());
}

// Fuzzed plaintext: seals and opens back; any change of one byte fails.
void FuzzRoundTrip(std::string_view plain) {
  join::Transcript t = FixedTranscript();
  auto sealed = join::Seal(kSecret, t, plain);
  if (plain.size() > join::kMaxGrantBytes) {
    Check(!sealed.ok());
    return;
  }
  Check(sealed.ok());
  auto opened = join::Open(kSecret, t, *sealed);
  Check(opened.ok() && *opened == plain);
  std::string flipped = *sealed;
  flipped[flipped.size() / 2] ^= 0x01;
  Check(!join::Open(kSecret, t, flipped).ok());
  // A grant that opens is parsed as the server would; garbage is refused, not trusted.
  gd2::peer::JoinGrant grant;
  (void)grant.ParseFromString(*opened);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzOpen(payload);
      break;
    case 1:
      FuzzProof(payload);
      break;
    case 2:
      FuzzRoundTrip(payload);
      break;
  }
  return 0;
}
