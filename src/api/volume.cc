#include "api/volume.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "api/json.h"
#include "common/uuid.h"
#include "common/volfile_text.h"

namespace gd2::api {
namespace {

using nlohmann::json;

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
StatusOr<E> ValueOf(const std::array<std::pair<E, std::string_view>, N>& table,
                    std::string_view name, std::string_view what) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return InvalidArgumentError("unknown " + std::string(what) + ": " + std::string(name));
}

constexpr std::array<std::pair<VolumeType, std::string_view>, 5> kVolumeTypes = {{
    {VolumeType::kDistribute, "Distribute"},
    {VolumeType::kReplicate, "Replicate"},
    {VolumeType::kDisperse, "Disperse"},
    {VolumeType::kDistReplicate, "Distributed-Replicate"},
    {VolumeType::kDistDisperse, "Distributed-Disperse"},
}};
// Spellings that records written by earlier versions of this daemon carry; read, never written.
constexpr std::array<std::pair<VolumeType, std::string_view>, 2> kLegacyVolumeTypes = {{
    {VolumeType::kDistReplicate, "DistReplicate"},
    {VolumeType::kDistDisperse, "DistDisperse"},
}};
constexpr std::array<std::pair<SubvolType, std::string_view>, 3> kSubvolTypes = {{
    {SubvolType::kDistribute, "Distribute"},
    {SubvolType::kReplicate, "Replicate"},
    {SubvolType::kDisperse, "Disperse"},
}};
constexpr std::array<std::pair<BrickType, std::string_view>, 2> kBrickTypes = {{
    {BrickType::kBrick, "Brick"},
    {BrickType::kArbiter, "Arbiter"},
}};
constexpr std::array<std::pair<VolumeState, std::string_view>, 3> kVolumeStates = {{
    {VolumeState::kCreated, "Created"},
    {VolumeState::kStarted, "Started"},
    {VolumeState::kStopped, "Stopped"},
}};
constexpr std::array<std::pair<VolumeState, std::string_view>, 3> kLegacyVolumeStates = {{
    {VolumeState::kCreated, "VolCreated"},
    {VolumeState::kStarted, "VolStarted"},
    {VolumeState::kStopped, "VolStopped"},
}};

// --- decoding helpers: throw DecodeError with the JSON path, caught at the public boundary ---

[[noreturn]] void Fail(const std::string& path, std::string_view problem) {
  throw DecodeError(path + ": " + std::string(problem));
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

const json* Find(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void RequireObject(const json& j, const std::string& path) {
  if (!j.is_object()) Fail(path.empty() ? "volume" : path, "expected object");
}

std::string GetString(const json& obj, const char* key, const std::string& path, bool required,
                      std::string fallback = "") {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (required) Fail(Join(path, key), "is required");
    return fallback;
  }
  if (!v->is_string()) Fail(Join(path, key), "expected string");
  return v->get<std::string>();
}

int64_t GetInt(const json& obj, const char* key, const std::string& path, int64_t fallback,
               int64_t min, int64_t max) {
  const json* v = Find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) Fail(Join(path, key), "expected integer");
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) Fail(Join(path, key), "out of range");
    n = static_cast<int64_t>(u);
  } else {
    n = v->get<int64_t>();
  }
  if (n < min || n > max) Fail(Join(path, key), "out of range");
  return n;
}

std::map<std::string, std::string> GetStringMap(const json& obj, const char* key,
                                                const std::string& path) {
  std::map<std::string, std::string> out;
  const json* v = Find(obj, key);
  if (v == nullptr) return out;
  if (!v->is_object()) Fail(Join(path, key), "expected object");
  for (const auto& item : v->items()) {
    if (!item.value().is_string()) Fail(Join(Join(path, key), item.key()), "expected string");
    out[item.key()] = item.value().get<std::string>();
  }
  return out;
}

template <typename E>
E GetEnum(const json& obj, const char* key, const std::string& path, bool required, E fallback,
          StatusOr<E> (*parse)(std::string_view)) {
  const json* v = Find(obj, key);
  if (v == nullptr) {
    if (required) Fail(Join(path, key), "is required");
    return fallback;
  }
  if (!v->is_string()) Fail(Join(path, key), "expected string");
  StatusOr<E> e = parse(v->get<std::string>());
  if (!e.ok()) Fail(Join(path, key), e.status().message());
  return *e;
}

