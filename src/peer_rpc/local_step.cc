#include "peer_rpc/local_step.h"

#include <chrono>

#include "txn/record.h"

namespace gd2::peer_rpc {

Status RunLocalStep(const txn::StepRegistry& registry, const StepCall& call,
                    const log::Logger& log) {
  if (!registry.Has(call.step)) {
    return UnimplementedError("unknown transaction step on this peer: step=" +
                              call.step.substr(0, 64));
  }
  // The id keys the turns of the step's parts on this peer (StepRegistry::Run), kept for
  // minutes: the same allowlist as in transaction records.
  if (Status id = txn::ValidateTxnId(call.txn_id); !id.ok()) {
    return InvalidArgumentError("step " + call.step + ": " + id.message());
  }
  if (call.deadline <= std::chrono::steady_clock::now()) {
    return DeadlineExceededError("step deadline passed before it started: step=" + call.step);
  }
  txn::StepContext ctx;
  ctx.txn_id = call.txn_id;
  ctx.req_id = call.req_id;
  ctx.deadline = call.deadline;
  ctx.cancel = call.cancel;
  ctx.log = log.With({{"txn_id", call.txn_id}, {"initiator", call.initiator}});
  if (!call.req_id.empty()) ctx.log = ctx.log.With({{"req_id", call.req_id}});
  // The registry decodes the arguments and catches what a step throws: arguments come from
  // another process, and nothing may take the daemon down from a gRPC thread.
  return registry.Run(call.step, call.undo, ctx, call.args);
}

}  // namespace gd2::peer_rpc
