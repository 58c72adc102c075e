// peer_rpc::Server and Client talking over loopback: round trips, status mapping,
// authentication, deadlines and unreachable peers.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "api/volume_req.h"
#include "common/jwt.h"
#include "peer/peer.grpc.pb.h"
#include "peer_rpc/client.h"
#include "peer_rpc/join_auth.h"
#include "peer_rpc/query.h"
#include "peer_rpc/remote_step_runner.h"
#include "peer_rpc/rpc_common.h"
#include "peer_rpc/server.h"
#include "support/recording_peer.h"
#include "support/status_matchers.h"
#include "test_handler.h"

namespace gd2::peer_rpc {
namespace {

using ::gd2::testing::StatusIs;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kSecret[] = "cluster-secret-1";
constexpr char kRunStep[] = "/gd2.peer.PeerService/RunStep";

ClientOptions MakeClientOptions(std::string secret) {
  ClientOptions o;
  o.secret = [secret] { return secret; };
  o.dial_timeout = 2s;
  return o;
}

class PeerRpcTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.secret = [this] {
      std::lock_guard<std::mutex> lock(secret_mu_);
      return server_secret_;
    };
    o.shutdown_grace = 1s;
    o.queries = &queries_;
    server_ = std::make_unique<Server>(std::move(o), handler_);
    ASSERT_OK(server_->Start());
    ASSERT_GT(server_->port(), 0);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  void SetServerSecret(std::string s) {
    std::lock_guard<std::mutex> lock(secret_mu_);
    server_secret_ = std::move(s);
  }

  // Makes the authorization metadata for a request whose signed bytes are `body`.
  using Auth = std::function<std::string(const std::string& body)>;

  // A RunStep call made with the raw stub, so tests control the authorization metadata (and,
  // through `with_context`, called before the call is made, the call's context).
  grpc::Status RawRunStep(const Auth& authorization, gd2::peer::RunStepResponse* resp = nullptr,
                          const std::string& args_json = "{}",
                          const std::function<void(grpc::ClientContext&)>& with_context = nullptr) {
    auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    auto stub = gd2::peer::PeerService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    if (with_context) with_context(ctx);
    gd2::peer::RunStepRequest req;
    req.set_txn_id("t1");
    req.set_step("test.step");
    req.set_args_json(args_json);
    std::string header = authorization(internal::SignedBytes(req));
    if (!header.empty()) ctx.AddMetadata("authorization", header);
    gd2::peer::RunStepResponse local;
    return stub->RunStep(&ctx, req, resp != nullptr ? resp : &local);
  }

  // A token for `path` signed with `secret` over the request's own bytes.
  static Auth Bearer(const std::string& secret, const std::string& path,
                     int64_t now = std::time(nullptr), int64_t ttl = 30) {
    return [=](const std::string& body) {
      return "Bearer " + jwt::SignRequest(secret, {"RPC", path, ""}, body, now, ttl);
    };
  }
  static Auth Fixed(std::string header) {
    return [header](const std::string&) { return header; };
  }

  static StepCall MakeStep() {
    StepCall call;
    call.txn_id = "txn-1";
    call.step = "test.step";
    call.args = {{"volume", "v1"}, {"bricks", {"/b1", "/b2"}}, {"replica", 3}};
    call.initiator = "peer-a";
    call.req_id = "req-42";
    return call;
  }