constexpr int64_t kMaxCount = 1024;

Brick DecodeBrick(const json& j, const std::string& path) {
  RequireObject(j, path);
  Brick b;
  b.id = GetString(j, "id", path, false);
  b.peer_id = GetString(j, "peer-id", path, true);
  b.host = GetString(j, "host", path, false);
  b.path = GetString(j, "path", path, true);
  b.type = GetEnum<BrickType>(j, "type", path, false, BrickType::kBrick, &ParseBrickType);
  return b;
}

Subvol DecodeSubvol(const json& j, const std::string& path) {
  RequireObject(j, path);
  Subvol s;
  s.name = GetString(j, "name", path, false);
  s.type = GetEnum<SubvolType>(j, "type", path, true, SubvolType::kDistribute, &ParseSubvolType);
  s.replica_count = static_cast<int>(GetInt(j, "replica-count", path, 1, 0, kMaxCount));
  s.arbiter_count = static_cast<int>(GetInt(j, "arbiter-count", path, 0, 0, kMaxCount));
  s.disperse_count = static_cast<int>(GetInt(j, "disperse-count", path, 0, 0, kMaxCount));
  s.disperse_redundancy =
      static_cast<int>(GetInt(j, "disperse-redundancy-count", path, 0, 0, kMaxCount));
  const json* bricks = Find(j, "bricks");
  if (bricks == nullptr) Fail(Join(path, "bricks"), "is required");
  if (!bricks->is_array()) Fail(Join(path, "bricks"), "expected array");
  for (size_t i = 0; i < bricks->size(); ++i) {
    s.bricks.push_back(
        DecodeBrick((*bricks)[i], Join(path, "bricks") + "[" + std::to_string(i) + "]"));
  }
  return s;
}

Volume DecodeVolume(const json& j) {
  const std::string path;
  RequireObject(j, path);
  Volume v;
  v.id = GetString(j, "id", path, true);
  v.name = GetString(j, "name", path, true);
  v.type = GetEnum<VolumeType>(j, "type", path, true, VolumeType::kDistribute, &ParseVolumeType);
  v.transport = GetString(j, "transport", path, false, "tcp");
  v.state = GetEnum<VolumeState>(j, "state", path, false, VolumeState::kCreated, &ParseVolumeState);
  v.options = GetStringMap(j, "options", path);
  v.metadata = GetStringMap(j, "metadata", path);
  v.version = GetInt(j, "version", path, 0, 0, INT64_MAX);
  const json* subvols = Find(j, "subvols");
  if (subvols == nullptr) Fail("subvols", "is required");
  if (!subvols->is_array()) Fail("subvols", "expected array");
  for (size_t i = 0; i < subvols->size(); ++i) {
    v.subvols.push_back(DecodeSubvol((*subvols)[i], "subvols[" + std::to_string(i) + "]"));
  }
  if (const json* auth = Find(j, "auth")) {
    RequireObject(*auth, "auth");
    v.auth.username = GetString(*auth, "username", "auth", false);
    v.auth.password = GetString(*auth, "password", "auth", false);
  }
  return v;
}

template <typename T>
StatusOr<T> Guarded(const char* what, T (*decode)(const json&, const std::string&), const json& j) {
  try {
    return decode(j, "");
  } catch (const DecodeError& e) {
    return InvalidArgumentError(std::string("invalid ") + what + " json: " + e.message);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("invalid ") + what + " json: " + e.what());
  }
}

Volume DecodeVolumeAt(const json& j, const std::string&) { return DecodeVolume(j); }

json SubvolToJson(const Subvol& s, const Volume& v) {
  json bricks = json::array();
  for (const Brick& b : s.bricks) bricks.push_back(BrickToJson(b, v));
  const bool disperse = s.type == SubvolType::kDisperse;
  return json{
      {"name", s.name},
      {"type", SubvolTypeName(s.type)},
      {"bricks", std::move(bricks)},
      {"replica-count", s.replica_count},
      {"arbiter-count", s.arbiter_count},
      {"disperse-count", s.disperse_count},
      {"disperse-data-count", disperse ? s.disperse_count - s.disperse_redundancy : 0},
      {"disperse-redundancy-count", s.disperse_redundancy},
  };
}

