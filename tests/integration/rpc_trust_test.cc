// Who may use the Gluster RPC: the real daemon starts stock glusterfsd bricks and a self-heal
// daemon, which fetch their volfiles and sign in over the daemon's local socket; a process that
// connects to the TCP port cannot sign a brick in or out, nor fetch brick or self-heal daemon
// volfiles (they carry the bricks' passwords), but still gets client volfiles and brick ports.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "api/volume_req.h"
#include "sunrpc/messages.h"
#include "sunrpc/rpc_msg.h"
#include "support/daemon_process.h"
#include "support/loop_xfs.h"
#include "support/status_matchers.h"
#include "unit/sunrpc/test_util.h"  // TestRpcClient

namespace gd2::testing {
namespace {

using namespace std::chrono_literals;
using sunrpc::testing::TestRpcClient;

constexpr const char* kHost = "127.0.0.42";

// MSG_DENIED with AUTH_ERROR (the unit tests check the auth_stat, AUTH_TOOWEAK).
bool DeniedTooWeak(const StatusOr<std::pair<sunrpc::ReplyHeader, std::string>>& reply) {
  return reply.ok() && reply->first.reply_stat == 1 &&
         reply->first.reject_stat == static_cast<uint32_t>(sunrpc::RejectStat::kAuthError) &&
         reply->second.empty();
}

int PortByBrick(TestRpcClient& c, const std::string& brick) {
  sunrpc::XdrWriter args;
  sunrpc::Encode(sunrpc::PortByBrickReq{brick}, args);
  auto reply = c.Call(sunrpc::kPortmapProgram, sunrpc::kPortmapVersion, sunrpc::kPortmapPortByBrick,
                      args.data());
  if (!reply.ok()) return -1;
  sunrpc::XdrReader r(reply->second);
  auto rsp = sunrpc::DecodePortByBrickRsp(r);
  return rsp.ok() && rsp->op_ret == 0 ? rsp->port : -1;
}

TEST(RpcTrustTest, ForeignProcessCannotSignInOrFetchBrickAndShdVolfiles) {
  GD2_SKIP_UNLESS_LOOP_XFS();
  DaemonOptions o;
  o.host = kHost;
  o.client_port = 24007;
  DaemonProcess d(o);
  ASSERT_TRUE(d.Start());
  struct stat st {};
  std::string socket_path = d.workdir() + "/run/glusterd2-rpc.socket";
  ASSERT_EQ(::stat(socket_path.c_str(), &st), 0) << socket_path;
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  ASSERT_OK_AND_ASSIGN(auto fs, LoopXfs::Create());
  auto client = d.NewClient();
  const std::string vol = "trust";
  std::vector<std::string> bricks;
  api::VolCreateReq req;
  req.name = vol;
  req.force = true;
  api::SubvolReq sv;
  sv.type = "replicate";
  sv.replica = 2;
  for (int i = 1; i <= 2; ++i) {
    bricks.push_back(fs->mount_point() + "/b" + std::to_string(i));
    std::filesystem::create_directories(bricks.back());
    sv.bricks.push_back({kHost, bricks.back(), ""});
  }
  req.subvols.push_back(sv);
  struct Cleanup {
    client::Client& c;
    std::string name;
    ~Cleanup() {
      c.Do("POST", "/v1/volumes/" + name + "/stop", nlohmann::json::object())
          .status()
          .IgnoreError();
      c.Do("DELETE", "/v1/volumes/" + name).status().IgnoreError();
    }
  } cleanup{*client, vol};
  ASSERT_OK(client->Do("POST", "/v1/volumes", req));
  // The bricks start and sign in over the local socket (start waits for their sign-in).
  ASSERT_OK(client->Do("POST", "/v1/volumes/" + vol + "/start", nlohmann::json::object()));

  TestRpcClient foreign;
  ASSERT_OK(foreign.Connect(kHost, 24007));
  int port = PortByBrick(foreign, bricks[0]);
  ASSERT_GT(port, 0);

  sunrpc::XdrWriter signin;
  sunrpc::Encode(sunrpc::SigninReq{bricks[0], 1, 4242}, signin);
  EXPECT_TRUE(DeniedTooWeak(foreign.Call(sunrpc::kPortmapProgram, sunrpc::kPortmapVersion,
                                         sunrpc::kPortmapSignin, signin.data())));
  sunrpc::XdrWriter signout;
  sunrpc::Encode(sunrpc::SignoutReq{bricks[0], port, 0}, signout);
  EXPECT_TRUE(DeniedTooWeak(foreign.Call(sunrpc::kPortmapProgram, sunrpc::kPortmapVersion,
                                         sunrpc::kPortmapSignout, signout.data())));
  EXPECT_EQ(PortByBrick(foreign, bricks[0]), port) << "a foreign process moved the brick";

  std::string dashed = bricks[0].substr(1);
  std::replace(dashed.begin(), dashed.end(), '/', '-');
  for (const std::string& id : {vol + "." + std::string(kHost) + "." + dashed, "shd/" + vol}) {
    sunrpc::XdrWriter args;
    sunrpc::Encode(sunrpc::GetspecReq{0, id, {}}, args);
    auto reply = foreign.Call(sunrpc::kHandshakeProgram, sunrpc::kHandshakeVersion,
                              sunrpc::kHandshakeGetspec, args.data());
    EXPECT_TRUE(DeniedTooWeak(reply))
        << id << " " << reply.status().ToString()
        << " reply_stat=" << (reply.ok() ? reply->first.reply_stat : 9)
        << " accept_stat=" << (reply.ok() ? reply->first.accept_stat : 9)
        << " rest=" << (reply.ok() ? sunrpc::testing::ToHex(reply->second) : "");
    if (reply.ok()) {
      EXPECT_EQ(reply->second.find("password"), std::string::npos) << id;
    }
  }
  // The client volfile stays open, as glusterd serves it.
  sunrpc::XdrWriter args;
  sunrpc::Encode(sunrpc::GetspecReq{0, "/" + vol, {}}, args);
  ASSERT_OK_AND_ASSIGN(auto reply,
                       foreign.Call(sunrpc::kHandshakeProgram, sunrpc::kHandshakeVersion,
                                    sunrpc::kHandshakeGetspec, args.data()));
  sunrpc::XdrReader r(reply.second);
  ASSERT_OK_AND_ASSIGN(sunrpc::GetspecRsp rsp, sunrpc::DecodeGetspecRsp(r));
  EXPECT_GT(rsp.op_ret, 0);
  EXPECT_NE(rsp.spec.find("protocol/client"), std::string::npos);

  // The volume's bricks and self-heal daemon are still up.
  ASSERT_OK_AND_ASSIGN(auto status, client->Do("GET", "/v1/volumes/" + vol + "/bricks"));
  EXPECT_NE(status.dump().find("\"online\":true"), std::string::npos) << status.dump();
  EXPECT_NE(d.ReadLog().find("rpc call refused"), std::string::npos);
}

}  // namespace
}  // namespace gd2::testing
