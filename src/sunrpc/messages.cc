#include "sunrpc/messages.h"

namespace gd2::sunrpc {

namespace {

StatusOr<Dict> ReadXdata(XdrReader& r) {
  GD2_ASSIGN_OR_RETURN(std::string bytes, r.Opaque(kMaxXdataLength));
  return DecodeDict(bytes);
}

}  // namespace

void Encode(const GetspecReq& m, XdrWriter& w) {
  w.PutU32(m.flags);
  w.PutString(m.key);
  w.PutOpaque(EncodeDict(m.xdata));
}

void Encode(const GetspecRsp& m, XdrWriter& w) {
  w.PutI32(m.op_ret);
  w.PutI32(m.op_errno);
  w.PutString(m.spec);
  w.PutOpaque(EncodeDict(m.xdata));
}

void Encode(const PortByBrickReq& m, XdrWriter& w) { w.PutString(m.brick); }

void Encode(const PortByBrickRsp& m, XdrWriter& w) {
  w.PutI32(m.op_ret);
  w.PutI32(m.op_errno);
  w.PutI32(m.status);
  w.PutI32(m.port);
}

void Encode(const SigninReq& m, XdrWriter& w) {
  w.PutString(m.brick);
  w.PutI32(m.port);
  w.PutI32(m.pid);
}

void Encode(const SignoutReq& m, XdrWriter& w) {
  w.PutString(m.brick);
  w.PutI32(m.port);
  w.PutI32(m.rdma_port);
}

void Encode(const PmapRsp& m, XdrWriter& w) {
  w.PutI32(m.op_ret);
  w.PutI32(m.op_errno);
}

void Encode(const DumpReq& m, XdrWriter& w) { w.PutU64(m.gfs_id); }

void Encode(const DumpRsp& m, XdrWriter& w) {
  w.PutU64(m.gfs_id);
  w.PutI32(m.op_ret);
  w.PutI32(m.op_errno);
  for (const ProgDetail& p : m.programs) {
    w.PutBool(true);
    w.PutString(p.name);
    w.PutU64(p.number);
    w.PutU64(p.version);
  }
  w.PutBool(false);
}

void Encode(const CommonRsp& m, XdrWriter& w) {
  w.PutI32(m.op_ret);
  w.PutI32(m.op_errno);
  w.PutOpaque(EncodeDict(m.xdata));
}

StatusOr<GetspecReq> DecodeGetspecReq(XdrReader& r) {
  GetspecReq m;
  GD2_ASSIGN_OR_RETURN(m.flags, r.U32());
  GD2_ASSIGN_OR_RETURN(m.key, r.String(kMaxKeyLength));
  GD2_ASSIGN_OR_RETURN(m.xdata, ReadXdata(r));
  return m;
}

StatusOr<GetspecRsp> DecodeGetspecRsp(XdrReader& r) {
  GetspecRsp m;
  GD2_ASSIGN_OR_RETURN(m.op_ret, r.I32());
  GD2_ASSIGN_OR_RETURN(m.op_errno, r.I32());
  GD2_ASSIGN_OR_RETURN(m.spec, r.String());
  GD2_ASSIGN_OR_RETURN(m.xdata, ReadXdata(r));
  return m;
}

StatusOr<PortByBrickReq> DecodePortByBrickReq(XdrReader& r) {
  PortByBrickReq m;
  GD2_ASSIGN_OR_RETURN(m.brick, r.String(kMaxKeyLength));
  return m;
}

StatusOr<PortByBrickRsp> DecodePortByBrickRsp(XdrReader& r) {
  PortByBrickRsp m;
  GD2_ASSIGN_OR_RETURN(m.op_ret, r.I32());
  GD2_ASSIGN_OR_RETURN(m.op_errno, r.I32());
  GD2_ASSIGN_OR_RETURN(m.status, r.I32());
  GD2_ASSIGN_OR_RETURN(m.port, r.I32());
  return m;
}

StatusOr<SigninReq> DecodeSigninReq(XdrReader& r) {
  SigninReq m;
  GD2_ASSIGN_OR_RETURN(m.brick, r.String(kMaxKeyLength));
  GD2_ASSIGN_OR_RETURN(m.port, r.I32());
  GD2_ASSIGN_OR_RETURN(m.pid, r.I32());
  return m;
}

StatusOr<SignoutReq> DecodeSignoutReq(XdrReader& r) {
  SignoutReq m;
  GD2_ASSIGN_OR_RETURN(m.brick, r.String(kMaxKeyLength));
  GD2_ASSIGN_OR_RETURN(m.port, r.I32());
  GD2_ASSIGN_OR_RETURN(m.rdma_port, r.I32());
  return m;
}

StatusOr<PmapRsp> DecodePmapRsp(XdrReader& r) {
  PmapRsp m;
  GD2_ASSIGN_OR_RETURN(m.op_ret, r.I32());
  GD2_ASSIGN_OR_RETURN(m.op_errno, r.I32());
  return m;
}

StatusOr<DumpReq> DecodeDumpReq(XdrReader& r) {
  DumpReq m;
  GD2_ASSIGN_OR_RETURN(m.gfs_id, r.U64());
  return m;
}

StatusOr<DumpRsp> DecodeDumpRsp(XdrReader& r) {
  DumpRsp m;
  GD2_ASSIGN_OR_RETURN(m.gfs_id, r.U64());
  GD2_ASSIGN_OR_RETURN(m.op_ret, r.I32());
  GD2_ASSIGN_OR_RETURN(m.op_errno, r.I32());
  while (true) {
    GD2_ASSIGN_OR_RETURN(bool more, r.Bool());
    if (!more) break;
    if (m.programs.size() >= kMaxDumpPrograms) {
      return InvalidArgumentError("dump: too many programs");
    }
    ProgDetail p;
    GD2_ASSIGN_OR_RETURN(p.name, r.String(kMaxKeyLength));
    GD2_ASSIGN_OR_RETURN(p.number, r.U64());
    GD2_ASSIGN_OR_RETURN(p.version, r.U64());
    m.programs.push_back(std::move(p));
  }
  return m;
}

StatusOr<CommonRsp> DecodeCommonRsp(XdrReader& r) {
  CommonRsp m;
  GD2_ASSIGN_OR_RETURN(m.op_ret, r.I32());
  GD2_ASSIGN_OR_RETURN(m.op_errno, r.I32());
  GD2_ASSIGN_OR_RETURN(m.xdata, ReadXdata(r));
  return m;
}

}  // namespace gd2::sunrpc