// --- validation helpers ---

// True if `inner` is `outer` followed by "/..." (both normalised).
bool IsInside(std::string_view inner, std::string_view outer) {
  return inner.size() > outer.size() && inner.substr(0, outer.size()) == outer &&
         inner[outer.size()] == '/';
}

std::string BrickLabel(const Brick& b) { return "peer_id=" + b.peer_id + " path=" + b.path; }

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status ValidateDnsLabel(std::string_view label, std::string_view host) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid host (" + std::string(why) +
                                "): host=" + PrintableText(host));
  };
  if (label.empty()) return bad("empty label");
  if (label.size() > 63) return bad("label longer than 63 characters");
  if (label.front() == '-' || label.back() == '-') return bad("label starts or ends with '-'");
  for (char c : label) {
    if (!IsVolumeNameChar(c)) return bad("allowed: letters, digits, '-', '_' and '.'");
  }
  return OkStatus();
}

// Brick volfile ids and file names of one brick, as they collide.
struct BrickNames {
  const Brick* brick;
  const Volume* volume;
  std::string dashed;
};

std::string BrickWithVolume(const Brick& b, const Volume& v) {
  return b.path + " (volume " + v.name + ", peer " + b.peer_id + ", host " + b.host + ")";
}

// kAlreadyExists if `a` and `b` (different paths) would share a pid file, log file or volfile id.
Status CheckNamesApart(const BrickNames& a, const BrickNames& b) {
  if (a.brick->path == b.brick->path || a.dashed != b.dashed) return OkStatus();
  const bool same_peer = a.brick->peer_id == b.brick->peer_id;
  const bool same_volume = a.volume == b.volume;
  const bool same_host = a.brick->host == b.brick->host;
  if (!same_peer && !(same_volume && same_host)) return OkStatus();
  return AlreadyExistsError("brick " + BrickWithVolume(*a.brick, *a.volume) +
                            " would have the same name as brick " +
                            BrickWithVolume(*b.brick, *b.volume) +
                            " ('/' and '-' both become '-' in brick names): rename one of them");
}

Status ValidateSubvol(const Subvol& s) {
  const std::string n =
      s.bricks.size() == 1 ? "1 brick" : std::to_string(s.bricks.size()) + " bricks";
  if (s.bricks.empty()) return InvalidArgumentError("subvol " + s.name + " has no bricks");
  for (size_t i = 0; i < s.bricks.size(); ++i) {
    const bool last = i + 1 == s.bricks.size();
    if (s.bricks[i].type == BrickType::kArbiter && !(s.arbiter_count == 1 && last)) {
      return InvalidArgumentError("brick " + s.bricks[i].path + " of subvol " + s.name +
                                  " is an arbiter but only the last brick of a replica set with "
                                  "arbiter count 1 may be one");
    }
  }
  switch (s.type) {
    case SubvolType::kDistribute:
      if (s.replica_count > 1 || s.arbiter_count != 0 || s.disperse_count != 0 ||
          s.disperse_redundancy != 0) {
        return InvalidArgumentError("distribute subvol " + s.name +
                                    " must not have replica, arbiter or disperse counts");
      }
      return OkStatus();
    case SubvolType::kReplicate:
      if (s.replica_count < 2) {
        return InvalidArgumentError("subvol " + s.name + " has replica count " +
                                    std::to_string(s.replica_count) + ", need at least 2");
      }
      if (static_cast<size_t>(s.replica_count) != s.bricks.size()) {
        return InvalidArgumentError("subvol " + s.name + " has " + n + " but replica count " +
                                    std::to_string(s.replica_count));
      }
      if (s.arbiter_count != 0 && s.arbiter_count != 1) {
        return InvalidArgumentError("subvol " + s.name + " has arbiter count " +
                                    std::to_string(s.arbiter_count) + ", must be 0 or 1");
      }
      if (s.arbiter_count == 1) {
        if (s.replica_count != 3) {
          return InvalidArgumentError("arbiter needs replica count 3, subvol " + s.name + " has " +
                                      std::to_string(s.replica_count));
        }
        if (s.bricks.back().type != BrickType::kArbiter) {
          return InvalidArgumentError("last brick of subvol " + s.name + " must be the arbiter");
        }
      }
      if (s.disperse_count != 0 || s.disperse_redundancy != 0) {
        return InvalidArgumentError("replicate subvol " + s.name +
                                    " must not have disperse counts");
      }
      return OkStatus();
    case SubvolType::kDisperse:
      if (s.replica_count > 1 || s.arbiter_count != 0) {
        return InvalidArgumentError("disperse subvol " + s.name +
                                    " must not have replica or arbiter counts");
      }
      if (static_cast<size_t>(s.disperse_count) != s.bricks.size()) {
        return InvalidArgumentError("subvol " + s.name + " has " + n + " but disperse count " +
                                    std::to_string(s.disperse_count));
      }
      if (s.disperse_count < 3) {
        return InvalidArgumentError("disperse count " + std::to_string(s.disperse_count) +
                                    " is too small, need at least 3");
      }
      if (s.disperse_redundancy < 1 || 2 * s.disperse_redundancy >= s.disperse_count) {
        return InvalidArgumentError("redundancy " + std::to_string(s.disperse_redundancy) +
                                    " is invalid for disperse count " +
                                    std::to_string(s.disperse_count) +
                                    ": need 1 <= redundancy and 2 * redundancy < count");
      }
      return OkStatus();
  }
  return InvalidArgumentError("subvol " + s.name + " has an unknown type");
}

bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

int DefaultRedundancy(int count) {
  for (int r = 1; 2 * r < count; ++r) {
    if (IsPowerOfTwo(count - r)) return r;
  }
  return 1;
}

}  // namespace

std::string_view VolumeTypeName(VolumeType t) { return NameOf(kVolumeTypes, t); }
std::string_view SubvolTypeName(SubvolType t) { return NameOf(kSubvolTypes, t); }
std::string_view BrickTypeName(BrickType t) { return NameOf(kBrickTypes, t); }
std::string_view VolumeStateName(VolumeState s) { return NameOf(kVolumeStates, s); }

StatusOr<VolumeType> ParseVolumeType(std::string_view s) {
  auto legacy = ValueOf(kLegacyVolumeTypes, s, "volume type");
  if (legacy.ok()) return legacy;
  return ValueOf(kVolumeTypes, s, "volume type");
}
StatusOr<SubvolType> ParseSubvolType(std::string_view s) {
  return ValueOf(kSubvolTypes, s, "subvol type");
}
StatusOr<BrickType> ParseBrickType(std::string_view s) {
  return ValueOf(kBrickTypes, s, "brick type");
}
StatusOr<VolumeState> ParseVolumeState(std::string_view s) {
  auto legacy = ValueOf(kLegacyVolumeStates, s, "volume state");
  if (legacy.ok()) return legacy;
  return ValueOf(kVolumeStates, s, "volume state");
}

json BrickToJson(const Brick& brick, const Volume& volume) {
  return json{
      {"id", brick.id},
      {"path", brick.path},
      {"volume-id", volume.id},
      {"volume-name", volume.name},
      {"peer-id", brick.peer_id},
      {"host", brick.host},
      {"type", BrickTypeName(brick.type)},
  };
}

json VolumeToJson(const Volume& v, JsonView view) {
  json subvols = json::array();
  for (const Subvol& s : v.subvols) subvols.push_back(SubvolToJson(s, v));
  const Subvol* first = v.subvols.empty() ? nullptr : &v.subvols.front();
  const bool disperse = first != nullptr && first->type == SubvolType::kDisperse;
  json j{
      {"id", v.id},
      {"name", v.name},
      {"type", VolumeTypeName(v.type)},
      {"transport", v.transport},
      {"distribute-count", v.subvols.size()},
      {"replica-count", first != nullptr ? first->replica_count : 0},
      {"arbiter-count", first != nullptr ? first->arbiter_count : 0},
      {"disperse-count", first != nullptr ? first->disperse_count : 0},
      {"disperse-data-count", disperse ? first->disperse_count - first->disperse_redundancy : 0},
      {"disperse-redundancy-count", first != nullptr ? first->disperse_redundancy : 0},
      {"options", v.options},
      {"state", VolumeStateName(v.state)},
      {"subvols", std::move(subvols)},
      {"metadata", v.metadata},
      {"snap-list", json::array()},
      {"version", v.version},
  };
  if (view == JsonView::kStore) {
    j["auth"] = json{{"username", v.auth.username}, {"password", v.auth.password}};
  }
  return j;
}

