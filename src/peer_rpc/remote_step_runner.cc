#include "peer_rpc/remote_step_runner.h"

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
  StatusOr<std::string> address = resolve_(peer_id);
  if (!address.ok()) return address.status().WithContext("peer address of " + peer_id);
  StepCall call;
  call.txn_id = ctx.txn_id;
  call.step = step.name;
  call.args = step.args;
  call.undo = undo;
  call.initiator = self_;
  // TODO(peer_rpc): send the ReST req_id once txn::StepContext carries it.
  return client_.RunStep(*address, call, Client::In(step_timeout_));
}

}  // namespace gd2::peer_rpc
