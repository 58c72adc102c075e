// Decodes and re-encodes byte sequences captured from glusterd 10.3 (gluster-wire.md section 4,
// captures/probe.decoded.txt and rep3-start.decoded.txt).
#include <gtest/gtest.h>

#include <string>

#include "sunrpc/messages.h"
#include "sunrpc/rpc_msg.h"
#include "support/status_matchers.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::sunrpc::testing::Hex;
using ::gd2::testing::StatusIs;

const char kCredV2[] =
    "0005f397 00000018 00000000 00000000 00000000 00000000 00000004 00000000 00000000 00000000";

// probe #54: brick GETSPEC call, xid 2.
const std::string kGetspecBrickCall =
    Hex(std::string("00000002 00000000 00000002 00dbb4a9 00000002 00000002") + kCredV2 +
        "00000000 00000016 72657033 2e766d2e 62726963 6b732d64 312d7265 70330000 0000005e 00000003"
        "0000000e 00000002 6d696e2d 6f702d76 65727369 6f6e0031 00000000 0e000000 076d6178 2d6f702d"
        "76657273 696f6e00 31303030 30300000 00000a00 00001062 7269636b 5f6e616d 65002f62 7269636b"
        "732f6431 2f726570 33000000");

TEST(WireTest, DecodesCapturedGetspecCall) {
  XdrReader r(kGetspecBrickCall);
  ASSERT_OK_AND_ASSIGN(MessageStart start, DecodeMessageStart(r));
  EXPECT_EQ(start.xid, 2u);
  EXPECT_EQ(start.msg_type, 0u);
  ASSERT_OK_AND_ASSIGN(CallHeader h, DecodeCallRest(r, start.xid));
  EXPECT_EQ(h.rpc_version, 2u);
  EXPECT_EQ(h.program, kHandshakeProgram);
  EXPECT_EQ(h.version, kHandshakeVersion);
  EXPECT_EQ(h.procedure, kHandshakeGetspec);
  EXPECT_EQ(h.cred_flavor, kAuthGlusterfsV2);
  EXPECT_EQ(h.cred_body, GlusterfsV2CredBody());
  EXPECT_EQ(h.verf_flavor, kAuthNull);
  ASSERT_OK_AND_ASSIGN(GetspecReq req, DecodeGetspecReq(r));
  EXPECT_EQ(req.flags, 0u);
  EXPECT_EQ(req.key, "rep3.vm.bricks-d1-rep3");
  EXPECT_EQ(req.xdata.GetString("brick_name"), "/bricks/d1/rep3");
  EXPECT_EQ(r.remaining(), 0u);

  // Re-encoding the decoded call gives the captured bytes back.
  XdrWriter w;
  EncodeCallHeader(h, w);
  Encode(req, w);
  EXPECT_EQ(w.data(), kGetspecBrickCall);
}

TEST(WireTest, EncodesCapturedGetspecErrorReply) {
  XdrWriter w;
  EncodeAcceptedReply(2, AcceptStat::kSuccess, w);
  Encode(GetspecRsp{-1, 2, "", {}}, w);
  EXPECT_EQ(w.data(), Hex("00000002 00000001 00000000 00000000 00000000 00000000 ffffffff 00000002"
                          "00000000 00000000"));
}

TEST(WireTest, DecodesGetspecReplyWithXdata) {
  GetspecRsp rsp;
  rsp.spec = "volume x\n    type storage/posix\nend-volume\n";
  rsp.op_ret = static_cast<int32_t>(rsp.spec.size());
  rsp.xdata.SetString("pidfile", "/var/run/gluster/shd/rep3/rep3-shd.pid");
  XdrWriter w;
  Encode(rsp, w);
  XdrReader r(w.data());
  ASSERT_OK_AND_ASSIGN(GetspecRsp back, DecodeGetspecRsp(r));
  EXPECT_EQ(back.op_ret, rsp.op_ret);
  EXPECT_EQ(back.spec, rsp.spec);
  EXPECT_EQ(back.xdata, rsp.xdata);
}

TEST(WireTest, DecodesCapturedSigninAndReply) {
  // rep3-start #8: SIGNIN /bricks/d1/rep3 port 54070 pid 12473, xid 3.
  std::string call =
      Hex(std::string("00000003 00000000 00000002 0208aec0 00000001 00000004") + kCredV2 +
          "0000000f 2f627269 636b732f 64312f72 65703300 0000d336 000030b9");
  XdrReader r(call);
  ASSERT_OK_AND_ASSIGN(MessageStart start, DecodeMessageStart(r));
  ASSERT_OK_AND_ASSIGN(CallHeader h, DecodeCallRest(r, start.xid));
  EXPECT_EQ(h.program, kPortmapProgram);
  EXPECT_EQ(h.procedure, kPortmapSignin);
  ASSERT_OK_AND_ASSIGN(SigninReq req, DecodeSigninReq(r));
  EXPECT_EQ(req.brick, "/bricks/d1/rep3");
  EXPECT_EQ(req.port, 54070);
  EXPECT_EQ(req.pid, 12473);

  XdrWriter w;
  EncodeAcceptedReply(3, AcceptStat::kSuccess, w);
  Encode(PmapRsp{}, w);
  EXPECT_EQ(w.data(),
            Hex("00000003 00000001 00000000 00000000 00000000 00000000 00000000 00000000"));
}

