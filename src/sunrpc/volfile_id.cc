#include "sunrpc/volfile_id.h"

#include "common/volfile_text.h"

namespace gd2::sunrpc {

namespace {

// The brick path characters plus '/', so that every brick id a valid brick path produces parses.
bool IsSafeChar(char c) { return IsBrickPathChar(c) || c == '/'; }

bool IsVolumeChar(char c) { return IsVolumeNameChar(c); }

Status Invalid(std::string_view why, std::string_view id) {
  // The id may hold control characters; show a bounded, printable copy.
  std::string shown;
  for (char c : id.substr(0, 128)) shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return InvalidArgumentError("invalid volfile id: " + std::string(why) + ": id=" + shown);
}

}  // namespace

namespace {

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsVolumeChar(c)) return false;
  }
  return true;
}

// "<vol>", "<vol>.tcp", "<vol>.rdma" (client) or "<vol>.<brick part>" (brick) into `out`, with
// the client or brick kind given.
Status ParseVolumeAndSuffix(std::string_view rest, std::string_view id, VolfileKind client,
                            VolfileKind brick, VolfileId& out) {
  size_t dot = rest.find('.');
  std::string_view volume = rest.substr(0, dot);
  if (volume.empty()) return Invalid("empty volume", id);
  if (!IsName(volume)) return Invalid("bad volume name", id);
  out.volume = std::string(volume);
  if (dot == std::string_view::npos) {
    out.kind = client;
    return OkStatus();
  }
  std::string_view suffix = rest.substr(dot + 1);
  if (suffix.empty()) return Invalid("empty suffix", id);
  if (suffix == "tcp" || suffix == "rdma") {
    out.kind = client;
    out.transport = std::string(suffix);
    return OkStatus();
  }
  if (suffix.find('/') != std::string_view::npos) return Invalid("bad brick part", id);
  out.kind = brick;
  out.brick_part = std::string(suffix);
  return OkStatus();
}

// `rest` follows "snaps/": "<snap>/<vol>[.tcp]", "<snap>/<snapvol>.<brick part>" or
// "<snap>/<snapvol>/<snapvol>.<brick part>".
StatusOr<VolfileId> ParseSnapshotId(std::string_view rest, std::string_view id) {
  VolfileId out;
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return Invalid("snapshot id without volume", id);
  std::string_view snap = rest.substr(0, slash);
  if (!IsName(snap)) return Invalid("bad snapshot name", id);
  out.snapshot = std::string(snap);
  rest.remove_prefix(slash + 1);
  slash = rest.find('/');
  if (slash == std::string_view::npos) {
    GD2_RETURN_IF_ERROR(ParseVolumeAndSuffix(rest, id, VolfileKind::kSnapshotClient,
                                             VolfileKind::kSnapshotBrick, out));
    return out;
  }
  std::string_view dir = rest.substr(0, slash);
  if (!IsName(dir)) return Invalid("bad snapshot volume name", id);
  GD2_RETURN_IF_ERROR(ParseVolumeAndSuffix(rest.substr(slash + 1), id, VolfileKind::kSnapshotBrick,
                                           VolfileKind::kSnapshotBrick, out));
  if (out.brick_part.empty()) return Invalid("snapshot brick id without brick", id);
  if (out.volume != dir) return Invalid("snapshot volume names differ", id);
  return out;
}

}  // namespace

std::string_view VolfileKindName(VolfileKind kind) {
  switch (kind) {
    case VolfileKind::kClient:
      return "client";
    case VolfileKind::kBrick:
      return "brick";
    case VolfileKind::kDaemon:
      return "daemon";
    case VolfileKind::kSnapshotClient:
      return "snapshot-client";
    case VolfileKind::kSnapshotBrick:
      return "snapshot-brick";
  }
  return "unknown";
}

bool IsClientVolfileKind(VolfileKind kind) {
  return kind == VolfileKind::kClient || kind == VolfileKind::kSnapshotClient;
}

StatusOr<VolfileId> ParseVolfileId(std::string_view id) {
  if (id.empty()) return Invalid("empty", id);
  if (id.size() > kMaxVolfileIdLength) return Invalid("too long", id);
  for (char c : id) {
    if (!IsSafeChar(c)) return Invalid("bad character", id);
  }
  if (id.find("..") != std::string_view::npos) return Invalid("contains ..", id);
  std::string_view rest = id;
  if (rest.front() == '/') rest.remove_prefix(1);
  if (rest.empty() || rest.front() == '/') return Invalid("absolute path", id);

  VolfileId out;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(0, slash);
    if (prefix == "snaps") return ParseSnapshotId(rest.substr(slash + 1), id);
    bool known = false;
    for (std::string_view p : kVolfileDaemons) known = known || p == prefix;
    if (!known) return Invalid("unknown daemon prefix", id);
    std::string_view volume = rest.substr(slash + 1);
    if (volume.empty()) return Invalid("empty volume", id);
    if (!IsName(volume)) return Invalid("bad volume name", id);
    out.kind = VolfileKind::kDaemon;
    out.daemon = std::string(prefix);
    out.volume = std::string(volume);
    return out;
  }
  GD2_RETURN_IF_ERROR(
      ParseVolumeAndSuffix(rest, id, VolfileKind::kClient, VolfileKind::kBrick, out));
  return out;
}

std::string VolfileGroupOf(const VolfileId& id) {
  if (id.kind == VolfileKind::kSnapshotClient || id.kind == VolfileKind::kSnapshotBrick) {
    return "snaps/" + id.snapshot;
  }
  return id.volume;
}

std::string VolumeOfVolfileId(std::string_view id) {
  auto parsed = ParseVolfileId(id);
  return parsed.ok() ? VolfileGroupOf(*parsed) : std::string();
}

}  // namespace gd2::sunrpc
