#include "sunrpc/volfile_id.h"

#include <array>

#include "common/volfile_text.h"

namespace gd2::sunrpc {

namespace {

constexpr std::array<std::string_view, 5> kDaemonPrefixes = {"shd", "rebalance", "snapd",
                                                             "gfproxyd", "gfproxy-client"};

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
    std::string_view daemon = rest.substr(0, slash);
    bool known = false;
    for (std::string_view p : kDaemonPrefixes) known = known || p == daemon;
    if (!known) return Invalid("unknown daemon prefix", id);
    std::string_view volume = rest.substr(slash + 1);
    if (volume.empty()) return Invalid("empty volume", id);
    for (char c : volume) {
      if (!IsVolumeChar(c)) return Invalid("bad volume name", id);
    }
    out.kind = VolfileKind::kDaemon;
    out.daemon = std::string(daemon);
    out.volume = std::string(volume);
    return out;
  }

  size_t dot = rest.find('.');
  std::string_view volume = rest.substr(0, dot);
  if (volume.empty()) return Invalid("empty volume", id);
  for (char c : volume) {
    if (!IsVolumeChar(c)) return Invalid("bad volume name", id);
  }
  out.volume = std::string(volume);
  if (dot == std::string_view::npos) {
    out.kind = VolfileKind::kClient;
    return out;
  }
  std::string_view suffix = rest.substr(dot + 1);
  if (suffix.empty()) return Invalid("empty suffix", id);
  if (suffix == "tcp" || suffix == "rdma") {
    out.kind = VolfileKind::kClient;
    out.transport = std::string(suffix);
    return out;
  }
  out.kind = VolfileKind::kBrick;
  out.brick_part = std::string(suffix);
  return out;
}

std::string VolumeOfVolfileId(std::string_view id) {
  auto parsed = ParseVolfileId(id);
  return parsed.ok() ? parsed->volume : std::string();
}

}  // namespace gd2::sunrpc