  TestHandler handler_;
  QueryRegistry queries_;  // what the server answers queries with; empty by default
  std::mutex secret_mu_;
  std::string server_secret_ = kSecret;
  std::unique_ptr<Server> server_;
  std::string address_;
  Client client_{MakeClientOptions(kSecret)};
};

TEST_F(PeerRpcTest, RunStepCarriesEveryField) {
  ASSERT_OK(client_.RunStep(address_, MakeStep(), Client::In(10s)));
  ASSERT_EQ(handler_.step_calls.load(), 1);
  StepCall got = handler_.LastStep();
  EXPECT_EQ(got.txn_id, "txn-1");
  EXPECT_EQ(got.step, "test.step");
  EXPECT_EQ(got.args, MakeStep().args);
  EXPECT_FALSE(got.undo);
  EXPECT_EQ(got.initiator, "peer-a");
  EXPECT_EQ(got.req_id, "req-42");
  // The caller's deadline reached the handler (give or take clock conversion).
  EXPECT_LT(got.deadline, Clock::now() + 11s);
  EXPECT_GT(got.deadline, Clock::now());

  StepCall undo = MakeStep();
  undo.undo = true;
  ASSERT_OK(client_.RunStep(address_, undo, Client::In(10s)));
  EXPECT_TRUE(handler_.LastStep().undo);
}

TEST_F(PeerRpcTest, RemoteStepErrorKeepsCodeAndMessage) {
  handler_.on_step = [](const StepCall&) {
    return NotFoundError("brick path missing: path=/b1");
  };
  Status s = client_.RunStep(address_, MakeStep(), Client::In(10s));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "brick path missing: path=/b1");

  // Even codes the transport also uses arrive as the step returned them.
  handler_.on_step = [](const StepCall&) { return UnavailableError("glusterfsd not running"); };
  s = client_.RunStep(address_, MakeStep(), Client::In(10s));
  EXPECT_EQ(s, UnavailableError("glusterfsd not running"));
}

TEST_F(PeerRpcTest, MissingOrBadTokensAreRejectedBeforeTheHandler) {
  struct Case {
    const char* name;
    Auth authorization;
  };
  const Case cases[] = {
      {"missing", Fixed("")},
      {"other scheme", Fixed("Basic dXNlcjpwYXNz")},
      {"garbage", Fixed("Bearer not.a.token")},
      {"expired", Bearer(kSecret, kRunStep, std::time(nullptr) - 3600, 30)},
      {"wrong secret", Bearer("another-secret", kRunStep)},
      {"other method", Bearer(kSecret, "/gd2.peer.PeerService/Ping")},
      // A token captured from another RunStep, replayed on this one.
      {"other request",
       [](const std::string& body) {
         return "Bearer " + jwt::SignRequest(kSecret, {"RPC", kRunStep, ""}, body + "x",
                                             std::time(nullptr), 30);
       }},
      {"no body hash", Fixed("Bearer " + jwt::SignRequest(kSecret, {"RPC", kRunStep, ""}, "",
                                                          std::time(nullptr), 30))},
  };
  for (const Case& c : cases) {
    grpc::Status s = RawRunStep(c.authorization);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.name;
  }
  EXPECT_EQ(handler_.step_calls.load(), 0);
  // The same raw call with a good token gets through.
  EXPECT_TRUE(RawRunStep(Bearer(kSecret, kRunStep)).ok());
  EXPECT_EQ(handler_.step_calls.load(), 1);
}

