// Setting aside store records that cannot be used: a record whose content fails to decode or
// validate (damaged or forged) is moved to quarantine/<key below the cluster prefix>, logged
// with its key and counted, so that no pass retries it in a loop and an admin can inspect it.
#pragma once

#include <string>
#include <string_view>

#include "common/log.h"
#include "common/status.h"
#include "store/keys.h"
#include "store/store.h"

namespace gd2::txn {

// "<prefix>quarantine/<key without prefix>" for a key under keys.Prefix(); kInvalidArgument
// for a key outside the cluster's key space or already under quarantine/.
StatusOr<std::string> QuarantineKey(const store::KeySpace& keys, std::string_view key);

// Moves `seen` to its quarantine key in one store transaction, if the record is still at the
// revision seen (a record rewritten meanwhile is left for the next pass). The quarantined value
// is a JSON object {"key", "reason", "value"}. `kind` labels the metric
// gd2_store_records_quarantined_total ("txn", "pending", ...). Returns true if moved.
StatusOr<bool> Quarantine(store::Store& store, const store::KeySpace& keys,
                          const store::KeyValue& seen, std::string_view kind,
                          const Status& reason, const log::Logger& log);

}  // namespace gd2::txn
