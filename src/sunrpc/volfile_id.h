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
//   snapshot client        "/snaps/<snap>/<vol>", also with ".tcp"/".rdma"  e.g. "/snaps/s1/rep3"
//                          (<vol> is the parent volume or the snapshot volume, as in glusterd)
//   snapshot brick         "/snaps/<snap>/<snapvol>/<snapvol>.<host>.<dashed brick path>" (as
//                          glusterd starts snapshot bricks) or "/snaps/<snap>/<snapvol>.<host>.
//                          <dashed brick path>" (older glusterd)
// The volume is the part before the first "." (after the daemon or snapshot prefix). Volume and
// snapshot names consist of [A-Za-z0-9_-]. Every id is at most kMaxVolfileIdLength bytes of
// [A-Za-z0-9._:+@/-], never contains "..", and has no "/" other than the optional leading one,
// the daemon separator and the snapshot separators, so no id can name a path outside the
// provider's own namespace.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::sunrpc {

inline constexpr size_t kMaxVolfileIdLength = 1024;

// The daemons a "<daemon>/<vol>" id may name.
inline constexpr std::array<std::string_view, 5> kVolfileDaemons = {"shd", "rebalance", "snapd",
                                                                    "gfproxyd", "gfproxy-client"};

enum class VolfileKind { kClient, kBrick, kDaemon, kSnapshotClient, kSnapshotBrick };

// "client", "brick", "daemon", "snapshot-client", "snapshot-brick".
std::string_view VolfileKindName(VolfileKind kind);

// True for the kinds any client may fetch (kClient, kSnapshotClient). The others carry the
// bricks' credentials and are served only to the daemon's own processes.
bool IsClientVolfileKind(VolfileKind kind);

struct VolfileId {
  VolfileKind kind = VolfileKind::kClient;
  std::string volume;      // "rep3"
  std::string daemon;      // kDaemon only: "shd", "rebalance", ...
  std::string snapshot;    // kSnapshotClient, kSnapshotBrick only: "s1"
  std::string brick_part;  // kBrick, kSnapshotBrick: what follows "<vol>.", "vm.bricks-d1-rep3"
  std::string transport;   // kClient, kSnapshotClient: "", "tcp" or "rdma"
};

// Validates and parses an id. Returns kInvalidArgument naming the problem for anything outside
// the forms above. Pure function.
StatusOr<VolfileId> ParseVolfileId(std::string_view id);

// What a change notification names for the id's volfiles: the volume ("rep3"), or for snapshot
// ids "snaps/<snap>" (no volume name contains "/", so a volume's change never reaches a
// snapshot's clients). Pure function.
std::string VolfileGroupOf(const VolfileId& id);

// VolfileGroupOf(ParseVolfileId(id)), or "" when the id is invalid.
std::string VolumeOfVolfileId(std::string_view id);

}  // namespace gd2::sunrpc
