#include "cli/volume_args.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace gd2::cli {
namespace {

// The legacy word that sets a count, and the field it sets.
struct CountWord {
  std::string_view word;
  int VolumeCreateArgs::*field;
};

constexpr CountWord kCountWords[] = {
    {"replica", &VolumeCreateArgs::replica},
    {"arbiter", &VolumeCreateArgs::arbiter},
    {"disperse", &VolumeCreateArgs::disperse},
    {"disperse-data", &VolumeCreateArgs::disperse_data},
    {"redundancy", &VolumeCreateArgs::redundancy},
};

StatusOr<int> ParseCount(std::string_view word, std::string_view value) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n <= 0) {
    return InvalidArgumentError(std::string(word) +
                                " needs a positive number, got: " + std::string(value));
  }
  return n;
}

Status SetCount(std::string_view word, int* field, int value) {
  if (*field != 0 && *field != value) {
    return InvalidArgumentError(std::string(word) + " given twice with different values: " +
                                std::to_string(*field) + " and " + std::to_string(value));
  }
  *field = value;
  return OkStatus();
}

Status SetTransport(std::string* field, std::string_view value) {
  if (value != "tcp" && value != "rdma") {
    return InvalidArgumentError("transport must be tcp or rdma, got: " + std::string(value));
  }
  if (!field->empty() && *field != value) {
    return InvalidArgumentError("transport given twice with different values: " + *field + " and " +
                                std::string(value));
  }
  *field = std::string(value);
  return OkStatus();
}

std::string NormalisePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// "h:24007" -> "h", "[::1]:24007" -> "::1", "::1" -> "::1" (several colons: no port).
std::string_view HostPart(std::string_view address) {
  if (address.starts_with('[')) {
    size_t close = address.find(']');
    return close == std::string_view::npos ? address.substr(1) : address.substr(1, close - 1);
  }
  size_t colon = address.find(':');
  if (colon != std::string_view::npos && address.find(':', colon + 1) == std::string_view::npos) {
    return address.substr(0, colon);
  }
  return address;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return lower(x) == lower(y);
  });
}

bool PeerMatches(const api::Peer& peer, std::string_view host) {
  if (EqualsIgnoreCase(peer.id, host) || peer.name == host) return true;
  for (const auto* list : {&peer.peer_addresses, &peer.client_addresses}) {
    for (const std::string& a : *list) {
      if (a == host || HostPart(a) == host) return true;
    }
  }
  return false;
}

std::string_view SubvolReqType(api::SubvolType t) {
  switch (t) {
    case api::SubvolType::kReplicate:
      return "replicate";
    case api::SubvolType::kDisperse:
      return "disperse";
    case api::SubvolType::kDistribute:
      return "distribute";
  }
  return "distribute";
}

std::string OrNA(int64_t n) { return n == 0 ? "N/A" : std::to_string(n); }

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
}

}  // namespace

StatusOr<BrickArg> ParseBrickArg(std::string_view word) {
  const std::string w(word);
  size_t sep = word.find(":/");
  if (word.starts_with('[')) {
    size_t close = word.find("]:");
    if (close == std::string_view::npos) {
      return InvalidArgumentError("brick must be <host-or-peerid>:<path>, got: " + w);
    }
    sep = close + 1;
  }
  if (sep == std::string_view::npos || sep + 1 >= word.size() || word[sep + 1] != '/') {
    return InvalidArgumentError("brick must be <host-or-peerid>:<absolute path>, got: " + w);
  }
  BrickArg b;
  std::string_view host = word.substr(0, sep);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return InvalidArgumentError("brick has no host: " + w);
  b.host = std::string(host);
  b.path = NormalisePath(word.substr(sep + 1));
  if (Status s = api::ValidateBrickPath(b.path); !s.ok()) {
    return InvalidArgumentError("invalid brick " + w + ": " + s.message());
  }
  return b;
}

