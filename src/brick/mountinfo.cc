#include "brick/mountinfo.h"

#include <charconv>
#include <fstream>
#include <set>

namespace gd2::brick {
namespace {

// Splits at single spaces (the kernel separates fields with exactly one; escaped spaces are
// \040). Stops after `max` fields.
std::vector<std::string_view> Fields(std::string_view line, size_t max) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= line.size() && out.size() < max) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

Status Bad(std::string_view why) {
  return InvalidArgumentError("bad mountinfo line: " + std::string(why));
}

// Fields of a comma-separated option list.
std::vector<std::string_view> Options(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > pos) out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

std::string UnescapeMountField(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctal(field[i + 1]) &&
        IsOctal(field[i + 2]) && IsOctal(field[i + 3])) {
      int v = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      if (v <= 0xff) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

StatusOr<MountEntry> ParseMountInfoLine(std::string_view line) {
  if (line.size() > kMaxMountInfoLineBytes) return Bad("too long");
  // Optional fields are few; 64 fields bound the split for any real line.
  std::vector<std::string_view> f = Fields(line, 64);
  if (f.size() < 10) return Bad("too few fields");
  MountEntry e;
  if (!ParseInt(f[0], e.mount_id) || !ParseInt(f[1], e.parent_id)) return Bad("mount ids");
  size_t colon = f[2].find(':');
  int major = 0;
  int minor = 0;
  if (colon == std::string_view::npos || !ParseInt(f[2].substr(0, colon), major) ||
      !ParseInt(f[2].substr(colon + 1), minor)) {
    return Bad("device number");
  }
  e.device_number = std::string(f[2]);
  e.root = UnescapeMountField(f[3]);
  e.mount_point = UnescapeMountField(f[4]);
  if (e.mount_point.empty() || e.mount_point[0] != '/') return Bad("mount point not absolute");
  e.mount_options = std::string(f[5]);
  size_t i = 6;
  while (i < f.size() && f[i] != "-") e.optional_fields.emplace_back(f[i++]);
  if (i == f.size()) return Bad("no separator");
  if (f.size() - i - 1 < 3) return Bad("too few fields after separator");
  e.fs_type = UnescapeMountField(f[i + 1]);
  e.source = UnescapeMountField(f[i + 2]);
  e.super_options = std::string(f[i + 3]);
  return e;
}

StatusOr<std::vector<MountEntry>> ParseMountInfo(std::string_view text) {
  if (text.size() > kMaxMountInfoBytes) {
    return ResourceExhaustedError("mountinfo too large: bytes=" + std::to_string(text.size()));
  }
  std::vector<MountEntry> out;
  size_t lines = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (++lines > kMaxMountInfoLines) {
      return ResourceExhaustedError("mountinfo has too many lines: max=" +
                                    std::to_string(kMaxMountInfoLines));
    }
    if (nl == pos) {
      ++pos;
      continue;
    }
    auto e = ParseMountInfoLine(text.substr(pos, nl - pos));
    if (e.ok()) out.push_back(std::move(e).value());
    pos = nl + 1;
  }
  return out;
}

std::optional<MountEntry> MountContaining(const std::vector<MountEntry>& mounts,
                                          std::string_view path) {
  const MountEntry* best = nullptr;
  for (const MountEntry& m : mounts) {
    std::string_view mp = m.mount_point;
    bool holds =
        path == mp || mp == "/" ||
        (path.size() > mp.size() && path.substr(0, mp.size()) == mp && path[mp.size()] == '/');
    if (!holds || path.empty() || path[0] != '/') continue;
    if (best == nullptr || mp.size() >= best->mount_point.size()) best = &m;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::string CombinedMountOptions(const MountEntry& mount) {
  std::string out;
  std::set<std::string_view> seen;
  for (std::string_view o : Options(mount.mount_options)) {
    if (!seen.insert(o).second) continue;
    if (!out.empty()) out += ",";
    out += o;
  }
  for (std::string_view o : Options(mount.super_options)) {
    if (!seen.insert(o).second) continue;
    if (!out.empty()) out += ",";
    out += o;
  }
  return out;
}

StatusOr<MountEntry> MountOfPath(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo", std::ios::binary);
  if (!in) return UnavailableError("cannot read /proc/self/mountinfo");
  // procfs reports no size: read in chunks, one more byte than the limit at most.
  std::string text;
  char buf[65536];
  while (in && text.size() <= kMaxMountInfoBytes) {
    in.read(buf, sizeof(buf));
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  GD2_ASSIGN_OR_RETURN(std::vector<MountEntry> mounts, ParseMountInfo(text));
  auto m = MountContaining(mounts, path);
  if (!m) return NotFoundError("no mount holds path: path=" + path);
  return *m;
}

}  // namespace gd2::brick
