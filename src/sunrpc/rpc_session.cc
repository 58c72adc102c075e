#include "sunrpc/rpc_session.h"

#include <cerrno>
#include <climits>
#include <vector>

#include "sunrpc/messages.h"
#include "sunrpc/volfile_id.h"

namespace gd2::sunrpc {

namespace {

int ErrnoForStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return ENOENT;
    case StatusCode::kInvalidArgument:
      return EINVAL;
    case StatusCode::kFailedPrecondition:
      return ENOTSUP;
    case StatusCode::kUnavailable:
      return EAGAIN;
    default:
      return EIO;
  }
}

std::string SuccessReply(uint32_t xid, const XdrWriter& results) {
  XdrWriter w;
  EncodeAcceptedReply(xid, AcceptStat::kSuccess, w);
  return w.Release() + results.data();
}

std::string ErrorReply(uint32_t xid, AcceptStat stat) {
  XdrWriter w;
  EncodeAcceptedReply(xid, stat, w);
  return w.Release();
}

template <typename Msg>
std::string Reply(uint32_t xid, const Msg& m) {
  XdrWriter w;
  Encode(m, w);
  return SuccessReply(xid, w);
}

}  // namespace

RpcSession::RpcSession(const VolfileRegistry& volfiles, PortMap& portmap, std::string peer,
                       SessionLimits limits, PeerTrust trust)
    : volfiles_(volfiles),
      portmap_(portmap),
      peer_(std::move(peer)),
      limits_(limits),
      trust_(trust),
      log_(log::Root().With({{"component", "sunrpc"}, {"peer", peer_}})),
      records_(limits.max_record_size, limits.max_fragments) {}

Status RpcSession::Consume(std::string_view data, std::string& out) {
  if (!failed_.ok()) return failed_;
  std::vector<std::string> records;
  Status fed = records_.Feed(data, records);
  // Answer the records completed before a framing error, then report it.
  for (const std::string& record : records) {
    Status s = HandleRecord(record, out);
    if (!s.ok()) {
      failed_ = s;
      return failed_;
    }
  }
  if (!fed.ok()) failed_ = fed;
  return failed_;
}

std::string RpcSession::MakeFetchspecCall() {
  CallHeader h;
  h.xid = ++callback_xid_;
  h.program = kCallbackProgram;
  h.version = kCallbackVersion;
  h.procedure = kCallbackFetchspec;
  XdrWriter w;
  EncodeCallHeader(h, w);
  return EncodeRecord(w.data());
}

Status RpcSession::HandleRecord(std::string_view record, std::string& out) {
  XdrReader r(record);
  auto start = DecodeMessageStart(r);
  if (!start.ok())
    return InvalidArgumentError("rpc: message too short: len=" + std::to_string(record.size()));
  if (start->msg_type == static_cast<uint32_t>(MsgType::kReply)) {
    // A peer answering one of our callbacks; gluster processes normally do not.
    return OkStatus();
  }
  if (start->msg_type != static_cast<uint32_t>(MsgType::kCall)) {
    return InvalidArgumentError("rpc: bad message type: type=" + std::to_string(start->msg_type));
  }
  auto call = DecodeCallRest(r, start->xid);
  if (!call.ok()) {
    if (call.status().code() == StatusCode::kInvalidArgument) {
      out += EncodeRecord(EncodeAuthErrorReply(start->xid, kAuthBadCred));
      return OkStatus();
    }
    return InvalidArgumentError("rpc: truncated call header: xid=" + std::to_string(start->xid));
  }
  if (call->rpc_version != kRpcVersion) {
    out += EncodeRecord(EncodeRpcMismatchReply(call->xid));
    return OkStatus();
  }
  out += EncodeRecord(Dispatch(*call, r));
  return OkStatus();
}

std::string RpcSession::Dispatch(const CallHeader& call, XdrReader& args) {
  for (const ServedProgram& p : kServedPrograms) {
    if (p.number != call.program) continue;
    if (p.version != call.version) {
      return EncodeProgMismatchReply(call.xid, p.version, p.version);
    }
    if (call.procedure == kProcNull) return ErrorReply(call.xid, AcceptStat::kSuccess);
    switch (p.number) {
      case kDumpProgram:
        return HandleDump(call.xid, call.procedure, args);
      case kHandshakeProgram:
        return HandleHandshake(call.xid, call.procedure, args);
      case kPortmapProgram:
        return HandlePortmap(call.xid, call.procedure, args);
      default:
        break;
    }
  }
  log_.Debug("rpc program unavailable", {{"program", call.program}, {"version", call.version}});
  return ErrorReply(call.xid, AcceptStat::kProgUnavail);
}

std::string RpcSession::Refuse(uint32_t xid, std::string_view what, std::string_view detail) {
  if (refusals_logged_.insert(std::string(what)).second)
    log_.Warn("rpc call refused: only local brick and daemon processes may make it",
              {{"call", what}, {"detail", detail}});
  return EncodeAuthErrorReply(xid, kAuthTooWeak);
}