StatusOr<std::map<std::string, std::string>> ParseOptionList(
    const std::vector<std::string>& lists) {
  std::map<std::string, std::string> out;
  for (const std::string& list : lists) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      std::string item = list.substr(start, end - start);
      start = end + 1;
      if (item.empty()) continue;  // tolerate "a:1," and ",,"
      size_t colon = item.find(':');
      if (colon == std::string::npos || colon == 0) {
        return InvalidArgumentError("option must be key:value, got: " + item);
      }
      std::string key = item.substr(0, colon);
      if (!out.emplace(key, item.substr(colon + 1)).second) {
        return InvalidArgumentError("option given twice: " + key);
      }
    }
  }
  return out;
}

StatusOr<VolumeCreateArgs> ApplyLegacyWords(VolumeCreateArgs args) {
  std::vector<std::string> bricks;
  const std::vector<std::string>& w = args.words;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == "force") {
      args.force = true;
      continue;
    }
    if (w[i] == "transport") {
      if (i + 1 >= w.size()) return InvalidArgumentError("transport needs a value (tcp or rdma)");
      GD2_RETURN_IF_ERROR(SetTransport(&args.transport, w[++i]));
      continue;
    }
    const auto* count = std::ranges::find(kCountWords, std::string_view(w[i]), &CountWord::word);
    if (count == std::end(kCountWords)) {
      bricks.push_back(w[i]);
      continue;
    }
    if (i + 1 >= w.size()) return InvalidArgumentError(w[i] + " needs a positive number");
    GD2_ASSIGN_OR_RETURN(int n, ParseCount(w[i], w[i + 1]));
    GD2_RETURN_IF_ERROR(SetCount(w[i], &(args.*(count->field)), n));
    ++i;
  }
  args.words = std::move(bricks);
  return args;
}

StatusOr<api::VolCreateReq> BuildVolCreateReq(const VolumeCreateArgs& raw) {
  for (const CountWord& c : kCountWords) {
    if (raw.*(c.field) < 0) {
      return InvalidArgumentError(std::string(c.word) + " must not be negative");
    }
  }
  GD2_ASSIGN_OR_RETURN(VolumeCreateArgs args, ApplyLegacyWords(raw));
  GD2_RETURN_IF_ERROR(api::ValidateVolumeName(args.name));
  if (!args.transport.empty()) {
    std::string t;
    GD2_RETURN_IF_ERROR(SetTransport(&t, args.transport));
  }
  if (args.words.empty()) return InvalidArgumentError("no bricks given");
  if (args.arbiter > 1) {
    return InvalidArgumentError("arbiter count " + std::to_string(args.arbiter) +
                                " is invalid, must be 1");
  }
  if (args.arbiter == 1 && args.replica == 0) {
    return InvalidArgumentError("arbiter needs a replica count: replica 3 arbiter 1");
  }
  const bool disperse = args.disperse > 0 || args.disperse_data > 0 || args.redundancy > 0;
  if (disperse && args.replica > 1) {
    return InvalidArgumentError("replica and disperse counts cannot be combined");
  }

  std::vector<api::Brick> bricks;
  std::set<std::pair<std::string, std::string>> seen;
  for (const std::string& word : args.words) {
    GD2_ASSIGN_OR_RETURN(BrickArg b, ParseBrickArg(word));
    if (!seen.emplace(b.host, b.path).second) {
      return InvalidArgumentError("brick given twice: " + b.host + ":" + b.path);
    }
    api::Brick brick;
    brick.peer_id = b.host;
    brick.path = b.path;
    bricks.push_back(std::move(brick));
  }

  api::LayoutRequest layout;
  layout.replica_count = args.replica;
  layout.arbiter_count = args.arbiter;
  layout.disperse_count = args.disperse;
  layout.disperse_data_count = args.disperse_data;
  layout.disperse_redundancy = args.redundancy;
  GD2_ASSIGN_OR_RETURN(std::vector<api::Subvol> subvols,
                       api::PlanSubvols(args.name, std::move(bricks), layout));

  api::VolCreateReq req;
  req.name = args.name;
  req.transport = args.transport.empty() ? "tcp" : args.transport;
  req.force = args.force;
  for (const api::Subvol& s : subvols) {
    api::SubvolReq sr;
    sr.type = std::string(SubvolReqType(s.type));
    if (s.type == api::SubvolType::kReplicate) {
      sr.replica = s.replica_count;
      sr.arbiter = s.arbiter_count;
    } else if (s.type == api::SubvolType::kDisperse) {
      sr.disperse_count = s.disperse_count;
      sr.disperse_redundancy = s.disperse_redundancy;
      sr.disperse_data = s.disperse_count - s.disperse_redundancy;
    }
    for (const api::Brick& b : s.bricks) {
      api::BrickReq br;
      br.peer_id = b.peer_id;
      br.path = b.path;
      if (b.type == api::BrickType::kArbiter) br.type = "arbiter";
      sr.bricks.push_back(std::move(br));
    }
    req.subvols.push_back(std::move(sr));
  }
  GD2_ASSIGN_OR_RETURN(req.options, ParseOptionList(args.options));
  req.allow_advanced_options = args.allow_advanced_options;
  req.allow_experimental_options = args.allow_experimental_options;
  req.allow_deprecated_options = args.allow_deprecated_options;
  if (args.reuse_bricks) req.flags["reuse-bricks"] = true;
  if (args.allow_root_dir) req.flags["allow-root-dir"] = true;
  if (args.allow_mount_as_brick) req.flags["allow-mount-as-brick"] = true;
  if (args.create_brick_dir) req.flags["create-brick-dir"] = true;
  return req;
}

