#include "support/recording_peer.h"

#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>

#include "peer/peer.grpc.pb.h"

namespace gd2::testing {
namespace {

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

}  // namespace

struct RecordingPeer::Impl final : public gd2::peer::PeerService::Service {
  void Record(grpc::ServerContext* ctx, const char* method, const google::protobuf::Message& m) {
    Received r;
    r.method = method;
    for (const auto& [k, v] : ctx->client_metadata()) {
      r.metadata += std::string(k.data(), k.size()) + ": " + std::string(v.data(), v.size()) + "\n";
    }
    r.bytes = m.SerializeAsString();
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(std::move(r));
  }

  grpc::Status JoinHello(grpc::ServerContext* ctx, const gd2::peer::JoinHelloRequest* req,
                         gd2::peer::JoinHelloResponse* resp) override {
    Record(ctx, "JoinHello", *req);
    resp->set_peer_id("recording-peer");
    resp->set_target_nonce(RandomBytes(32));
    resp->set_target_proof(RandomBytes(32));
    return grpc::Status::OK;
  }
  grpc::Status Join(grpc::ServerContext* ctx, const gd2::peer::JoinRequest* req,
                    gd2::peer::JoinResponse* resp) override {
    Record(ctx, "Join", *req);
    resp->set_peer_id("recording-peer");
    return grpc::Status::OK;
  }
  grpc::Status RunStep(grpc::ServerContext* ctx, const gd2::peer::RunStepRequest* req,
                       gd2::peer::RunStepResponse*) override {
    Record(ctx, "RunStep", *req);
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "recording peer");
  }
  grpc::Status Leave(grpc::ServerContext* ctx, const gd2::peer::LeaveRequest* req,
                     gd2::peer::LeaveResponse*) override {
    Record(ctx, "Leave", *req);
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "recording peer");
  }
  grpc::Status Ping(grpc::ServerContext* ctx, const gd2::peer::PingRequest* req,
                    gd2::peer::PingResponse*) override {
    Record(ctx, "Ping", *req);
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "recording peer");
  }

  std::string host;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  mutable std::mutex mu;
  std::vector<Received> log;
};

RecordingPeer::RecordingPeer(const std::string& host, int port) : impl_(std::make_unique<Impl>()) {
  grpc::ServerBuilder b;
  int selected = 0;
  b.AddListeningPort(host + ":" + std::to_string(port), grpc::InsecureServerCredentials(),
                     &selected);
  b.RegisterService(impl_.get());
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  impl_->server = b.BuildAndStart();
  impl_->host = host;
  impl_->port = impl_->server ? selected : 0;
}

RecordingPeer::~RecordingPeer() {
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->server->Wait();
  }
}

bool RecordingPeer::ok() const { return impl_->server != nullptr && impl_->port > 0; }

std::string RecordingPeer::address() const {
  return impl_->host + ":" + std::to_string(impl_->port);
}

std::vector<RecordingPeer::Received> RecordingPeer::received() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->log;
}

std::string RecordingPeer::AllBytes() const {
  std::string all;
  for (const auto& r : received()) all += r.method + "\n" + r.metadata + r.bytes + "\n";
  return all;
}

}  // namespace gd2::testing
