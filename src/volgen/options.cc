#include "volgen/options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <unordered_map>
#include <utility>

#include "common/volfile_text.h"

namespace gd2::volgen {
namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kGiB = 1024 * kMiB;
constexpr int64_t kTiB = 1024 * kGiB;

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

StatusOr<int64_t> ParseInt(std::string_view s) {
  if (!IsDigits(s) && !(s.size() > 1 && s[0] == '-' && IsDigits(s.substr(1)))) {
    return InvalidArgumentError("not an integer");
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr != s.data() + s.size()) return InvalidArgumentError("out of range");
  return n;
}

std::string BoolWord(bool on, BoolSpelling s) {
  switch (s) {
    case BoolSpelling::kEnableDisable:
      return on ? "enable" : "disable";
    case BoolSpelling::kTrueFalse:
      return on ? "true" : "false";
    case BoolSpelling::kYesNo:
      return on ? "yes" : "no";
    case BoolSpelling::kOnOff:
      break;
  }
  return on ? "on" : "off";
}

bool IsHexOrWild(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '*';
}

// One entry of an internet-address-list (see OptionType::kAddressList).
bool IsAddressPattern(std::string_view entry) {
  if (entry.empty() || entry.size() > 255) return false;
  if (entry == "*") return true;
  if (size_t slash = entry.find('/'); slash != std::string_view::npos) {
    const std::string ip(entry.substr(0, slash));
    StatusOr<int64_t> bits = ParseInt(entry.substr(slash + 1));
    if (!bits.ok() || !IsDigits(entry.substr(slash + 1)) || *bits < 0) return false;
    unsigned char buf[16];
    if (ip.find(':') != std::string::npos) {
      return *bits <= 128 && ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
    }
    return *bits <= 32 && ::inet_pton(AF_INET, ip.c_str(), buf) == 1;
  }
  if (entry.find(':') != std::string_view::npos) {
    // An IPv6 address; '*' stands for a group's digits.
    std::string probe;
    for (char c : entry) {
      if (!IsHexOrWild(c) && c != ':' && c != '.') return false;
      probe.push_back(c == '*' ? '0' : c);
    }
    unsigned char buf[16];
    return ::inet_pton(AF_INET6, probe.c_str(), buf) == 1;
  }
  // A host name or an IPv4 address, labels possibly with '*' wildcards. Labels of digits and
  // '*' only make an IPv4 pattern: at most four, each number at most 255.
  bool numeric = true;
  size_t labels = 0;
  size_t start = 0;
  while (start <= entry.size()) {
    size_t end = entry.find('.', start);
    if (end == std::string_view::npos) end = entry.size();
    std::string_view label = entry.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    bool digits_or_wild = true;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '*';
      if (!ok) return false;
      digits_or_wild = digits_or_wild && ((c >= '0' && c <= '9') || c == '*');
    }
    if (!digits_or_wild) {
      numeric = false;
    } else if (IsDigits(label) && (label.size() > 3 || *ParseInt(label) > 255)) {
      return false;
    }
    ++labels;
    start = end + 1;
  }
  return !numeric || labels <= 4;
}

Status RangeError(const OptionDef& d, std::string_view value) {
  return InvalidArgumentError("invalid value for " + d.key + ": " + std::string(value) +
                              " (allowed range " + std::to_string(d.min) + ".." +
                              std::to_string(d.max) + ")");
}

