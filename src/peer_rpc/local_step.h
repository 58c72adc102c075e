// The receiving side of a remote step: runs a StepCall through this node's StepRegistry. The
// daemon's Handler::RunStep is one call to RunLocalStep.
#pragma once

#include "common/log.h"
#include "common/status.h"
#include "peer_rpc/messages.h"
#include "txn/engine.h"

namespace gd2::peer_rpc {

// Finds call.step in `registry` and runs its do or undo action with a StepContext carrying
// call.txn_id and a logger `log` extended with txn_id, req_id and the initiator. A step without
// the requested action succeeds. Returns the action's status; kUnimplemented for a step this
// node does not know (a peer running another version); kDeadlineExceeded if call.deadline has
// already passed. Thread-safe if the actions are.
Status RunLocalStep(const txn::StepRegistry& registry, const StepCall& call,
                    const log::Logger& log);

}  // namespace gd2::peer_rpc