void to_json(json& j, const Volume& volume) { j = VolumeToJson(volume, JsonView::kPublic); }

void from_json(const json& j, Volume& volume) { volume = DecodeVolume(j); }

std::string SerializeVolume(const Volume& volume, JsonView view) {
  return VolumeToJson(volume, view).dump();
}

StatusOr<Brick> BrickFromJson(const json& j) { return Guarded<Brick>("brick", &DecodeBrick, j); }
StatusOr<Subvol> SubvolFromJson(const json& j) {
  return Guarded<Subvol>("subvol", &DecodeSubvol, j);
}
StatusOr<Volume> VolumeFromJson(const json& j) {
  return Guarded<Volume>("volume", &DecodeVolumeAt, j);
}

StatusOr<Volume> ParseVolume(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("invalid volume json: malformed JSON");
  return VolumeFromJson(j);
}

Status ValidateVolumeName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("volume name is empty");
  if (name.size() > kMaxVolumeNameLength) {
    return InvalidArgumentError("volume name is longer than " +
                                std::to_string(kMaxVolumeNameLength) + " characters");
  }
  if (!std::all_of(name.begin(), name.end(), IsVolumeNameChar) || name.front() == '-') {
    return InvalidArgumentError("invalid volume name: " + PrintableText(name) +
                                " (allowed: letters, digits, '_' and '-', not first)");
  }
  if (IsVolfileKeyword(name)) {
    return InvalidArgumentError("invalid volume name: " + std::string(name) +
                                " is a volfile keyword");
  }
  return OkStatus();
}

Status ValidateBrickPath(std::string_view path) {
  const std::string p = PrintableText(path);
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError("brick path is not absolute: path=" + p);
  }
  if (path == "/") return InvalidArgumentError("brick path must not be /");
  if (path.size() > kMaxBrickPathLength) {
    return InvalidArgumentError("brick path is longer than " + std::to_string(kMaxBrickPathLength) +
                                " characters: path=" + p);
  }
  if (path.back() == '/') return InvalidArgumentError("brick path has a trailing /: path=" + p);
  for (char c : path) {
    if (c != '/' && !IsBrickPathChar(c)) {
      return InvalidArgumentError(
          "brick path has a character that is not allowed (allowed: letters, digits, '/' and "
          ". _ - : + @): path=" +
          p);
    }
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty()) return InvalidArgumentError("brick path has an empty component: path=" + p);
    if (part == "." || part == "..") {
      return InvalidArgumentError("brick path is not normalised: path=" + p);
    }
    start = end + 1;
  }
  // The volfile id "<vol>.<host>.<dashed path>" may not contain "..": neither may the path, nor
  // may it start with "/." (the dot would follow the host's separating dot).
  if (path.find("..") != std::string_view::npos || path[1] == '.') {
    return InvalidArgumentError(
        "brick path may not contain \"..\" or start with \"/.\" (brick volfile ids cannot "
        "hold them): path=" +
        p);
  }
  return OkStatus();
}