StatusOr<std::string> NormalizeValue(const OptionDef& d, std::string_view value) {
  const std::string v = PrintableText(value);
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid value for " + d.key + ": " + v + " (" + std::string(why) +
                                ")");
  };
  if (value.empty()) return bad("empty");
  if (value.size() > kMaxOptionValueLength) {
    return bad("longer than " + std::to_string(kMaxOptionValueLength) + " characters");
  }
  if (std::string refused = FirstRefusedChar(value); !refused.empty()) {
    return bad(refused +
               " is not allowed in a volfile value; allowed: letters, digits and "
               ". _ - / : , * % + @");
  }
  if (IsVolfileKeyword(value)) return bad("a volfile keyword");
  switch (d.type) {
    case OptionType::kBool: {
      const std::string l = Lower(value);
      if (l == "on" || l == "yes" || l == "true" || l == "enable" || l == "1") {
        return BoolWord(true, d.spelling);
      }
      if (l == "off" || l == "no" || l == "false" || l == "disable" || l == "0") {
        return BoolWord(false, d.spelling);
      }
      return bad("expected a boolean: on/off, yes/no, true/false, enable/disable, 1/0");
    }
    case OptionType::kInt:
    case OptionType::kTime: {
      std::string_view digits = value;
      if (d.type == OptionType::kTime && digits.size() > 1 &&
          (digits.back() == 's' || digits.back() == 'S')) {
        digits.remove_suffix(1);
      }
      StatusOr<int64_t> n = ParseInt(digits);
      if (!n.ok())
        return bad(d.type == OptionType::kTime ? "expected seconds" : "expected an integer");
      if (*n < d.min || *n > d.max) return RangeError(d, value);
      return std::to_string(*n);
    }
    case OptionType::kSize: {
      StatusOr<int64_t> bytes = ParseSize(value);
      if (!bytes.ok()) return bad("expected a size such as 64MB");
      if (*bytes < d.min || *bytes > d.max) return RangeError(d, value);
      // Keep the user's unit but spell it the way glusterfs parses it (KB = 1024).
      size_t i = 0;
      while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
      std::string unit = Lower(value.substr(i));
      std::string number = std::to_string(*ParseInt(value.substr(0, i)));
      if (unit.empty() || unit == "b") return number;
      return number + static_cast<char>(unit[0] - 'a' + 'A') + "B";
    }
    case OptionType::kPercent: {
      std::string_view digits = value;
      if (digits.back() == '%') digits.remove_suffix(1);
      StatusOr<int64_t> n = ParseInt(digits);
      if (!n.ok()) return bad("expected a percentage such as 10%");
      if (*n < d.min || *n > d.max) return RangeError(d, value);
      return std::to_string(*n) + "%";
    }
    case OptionType::kEnum: {
      const std::string l = Lower(value);
      for (const std::string& a : d.allowed) {
        if (Lower(a) == l) return a;
      }
      std::string list;
      for (const std::string& a : d.allowed) list += (list.empty() ? "" : ", ") + a;
      return bad("allowed: " + list);
    }
    case OptionType::kAddressList: {
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string_view::npos) end = value.size();
        if (!IsAddressPattern(value.substr(start, end - start))) {
          return bad("not a valid internet-address-list: " +
                     PrintableText(value.substr(start, end - start)));
        }
        start = end + 1;
      }
      return std::string(value);
    }
    case OptionType::kString:
      return std::string(value);
  }
  return bad("unknown type");
}

}  // namespace

OptionBuilder::OptionBuilder(std::string key, OptionType type, std::string default_value,
                             unsigned graphs, std::vector<XlatorTarget> targets) {
  d_.key = std::move(key);
  d_.type = type;
  d_.default_value = std::move(default_value);
  d_.graphs = graphs;
  d_.targets = std::move(targets);
}

OptionBuilder& OptionBuilder::Range(int64_t min, int64_t max) {
  d_.min = min;
  d_.max = max;
  return *this;
}

OptionBuilder& OptionBuilder::Values(std::vector<std::string> allowed) {
  d_.allowed = std::move(allowed);
  return *this;
}

OptionBuilder& OptionBuilder::Spelling(BoolSpelling s) {
  d_.spelling = s;
  return *this;
}

OptionBuilder& OptionBuilder::Level(OptionLevel l) {
  d_.level = l;
  return *this;
}

OptionBuilder& OptionBuilder::NeedsRestart() {
  d_.live = false;
  return *this;
}

