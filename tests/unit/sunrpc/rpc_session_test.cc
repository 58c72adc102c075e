#include "sunrpc/rpc_session.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sunrpc/messages.h"
#include "sunrpc/record.h"
#include "sunrpc/rpc_msg.h"
#include "support/status_matchers.h"
#include "test_util.h"

namespace gd2::sunrpc {
namespace {

using ::gd2::sunrpc::testing::EveryKindRegistry;
using ::gd2::sunrpc::testing::Hex;
using ::gd2::sunrpc::testing::MapVolfileProvider;
using ::gd2::sunrpc::testing::ToHex;
using ::gd2::testing::StatusIs;

const char kCredV2[] =
    "0005f397 00000018 00000000 00000000 00000000 00000000 00000004 00000000 00000000 00000000";

std::string Call(uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc,
                 const std::string& args) {
  CallHeader h;
  h.xid = xid;
  h.program = prog;
  h.version = vers;
  h.procedure = proc;
  h.cred_flavor = kAuthGlusterfsV2;
  h.cred_body = GlusterfsV2CredBody();
  XdrWriter w;
  EncodeCallHeader(h, w);
  return w.data() + args;
}

// Splits a stream of framed replies into messages.
std::vector<std::string> Records(const std::string& out) {
  RecordReader reader(1 << 24);
  std::vector<std::string> records;
  EXPECT_OK(reader.Feed(out, records));
  return records;
}

class RpcSessionTest : public ::testing::Test {
 protected:
  // Most tests play a brick on the daemon's local socket; RemotePeer* tests use remote_.
  RpcSessionTest()
      : session_(volfiles_, portmap_, "127.0.0.1:49151", {}, PeerTrust::kLocalProcess),
        remote_(volfiles_, portmap_, "10.0.0.9:1023", {}, PeerTrust::kRemote) {}

  // Feeds one framed call and returns the single reply message.
  std::string Roundtrip(const std::string& call) {
    std::string out;
    EXPECT_OK(session_.Consume(EncodeRecord(call), out));
    auto records = Records(out);
    EXPECT_EQ(records.size(), 1u);
    return records.empty() ? "" : records[0];
  }

  ReplyHeader Header(const std::string& reply, std::string* rest = nullptr) {
    XdrReader r(reply);
    auto start = DecodeMessageStart(r);
    EXPECT_OK(start);
    auto h = DecodeReplyRest(r, start->xid);
    EXPECT_OK(h);
    if (rest != nullptr) *rest = std::string(r.rest());
    return *h;
  }

