// peer_rpc::Server serves the peer RPC (gd2.peer.PeerService, proto/peer/peer.proto) on the
// peer address: other glusterd2 daemons run transaction steps here, join this node to their
// cluster, tell it to leave, and ping it. The daemon implements Handler; gRPC stays in server.cc.
//
// Trust model
//   * RunStep, Leave and Ping must carry "authorization: Bearer <jwt>": HS256 signed with the
//     CLUSTER SECRET (ServerOptions::secret, read on every call so it may change after a join),
//     issuer "glustercli", method "RPC", path = the full gRPC method name
//     ("/gd2.peer.PeerService/RunStep"), short expiry. A missing, malformed, expired or wrongly
//     signed token is refused with kUnauthenticated before the Handler sees the call.
//   * Join cannot be checked that way: the target is a fresh node that does not know the
//     cluster secret yet; learning it is the point of the call. Its token must be signed with
//     the secret carried in the request itself (this only proves the request is consistent,
//     not who sent it). The real check is Handler::Join: it accepts only while this node is a
//     fresh single-node cluster (no other peers, no volumes) and otherwise returns
//     kFailedPrecondition "peer already belongs to a cluster". So anyone who can reach the peer
//     port of a FRESH node can enroll it into their cluster (as with GlusterD2's peer probe),
//     and once it is enrolled it obeys only holders of the cluster secret.
//   * Tokens prove knowledge of the secret, not confidentiality: without TLS the secret sent in
//     Join and every step's arguments cross the network in clear text. A real deployment runs
//     the peer port with mutual TLS (ServerOptions::tls with a CA), which also closes the
//     fresh-node enrollment window to holders of a certificate from that CA.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "peer_rpc/messages.h"

namespace gd2::peer_rpc {

// Implemented by the daemon. Called on gRPC server threads, possibly concurrently: every method
// must be thread-safe. A returned Status travels back to the caller with its code and message.
class Handler {
 public:
  virtual ~Handler() = default;
  // Runs the step's do or undo action through the local StepRegistry (see RunLocalStep in
  // peer_rpc/local_step.h). Should give up when call.deadline passes.
  virtual Status RunStep(const StepCall& call) = 0;
  // Joins this node to the caller's cluster, adopting call.auth_secret. Must return
  // kFailedPrecondition "peer already belongs to a cluster" unless this node is a fresh
  // single-node cluster; that check is the whole authentication of Join.
  virtual StatusOr<JoinResult> Join(const JoinCall& call) = 0;
  // This node was removed from call.cluster_id: fall back to a fresh single-node cluster.
  // kFailedPrecondition if call.cluster_id is not this node's cluster.
  virtual Status Leave(const LeaveCall& call) = 0;
  // Who this node is right now (answers Ping).
  virtual PeerIdentity Identity() = 0;
};

struct ServerOptions {
  std::string host = "0.0.0.0";  // IPv6 literals without brackets
  int port = kDefaultPort;       // 0: the OS picks a free port, see Server::port()
  // The current cluster secret, called on gRPC threads for every call (so it must be
  // thread-safe). Required; an empty secret refuses every authenticated call.
  std::function<std::string()> secret;
  TlsOptions tls;
  // How long Stop() lets in-flight calls finish before cancelling them.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(5)};
};

class Server {
 public:
  // `handler` must outlive the server.
  Server(ServerOptions options, Handler& handler);
  // Stops the server.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. kUnavailable if the address cannot be bound, kInvalidArgument for
  // a missing secret function or unreadable TLS files, kFailedPrecondition if already started.
  Status Start();
  // Refuses new calls, lets in-flight ones finish for shutdown_grace, then cancels them and
  // waits for the handlers to return. Idempotent.
  void Stop();
  // The bound port (after Start), 0 before.
  int port() const;

 private:
  class Service;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gd2::peer_rpc