OptionBuilder& OptionBuilder::Desc(std::string text) {
  d_.description = std::move(text);
  return *this;
}

std::string_view OptionLevelName(OptionLevel level) {
  switch (level) {
    case OptionLevel::kBasic:
      return "Basic";
    case OptionLevel::kAdvanced:
      return "Advanced";
    case OptionLevel::kExperimental:
      return "Experimental";
    case OptionLevel::kDeprecated:
      return "Deprecated";
  }
  return "Basic";
}

std::string_view OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return "bool";
    case OptionType::kInt:
      return "int";
    case OptionType::kSize:
      return "size";
    case OptionType::kPercent:
      return "percent";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kString:
      return "string";
    case OptionType::kTime:
      return "time";
    case OptionType::kAddressList:
      return "address-list";
  }
  return "string";
}

StatusOr<OptionTable> OptionTable::Create(std::vector<OptionDef> defs) {
  OptionTable t;
  t.defs_ = std::move(defs);
  std::sort(t.defs_.begin(), t.defs_.end(),
            [](const OptionDef& a, const OptionDef& b) { return a.key < b.key; });
  for (size_t i = 0; i < t.defs_.size(); ++i) {
    const OptionDef& d = t.defs_[i];
    if (d.key.empty() || d.key.size() > kMaxOptionKeyLength ||
        !std::all_of(d.key.begin(), d.key.end(), IsVolfileTokenChar)) {
      return InvalidArgumentError("invalid option key: " + PrintableText(d.key, 64));
    }
    if (!t.index_.emplace(d.key, i).second) {
      return InvalidArgumentError("option defined twice: " + d.key);
    }
  }
  // Aliases, unless an option has that key: "<xlator>.<option>" in both spellings of the
  // xlator, and the xlator alone for a toggle.
  std::unordered_map<std::string, size_t> aliases;
  auto add_alias = [&](std::string alias, size_t i) {
    if (t.index_.count(alias) != 0) return;
    auto [it, inserted] = aliases.emplace(alias, i);
    if (!inserted && it->second != i) it->second = kAmbiguous;
  };
  for (size_t i = 0; i < t.defs_.size(); ++i) {
    for (const XlatorTarget& target : t.defs_[i].targets) {
      if (target.option.find('{') != std::string::npos) continue;
      const std::string short_name = target.xlator_type.substr(target.xlator_type.find('/') + 1);
      if (target.option.empty()) {
        add_alias(target.xlator_type, i);
      } else {
        add_alias(target.xlator_type + "." + target.option, i);
        add_alias(short_name + "." + target.option, i);
      }
    }
  }
  t.index_.merge(aliases);
  for (const OptionDef& d : t.defs_) {
    if (d.default_value.empty()) continue;
    StatusOr<std::string> v = NormalizeValue(d, d.default_value);
    if (!v.ok() || *v != d.default_value) {
      return InvalidArgumentError("default of option " + d.key + " is not a normalised value: " +
                                  PrintableText(d.default_value, 64));
    }
  }
  return t;
}

const OptionDef* OptionTable::Find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() || it->second == kAmbiguous ? nullptr : &defs_[it->second];
}

StatusOr<std::string> OptionTable::ResolveKey(std::string_view key) const {
  if (key.empty()) return InvalidArgumentError("option key is empty");
  if (key.size() > kMaxOptionKeyLength) {
    return InvalidArgumentError("unknown option: " + PrintableText(key, 64) + " (longer than " +
                                std::to_string(kMaxOptionKeyLength) + " characters)");
  }
  if (!std::all_of(key.begin(), key.end(), IsVolfileTokenChar)) {
    return InvalidArgumentError("unknown option: " + PrintableText(key) +
                                " (option keys are letters, digits and . _ - /)");
  }
  auto it = index_.find(std::string(key));
  if (it != index_.end() && it->second != kAmbiguous) return defs_[it->second].key;
  if (it != index_.end()) {
    return InvalidArgumentError("ambiguous option: " + std::string(key) +
                                " (use the full option name)");
  }
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const OptionDef& d : defs_) {
    size_t dist = EditDistance(key, d.key);
    if (dist < best_distance) {
      best_distance = dist;
      best = d.key;
    }
  }
  std::string message = "unknown option: " + std::string(key);
  if (best_distance <= std::max<size_t>(2, key.size() / 5)) {
    message += " (did you mean " + best + "?)";
  }
  return InvalidArgumentError(message);
}