std::string RpcSession::HandleDump(uint32_t xid, uint32_t proc, XdrReader& args) {
  if (proc == kDumpDump) {
    auto req = DecodeDumpReq(args);
    if (!req.ok()) return ErrorReply(xid, AcceptStat::kGarbageArgs);
    DumpRsp rsp;
    for (const ServedProgram& p : kServedPrograms) {
      rsp.programs.push_back({std::string(p.name), p.number, p.version});
    }
    return Reply(xid, rsp);
  }
  if (proc == kDumpPing) return Reply(xid, CommonRsp{});
  return ErrorReply(xid, AcceptStat::kProcUnavail);
}

std::string RpcSession::HandleHandshake(uint32_t xid, uint32_t proc, XdrReader& args) {
  if (proc != kHandshakeGetspec) return ErrorReply(xid, AcceptStat::kProcUnavail);
  auto req = DecodeGetspecReq(args);
  if (!req.ok()) return ErrorReply(xid, AcceptStat::kGarbageArgs);
  GetspecRsp rsp;
  auto id = ParseVolfileId(req->key);
  if (!id.ok()) {
    log_.Warn("getspec refused", {{"error", id.status()}});
    rsp.op_ret = -1;
    rsp.op_errno = EINVAL;
    return Reply(xid, rsp);
  }
  // Brick and daemon volfiles name the bricks' credentials.
  if (trust_ != PeerTrust::kLocalProcess && !IsClientVolfileKind(id->kind)) {
    return Refuse(xid, "getspec", req->key);
  }
  VolfileProvider* provider = volfiles_.Find(*id);
  StatusOr<std::string> spec =
      provider != nullptr
          ? provider->GetVolfile(req->key, req->xdata)
          : NotFoundError("no volfile provider: kind=" + VolfileProviderKey::Of(*id).ToString());
  if (spec.ok() && spec->size() > static_cast<size_t>(INT32_MAX)) {
    spec = InternalError("volfile too large: size=" + std::to_string(spec->size()));
  }
  if (!spec.ok()) {
    log_.Info("getspec failed", {{"volfile_id", req->key}, {"error", spec.status()}});
    rsp.op_ret = -1;
    rsp.op_errno = ErrnoForStatus(spec.status());
    return Reply(xid, rsp);
  }
  rsp.op_ret = static_cast<int32_t>(spec->size());
  rsp.spec = std::move(spec).value();
  rsp.xdata = provider->GetVolfileReplyXdata(req->key);
  if (fetched_ids_.size() < limits_.max_fetched_ids || fetched_ids_.contains(req->key)) {
    fetched_ids_.insert(req->key);
    fetched_volumes_.insert(VolfileGroupOf(*id));
  }
  log_.Debug("getspec served", {{"volfile_id", req->key}, {"size", rsp.spec.size()}});
  return Reply(xid, rsp);
}

std::string RpcSession::HandlePortmap(uint32_t xid, uint32_t proc, XdrReader& args) {
  switch (proc) {
    case kPortmapPortByBrick: {
      auto req = DecodePortByBrickReq(args);
      if (!req.ok()) return ErrorReply(xid, AcceptStat::kGarbageArgs);
      PortByBrickRsp rsp;
      if (auto port = portmap_.PortOf(req->brick)) {
        rsp.port = *port;
      } else {
        rsp.op_ret = -1;
      }
      return Reply(xid, rsp);
    }
    case kPortmapSignin: {
      auto req = DecodeSigninReq(args);
      if (!req.ok()) return ErrorReply(xid, AcceptStat::kGarbageArgs);
      if (trust_ != PeerTrust::kLocalProcess) return Refuse(xid, "signin", req->brick);
      PmapRsp rsp;
      if (req->brick.empty() || req->port <= 0 || req->port > 65535) {
        rsp = {-1, EINVAL};
      } else if (!portmap_.Signin(req->brick, req->port, req->pid)) {
        rsp = {-1, ENOSPC};
      } else {
        bricks_.insert(req->brick);
      }
      log_.Info(
          "brick signin",
          {{"brick", req->brick}, {"port", req->port}, {"pid", req->pid}, {"op_ret", rsp.op_ret}});
      return Reply(xid, rsp);
    }
    case kPortmapSignout: {
      auto req = DecodeSignoutReq(args);
      if (!req.ok()) return ErrorReply(xid, AcceptStat::kGarbageArgs);
      if (trust_ != PeerTrust::kLocalProcess) return Refuse(xid, "signout", req->brick);
      bool removed = portmap_.Signout(req->brick, req->port);
      bricks_.erase(req->brick);
      log_.Info("brick signout",
                {{"brick", req->brick}, {"port", req->port}, {"removed", removed}});
      return Reply(xid, PmapRsp{});
    }
    default:
      return ErrorReply(xid, AcceptStat::kProcUnavail);
  }
}

}  // namespace gd2::sunrpc
