#include "peer_rpc/local_step.h"

#include <chrono>
#include <exception>

namespace gd2::peer_rpc {

Status RunLocalStep(const txn::StepRegistry& registry, const StepCall& call,
                    const log::Logger& log) {
  const txn::StepRegistry::Entry* entry = registry.Find(call.step);
  if (entry == nullptr) {
    return UnimplementedError("unknown transaction step on this peer: step=" + call.step);
  }
  if (call.deadline <= std::chrono::steady_clock::now()) {
    return DeadlineExceededError("step deadline passed before it started: step=" + call.step);
  }
  const txn::StepFunc& fn = call.undo ? entry->undo_fn : entry->do_fn;
  if (!fn) return OkStatus();
  txn::StepContext ctx;
  ctx.txn_id = call.txn_id;
  ctx.log = log.With({{"txn_id", call.txn_id}, {"initiator", call.initiator}});
  if (!call.req_id.empty()) ctx.log = ctx.log.With({{"req_id", call.req_id}});
  // Arguments come from another process: a step that reads them with json::get must not take
  // the daemon down with an exception on a gRPC thread.
  try {
    return fn(ctx, call.args);
  } catch (const std::exception& e) {
    return txn::BadArgumentsError(call.step, e.what());
  }
}

}  // namespace gd2::peer_rpc