StatusOr<std::string> ResolvePeerId(std::string_view host, const std::vector<api::Peer>& peers) {
  std::set<std::string> ids;
  for (const api::Peer& p : peers) {
    if (PeerMatches(p, host)) ids.insert(p.id);
  }
  // The daemon takes "localhost" as itself; only a peer that calls itself so overrides that.
  if (ids.empty() && host == "localhost") return std::string(host);
  if (ids.empty()) {
    return NotFoundError("unknown brick host: host=" + std::string(host) +
                         " is not the id, name or address of any peer (see 'peer list')");
  }
  if (ids.size() > 1) {
    return InvalidArgumentError("brick host matches several peers, use a peer id: host=" +
                                std::string(host));
  }
  return *ids.begin();
}

Status ResolveBrickPeers(api::VolCreateReq& req, const std::vector<api::Peer>& peers) {
  for (api::SubvolReq& s : req.subvols) {
    for (api::BrickReq& b : s.bricks) {
      GD2_ASSIGN_OR_RETURN(b.peer_id, ResolvePeerId(b.peer_id, peers));
    }
  }
  // Two spellings of one peer ("node1:/b" and "10.0.0.1:/b") are the same brick.
  std::set<std::pair<std::string, std::string>> seen;
  for (const api::SubvolReq& s : req.subvols) {
    for (const api::BrickReq& b : s.bricks) {
      if (!seen.emplace(b.peer_id, b.path).second) {
        return InvalidArgumentError("brick given twice: peer_id=" + b.peer_id + " path=" + b.path);
      }
    }
  }
  return OkStatus();
}

StatusOr<api::VolOptionReq> BuildVolOptionReq(const std::vector<std::string>& words, bool advanced,
                                              bool experimental, bool deprecated) {
  if (words.empty()) return InvalidArgumentError("no option given: use <option> <value>");
  if (words.size() % 2 != 0) {
    return InvalidArgumentError("option " + words.back() +
                                " has no value: give <option> <value> pairs");
  }
  api::VolOptionReq req;
  for (size_t i = 0; i < words.size(); i += 2) {
    if (words[i].empty()) return InvalidArgumentError("empty option name");
    if (!req.options.emplace(words[i], words[i + 1]).second) {
      return InvalidArgumentError("option given twice: " + words[i]);
    }
  }
  req.allow_advanced_options = advanced;
  req.allow_experimental_options = experimental;
  req.allow_deprecated_options = deprecated;
  return req;
}

StatusOr<api::VolOptionResetReq> BuildVolOptionResetReq(const std::vector<std::string>& options,
                                                        bool force, bool all) {
  if (all && !options.empty()) {
    return InvalidArgumentError("give option names or --all, not both");
  }
  if (!all && options.empty()) {
    return InvalidArgumentError("no option given: name the options to reset, or use --all");
  }
  api::VolOptionResetReq req;
  for (const std::string& o : options) {
    if (o.empty()) return InvalidArgumentError("empty option name");
    if (std::ranges::find(req.options, o) == req.options.end()) req.options.push_back(o);
  }
  req.force = force;
  req.all = all;
  return req;
}

