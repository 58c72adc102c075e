// Volfile ids: the GETSPEC `key` (a process's --volfile-id). This validates ids from the network
// before any provider sees them and maps each id to the volume it belongs to, which decides
// which connections get a FETCHSPEC when a volume's volfiles change.
//
// Accepted forms (one optional leading "/" is allowed everywhere and ignored):
//   client (FUSE, gfapi)   "/<vol>", "<vol>", "<vol>.tcp", "<vol>.rdma"   e.g. "/rep3"
//   brick                  "<vol>.<host>.<dashed brick path>"             e.g.
//   "rep3.vm.bricks-d1-rep3"
//                          (dashed path: brick path without its leading "/", other "/" -> "-")
//   per-volume daemon      "<daemon>/<vol>" with daemon one of shd, rebalance, snapd, gfproxyd,
//                          gfproxy-client                                 e.g. "shd/rep3"
// The volume is the part before the first "." (after the daemon prefix). Volume names consist of
// [A-Za-z0-9_-]. Every id is at most kMaxVolfileIdLength bytes of [A-Za-z0-9._:+@/-], never
// contains "..", and has no "/" other than the optional leading one and the daemon separator, so
// no id can name a path outside the provider's own namespace.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::sunrpc {

inline constexpr size_t kMaxVolfileIdLength = 1024;

enum class VolfileKind { kClient, kBrick, kDaemon };

struct VolfileId {
  VolfileKind kind = VolfileKind::kClient;
  std::string volume;      // "rep3"
  std::string daemon;      // kDaemon only: "shd", "rebalance", ...
  std::string brick_part;  // kBrick only: what follows "<vol>.", e.g. "vm.bricks-d1-rep3"
  std::string transport;   // kClient only: "", "tcp" or "rdma"
};

// Validates and parses an id. Returns kInvalidArgument naming the problem for anything outside
// the forms above. Pure function.
StatusOr<VolfileId> ParseVolfileId(std::string_view id);

// The volume an id belongs to, or "" when the id is invalid.
std::string VolumeOfVolfileId(std::string_view id);

}  // namespace gd2::sunrpc