Status ValidateHost(std::string_view host) {
  if (host.empty()) return InvalidArgumentError("host is empty");
  if (host.size() > kMaxHostLength) {
    return InvalidArgumentError("host is longer than " + std::to_string(kMaxHostLength) +
                                " characters: host=" + PrintableText(host));
  }
  if (host.find(':') != std::string_view::npos) {
    in6_addr addr{};
    const std::string h(host);
    if (!std::all_of(host.begin(), host.end(),
                     [](char c) {
                       return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
                     }) ||
        ::inet_pton(AF_INET6, h.c_str(), &addr) != 1) {
      return InvalidArgumentError("invalid host (not an IPv6 address): host=" +
                                  PrintableText(host));
    }
    return OkStatus();
  }
  size_t start = 0;
  bool all_numeric = true;
  size_t labels = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    std::string_view label = host.substr(start, end - start);
    GD2_RETURN_IF_ERROR(ValidateDnsLabel(label, host));
    all_numeric = all_numeric && IsDigits(label);
    ++labels;
    start = end + 1;
  }
  if (all_numeric) {
    in_addr addr{};
    const std::string h(host);
    if (labels != 4 || ::inet_pton(AF_INET, h.c_str(), &addr) != 1) {
      return InvalidArgumentError("invalid host (not an IPv4 address): host=" +
                                  PrintableText(host));
    }
  }
  if (IsVolfileKeyword(host)) {
    return InvalidArgumentError("invalid host (a volfile keyword): host=" + std::string(host));
  }
  return OkStatus();
}

std::string DashedBrickPath(std::string_view brick_path) {
  std::string out(brick_path);
  if (!out.empty() && out.front() == '/') out.erase(0, 1);
  for (char& c : out) {
    if (c == '/') c = '-';
  }
  return out;
}

Status CheckBrickConflicts(const Volume& volume, const std::vector<const Volume*>& others) {
  std::vector<BrickNames> mine;
  for (const Subvol& s : volume.subvols) {
    for (const Brick& b : s.bricks) mine.push_back({&b, &volume, DashedBrickPath(b.path)});
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    for (size_t k = 0; k < i; ++k) GD2_RETURN_IF_ERROR(CheckNamesApart(mine[i], mine[k]));
  }
  for (const Volume* other : others) {
    for (const Subvol& os : other->subvols) {
      for (const Brick& ob : os.bricks) {
        BrickNames theirs{&ob, other, DashedBrickPath(ob.path)};
        for (const BrickNames& m : mine) {
          const Brick& b = *m.brick;
          if (b.peer_id == ob.peer_id &&
              (b.path == ob.path || IsInside(b.path, ob.path) || IsInside(ob.path, b.path))) {
            return AlreadyExistsError("brick path in use by volume " + other->name +
                                      ": path=" + b.path + " (brick " + ob.path + ")");
          }
          GD2_RETURN_IF_ERROR(CheckNamesApart(m, theirs));
        }
      }
    }
  }
  return OkStatus();
}

VolumeType VolumeTypeFor(const std::vector<Subvol>& subvols) {
  if (subvols.empty()) return VolumeType::kDistribute;
  const bool many = subvols.size() > 1;
  switch (subvols.front().type) {
    case SubvolType::kReplicate:
      return many ? VolumeType::kDistReplicate : VolumeType::kReplicate;
    case SubvolType::kDisperse:
      return many ? VolumeType::kDistDisperse : VolumeType::kDisperse;
    case SubvolType::kDistribute:
      break;
  }
  return VolumeType::kDistribute;
}

