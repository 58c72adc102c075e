// The receiving side of a remote step: runs a StepCall through this node's StepRegistry. The
// daemon's Handler::RunStep is one call to RunLocalStep.
#pragma once

#include "common/log.h"
#include "common/status.h"
#include "peer_rpc/messages.h"
#include "txn/engine.h"

namespace gd2::peer_rpc {

// Runs call.step's do or undo action through `registry` (txn::StepRegistry::Run, the same
// guarded entry point the engine uses for local steps) with a StepContext carrying call.txn_id,
// call.req_id, call.deadline, call.cancel and a logger `log` extended with txn_id, req_id and the
// initiator. A step without the requested action succeeds. Returns the action's status;
// kUnimplemented for a step this node does not know (a peer running another version);
// kInvalidArgument "invalid transaction id" for a txn_id outside txn::ValidateTxnId;
// kDeadlineExceeded if call.deadline has already passed; txn::BadArgumentsError for arguments that
// do not decode; kInternal naming the step if its action throws. Thread-safe if the actions are.
Status RunLocalStep(const txn::StepRegistry& registry, const StepCall& call,
                    const log::Logger& log);

}  // namespace gd2::peer_rpc
