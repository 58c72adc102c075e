// Steps the daemon core registers (daemon/) and plugins put in their transactions.
#pragma once

#include "txn/step.h"

namespace gd2::txn {

// Makes a client peer an etcd member of the embedded store (daemon::PeerHandler::BecomeMember).
inline constexpr StepId<NoArgs> kBecomeMemberStep{"store.become-member"};

}  // namespace gd2::txn
