// Arguments and results of the procedures the volfile service speaks (gluster-wire.md section 4):
// GF-DUMP DUMP/PING, handshake GETSPEC, portmap PORTBYBRICK/SIGNIN/SIGNOUT. Each has an Encode
// and a Decode so the server and test clients share one definition. Decoders read from an
// XdrReader positioned after the RPC header, cap every string, and return kOutOfRange or
// kInvalidArgument on malformed input (the server answers GARBAGE_ARGS).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "sunrpc/dict.h"
#include "sunrpc/xdr.h"

namespace gd2::sunrpc {

// Caps on decoded strings: volfile ids and brick paths are short, xdata dicts small.
inline constexpr uint32_t kMaxKeyLength = 4096;
inline constexpr uint32_t kMaxXdataLength = 64 * 1024;

// gf_getspec_req { unsigned flags; string key<>; opaque xdata<>; }
struct GetspecReq {
  uint32_t flags = 0;  // bit 0: GF_GETSPEC_FLAG_SERVERS_LIST (sent by client processes)
  std::string key;     // the --volfile-id
  Dict xdata;          // min-op-version, max-op-version, brick_name (bricks)
};
// gf_getspec_rsp { int op_ret; int op_errno; string spec<>; opaque xdata<>; }
// On success op_ret must equal spec.size().
struct GetspecRsp {
  int32_t op_ret = 0;
  int32_t op_errno = 0;
  std::string spec;
  Dict xdata;
};

// pmap_port_by_brick_req { string brick<>; }
struct PortByBrickReq {
  std::string brick;
};
// pmap_port_by_brick_rsp { int op_ret; int op_errno; int status; int port; }
struct PortByBrickRsp {
  int32_t op_ret = 0;
  int32_t op_errno = 0;
  int32_t status = 0;
  int32_t port = 0;
};

// pmap_signin_req { string brick<>; int port; int pid; }
struct SigninReq {
  std::string brick;
  int32_t port = 0;
  int32_t pid = 0;
};
// pmap_signout_req { string brick<>; int port; int rdma_port; }
struct SignoutReq {
  std::string brick;
  int32_t port = 0;
  int32_t rdma_port = 0;
};
// pmap_signin_rsp / pmap_signout_rsp { int op_ret; int op_errno; }
struct PmapRsp {
  int32_t op_ret = 0;
  int32_t op_errno = 0;
};

// gf_dump_req { u_quad_t gfs_id; }
struct DumpReq {
  uint64_t gfs_id = 0;
};
struct ProgDetail {
  std::string name;
  uint64_t number = 0;
  uint64_t version = 0;
};
// gf_dump_rsp { u_quad_t gfs_id; int op_ret; int op_errno; gf_prog_detail *prog; } where the
// program list is an XDR optional-pointer chain.
struct DumpRsp {
  uint64_t gfs_id = 0;
  int32_t op_ret = 0;
  int32_t op_errno = 0;
  std::vector<ProgDetail> programs;
};
// gf_common_rsp { int op_ret; int op_errno; opaque xdata<>; } (the PING reply).
struct CommonRsp {
  int32_t op_ret = 0;
  int32_t op_errno = 0;
  Dict xdata;
};

void Encode(const GetspecReq& m, XdrWriter& w);
void Encode(const GetspecRsp& m, XdrWriter& w);
void Encode(const PortByBrickReq& m, XdrWriter& w);
void Encode(const PortByBrickRsp& m, XdrWriter& w);
void Encode(const SigninReq& m, XdrWriter& w);
void Encode(const SignoutReq& m, XdrWriter& w);
void Encode(const PmapRsp& m, XdrWriter& w);
void Encode(const DumpReq& m, XdrWriter& w);
void Encode(const DumpRsp& m, XdrWriter& w);
void Encode(const CommonRsp& m, XdrWriter& w);

StatusOr<GetspecReq> DecodeGetspecReq(XdrReader& r);
StatusOr<GetspecRsp> DecodeGetspecRsp(XdrReader& r);
StatusOr<PortByBrickReq> DecodePortByBrickReq(XdrReader& r);
StatusOr<PortByBrickRsp> DecodePortByBrickRsp(XdrReader& r);
StatusOr<SigninReq> DecodeSigninReq(XdrReader& r);
StatusOr<SignoutReq> DecodeSignoutReq(XdrReader& r);
StatusOr<PmapRsp> DecodePmapRsp(XdrReader& r);
StatusOr<DumpReq> DecodeDumpReq(XdrReader& r);
// Reads at most kMaxDumpPrograms entries.
StatusOr<DumpRsp> DecodeDumpRsp(XdrReader& r);
StatusOr<CommonRsp> DecodeCommonRsp(XdrReader& r);

inline constexpr size_t kMaxDumpPrograms = 64;

}  // namespace gd2::sunrpc