Status ValidateVolume(const Volume& v) {
  GD2_RETURN_IF_ERROR(ValidateVolumeName(v.name));
  if (!IsUuid(v.id)) {
    return InvalidArgumentError("volume id is not a uuid: volume=" + v.name +
                                " id=" + PrintableText(v.id));
  }
  if (!v.auth.username.empty() || !v.auth.password.empty()) {
    GD2_RETURN_IF_ERROR(CheckVolfileToken("volume auth username", v.auth.username));
    GD2_RETURN_IF_ERROR(CheckVolfileToken("volume auth password", v.auth.password));
  }
  for (const auto& [key, value] : v.options) {
    GD2_RETURN_IF_ERROR(CheckVolfileToken("option key", key));
    GD2_RETURN_IF_ERROR(CheckVolfileToken("value of option " + key, value));
  }
  if (v.transport != "tcp" && v.transport != "rdma") {
    return InvalidArgumentError("unknown transport: " + v.transport + " (allowed: tcp, rdma)");
  }
  if (v.subvols.empty()) return InvalidArgumentError("volume has no subvols: volume=" + v.name);
  const Subvol& first = v.subvols.front();
  if (first.type == SubvolType::kDistribute && v.subvols.size() > 1) {
    return InvalidArgumentError("a distribute volume has exactly one subvol, got " +
                                std::to_string(v.subvols.size()));
  }
  std::set<std::string> names;
  for (const Subvol& s : v.subvols) {
    if (s.type != first.type) {
      return InvalidArgumentError("subvols of mixed types: " + std::string(SubvolTypeName(s.type)) +
                                  " and " + std::string(SubvolTypeName(first.type)));
    }
    if (s.bricks.size() != first.bricks.size() && s.type != SubvolType::kDistribute) {
      return InvalidArgumentError("subvol " + s.name + " has " + std::to_string(s.bricks.size()) +
                                  " bricks but subvol " + first.name + " has " +
                                  std::to_string(first.bricks.size()));
    }
    GD2_RETURN_IF_ERROR(CheckVolfileToken("subvol name", s.name));
    if (!names.insert(s.name).second) return InvalidArgumentError("duplicate subvol: " + s.name);
    GD2_RETURN_IF_ERROR(ValidateSubvol(s));
  }
  VolumeType expected = VolumeTypeFor(v.subvols);
  if (v.type != expected) {
    return InvalidArgumentError("volume type " + std::string(VolumeTypeName(v.type)) +
                                " does not match its subvols, expected " +
                                std::string(VolumeTypeName(expected)));
  }
  std::vector<const Brick*> bricks;
  for (const Subvol& s : v.subvols) {
    for (const Brick& b : s.bricks) bricks.push_back(&b);
  }
  for (const Brick* b : bricks) {
    GD2_RETURN_IF_ERROR(ValidateBrickPath(b->path));
    if (b->peer_id.empty()) return InvalidArgumentError("brick has no peer id: path=" + b->path);
    GD2_RETURN_IF_ERROR(CheckVolfileToken("brick peer id", b->peer_id));
    if (!b->id.empty()) GD2_RETURN_IF_ERROR(CheckVolfileToken("brick id", b->id));
    if (Status s = ValidateHost(b->host); !s.ok()) {
      return InvalidArgumentError("brick " + b->path + ": " + s.message());
    }
    if (b->host.size() + 1 + DashedBrickPath(b->path).size() + 4 > kMaxBrickFileNameLength) {
      return InvalidArgumentError("brick host and path are too long together (at most " +
                                  std::to_string(kMaxBrickFileNameLength - 5) +
                                  " characters): host=" + b->host + " path=" + b->path);
    }
  }
  GD2_RETURN_IF_ERROR(CheckBrickConflicts(v, {}));
  // Sorting by (peer, path) puts a path right before the paths inside it, so comparing each
  // brick with the nearest earlier one on the same peer that is a prefix finds every nesting;
  // a linear scan of that peer's earlier entries keeps this simple and is fine for brick counts.
  std::sort(bricks.begin(), bricks.end(), [](const Brick* a, const Brick* b) {
    return std::tie(a->peer_id, a->path) < std::tie(b->peer_id, b->path);
  });
  for (size_t i = 0; i < bricks.size(); ++i) {
    for (size_t k = i; k-- > 0 && bricks[k]->peer_id == bricks[i]->peer_id;) {
      if (bricks[k]->path == bricks[i]->path) {
        return InvalidArgumentError("duplicate brick: " + BrickLabel(*bricks[i]));
      }
      if (IsInside(bricks[i]->path, bricks[k]->path)) {
        return InvalidArgumentError("brick path " + bricks[i]->path + " is inside brick path " +
                                    bricks[k]->path + " on peer " + bricks[i]->peer_id);
      }
    }
  }
  return OkStatus();
}

