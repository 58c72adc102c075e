// ONC RPC v2 (RFC 5531) message headers as GlusterFS uses them: call headers with AUTH_NULL or
// AUTH_GLUSTERFS v2/v3 credentials, accepted and denied reply headers, and the numbers of the
// gluster programs and procedures served on the management port (gluster-wire.md sections 1-3).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "sunrpc/xdr.h"

namespace gd2::sunrpc {

inline constexpr uint32_t kRpcVersion = 2;

enum class MsgType : uint32_t { kCall = 0, kReply = 1 };

// Auth flavors (rpc-lib xdr-rpc.h).
inline constexpr uint32_t kAuthNull = 0;
inline constexpr uint32_t kAuthUnix = 1;
inline constexpr uint32_t kAuthGlusterfs = 5;
inline constexpr uint32_t kAuthGlusterfsV2 = 390039;
inline constexpr uint32_t kAuthGlusterfsV3 = 390040;
// RFC 5531: an opaque_auth body is at most 400 bytes.
inline constexpr uint32_t kMaxAuthBody = 400;

enum class AcceptStat : uint32_t {
  kSuccess = 0,
  kProgUnavail = 1,
  kProgMismatch = 2,
  kProcUnavail = 3,
  kGarbageArgs = 4,
  kSystemErr = 5,
};
enum class RejectStat : uint32_t { kRpcMismatch = 0, kAuthError = 1 };
// auth_stat values used in AUTH_ERROR denials.
inline constexpr uint32_t kAuthBadCred = 1;
inline constexpr uint32_t kAuthTooWeak = 5;  // "rejected for security reasons"

// Programs (protocol-common.h / xdr-common.h) and their procedures.
inline constexpr uint32_t kHandshakeProgram = 14398633;  // "Gluster Handshake"
inline constexpr uint32_t kHandshakeVersion = 2;
inline constexpr uint32_t kPortmapProgram = 34123456;  // "Gluster Portmap"
inline constexpr uint32_t kPortmapVersion = 1;
inline constexpr uint32_t kCallbackProgram = 52743234;  // sent to clients
inline constexpr uint32_t kCallbackVersion = 1;
inline constexpr uint32_t kDumpProgram = 123451501;  // "GF-DUMP"
inline constexpr uint32_t kDumpVersion = 1;

inline constexpr uint32_t kProcNull = 0;
inline constexpr uint32_t kHandshakeGetspec = 2;
inline constexpr uint32_t kPortmapPortByBrick = 1;
inline constexpr uint32_t kPortmapBrickByPort = 2;
inline constexpr uint32_t kPortmapSignin = 4;
inline constexpr uint32_t kPortmapSignout = 5;
inline constexpr uint32_t kDumpDump = 1;
inline constexpr uint32_t kDumpPing = 2;
inline constexpr uint32_t kCallbackFetchspec = 1;

struct CallHeader {
  uint32_t xid = 0;
  uint32_t rpc_version = kRpcVersion;
  uint32_t program = 0;
  uint32_t version = 0;
  uint32_t procedure = 0;
  uint32_t cred_flavor = kAuthNull;
  std::string cred_body;  // not interpreted
  uint32_t verf_flavor = kAuthNull;
  std::string verf_body;
};

// The first two words of every message.
struct MessageStart {
  uint32_t xid = 0;
  uint32_t msg_type = 0;  // MsgType, unchecked
};

// Reads xid and msg_type. kOutOfRange if fewer than 8 bytes.
StatusOr<MessageStart> DecodeMessageStart(XdrReader& r);

// Reads the rest of a CALL header after DecodeMessageStart (rpcvers .. verifier), leaving `r`
// at the procedure arguments. Credentials of any flavor are read and kept uninterpreted.
// Returns kOutOfRange when truncated and kInvalidArgument when an auth body exceeds 400 bytes.
// It does not check rpc_version; the caller replies RPC_MISMATCH.
StatusOr<CallHeader> DecodeCallRest(XdrReader& r, uint32_t xid);

// Writes a complete CALL header (msg_type included).
void EncodeCallHeader(const CallHeader& h, XdrWriter& w);
// The AUTH_GLUSTERFS_v2 credential body sent by gluster management clients: pid 0, uid 0,
// gid 0, no groups, a 4-byte zero lk_owner (24 bytes).
std::string GlusterfsV2CredBody();

// Writes an accepted REPLY header with an AUTH_NULL verifier; results follow.
void EncodeAcceptedReply(uint32_t xid, AcceptStat stat, XdrWriter& w);
// Complete PROG_MISMATCH reply: header plus the supported version range.
std::string EncodeProgMismatchReply(uint32_t xid, uint32_t low, uint32_t high);
// Complete MSG_DENIED replies.
std::string EncodeRpcMismatchReply(uint32_t xid);
std::string EncodeAuthErrorReply(uint32_t xid, uint32_t auth_stat);

// A decoded REPLY header (used by clients and tests).
struct ReplyHeader {
  uint32_t xid = 0;
  uint32_t reply_stat = 0;    // 0 MSG_ACCEPTED, 1 MSG_DENIED
  uint32_t accept_stat = 0;   // AcceptStat when accepted
  uint32_t reject_stat = 0;   // RejectStat when denied
  uint32_t mismatch_low = 0;  // PROG_MISMATCH or RPC_MISMATCH
  uint32_t mismatch_high = 0;
};
// Reads a REPLY header after DecodeMessageStart, leaving `r` at the results.
StatusOr<ReplyHeader> DecodeReplyRest(XdrReader& r, uint32_t xid);

}  // namespace gd2::sunrpc
