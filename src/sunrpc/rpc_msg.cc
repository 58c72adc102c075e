#include "sunrpc/rpc_msg.h"

namespace gd2::sunrpc {

StatusOr<MessageStart> DecodeMessageStart(XdrReader& r) {
  MessageStart m;
  GD2_ASSIGN_OR_RETURN(m.xid, r.U32());
  GD2_ASSIGN_OR_RETURN(m.msg_type, r.U32());
  return m;
}

StatusOr<CallHeader> DecodeCallRest(XdrReader& r, uint32_t xid) {
  CallHeader h;
  h.xid = xid;
  GD2_ASSIGN_OR_RETURN(h.rpc_version, r.U32());
  GD2_ASSIGN_OR_RETURN(h.program, r.U32());
  GD2_ASSIGN_OR_RETURN(h.version, r.U32());
  GD2_ASSIGN_OR_RETURN(h.procedure, r.U32());
  GD2_ASSIGN_OR_RETURN(h.cred_flavor, r.U32());
  GD2_ASSIGN_OR_RETURN(h.cred_body, r.Opaque(kMaxAuthBody));
  GD2_ASSIGN_OR_RETURN(h.verf_flavor, r.U32());
  GD2_ASSIGN_OR_RETURN(h.verf_body, r.Opaque(kMaxAuthBody));
  return h;
}

void EncodeCallHeader(const CallHeader& h, XdrWriter& w) {
  w.PutU32(h.xid);
  w.PutU32(static_cast<uint32_t>(MsgType::kCall));
  w.PutU32(h.rpc_version);
  w.PutU32(h.program);
  w.PutU32(h.version);
  w.PutU32(h.procedure);
  w.PutU32(h.cred_flavor);
  w.PutOpaque(h.cred_body);
  w.PutU32(h.verf_flavor);
  w.PutOpaque(h.verf_body);
}

std::string GlusterfsV2CredBody() {
  XdrWriter w;
  w.PutI32(0);                                   // pid
  w.PutU32(0);                                   // uid
  w.PutU32(0);                                   // gid
  w.PutU32(0);                                   // groups<>: none
  w.PutOpaque(std::string_view("\0\0\0\0", 4));  // lk_owner
  return w.Release();
}

void EncodeAcceptedReply(uint32_t xid, AcceptStat stat, XdrWriter& w) {
  w.PutU32(xid);
  w.PutU32(static_cast<uint32_t>(MsgType::kReply));
  w.PutU32(0);  // MSG_ACCEPTED
  w.PutU32(kAuthNull);
  w.PutU32(0);  // verifier body length
  w.PutU32(static_cast<uint32_t>(stat));
}

std::string EncodeProgMismatchReply(uint32_t xid, uint32_t low, uint32_t high) {
  XdrWriter w;
  EncodeAcceptedReply(xid, AcceptStat::kProgMismatch, w);
  w.PutU32(low);
  w.PutU32(high);
  return w.Release();
}

std::string EncodeRpcMismatchReply(uint32_t xid) {
  XdrWriter w;
  w.PutU32(xid);
  w.PutU32(static_cast<uint32_t>(MsgType::kReply));
  w.PutU32(1);  // MSG_DENIED
  w.PutU32(static_cast<uint32_t>(RejectStat::kRpcMismatch));
  w.PutU32(kRpcVersion);
  w.PutU32(kRpcVersion);
  return w.Release();
}

std::string EncodeAuthErrorReply(uint32_t xid, uint32_t auth_stat) {
  XdrWriter w;
  w.PutU32(xid);
  w.PutU32(static_cast<uint32_t>(MsgType::kReply));
  w.PutU32(1);  // MSG_DENIED
  w.PutU32(static_cast<uint32_t>(RejectStat::kAuthError));
  w.PutU32(auth_stat);
  return w.Release();
}

StatusOr<ReplyHeader> DecodeReplyRest(XdrReader& r, uint32_t xid) {
  ReplyHeader h;
  h.xid = xid;
  GD2_ASSIGN_OR_RETURN(h.reply_stat, r.U32());
  if (h.reply_stat == 0) {
    GD2_ASSIGN_OR_RETURN(uint32_t verf_flavor, r.U32());
    (void)verf_flavor;
    GD2_RETURN_IF_ERROR(r.SkipOpaque(kMaxAuthBody));
    GD2_ASSIGN_OR_RETURN(h.accept_stat, r.U32());
    if (h.accept_stat == static_cast<uint32_t>(AcceptStat::kProgMismatch)) {
      GD2_ASSIGN_OR_RETURN(h.mismatch_low, r.U32());
      GD2_ASSIGN_OR_RETURN(h.mismatch_high, r.U32());
    }
    return h;
  }
  if (h.reply_stat != 1) {
    return InvalidArgumentError("rpc: bad reply_stat: value=" + std::to_string(h.reply_stat));
  }
  GD2_ASSIGN_OR_RETURN(h.reject_stat, r.U32());
  if (h.reject_stat == static_cast<uint32_t>(RejectStat::kRpcMismatch)) {
    GD2_ASSIGN_OR_RETURN(h.mismatch_low, r.U32());
    GD2_ASSIGN_OR_RETURN(h.mismatch_high, r.U32());
  } else {
    GD2_ASSIGN_OR_RETURN(uint32_t auth_stat, r.U32());
    (void)auth_stat;
  }
  return h;
}

}  // namespace gd2::sunrpc