StatusOr<NormalizedOption> OptionTable::Normalize(std::string_view key,
                                                  std::string_view value) const {
  GD2_ASSIGN_OR_RETURN(std::string canonical, ResolveKey(key));
  const OptionDef* def = Find(canonical);
  GD2_ASSIGN_OR_RETURN(std::string normalized, NormalizeValue(*def, value));
  return NormalizedOption{std::move(canonical), std::move(normalized)};
}

StatusOr<std::string> OptionTable::Validate(std::string_view key, std::string_view value) const {
  GD2_ASSIGN_OR_RETURN(NormalizedOption o, Normalize(key, value));
  return std::move(o.value);
}

StatusOr<std::map<std::string, std::string>> OptionTable::NormalizeAll(
    const std::map<std::string, std::string>& options) const {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : options) {
    GD2_ASSIGN_OR_RETURN(NormalizedOption o, Normalize(key, value));
    if (!out.emplace(o.key, o.value).second) {
      return InvalidArgumentError("option given twice: " + o.key + " (as " + key + ")");
    }
  }
  return out;
}

Status CheckOptionLevel(const OptionDef& def, bool allow_advanced, bool allow_experimental,
                        bool allow_deprecated) {
  bool ok = true;
  std::string flag;
  switch (def.level) {
    case OptionLevel::kBasic:
      break;
    case OptionLevel::kAdvanced:
      ok = allow_advanced;
      flag = "allow-advanced-options";
      break;
    case OptionLevel::kExperimental:
      ok = allow_experimental;
      flag = "allow-experimental-options";
      break;
    case OptionLevel::kDeprecated:
      ok = allow_deprecated;
      flag = "allow-deprecated-options";
      break;
  }
  if (ok) return OkStatus();
  return InvalidArgumentError("option " + def.key + " is " + Lower(OptionLevelName(def.level)) +
                              ", set " + flag + " to change it");
}

std::vector<OptionValue> OptionTable::Effective(
    const std::map<std::string, std::string>& set) const {
  std::vector<OptionValue> out;
  for (const OptionDef& d : defs_) {
    OptionValue v{d.key, d.default_value, d.default_value, false, d.level};
    if (auto it = set.find(d.key); it != set.end()) {
      v.value = it->second;
      v.modified = true;
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::map<std::string, std::string> CreateTimeOptions(api::VolumeType type) {
  std::map<std::string, std::string> o = {
      {"storage.fips-mode-rchecksum", "on"},
      {"transport.address-family", "inet"},
      {"nfs.disable", "on"},
  };
  if (type == api::VolumeType::kReplicate || type == api::VolumeType::kDistReplicate) {
    o["cluster.granular-entry-heal"] = "on";
    o["performance.client-io-threads"] = "off";
  }
  return o;
}

StatusOr<int64_t> ParseSize(std::string_view value) {
  size_t i = 0;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  if (i == 0 || i > 18) return InvalidArgumentError("invalid size: " + std::string(value));
  int64_t n = *ParseInt(value.substr(0, i));
  const std::string unit = Lower(value.substr(i));
  int64_t mult = 0;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = kKiB;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = kMiB;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = kGiB;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    mult = kTiB;
  } else {
    return InvalidArgumentError("invalid size unit: " + std::string(value));
  }
  if (n > INT64_MAX / mult) return InvalidArgumentError("size too large: " + std::string(value));
  return n * mult;
}

}  // namespace gd2::volgen
