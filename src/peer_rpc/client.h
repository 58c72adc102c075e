// peer_rpc::Client calls other glusterd2 daemons' peer RPC (see peer_rpc/server.h for the
// service and its trust model). One cached gRPC channel per peer address; every call is signed
// with the current cluster secret and bounded by a deadline. gRPC stays in client.cc.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "peer_rpc/messages.h"

namespace gd2::peer_rpc {

struct ClientOptions {
  // The current cluster secret, read on every call from the calling thread (it changes when
  // this node joins or leaves a cluster), so it must be thread-safe. Required.
  std::function<std::string()> secret;
  TlsOptions tls;
  // How long a call waits for a connection to a peer it is not connected to yet, within the
  // call's own deadline. A peer that refuses connections fails at once.
  std::chrono::milliseconds dial_timeout{std::chrono::seconds(5)};
  // Lifetime of the per-call tokens.
  std::chrono::seconds token_ttl{30};
};

// Errors every call may return, besides the ones listed per method:
//   kUnavailable "peer unreachable: address=..." (connection refused, dial timeout, peer gone),
//   kDeadlineExceeded "peer call timed out: ..." (the deadline passed),
//   kUnauthenticated (the peer rejected our token: wrong cluster secret or clock skew),
//   kInvalidArgument for an empty address or a bad TLS setup.
// Thread-safe; calls to different peers and to the same peer run concurrently.
class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs call.step on the peer at `address` ("host:port"). Returns the step's own status as the
  // remote Handler returned it (code and message preserved). Once call.cancel is stopped the
  // call is cancelled (kCancelled) and the peer's step sees its own cancel.
  Status RunStep(const std::string& address, const StepCall& call, Deadline deadline);
  // Asks a fresh peer to join (the exchange of peer_rpc/join_auth.h). `target_secret` is the
  // JOINING peer's own secret (its <workdir>/auth, or the shared cluster secret it was started
  // with). Nothing of `call` but initiator and req_id leaves this node unless the peer first
  // proves it knows target_secret; the rest travels sealed. Errors: kUnauthenticated "... did
  // not prove it knows the peer secret ...; nothing was sent to it" (wrong secret, or not a
  // peer), kUnauthenticated from the peer when it refuses our proof, the remote Handler's
  // error (typically kFailedPrecondition "peer already belongs to a cluster"),
  // kInvalidArgument for an empty target_secret.
  StatusOr<JoinResult> Join(const std::string& address, const JoinCall& call,
                            std::string_view target_secret, Deadline deadline);
  Status Leave(const std::string& address, const LeaveCall& call, Deadline deadline);
  StatusOr<PeerIdentity> Ping(const std::string& address, Deadline deadline);
  // Asks the peer the query call.name (peer_rpc/query.h; use Ask for typed queries) and returns
  // its answer as JSON text; the serving peer's own error keeps its code and message
  // (kUnimplemented when it serves no such query).
  StatusOr<std::string> Query(const std::string& address, const QueryCall& call, Deadline deadline);

  // Drops the cached channel of `address` (for example after the peer left the cluster).
  void Forget(const std::string& address);

  // Deadline helper: now + timeout.
  static Deadline In(std::chrono::milliseconds timeout) {
    return std::chrono::steady_clock::now() + timeout;
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gd2::peer_rpc
