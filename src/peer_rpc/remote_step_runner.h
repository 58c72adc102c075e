// peer_rpc::RemoteStepRunner is the txn::Engine's StepRunner for steps on other peers: it looks
// up the peer's address and runs the step there through peer_rpc::Client.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/status.h"
#include "peer_rpc/client.h"
#include "txn/engine.h"

namespace gd2::peer_rpc {

// Returns the peer-RPC address ("host:port") of a peer, e.g. the first of the peer record's
// peer-addresses. kNotFound for an unknown peer.
using AddressResolver = std::function<StatusOr<std::string>(const std::string& peer_id)>;

class RemoteStepRunner : public txn::StepRunner {
 public:
  static constexpr std::chrono::milliseconds kDefaultStepTimeout{std::chrono::minutes(2)};

  // `client` must outlive the runner. `self_peer_id` is sent as the initiator.
  RemoteStepRunner(Client& client, AddressResolver resolve, std::string self_peer_id,
                   std::chrono::milliseconds step_timeout = kDefaultStepTimeout);

  // Runs (undo = false) or undoes `step` on `peer_id` with ctx.txn_id and ctx.req_id, waiting
  // until ctx.deadline and at most the step timeout (that deadline travels as the call's gRPC
  // deadline, and the peer's step gets it as StepContext::deadline). Returns the remote step's
  // status unchanged, the resolver's error, kCancelled if ctx.cancel was requested before the
  // call was sent or during it (the call is cancelled, and the peer's step told to stop), or a
  // Client error (kUnavailable, kDeadlineExceeded, kUnauthenticated).
  // Thread-safe; the engine calls it for several peers at once.
  Status Run(const std::string& peer_id, bool undo, txn::StepContext& ctx,
             const txn::Step& step) override;

 private:
  Client& client_;
  AddressResolver resolve_;
  std::string self_;
  std::chrono::milliseconds step_timeout_;
};

}  // namespace gd2::peer_rpc