StatusOr<std::vector<Subvol>> PlanSubvols(std::string_view volume_name, std::vector<Brick> bricks,
                                          const LayoutRequest& req) {
  const std::string vol(volume_name);
  if (bricks.empty()) return InvalidArgumentError("no bricks given");
  if (req.replica_count < 0 || req.arbiter_count < 0 || req.disperse_count < 0 ||
      req.disperse_data_count < 0 || req.disperse_redundancy < 0) {
    return InvalidArgumentError("counts must not be negative");
  }
  const bool disperse =
      req.disperse_count > 0 || req.disperse_data_count > 0 || req.disperse_redundancy > 0;
  const bool replicate = req.replica_count > 1 || req.arbiter_count > 0;
  if (disperse && replicate) {
    return InvalidArgumentError("replica and disperse counts cannot be combined");
  }
  const std::string count = std::to_string(bricks.size());
  std::vector<Subvol> subvols;
  if (replicate) {
    int replica = req.replica_count;
    if (req.arbiter_count > 1) {
      return InvalidArgumentError("arbiter count " + std::to_string(req.arbiter_count) +
                                  " is invalid, must be 0 or 1");
    }
    if (req.arbiter_count == 1) {
      if (replica == 2) replica = 3;  // "replica 2 arbiter 1" is glusterd's alias of replica 3
      if (replica != 3) {
        return InvalidArgumentError("arbiter needs replica count 3, got " +
                                    std::to_string(req.replica_count));
      }
    }
    if (bricks.size() % replica != 0) {
      return InvalidArgumentError("brick count " + count + " is not a multiple of replica count " +
                                  std::to_string(replica));
    }
    for (size_t i = 0; i < bricks.size(); i += replica) {
      Subvol s;
      s.name = vol + "-replicate-" + std::to_string(i / replica);
      s.type = SubvolType::kReplicate;
      s.replica_count = replica;
      s.arbiter_count = req.arbiter_count;
      for (int k = 0; k < replica; ++k) {
        Brick b = std::move(bricks[i + k]);
        b.type =
            (req.arbiter_count == 1 && k == replica - 1) ? BrickType::kArbiter : BrickType::kBrick;
        s.bricks.push_back(std::move(b));
      }
      subvols.push_back(std::move(s));
    }
    return subvols;
  }
  if (disperse) {
    int total = req.disperse_count;
    int redundancy = req.disperse_redundancy;
    if (total == 0) {
      if (req.disperse_data_count == 0 || redundancy == 0) {
        return InvalidArgumentError(
            "disperse needs a disperse count or both data and redundancy counts");
      }
      total = req.disperse_data_count + redundancy;
    } else if (req.disperse_data_count > 0) {
      if (redundancy == 0) redundancy = total - req.disperse_data_count;
      if (req.disperse_data_count + redundancy != total) {
        return InvalidArgumentError(
            "disperse data count " + std::to_string(req.disperse_data_count) + " + redundancy " +
            std::to_string(redundancy) + " != disperse count " + std::to_string(total));
      }
    }
    if (redundancy == 0) redundancy = DefaultRedundancy(total);
    if (total < 3) {
      return InvalidArgumentError("disperse count " + std::to_string(total) +
                                  " is too small, need at least 3");
    }
    if (2 * redundancy >= total) {
      return InvalidArgumentError("redundancy " + std::to_string(redundancy) +
                                  " is invalid for disperse count " + std::to_string(total) +
                                  ": need 2 * redundancy < count");
    }
    if (bricks.size() % total != 0) {
      return InvalidArgumentError("brick count " + count + " is not a multiple of disperse count " +
                                  std::to_string(total));
    }
    for (size_t i = 0; i < bricks.size(); i += total) {
      Subvol s;
      s.name = vol + "-disperse-" + std::to_string(i / total);
      s.type = SubvolType::kDisperse;
      s.disperse_count = total;
      s.disperse_redundancy = redundancy;
      for (int k = 0; k < total; ++k) {
        Brick b = std::move(bricks[i + k]);
        b.type = BrickType::kBrick;
        s.bricks.push_back(std::move(b));
      }
      subvols.push_back(std::move(s));
    }
    return subvols;
  }
  Subvol s;
  s.name = vol + "-distribute-0";
  s.type = SubvolType::kDistribute;
  for (Brick& b : bricks) b.type = BrickType::kBrick;
  s.bricks = std::move(bricks);
  subvols.push_back(std::move(s));
  return subvols;
}

std::string ClientXlatorName(std::string_view volume_name, size_t index) {
  return std::string(volume_name) + "-client-" + std::to_string(index);
}

}  // namespace gd2::api
