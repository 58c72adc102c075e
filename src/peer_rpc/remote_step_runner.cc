#include "peer_rpc/remote_step_runner.h"

#include <algorithm>

namespace gd2::peer_rpc {

RemoteStepRunner::RemoteStepRunner(Client& client, AddressResolver resolve,
                                   std::string self_peer_id,
                                   std::chrono::milliseconds step_timeout)
    : client_(client),
      resolve_(std::move(resolve)),
      self_(std::move(self_peer_id)),
      step_timeout_(step_timeout) {}

Status RemoteStepRunner::Run(const std::string& peer_id, bool undo, txn::StepContext& ctx,
                             const txn::Step& step) {
  if (ctx.cancel.stop_requested()) {
    return Status(StatusCode::kCancelled,
                  "step cancelled before it was sent: step=" + step.name + " peer=" + peer_id);
  }
  StatusOr<std::string> address = resolve_(peer_id);
  if (!address.ok()) return address.status().WithContext("peer address of " + peer_id);
  StepCall call;
  call.txn_id = ctx.txn_id;
  call.step = step.name;
  call.args = step.ArgsFor(peer_id);
  call.undo = undo;
  call.initiator = self_;
  call.req_id = ctx.req_id;
  // Another peer of the step failed: the call is cancelled and the peer's step told to stop.
  // The peer runs the undo that follows only once this do has ended (StepRegistry::Run).
  call.cancel = ctx.cancel;
  // The peer sees this as its gRPC deadline and passes it on to the step (StepCall::deadline).
  return client_.RunStep(*address, call, std::min(ctx.deadline, Client::In(step_timeout_)));
}

}  // namespace gd2::peer_rpc