TEST_F(PeerRpcTest, ClientWithWrongSecretGetsUnauthenticated) {
  Client other(MakeClientOptions("not-the-cluster-secret"));
  EXPECT_THAT(other.RunStep(address_, MakeStep(), Client::In(10s)),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(other.Ping(address_, Client::In(10s)), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(other.Leave(address_, LeaveCall{"cluster-1", "peer-a", ""}, Client::In(10s)),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(handler_.step_calls.load(), 0);
  EXPECT_EQ(handler_.leave_calls.load(), 0);
}

// A typed query: arguments and answer as their JSON mappings, errors with their codes.
struct HealArgs {
  std::string volume;
};
void to_json(nlohmann::json& j, const HealArgs& a) { j = {{"volume", a.volume}}; }
void from_json(const nlohmann::json& j, HealArgs& a) {
  a.volume = j.at("volume").get<std::string>();
}
constexpr QueryId<HealArgs, std::vector<api::BrickHealInfo>> kHealQuery{"test.heal-info"};
// The same name with other types: what a peer of another version might answer.
constexpr QueryId<HealArgs, std::vector<int>> kHealQueryAsInts{"test.heal-info"};

TEST_F(PeerRpcTest, TypedQueryRoundTripsThroughTheRegistry) {
  // Nothing registered: the call is answered, as unimplemented, naming the query.
  StatusOr<std::vector<api::BrickHealInfo>> none =
      Ask(client_, address_, kHealQuery, HealArgs{"v1"}, "", Client::In(10s));
  EXPECT_THAT(none, StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(none.status().message(), HasSubstr("no query test.heal-info on this peer"));
  server_.reset();
  std::atomic<int> calls{0};
  ASSERT_TRUE((queries_.Add<HealArgs, std::vector<api::BrickHealInfo>>(
      kHealQuery,
      [&calls](const QueryContext& ctx,
               const HealArgs& a) -> StatusOr<std::vector<api::BrickHealInfo>> {
        ++calls;
        if (a.volume == "throws") throw std::runtime_error("boom");
        if (a.volume != "v1") return NotFoundError("volume not found: " + a.volume);
        EXPECT_EQ(ctx.req_id, "req-7");
        EXPECT_LT(ctx.deadline, Deadline::max());
        api::BrickHealInfo b;
        b.host_id = "peer-b";
        b.name = "node-b:/b/1";
        b.status = "Connected";
        b.total_entries = 2;
        b.entries_in_heal_pending = 2;
        b.entries_in_split_brain = 1;
        b.entries_possibly_healing = 3;
        b.entries = 2;
        b.files = {{"gfid-1", "/a"}, {"gfid-2", "<gfid:gfid-2>"}};
        api::BrickHealInfo down;
        down.name = "node-b:/b/2";
        down.status = "Transport endpoint is not connected";
        return std::vector<api::BrickHealInfo>{b, down};
      })));
  EXPECT_FALSE((queries_.Add<HealArgs, std::vector<int>>(
      kHealQueryAsInts,
      [](const QueryContext&, const HealArgs&) -> StatusOr<std::vector<int>> {
        return std::vector<int>{};
      })))
      << "a name is registered once";
  StartServer();
  ASSERT_OK_AND_ASSIGN(
      std::vector<api::BrickHealInfo> got,
      Ask(client_, address_, kHealQuery, HealArgs{"v1"}, "req-7", Client::In(10s)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(nlohmann::json(got[0]).dump(),
            R"({"entries":2,"entries-in-heal-pending":2,"entries-in-split-brain":1,)"
            R"("entries-possibly-healing":3,"file-gfid":[{"filename":"/a","gfid":"gfid-1"},)"
            R"({"filename":"<gfid:gfid-2>","gfid":"gfid-2"}],"host-id":"peer-b",)"
            R"("name":"node-b:/b/1","status":"Connected","total-entries":2})");
  EXPECT_EQ(got[1].status, "Transport endpoint is not connected");
  EXPECT_TRUE(got[1].files.empty());
  // The function's error travels back with its code.
  StatusOr<std::vector<api::BrickHealInfo>> missing =
      Ask(client_, address_, kHealQuery, HealArgs{"nope"}, "", Client::In(10s));
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(missing.status().message(), HasSubstr("volume not found: nope"));
  // A throw is kInternal naming the query; arguments that do not decode are kInvalidArgument;
  // an answer that does not decode as the asker's type is kInternal on the asking side.
  StatusOr<std::vector<api::BrickHealInfo>> thrown =
      Ask(client_, address_, kHealQuery, HealArgs{"throws"}, "", Client::In(10s));
  EXPECT_THAT(thrown, StatusIs(StatusCode::kInternal));
  EXPECT_THAT(thrown.status().message(), HasSubstr("test.heal-info"));
  EXPECT_THAT(AskRaw(client_, address_, "test.heal-info", "{\"vol\":1}", "", Client::In(10s)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(AskRaw(client_, address_, "test.heal-info", "not json", "", Client::In(10s)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Ask(client_, address_, kHealQueryAsInts, HealArgs{"v1"}, "req-7", Client::In(10s)),
              StatusIs(StatusCode::kInternal));
  EXPECT_THAT(AskRaw(client_, address_, "", "{}", "", Client::In(10s)),
              StatusIs(StatusCode::kInvalidArgument));
  // Authenticated like every other call: a wrong secret never reaches the function.
  int before = calls.load();
  Client other(MakeClientOptions("not-the-cluster-secret"));
  EXPECT_THAT(Ask(other, address_, kHealQuery, HealArgs{"v1"}, "", Client::In(10s)),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(calls.load(), before);
}

TEST_F(PeerRpcTest, ServerReadsTheCurrentSecretOnEveryCall) {
  ASSERT_OK(client_.Ping(address_, Client::In(10s)));
  SetServerSecret("rotated-after-join");
  EXPECT_THAT(client_.Ping(address_, Client::In(10s)), StatusIs(StatusCode::kUnauthenticated));
  Client rotated(MakeClientOptions("rotated-after-join"));
  EXPECT_OK(rotated.Ping(address_, Client::In(10s)));
  // An empty secret refuses everything rather than accepting tokens signed with "".
  SetServerSecret("");
  EXPECT_THAT(rotated.Ping(address_, Client::In(10s)), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(PeerRpcTest, BadArgumentsJsonIsInvalidArgument) {
  gd2::peer::RunStepResponse resp;
  ASSERT_TRUE(RawRunStep(Bearer(kSecret, kRunStep), &resp, "{not json").ok());
  EXPECT_EQ(resp.code(), static_cast<int>(StatusCode::kInvalidArgument));
  EXPECT_EQ(handler_.step_calls.load(), 0);
}

TEST_F(PeerRpcTest, PingReturnsIdentity) {
  ASSERT_OK_AND_ASSIGN(PeerIdentity id, client_.Ping(address_, Client::In(10s)));
  EXPECT_EQ(id.peer_id, "peer-b");
  EXPECT_EQ(id.cluster_id, "cluster-1");
}

TEST_F(PeerRpcTest, LeaveRoundTrip) {
  ASSERT_OK(client_.Leave(address_, LeaveCall{"cluster-1", "peer-a", "req-7"}, Client::In(10s)));
  LeaveCall got = handler_.LastLeave();
  EXPECT_EQ(got.cluster_id, "cluster-1");
  EXPECT_EQ(got.initiator, "peer-a");
  EXPECT_EQ(got.req_id, "req-7");

  handler_.on_leave = [](const LeaveCall&) {
    return FailedPreconditionError("not a member of cluster: cluster_id=other");
  };
  EXPECT_EQ(client_.Leave(address_, LeaveCall{"other", "peer-a", ""}, Client::In(10s)),
            FailedPreconditionError("not a member of cluster: cluster_id=other"));
}

constexpr char kTargetSecret[] = "fresh-node-own-secret";

JoinCall MakeJoin(std::string secret) {
  JoinCall call;
  call.cluster_id = "cluster-1";
  call.etcd_endpoints = {"http://127.0.0.1:2379", "http://127.0.0.3:2379"};
  call.auth_secret = std::move(secret);
  call.store_ca_cert = "-----BEGIN CERTIFICATE-----\nca-cert\n";
  call.store_ca_key = "-----BEGIN PRIVATE KEY-----\nca-key\n";
  call.initiator = "peer-a";
  call.zone = "rack-1";
  call.metadata = {{"owner", "ops"}};
  call.req_id = "req-join";
  return call;
}

TEST_F(PeerRpcTest, JoinWithTheTargetsOwnSecretDeliversTheGrant) {
  // The target still has its own (fresh) secret; the initiator was given it.
  SetServerSecret(kTargetSecret);
  Client initiator(MakeClientOptions(kSecret));
  ASSERT_OK_AND_ASSIGN(JoinResult r,
                       initiator.Join(address_, MakeJoin(kSecret), kTargetSecret, Client::In(10s)));
  EXPECT_EQ(r.peer_id, "peer-b");
  EXPECT_EQ(r.peer_name, "node-b");
  EXPECT_EQ(r.peer_addresses, std::vector<std::string>{"127.0.0.2:24008"});
  EXPECT_EQ(r.client_addresses, std::vector<std::string>{"127.0.0.2:24007"});
  JoinCall got = handler_.LastJoin();
  EXPECT_EQ(got.cluster_id, "cluster-1");
  EXPECT_EQ(got.etcd_endpoints, MakeJoin(kSecret).etcd_endpoints);
  EXPECT_EQ(got.auth_secret, kSecret);
  EXPECT_EQ(got.store_ca_cert, MakeJoin(kSecret).store_ca_cert);
  EXPECT_EQ(got.store_ca_key, MakeJoin(kSecret).store_ca_key);
  EXPECT_EQ(got.initiator, "peer-a");
  EXPECT_EQ(got.zone, "rack-1");
  EXPECT_EQ(got.metadata, (std::map<std::string, std::string>{{"owner", "ops"}}));
  EXPECT_EQ(got.req_id, "req-join");
}

TEST_F(PeerRpcTest, JoinIsRefusedWhenTheHandlerSaysSo) {
  handler_.on_join = [](const JoinCall&) -> StatusOr<JoinResult> {
    return FailedPreconditionError("peer already belongs to a cluster");
  };
  auto r = client_.Join(address_, MakeJoin(kSecret), kSecret, Client::In(10s));
  EXPECT_EQ(r.status(), FailedPreconditionError("peer already belongs to a cluster"));
}

TEST_F(PeerRpcTest, JoinWithAnotherSecretStopsBeforeAnythingSecretIsSent) {
  SetServerSecret(kTargetSecret);
  auto r = client_.Join(address_, MakeJoin(kSecret), "a-secret-of-someone-else", Client::In(10s));
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(r.status().message(), HasSubstr("nothing was sent"));
  EXPECT_EQ(handler_.join_calls.load(), 0);
  EXPECT_THAT(client_.Join(address_, MakeJoin(kSecret), "", Client::In(10s)).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

// What an attacker who does not know the target's secret can send straight to its peer port:
// a Join with a proof and grant made with a secret of its choosing, or a replay of a good one.
TEST_F(PeerRpcTest, ForgedOrReplayedJoinIsRefusedByTheTarget) {
  SetServerSecret(kTargetSecret);
  auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  auto stub = gd2::peer::PeerService::NewStub(channel);
  auto send_join = [&](const std::string& secret, bool replay_previous) {
    static gd2::peer::JoinRequest previous;
    if (replay_previous) {
      grpc::ClientContext ctx;
      gd2::peer::JoinResponse resp;
      grpc::Status s = stub->Join(&ctx, previous, &resp);
      return std::make_pair(s, resp);
    }
    gd2::peer::JoinHelloRequest hello;
    hello.set_initiator("attacker");
    hello.set_initiator_nonce(join::NewNonce());
    gd2::peer::JoinHelloResponse challenge;
    {
      grpc::ClientContext ctx;
      EXPECT_TRUE(stub->JoinHello(&ctx, hello, &challenge).ok());
    }
    join::Transcript t{"attacker", challenge.peer_id(), hello.initiator_nonce(),
                       challenge.target_nonce()};
    gd2::peer::JoinGrant grant;
    grant.set_cluster_id("cluster-of-the-attacker");
    grant.add_etcd_endpoints("http://127.0.0.9:2379");
    grant.set_auth_secret("attacker-chosen-cluster-secret");
    gd2::peer::JoinRequest req;
    req.set_initiator("attacker");
    req.set_initiator_nonce(t.initiator_nonce);
    req.set_target_nonce(t.target_nonce);
    req.set_initiator_proof(join::InitiatorProof(secret, t));
    auto sealed = join::Seal(secret, t, grant.SerializeAsString());
    EXPECT_TRUE(sealed.ok());
    req.set_sealed_grant(*sealed);
    previous = req;
    grpc::ClientContext ctx;
    gd2::peer::JoinResponse resp;
    grpc::Status s = stub->Join(&ctx, req, &resp);
    return std::make_pair(s, resp);
  };
  auto [forged, forged_resp] = send_join("attacker-chosen-cluster-secret", false);
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::UNAUTHENTICATED) << forged.error_message();
  EXPECT_EQ(handler_.join_calls.load(), 0);
  // The real secret gets through once; the same request replayed does not.
  auto [good, good_resp] = send_join(kTargetSecret, false);
  EXPECT_TRUE(good.ok()) << good.error_message();
  EXPECT_EQ(good_resp.code(), 0) << good_resp.message();
  EXPECT_EQ(handler_.join_calls.load(), 1);
  auto [replayed, replayed_resp] = send_join(kTargetSecret, true);
  EXPECT_EQ(replayed.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(handler_.join_calls.load(), 1);
}

TEST_F(PeerRpcTest, JoinToAStrangerSendsItNothingSecret) {
  testing::RecordingPeer stranger;
  ASSERT_TRUE(stranger.ok());
  JoinCall call = MakeJoin(kSecret);
  auto r = client_.Join(stranger.address(), call, kSecret, Client::In(10s));
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kUnauthenticated));
  std::vector<testing::RecordingPeer::Received> got = stranger.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "JoinHello");
  std::string all = stranger.AllBytes();
  for (const std::string& secret : {std::string(kSecret), call.cluster_id, call.etcd_endpoints[0],
                                    call.store_ca_key, call.store_ca_cert}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;
  }
}

// Step arguments carry brick credentials: on the wire they are sealed with the cluster secret.
TEST_F(PeerRpcTest, StepArgumentsAreSealedOnTheWire) {
  testing::RecordingPeer stranger;
  ASSERT_TRUE(stranger.ok());
  StepCall call = MakeStep();
  call.args["auth"] = {{"password", "brick-password-6f1e"}};
  EXPECT_FALSE(client_.RunStep(stranger.address(), call, Client::In(10s)).ok());
  std::vector<testing::RecordingPeer::Received> got = stranger.received();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].method, "RunStep");
  EXPECT_EQ(stranger.AllBytes().find("brick-password-6f1e"), std::string::npos);
  EXPECT_EQ(stranger.AllBytes().find("/b1"), std::string::npos);
  // The real server opens them.
  ASSERT_OK(client_.RunStep(address_, call, Client::In(10s)));
  EXPECT_EQ(handler_.LastStep().args, call.args);
}

TEST(JoinAuthTest, SealWithSecretOpensOnlyWithTheSameSecretAndLabel) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, join::SealWithSecret("secret-1", "label-a", "args"));
  ASSERT_OK_AND_ASSIGN(std::string plain, join::OpenWithSecret("secret-1", "label-a", sealed));
  EXPECT_EQ(plain, "args");
  EXPECT_THAT(join::OpenWithSecret("secret-2", "label-a", sealed).status(),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(join::OpenWithSecret("secret-1", "label-b", sealed).status(),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(join::OpenWithSecret("secret-1", "label-a", "x").status(),
              StatusIs(StatusCode::kInvalidArgument));
  // Two seals of the same text differ (random salt and IV).
  ASSERT_OK_AND_ASSIGN(std::string again, join::SealWithSecret("secret-1", "label-a", "args"));
  EXPECT_NE(sealed, again);
}

TEST(JoinAuthTest, SealOpensOnlyWithTheSameSecretAndTranscript) {
  join::Transcript t{"peer-a", "peer-b", join::NewNonce(), join::NewNonce()};
  ASSERT_OK_AND_ASSIGN(std::string sealed, join::Seal("secret-1", t, "grant bytes"));
  EXPECT_EQ(sealed.find("grant bytes"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(std::string plain, join::Open("secret-1", t, sealed));
  EXPECT_EQ(plain, "grant bytes");
  EXPECT_THAT(join::Open("secret-2", t, sealed).status(), StatusIs(StatusCode::kUnauthenticated));
  join::Transcript other = t;
  other.target_id = "peer-c";
  EXPECT_THAT(join::Open("secret-1", other, sealed).status(),
              StatusIs(StatusCode::kUnauthenticated));
  std::string tampered = sealed;
  tampered[20] ^= 1;
  EXPECT_THAT(join::Open("secret-1", t, tampered).status(), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(join::Open("secret-1", t, "short").status(), StatusIs(StatusCode::kInvalidArgument));
  // The two proofs differ, so neither side's answer can stand for the other's.
  EXPECT_NE(join::TargetProof("secret-1", t), join::InitiatorProof("secret-1", t));
  EXPECT_FALSE(
      join::ProofMatches(join::TargetProof("secret-1", t), join::TargetProof("secret-2", t)));
}

TEST_F(PeerRpcTest, ConnectionRefusedIsUnavailableAtOnce) {
  // A port nobody listens on: our own server's, after stopping it.
  server_->Stop();
  auto start = Clock::now();
  Status s = client_.RunStep(address_, MakeStep(), Client::In(60s));
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("peer unreachable: address=" + address_));
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(PeerRpcTest, PeerThatNeverAnswersIsUnavailableAfterTheDialTimeout) {
  // A listening socket nobody accepts on: TCP connects, the HTTP/2 handshake never completes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  ClientOptions o = MakeClientOptions(kSecret);
  o.dial_timeout = 300ms;
  Client client(std::move(o));
  auto start = Clock::now();
  Status s = client.RunStep(silent, MakeStep(), Client::In(60s));
  auto took = Clock::now() - start;
  ::close(fd);
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(s.message(), HasSubstr("peer unreachable: address=" + silent));
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
}

TEST_F(PeerRpcTest, SlowHandlerHitsTheCallersDeadline) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  handler_.on_step = [&](const StepCall&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 20s, [&] { return release; });
    return OkStatus();
  };
  // Connect first so the deadline measures the call, not the dial.
  ASSERT_OK(client_.Ping(address_, Client::In(10s)));
  auto start = Clock::now();
  Status s = client_.RunStep(address_, MakeStep(), Client::In(300ms));
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_LT(Clock::now() - start, 5s);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  // The handler uses this test's locals: wait for it (the call may even arrive late).
  server_->Stop();
}

// A step on the other side learns that its caller gave up: it sees StepCall::cancel when the
// caller's deadline passes, and when the call is cancelled under it (as when the caller dies and
// its connection goes).
TEST_F(PeerRpcTest, AStepSeesItsCallerGiveUp) {
  std::mutex mu;
  std::condition_variable cv;
  int told = 0;  // steps that saw their cancel token stopped
  handler_.on_step = [&](const StepCall& call) {
    // As a long brick cleanup does: work until told to stop (at most 20 s).
    auto until = Clock::now() + 20s;
    while (!call.cancel.stop_requested() && Clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard<std::mutex> lock(mu);
    if (call.cancel.stop_requested()) ++told;
    cv.notify_all();
    return Status(StatusCode::kCancelled, "stopped");
  };
  ASSERT_OK(client_.Ping(address_, Client::In(10s)));
  auto wait_told = [&](int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 5s, [&] { return told >= n; });
  };

  // The caller's deadline passes.
  EXPECT_THAT(client_.RunStep(address_, MakeStep(), Client::In(300ms)),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_TRUE(wait_told(1)) << "the step never saw the deadline pass";

  // The call is cancelled under it, before its deadline.
  std::thread canceller;
  grpc::Status cancelled =
      RawRunStep(Bearer(kSecret, kRunStep), nullptr, "{}", [&](grpc::ClientContext& ctx) {
        canceller = std::thread([&ctx] {
          std::this_thread::sleep_for(300ms);
          ctx.TryCancel();
        });
      });
  canceller.join();
  EXPECT_EQ(cancelled.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(wait_told(2)) << "the step never saw its call cancelled";

  // The client's own call, given up through its cancel token (another peer of the step failed).
  std::stop_source stop;
  StepCall call = MakeStep();
  call.cancel = stop.get_token();
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  Status given_up = client_.RunStep(address_, call, Client::In(20s));
  stopper.join();
  EXPECT_THAT(given_up, StatusIs(StatusCode::kCancelled));
  EXPECT_THAT(given_up.message(), HasSubstr("peer call cancelled"));
  EXPECT_TRUE(wait_told(3)) << "the step never saw the client give up";
  server_->Stop();  // the handler uses this test's locals
}

TEST_F(PeerRpcTest, PastDeadlineFailsWithoutCalling) {
  EXPECT_THAT(client_.RunStep(address_, MakeStep(), Clock::now() - 1s),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_EQ(handler_.step_calls.load(), 0);
}

TEST_F(PeerRpcTest, EmptyAddressIsInvalidArgument) {
  EXPECT_THAT(client_.RunStep("", MakeStep(), Client::In(1s)),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(PeerRpcTest, SecondServerOnTheSamePortFails) {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = server_->port();
  o.secret = [] { return std::string(kSecret); };
  TestHandler other_handler;
  Server second(std::move(o), other_handler);
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable));
}

TEST_F(PeerRpcTest, ServerRestartOnNewPortIsReachableThroughTheSameClient) {
  ASSERT_OK(client_.Ping(address_, Client::In(10s)));
  server_->Stop();
  EXPECT_FALSE(client_.Ping(address_, Client::In(10s)).ok());
  StartServer();
  EXPECT_OK(client_.Ping(address_, Client::In(10s)));
}

TEST_F(PeerRpcTest, RemoteStepRunnerResolvesThePeerAndSendsTheTxnId) {
  RemoteStepRunner runner(
      client_,
      [this](const std::string& peer_id) -> StatusOr<std::string> {
        if (peer_id == "peer-b") return address_;
        return NotFoundError("peer not found: peer_id=" + peer_id);
      },
      "peer-a", std::chrono::seconds(10));
  txn::StepContext ctx;
  ctx.txn_id = "txn-9";
  txn::Step step{"test.step", {{"k", "v"}}, {"peer-b"}};
  ASSERT_OK(runner.Run("peer-b", true, ctx, step));
  StepCall got = handler_.LastStep();
  EXPECT_EQ(got.txn_id, "txn-9");
  EXPECT_EQ(got.step, "test.step");
  EXPECT_EQ(got.args, step.args);
  EXPECT_TRUE(got.undo);
  EXPECT_EQ(got.initiator, "peer-a");

  Status s = runner.Run("peer-x", false, ctx, step);
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(s.message(), HasSubstr("peer_id=peer-x"));
}

TEST(PeerRpcServerTest, StartNeedsASecretFunction) {
  TestHandler handler;
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  Server server(std::move(o), handler);
  EXPECT_THAT(server.Start(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(PeerRpcServerTest, StartAndStopAreIdempotent) {
  TestHandler handler;
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.secret = [] { return std::string(kSecret); };
  Server server(std::move(o), handler);
  ASSERT_OK(server.Start());
  EXPECT_THAT(server.Start(), StatusIs(StatusCode::kFailedPrecondition));
  server.Stop();
  server.Stop();
  EXPECT_EQ(server.port(), 0);
}

TEST(PeerRpcTlsConfigTest, MissingFilesAreReported) {
  TestHandler handler;
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.secret = [] { return std::string(kSecret); };
  o.tls.cert_file = "/nonexistent/cert.pem";
  o.tls.key_file = "/nonexistent/key.pem";
  Server server(std::move(o), handler);
  EXPECT_FALSE(server.Start().ok());

  ClientOptions c = MakeClientOptions(kSecret);
  c.tls.cert_file = "/nonexistent/cert.pem";  // a client certificate needs a CA
  Client client(std::move(c));
  EXPECT_THAT(client.Ping("127.0.0.1:1", Client::In(1s)), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace gd2::peer_rpc