  MapVolfileProvider provider_;
  EveryKindRegistry volfiles_{provider_};
  PortMap portmap_;
  RpcSession session_;
  RpcSession remote_;
};

// Whether `reply` is a MSG_DENIED AUTH_ERROR with auth_stat AUTH_TOOWEAK.
bool IsTooWeakDenial(const std::string& reply) {
  XdrReader r(reply);
  auto xid = r.U32();
  auto type = r.U32();
  auto reply_stat = r.U32();
  auto reject_stat = r.U32();
  auto auth_stat = r.U32();
  return xid.ok() && type.ok() && *type == 1 && reply_stat.ok() && *reply_stat == 1 &&
         reject_stat.ok() && *reject_stat == 1 && auth_stat.ok() && *auth_stat == kAuthTooWeak;
}

TEST_F(RpcSessionTest, RemotePeerCannotSignInSignOutOrFetchBrickAndDaemonVolfiles) {
  provider_.Set("rep3", "volume client\nend-volume\n");
  provider_.Set("rep3.vm.bricks-d1-rep3", "volume brick\n option password secret\nend-volume\n");
  provider_.Set("shd/rep3", "volume shd\n option password secret\nend-volume\n");
  portmap_.Signin("/bricks/d1/rep3", 49152, 100);

  auto feed = [&](const std::string& call) {
    std::string out;
    EXPECT_OK(remote_.Consume(EncodeRecord(call), out));
    auto records = Records(out);
    EXPECT_EQ(records.size(), 1u);
    return records.empty() ? std::string() : records[0];
  };
  XdrWriter signin;
  Encode(SigninReq{"/bricks/d1/rep3", 50000, 4242}, signin);
  EXPECT_TRUE(IsTooWeakDenial(feed(Call(1, kPortmapProgram, 1, kPortmapSignin, signin.data()))));
  XdrWriter signout;
  Encode(SignoutReq{"/bricks/d1/rep3", 49152}, signout);
  EXPECT_TRUE(IsTooWeakDenial(feed(Call(2, kPortmapProgram, 1, kPortmapSignout, signout.data()))));
  // The real brick's entry is untouched.
  EXPECT_EQ(portmap_.PortOf("/bricks/d1/rep3"), 49152);
  EXPECT_TRUE(remote_.signed_in_bricks().empty());

  int calls = provider_.calls();
  for (const char* id : {"rep3.vm.bricks-d1-rep3", "shd/rep3", "/shd/rep3"}) {
    XdrWriter args;
    Encode(GetspecReq{0, id, {}}, args);
    EXPECT_TRUE(IsTooWeakDenial(
        feed(Call(3, kHandshakeProgram, kHandshakeVersion, kHandshakeGetspec, args.data()))))
        << id;
  }
  EXPECT_EQ(provider_.calls(), calls);  // refused before the provider saw them
  EXPECT_TRUE(remote_.fetched_volfile_ids().empty());

  // Client volfiles and the port lookup stay open to everyone.
  XdrWriter client;
  Encode(GetspecReq{0, "/rep3", {}}, client);
  std::string rest;
  Header(feed(Call(4, kHandshakeProgram, kHandshakeVersion, kHandshakeGetspec, client.data())),
         &rest);
  XdrReader rr(rest);
  ASSERT_OK_AND_ASSIGN(GetspecRsp rsp, DecodeGetspecRsp(rr));
  EXPECT_GT(rsp.op_ret, 0);
  EXPECT_EQ(rsp.spec, "volume client\nend-volume\n");
  XdrWriter pbb;
  Encode(PortByBrickReq{"/bricks/d1/rep3"}, pbb);
  Header(feed(Call(5, kPortmapProgram, 1, kPortmapPortByBrick, pbb.data())), &rest);
  XdrReader pr(rest);
  ASSERT_OK_AND_ASSIGN(PortByBrickRsp prsp, DecodePortByBrickRsp(pr));
  EXPECT_EQ(prsp.port, 49152);
}

TEST_F(RpcSessionTest, AnswersCapturedPingExactly) {
  std::string ping =
      Hex(std::string("00000002 00000000 00000002 075bb86d 00000001 00000002") + kCredV2);
  EXPECT_EQ(ToHex(Roundtrip(ping)), ToHex(Hex("00000002 00000001 00000000 00000000 00000000"
                                              "00000000 00000000 00000000 00000000")));
}

TEST_F(RpcSessionTest, DumpListsPortmapButNotFops) {
  std::string dump = Hex(std::string("00000002 00000000 00000002 075bb86d 00000001 00000001") +
                         kCredV2 + "00000000 0000caed");
  std::string rest;
  ReplyHeader h = Header(Roundtrip(dump), &rest);
  EXPECT_EQ(h.accept_stat, 0u);
  XdrReader r(rest);
  ASSERT_OK_AND_ASSIGN(DumpRsp rsp, DecodeDumpRsp(r));
  bool portmap = false;
  for (const auto& p : rsp.programs) {
    portmap = portmap || (p.number == kPortmapProgram && p.version == 1);
    EXPECT_NE(p.number, 1298437u);
  }
  EXPECT_TRUE(portmap);
}

TEST_F(RpcSessionTest, GetspecUnknownKeyMatchesCapture) {
  // probe #44: GETSPEC "nosuchvol" -> op_ret -1, op_errno ENOENT.
  std::string call = Hex(
      std::string("00000002 00000000 00000002 00dbb4a9 00000002 00000002") + kCredV2 +
      "00000000 00000009 6e6f7375 6368766f 6c000000 0000003b 00000002 0000000e 00000002 6d696e2d"
      "6f702d76 65727369 6f6e0031 00000000 0e000000 076d6178 2d6f702d 76657273 696f6e00 31303030"
      "30300000");
  EXPECT_EQ(ToHex(Roundtrip(call)),
            ToHex(Hex("00000002 00000001 00000000 00000000 00000000 00000000 ffffffff 00000002"
                      "00000000 00000000")));
}

TEST_F(RpcSessionTest, GetspecServesVolfileAndRecordsVolume) {
  const std::string spec = "volume rep3-posix\n    type storage/posix\nend-volume\n";
  provider_.Set("rep3.vm.bricks-d1-rep3", spec);
  GetspecReq req;
  req.key = "rep3.vm.bricks-d1-rep3";
  req.xdata.SetString("brick_name", "/bricks/d1/rep3");
  XdrWriter args;
  Encode(req, args);
  std::string rest;
  ReplyHeader h = Header(Roundtrip(Call(9, kHandshakeProgram, 2, 2, args.data())), &rest);
  EXPECT_EQ(h.xid, 9u);
  XdrReader r(rest);
  ASSERT_OK_AND_ASSIGN(GetspecRsp rsp, DecodeGetspecRsp(r));
  EXPECT_EQ(rsp.op_ret, static_cast<int32_t>(spec.size()));
  EXPECT_EQ(rsp.spec, spec);
  EXPECT_TRUE(rsp.xdata.empty());
  EXPECT_EQ(provider_.last_xdata().GetString("brick_name"), "/bricks/d1/rep3");
  EXPECT_TRUE(session_.fetched_volumes().contains("rep3"));
  EXPECT_TRUE(session_.fetched_volfile_ids().contains("rep3.vm.bricks-d1-rep3"));
}

TEST_F(RpcSessionTest, GetspecShdGetsPidfile) {
  provider_.Set("shd/rep3", "volume x\nend-volume\n");
  XdrWriter args;
  Encode(GetspecReq{1, "shd/rep3", {}}, args);
  std::string rest;
  Header(Roundtrip(Call(2, kHandshakeProgram, 2, 2, args.data())), &rest);
  XdrReader r(rest);
  ASSERT_OK_AND_ASSIGN(GetspecRsp rsp, DecodeGetspecRsp(r));
  EXPECT_EQ(rsp.xdata.GetString("pidfile"), "/var/run/gluster/shd/rep3/rep3-shd.pid");
}

TEST_F(RpcSessionTest, GetspecRejectsUnsafeIdWithoutAskingProvider) {
  provider_.Set("../../etc/passwd", "secret");
  XdrWriter args;
  Encode(GetspecReq{0, "../../etc/passwd", {}}, args);
  std::string rest;
  Header(Roundtrip(Call(2, kHandshakeProgram, 2, 2, args.data())), &rest);
  XdrReader r(rest);
  ASSERT_OK_AND_ASSIGN(GetspecRsp rsp, DecodeGetspecRsp(r));
  EXPECT_EQ(rsp.op_ret, -1);
  EXPECT_EQ(rsp.op_errno, EINVAL);
  EXPECT_EQ(rsp.spec, "");
  EXPECT_TRUE(session_.fetched_volfile_ids().empty());
}

TEST_F(RpcSessionTest, SigninThenPortByBrickMatchCapture) {
  std::string signin =
      Hex(std::string("00000003 00000000 00000002 0208aec0 00000001 00000004") + kCredV2 +
          "0000000f 2f627269 636b732f 64312f72 65703300 0000d336 000030b9");
  EXPECT_EQ(ToHex(Roundtrip(signin)), ToHex(Hex("00000003 00000001 00000000 00000000 00000000"
                                                "00000000 00000000 00000000")));
  EXPECT_EQ(portmap_.PortOf("/bricks/d1/rep3"), 54070);
  EXPECT_TRUE(session_.signed_in_bricks().contains("/bricks/d1/rep3"));
  std::string pbb = Hex(std::string("00000004 00000000 00000002 0208aec0 00000001 00000001") +
                        kCredV2 + "0000000f 2f627269 636b732f 64312f72 65703300");
  EXPECT_EQ(ToHex(Roundtrip(pbb)), ToHex(Hex("00000004 00000001 00000000 00000000 00000000"
                                             "00000000 00000000 00000000 00000000 0000d336")));
  // SIGNOUT removes it; PORTBYBRICK then answers -1 with port 0.
  XdrWriter out_args;
  Encode(SignoutReq{"/bricks/d1/rep3", 54070, 0}, out_args);
  Roundtrip(Call(5, kPortmapProgram, 1, kPortmapSignout, out_args.data()));
  EXPECT_EQ(portmap_.PortOf("/bricks/d1/rep3"), std::nullopt);
  std::string rest;
  Header(Roundtrip(pbb), &rest);
  EXPECT_EQ(ToHex(rest), ToHex(Hex("ffffffff 00000000 00000000 00000000")));
}

TEST_F(RpcSessionTest, SigninRejectsBadPort) {
  XdrWriter args;
  Encode(SigninReq{"/b", 70000, 1}, args);
  std::string rest;
  Header(Roundtrip(Call(2, kPortmapProgram, 1, kPortmapSignin, args.data())), &rest);
  XdrReader r(rest);
  ASSERT_OK_AND_ASSIGN(PmapRsp rsp, DecodePmapRsp(r));
  EXPECT_EQ(rsp.op_ret, -1);
  EXPECT_EQ(portmap_.PortOf("/b"), std::nullopt);
}

TEST_F(RpcSessionTest, RpcErrorReplies) {
  struct Case {
    std::string name;
    std::string call;
    uint32_t accept_stat;
    uint32_t low = 0;
    uint32_t high = 0;
  };
  const std::vector<Case> cases = {
      {"unknown program", Call(2, 1298437, 400, 1, ""), 1},
      {"callback program is not served", Call(2, kCallbackProgram, 1, 1, ""), 1},
      {"wrong version", Call(2, kHandshakeProgram, 1, 2, ""), 2, 2, 2},
      {"unknown procedure", Call(2, kPortmapProgram, 1, 3, ""), 3},
      {"brickbyport", Call(2, kPortmapProgram, 1, 2, ""), 3},
      {"setvolume", Call(2, kHandshakeProgram, 2, 1, ""), 3},
      {"truncated getspec", Call(2, kHandshakeProgram, 2, 2, Hex("00000000 00000010 6162")), 4},
      {"truncated signin", Call(2, kPortmapProgram, 1, 4, Hex("00000001 61000000")), 4},
      {"getspec key too long", Call(2, kHandshakeProgram, 2, 2, Hex("00000000 00100000")), 4},
      {"bad xdata dict",
       Call(2, kHandshakeProgram, 2, 2,
            Hex("00000000 00000001 61000000 "
                "00000004 ffffffff")),
       4},
      {"truncated dump", Call(2, kDumpProgram, 1, 1, Hex("0000")), 4},
      {"null procedure", Call(2, kPortmapProgram, 1, 0, ""), 0},
  };
  for (const auto& c : cases) {
    ReplyHeader h = Header(Roundtrip(c.call));
    EXPECT_EQ(h.reply_stat, 0u) << c.name;
    EXPECT_EQ(h.accept_stat, c.accept_stat) << c.name;
    EXPECT_EQ(h.mismatch_low, c.low) << c.name;
    EXPECT_EQ(h.mismatch_high, c.high) << c.name;
  }
}

TEST_F(RpcSessionTest, DeniedReplies) {
  std::string bad_version = Call(2, kDumpProgram, 1, 2, "");
  bad_version[11] = 3;  // rpcvers 3
  ReplyHeader h = Header(Roundtrip(bad_version));
  EXPECT_EQ(h.reply_stat, 1u);
  EXPECT_EQ(h.reject_stat, 0u);
  EXPECT_EQ(h.mismatch_low, 2u);

  XdrWriter w;
  for (uint32_t v : {2u, 0u, 2u, kDumpProgram, 1u, 2u, kAuthUnix}) w.PutU32(v);
  w.PutOpaque(std::string(500, 'x'));
  h = Header(Roundtrip(w.data()));
  EXPECT_EQ(h.reply_stat, 1u);
  EXPECT_EQ(h.reject_stat, 1u);
}

TEST_F(RpcSessionTest, AcceptsAuthNullAndV3Credentials) {
  CallHeader h;
  h.xid = 5;
  h.program = kDumpProgram;
  h.version = 1;
  h.procedure = kDumpPing;
  for (uint32_t flavor : {kAuthNull, kAuthGlusterfsV3, kAuthUnix}) {
    h.cred_flavor = flavor;
    h.cred_body = flavor == kAuthNull ? "" : std::string(40, '\0');
    XdrWriter w;
    EncodeCallHeader(h, w);
    EXPECT_EQ(Header(Roundtrip(w.data())).accept_stat, 0u) << flavor;
  }
}

TEST_F(RpcSessionTest, IgnoresRepliesFromPeer) {
  XdrWriter w;
  EncodeAcceptedReply(1, AcceptStat::kSuccess, w);
  std::string out;
  EXPECT_OK(session_.Consume(EncodeRecord(w.data()), out));
  EXPECT_EQ(out, "");
}

TEST_F(RpcSessionTest, AnswersPipelinedAndFragmentedCalls) {
  std::string ping = Call(7, kDumpProgram, 1, kDumpPing, "");
  std::string stream = EncodeRecord(ping, 5) + EncodeRecord(Call(8, kDumpProgram, 1, 2, ""));
  std::string out;
  for (char c : stream) ASSERT_OK(session_.Consume(std::string_view(&c, 1), out));
  auto records = Records(out);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Header(records[0]).xid, 7u);
  EXPECT_EQ(Header(records[1]).xid, 8u);
}

TEST_F(RpcSessionTest, ClosesOnHostileFraming) {
  struct Case {
    std::string name;
    std::string bytes;
    StatusCode code;
  };
  std::string many_fragments;
  for (int i = 0; i < 100; ++i) many_fragments += Hex("00000000");
  const std::vector<Case> cases = {
      {"huge record", Hex("ffffffff"), StatusCode::kResourceExhausted},
      {"record just over limit", Hex("80020001"), StatusCode::kResourceExhausted},
      {"many fragments", many_fragments, StatusCode::kResourceExhausted},
      {"short message", EncodeRecord(Hex("000000")), StatusCode::kInvalidArgument},
      {"bad message type", EncodeRecord(Hex("00000001 00000002")), StatusCode::kInvalidArgument},
      {"truncated header", EncodeRecord(Hex("00000001 00000000 00000002 075bb86d")),
       StatusCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    RpcSession s(volfiles_, portmap_, "peer");
    std::string out;
    // A good call first: its reply is still produced.
    std::string stream = EncodeRecord(Call(3, kDumpProgram, 1, kDumpPing, "")) + c.bytes;
    EXPECT_THAT(s.Consume(stream, out), StatusIs(c.code)) << c.name;
    EXPECT_EQ(Records(out).size(), 1u) << c.name;
    // Further input is refused.
    std::string more;
    EXPECT_FALSE(s.Consume(EncodeRecord(Call(4, kDumpProgram, 1, 2, "")), more).ok());
    EXPECT_EQ(more, "");
  }
}

TEST_F(RpcSessionTest, FetchspecCallsCountXids) {
  EXPECT_EQ(ToHex(session_.MakeFetchspecCall()),
            ToHex(Hex("80000028 00000001 00000000 00000002 0324cc42 00000001 00000001 00000000"
                      "00000000 00000000 00000000")));
  std::string second = session_.MakeFetchspecCall();
  EXPECT_EQ(second.substr(4, 4), Hex("00000002"));
}

// GETSPEC asks the provider registered for the id's kind: a second provider (snapshot volfiles)
// answers its own kinds while the first keeps answering client, brick and shd volfiles; a kind
// nobody registered is ENOENT; the TCP rule holds for the new kinds (client kinds only).
TEST(RpcSessionVolfileKindsTest, EachKindIsAnsweredByItsOwnProvider) {
  MapVolfileProvider volumes;
  volumes.Set("rep3", "volume rep3-client\nend-volume\n");
  volumes.Set("rep3.vm.bricks-d1-rep3", "volume rep3-brick\nend-volume\n");
  volumes.Set("shd/rep3", "volume rep3-shd\nend-volume\n");
  MapVolfileProvider snapshots;
  snapshots.Set("snaps/s1/rep3", "volume s1-client\nend-volume\n");
  snapshots.Set("snaps/s1/ab12/ab12.vm.bricks-s1-d1", "volume s1-brick\nend-volume\n");
  VolfileRegistry registry;
  ASSERT_OK(registry.Add({VolfileKind::kClient, ""}, volumes));
  ASSERT_OK(registry.Add({VolfileKind::kBrick, ""}, volumes));
  ASSERT_OK(registry.Add(VolfileProviderKey::Daemon("shd"), volumes));
  ASSERT_OK(registry.Add({VolfileKind::kSnapshotClient, ""}, snapshots));
  ASSERT_OK(registry.Add({VolfileKind::kSnapshotBrick, ""}, snapshots));
  PortMap portmap;
  RpcSession local(registry, portmap, "brick", {}, PeerTrust::kLocalProcess);
  RpcSession remote(registry, portmap, "10.0.0.9:1023", {}, PeerTrust::kRemote);

  uint32_t xid = 0;
  // The GETSPEC reply, or nullopt for a denial.
  auto getspec = [&](RpcSession& session, const std::string& id) -> std::optional<GetspecRsp> {
    XdrWriter args;
    Encode(GetspecReq{0, id, {}}, args);
    std::string out;
    Status consumed = session.Consume(EncodeRecord(Call(++xid, kHandshakeProgram, kHandshakeVersion,
                                                        kHandshakeGetspec, args.data())),
                                      out);
    EXPECT_OK(consumed);
    auto records = Records(out);
    if (records.size() != 1u || IsTooWeakDenial(records[0])) return std::nullopt;
    XdrReader r(records[0]);
    auto start = DecodeMessageStart(r);
    EXPECT_OK(start);
    auto header = DecodeReplyRest(r, xid);
    EXPECT_OK(header);
    auto rsp = DecodeGetspecRsp(r);
    EXPECT_OK(rsp);
    return rsp.ok() ? std::optional<GetspecRsp>(*rsp) : std::nullopt;
  };

  const std::vector<std::pair<std::string, std::string>> served = {
      {"/rep3", "volume rep3-client\nend-volume\n"},
      {"rep3.vm.bricks-d1-rep3", "volume rep3-brick\nend-volume\n"},
      {"shd/rep3", "volume rep3-shd\nend-volume\n"},
      {"/snaps/s1/rep3", "volume s1-client\nend-volume\n"},
      {"/snaps/s1/ab12/ab12.vm.bricks-s1-d1", "volume s1-brick\nend-volume\n"},
  };
  for (const auto& [id, text] : served) {
    auto rsp = getspec(local, id);
    ASSERT_TRUE(rsp.has_value()) << id;
    EXPECT_EQ(rsp->spec, text) << id;
  }
  EXPECT_EQ(volumes.calls(), 3);
  EXPECT_EQ(snapshots.calls(), 2);
  EXPECT_TRUE(local.fetched_volumes().contains("rep3"));
  EXPECT_TRUE(local.fetched_volumes().contains("snaps/s1"));

  // A kind no provider answers: ENOENT, nobody asked.
  auto rebalance = getspec(local, "rebalance/rep3");
  ASSERT_TRUE(rebalance.has_value());
  EXPECT_EQ(rebalance->op_ret, -1);
  EXPECT_EQ(rebalance->op_errno, ENOENT);
  EXPECT_EQ(volumes.calls() + snapshots.calls(), 5);

  // Over TCP: the snapshot's client volfile, not its brick volfile.
  auto snap_client = getspec(remote, "/snaps/s1/rep3");
  ASSERT_TRUE(snap_client.has_value());
  EXPECT_EQ(snap_client->spec, "volume s1-client\nend-volume\n");
  EXPECT_FALSE(getspec(remote, "/snaps/s1/ab12/ab12.vm.bricks-s1-d1").has_value());
  EXPECT_EQ(snapshots.calls(), 3);
}

TEST(VolfileRegistryTest, RefusesDuplicateAndMalformedKeys) {
  MapVolfileProvider a;
  MapVolfileProvider b;
  VolfileRegistry registry;
  ASSERT_OK(registry.Add({VolfileKind::kClient, ""}, a));
  EXPECT_THAT(registry.Add({VolfileKind::kClient, ""}, b), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(registry.Add({VolfileKind::kDaemon, ""}, b), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.Add({VolfileKind::kBrick, "shd"}, b),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(registry.Add(VolfileProviderKey::Daemon("shd"), b));
  ASSERT_OK_AND_ASSIGN(VolfileId client, ParseVolfileId("/rep3"));
  ASSERT_OK_AND_ASSIGN(VolfileId shd, ParseVolfileId("shd/rep3"));
  ASSERT_OK_AND_ASSIGN(VolfileId rebalance, ParseVolfileId("rebalance/rep3"));
  EXPECT_EQ(registry.Find(client), &a);
  EXPECT_EQ(registry.Find(shd), &b);
  EXPECT_EQ(registry.Find(rebalance), nullptr);
}

}  // namespace
}  // namespace gd2::sunrpc