std::vector<api::OptionInfo> FilterOptions(std::vector<api::OptionInfo> options, bool modified_only,
                                           bool basic, bool advanced) {
  std::erase_if(options, [&](const api::OptionInfo& o) {
    if (modified_only && !o.modified) return true;
    if (!basic && !advanced) return false;
    return !((basic && EqualsIgnoreCase(o.option_level, "basic")) ||
             (advanced && EqualsIgnoreCase(o.option_level, "advanced")));
  });
  return options;
}

std::string BrickCountText(const api::Volume& volume) {
  size_t total = 0;
  for (const api::Subvol& s : volume.subvols) total += s.bricks.size();
  if (volume.subvols.empty()) return "0";
  const api::Subvol& first = volume.subvols.front();
  const std::string sets = std::to_string(volume.subvols.size());
  const std::string all = std::to_string(total);
  switch (first.type) {
    case api::SubvolType::kReplicate:
      if (first.arbiter_count > 0) {
        return sets + " x (" + std::to_string(first.replica_count - first.arbiter_count) + " + " +
               std::to_string(first.arbiter_count) + ") = " + all;
      }
      return sets + " x " + std::to_string(first.replica_count) + " = " + all;
    case api::SubvolType::kDisperse:
      return sets + " x (" + std::to_string(first.disperse_count - first.disperse_redundancy) +
             " + " + std::to_string(first.disperse_redundancy) + ") = " + all;
    case api::SubvolType::kDistribute:
      break;
  }
  return all;
}

std::string StateText(api::VolumeState state) {
  switch (state) {
    case api::VolumeState::kStarted:
      return "Started";
    case api::VolumeState::kStopped:
      return "Stopped";
    case api::VolumeState::kCreated:
      return "Created";
  }
  return "Created";
}

std::string FormatVolumeInfo(const api::Volume& volume) {
  std::string out;
  out += "Volume Name: " + volume.name + "\n";
  out += "Type: " + std::string(api::VolumeTypeName(volume.type)) + "\n";
  out += "Volume ID: " + volume.id + "\n";
  out += "State: " + StateText(volume.state) + "\n";
  out += "Transport-type: " + volume.transport + "\n";
  out += "Number of Bricks: " + BrickCountText(volume) + "\n";
  out += "Bricks:\n";
  int n = 0;
  for (const api::Subvol& s : volume.subvols) {
    for (const api::Brick& b : s.bricks) {
      out += "Brick" + std::to_string(++n) + ": " + (b.host.empty() ? b.peer_id : b.host) + ":" +
             b.path;
      if (b.type == api::BrickType::kArbiter) out += " (arbiter)";
      out += "\n";
    }
  }
  if (!volume.options.empty()) {
    out += "Options Reconfigured:\n";
    for (const auto& [k, v] : volume.options) out += k + ": " + v + "\n";
  }
  return out;
}

std::vector<std::vector<std::string>> BrickStatusRows(const std::vector<api::BrickStatus>& bricks) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(bricks.size());
  for (const api::BrickStatus& b : bricks) {
    std::string host = JsonString(b.info, "host");
    if (host.empty()) host = JsonString(b.info, "peer-id");
    rows.push_back({JsonString(b.info, "id"), host, JsonString(b.info, "path"),
                    b.online ? "yes" : "no", OrNA(b.port), OrNA(b.pid)});
  }
  return rows;
}

std::string FormatHealInfo(const std::vector<api::BrickHealInfo>& bricks) {
  std::string out;
  for (const api::BrickHealInfo& b : bricks) {
    out += "Brick " + b.name + "\n";
    for (const api::HealEntry& e : b.files) out += e.filename + "\n";
    out += "Status: " + b.status + "\n";
    out += "Number of entries: " + std::to_string(b.total_entries) + "\n\n";
  }
  return out;
}

}  // namespace gd2::cli