TEST(WireTest, DecodesCapturedPortByBrickAndReply) {
  std::string call = Hex(std::string("00000004 00000000 00000002 0208aec0 00000001 00000001") +
                         kCredV2 + "0000000f 2f627269 636b732f 64312f72 65703300");
  XdrReader r(call);
  ASSERT_OK_AND_ASSIGN(MessageStart start, DecodeMessageStart(r));
  ASSERT_OK_AND_ASSIGN(CallHeader h, DecodeCallRest(r, start.xid));
  EXPECT_EQ(h.procedure, kPortmapPortByBrick);
  ASSERT_OK_AND_ASSIGN(PortByBrickReq req, DecodePortByBrickReq(r));
  EXPECT_EQ(req.brick, "/bricks/d1/rep3");

  std::string reply =
      Hex("00000004 00000001 00000000 00000000 00000000 00000000 00000000 00000000"
          "00000000 0000d336");
  XdrReader rr(reply);
  ASSERT_OK_AND_ASSIGN(MessageStart rs, DecodeMessageStart(rr));
  EXPECT_EQ(rs.msg_type, 1u);
  ASSERT_OK_AND_ASSIGN(ReplyHeader rh, DecodeReplyRest(rr, rs.xid));
  EXPECT_EQ(rh.reply_stat, 0u);
  EXPECT_EQ(rh.accept_stat, 0u);
  ASSERT_OK_AND_ASSIGN(PortByBrickRsp rsp, DecodePortByBrickRsp(rr));
  EXPECT_EQ(rsp.op_ret, 0);
  EXPECT_EQ(rsp.port, 54070);
}

TEST(WireTest, DecodesCapturedGlusterdDumpReply) {
  std::string reply = Hex(
      "00000002 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
      "00000001 00000007 47462d44 554d5000 00000000 075bb86d 00000000 00000001 00000001 00000011"
      "476c7573 74657244 20737663 20706565 72000000 00000000 0012e5a5 00000000 00000002 00000001"
      "0000001a 476c7573 74657244 20737663 20636c69 20726561 642d6f6e 6c790000 00000000 0012e5bf"
      "00000000 00000002 00000001 00000011 476c7573 74657244 20737663 206d676d 74000000 00000000"
      "0012e5a1 00000000 00000002 00000001 00000014 476c7573 74657244 20737663 206d676d 74207633"
      "00000000 0012e5a1 00000000 00000003 00000001 0000000f 476c7573 74657220 506f7274 6d617000"
      "00000000 0208aec0 00000000 00000001 00000001 00000011 476c7573 74657220 48616e64 7368616b"
      "65000000 00000000 00dbb4a9 00000000 00000002 00000001 00000016 476c7573 74657220 4d474d54"
      "2048616e 64736861 6b650000 00000000 0012eb41 00000000 00000001 00000000");
  XdrReader r(reply);
  ASSERT_OK_AND_ASSIGN(MessageStart start, DecodeMessageStart(r));
  ASSERT_OK_AND_ASSIGN(ReplyHeader h, DecodeReplyRest(r, start.xid));
  EXPECT_EQ(h.accept_stat, 0u);
  ASSERT_OK_AND_ASSIGN(DumpRsp rsp, DecodeDumpRsp(r));
  ASSERT_EQ(rsp.programs.size(), 8u);
  EXPECT_EQ(rsp.programs[0].name, "GF-DUMP");
  EXPECT_EQ(rsp.programs[0].number, kDumpProgram);
  EXPECT_EQ(rsp.programs[5].name, "Gluster Portmap");
  EXPECT_EQ(rsp.programs[5].number, kPortmapProgram);
  EXPECT_EQ(rsp.programs[6].version, 2u);
  EXPECT_EQ(r.remaining(), 0u);
  // Our own encoder reproduces the captured bytes for the same list.
  XdrWriter w;
  EncodeAcceptedReply(2, AcceptStat::kSuccess, w);
  Encode(rsp, w);
  EXPECT_EQ(w.data(), reply);
}

TEST(WireTest, EncodesCapturedFetchspecCall) {
  CallHeader h;
  h.xid = 1;
  h.program = kCallbackProgram;
  h.version = kCallbackVersion;
  h.procedure = kCallbackFetchspec;
  XdrWriter w;
  EncodeCallHeader(h, w);
  EXPECT_EQ(w.data(), Hex("00000001 00000000 00000002 0324cc42 00000001 00000001 00000000 00000000"
                          "00000000 00000000"));
}

TEST(WireTest, CallHeaderRejectsLongCredentials) {
  XdrWriter w;
  w.PutU32(2);
  w.PutU32(2);
  w.PutU32(kDumpProgram);
  w.PutU32(1);
  w.PutU32(1);
  w.PutU32(kAuthUnix);
  w.PutOpaque(std::string(401, 'c'));
  XdrReader r(w.data());
  EXPECT_THAT(DecodeCallRest(r, 7), StatusIs(StatusCode::kInvalidArgument));
}

TEST(WireTest, DecodersFailOnEveryTruncation) {
  // Every strict prefix of the captured GETSPEC arguments fails to decode; none crashes.
  XdrReader full(kGetspecBrickCall);
  ASSERT_OK(DecodeMessageStart(full));
  ASSERT_OK(DecodeCallRest(full, 2));
  std::string args(full.rest());
  for (size_t n = 0; n < args.size(); ++n) {
    XdrReader r(std::string_view(args).substr(0, n));
    EXPECT_FALSE(DecodeGetspecReq(r).ok()) << "prefix=" << n;
  }
}

}  // namespace
}  // namespace gd2::sunrpc
