// The progress record of a transaction (txn/<id> in the store) and the strict reading of it.
// Records are read back from the store, which other processes can write: ParseRecord treats
// them as untrusted input, never throws, and accepts only what Engine itself writes.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gd2::txn {

// Limits on a record read back (the engine never writes more).
inline constexpr size_t kMaxRecordBytes = 1 << 20;
inline constexpr size_t kMaxRecordSteps = 1024;
inline constexpr size_t kMaxStepPeers = 1024;
inline constexpr size_t kMaxRecordLocks = 64;

struct RecordStep {
  std::string name;  // "volume.prepare-bricks": [a-z0-9.-]+, at most 64 characters
  nlohmann::json args;  // an object; each step decodes and validates its own arguments
  std::vector<std::string> peers;  // canonical UUIDs
  // Arguments of particular peers (each one of `peers`; objects), used instead of `args` there.
  std::map<std::string, nlohmann::json> peer_args = {};
};

struct Record {
  std::string id;  // the transaction id: a store key segment of [a-zA-Z0-9_-]
  std::string initiator;  // peer id (canonical UUID)
  std::string description;
  std::vector<std::string> locks;  // lock names: [a-zA-Z0-9._-]+
  std::vector<RecordStep> steps;
  size_t started = 0;  // steps begun, at most steps.size()
  std::vector<std::string> undo_peers;  // peer ids; set after an undo could not reach them
  // The transaction has committed and `steps` are its finish steps (Commit::finish): they are
  // run, never undone, and `started` is their count.
  bool committed = false;
  std::vector<std::string> finish_peers;  // peer ids; set after a finish step failed there

  // The peers that still owe their part: undo_peers, or finish_peers once committed. Empty:
  // the part of every peer is still to do (whoever resolves the record does it all).
  const std::vector<std::string>& owed_peers() const {
    return committed ? finish_peers : undo_peers;
  }
};

// kInvalidArgument unless `id` is a canonical UUID (what every peer id is).
Status ValidatePeerId(std::string_view id);
// kInvalidArgument unless `name` is a step name: 1..64 of [a-z0-9.-].
Status ValidateStepName(std::string_view name);
// kInvalidArgument unless `id` is a transaction id: 1..64 of [a-zA-Z0-9_-].
Status ValidateTxnId(std::string_view id);
// kInvalidArgument unless `name` is a lock name: 1..128 of [a-zA-Z0-9._-], not "." or "..".
Status ValidateLockName(std::string_view name);

// Parses and validates a record. kInvalidArgument naming the field for anything the engine
// would not have written: not JSON, wrong types, unknown-shaped ids, too many steps or peers,
// peer arguments for a peer the step does not run on, `started` out of range, undo_peers in a
// committed record or finish_peers in one that is not.
StatusOr<Record> ParseRecord(std::string_view text);
// The record as the engine stores it; ParseRecord(SerializeRecord(r)) gives r back.
std::string SerializeRecord(const Record& r);

}  // namespace gd2::txn
