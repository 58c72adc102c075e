// Internal to src/peer_rpc: what client.cc and server.cc share at the gRPC seam: method names,
// metadata keys, status and deadline conversions. Pulls in gRPC; never include it elsewhere.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "peer_rpc/messages.h"

namespace gd2::peer_rpc::internal {

// Full gRPC method names; the JWT's path claim binds a token to one of them.
inline constexpr std::string_view kRunStepMethod = "/gd2.peer.PeerService/RunStep";
inline constexpr std::string_view kJoinHelloMethod = "/gd2.peer.PeerService/JoinHello";
inline constexpr std::string_view kJoinMethod = "/gd2.peer.PeerService/Join";
inline constexpr std::string_view kLeaveMethod = "/gd2.peer.PeerService/Leave";
inline constexpr std::string_view kPingMethod = "/gd2.peer.PeerService/Ping";
inline constexpr std::string_view kQueryMethod = "/gd2.peer.PeerService/Query";
// The JWT method claim for every peer RPC.
inline constexpr std::string_view kJwtMethod = "RPC";

// The join::SealWithSecret label of RunStepRequest.sealed_args.
inline constexpr std::string_view kStepArgsLabel = "gd2 step args v1";

// Metadata keys (gRPC requires lower case).
inline constexpr std::string_view kAuthorizationKey = "authorization";
inline constexpr std::string_view kRequestIdKey = "x-request-id";

// The bytes a call's token signs as its body (the JWT bdh claim): the request serialized
// deterministically, so client and server compute the same bytes from the same message.
std::string SignedBytes(const google::protobuf::Message& request);

// A code received in a response field, clamped to the StatusCode range (kUnknown otherwise).
StatusCode CodeFromWire(int32_t code);

// gd2 Status -> gRPC status with the same code (the numbering is shared) and message.
grpc::Status ToGrpc(const Status& status);

// A failed gRPC call of `method` to `address` -> gd2 Status: UNAVAILABLE becomes kUnavailable
// "peer unreachable: address=...", DEADLINE_EXCEEDED kDeadlineExceeded "peer call timed out";
// every other code keeps its value and gets the address and method in the message.
Status FromGrpc(const grpc::Status& status, std::string_view method, std::string_view address);

// steady_clock deadline <-> the system_clock deadlines gRPC uses. Far-future values saturate.
std::chrono::system_clock::time_point ToSystemDeadline(Deadline deadline);
Deadline FromSystemDeadline(std::chrono::system_clock::time_point deadline);

// "host:port" of a listening address; brackets IPv6 literals.
std::string JoinHostPort(std::string_view host, int port);

// grpc::SslCredentialsOptions / SslServerCredentialsOptions helpers read files; see TlsOptions.
StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const TlsOptions& tls);
StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsOptions& tls);

// Times one call into gd2_peer_rpc_duration_seconds{side,method} and counts failures in
// gd2_peer_rpc_errors_total{side,method,code}.
void RecordCall(std::string_view side, std::string_view method, const Status& result,
                double seconds);

}  // namespace gd2::peer_rpc::internal
