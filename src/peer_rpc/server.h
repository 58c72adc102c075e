// peer_rpc::Server serves the peer RPC (gd2.peer.PeerService, proto/peer/peer.proto) on the
// peer address: other glusterd2 daemons run transaction steps here, join this node to their
// cluster, tell it to leave, ping it, and read the heal info of its bricks. The daemon
// implements Handler (Query is answered by ServerOptions::queries); gRPC stays in server.cc.
//
// Trust model (docs/trust-model.md has the whole picture)
//   * RunStep, Leave, Ping and Query must carry "authorization: Bearer <jwt>": HS256 signed with
//   the
//     CLUSTER SECRET (ServerOptions::secret, read on every call so it may change after a join),
//     issuer "glustercli", method "RPC", path = the full gRPC method name
//     ("/gd2.peer.PeerService/RunStep"), bdh = SHA-256 of the request serialized
//     deterministically (internal::SignedBytes), lifetime at most jwt::kMaxLifetimeSeconds. A
//     missing, malformed, expired or wrongly signed token, or one for another request, is
//     refused with kUnauthenticated before the Handler sees the call.
//   * JoinHello and Join carry no token: they are the authenticated join of
//     peer_rpc/join_auth.h. JoinHello (open to anyone) hands out a one-time challenge and this
//     node's proof of its own secret; Join must prove the initiator knows this node's secret
//     for that challenge, and only then is the sealed grant opened and Handler::Join called.
//     So a node joins only a cluster whose initiator holds its secret, and an initiator sends
//     the cluster secret, store endpoints and CA only to a node that proved it holds that
//     secret. Handler::Join additionally refuses a node that is not a fresh single-node cluster.
//   * Tokens prove knowledge of the secret; they do not hide the request. What is secret is
//     sealed whatever the transport: the join grant (under the joining node's secret) and step
//     arguments, which hold brick credentials (RunStepRequest.sealed_args, under the cluster
//     secret). Ids, step names and results cross in clear without TLS. Mutual TLS
//     (ServerOptions::tls with a CA) encrypts everything and admits only certificate holders.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "peer_rpc/messages.h"
#include "peer_rpc/query.h"

namespace gd2::peer_rpc {

// Implemented by the daemon. Called on gRPC server threads, possibly concurrently: every method
// must be thread-safe. A returned Status travels back to the caller with its code and message.
class Handler {
 public:
  virtual ~Handler() = default;
  // Runs the step's do or undo action through the local StepRegistry (see RunLocalStep in
  // peer_rpc/local_step.h). Should give up when call.deadline passes.
  virtual Status RunStep(const StepCall& call) = 0;
  // Joins this node to the caller's cluster, adopting call.auth_secret (and the CA, if any).
  // Called only after the caller proved it knows this node's secret. Must return
  // kFailedPrecondition "peer already belongs to a cluster" unless this node is a fresh
  // single-node cluster.
  virtual StatusOr<JoinResult> Join(const JoinCall& call) = 0;
  // This node was removed from call.cluster_id: fall back to a fresh single-node cluster.
  // kFailedPrecondition if call.cluster_id is not this node's cluster.
  virtual Status Leave(const LeaveCall& call) = 0;
  // Who this node is right now (answers Ping).
  virtual PeerIdentity Identity() = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // IPv6 literals without brackets; "0.0.0.0": every interface
  int port = kDefaultPort;       // 0: the OS picks a free port, see Server::port()
  // The current secret of this node (its cluster's, or its own while it is alone), called on
  // gRPC threads for every call (so it must be thread-safe). Required; an empty secret refuses
  // every authenticated call and every join.
  std::function<std::string()> secret;
  TlsOptions tls;
  // Answers Query (what plugins registered through plugins::Registrar::ServeQuery); must
  // outlive the server. Null: every query answers kUnimplemented "no query <name> on this peer".
  const QueryRegistry* queries = nullptr;
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
