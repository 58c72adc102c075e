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

// Fluent helper so each table row reads as one statement.
class Def {
 public:
  Def(std::string key, OptionType type, std::string default_value, unsigned graphs,
      std::vector<XlatorTarget> targets) {
    d_.key = std::move(key);
    d_.type = type;
    d_.default_value = std::move(default_value);
    d_.graphs = graphs;
    d_.targets = std::move(targets);
  }
  Def& Range(int64_t min, int64_t max) {
    d_.min = min;
    d_.max = max;
    return *this;
  }
  Def& Values(std::vector<std::string> allowed) {
    d_.allowed = std::move(allowed);
    return *this;
  }
  Def& Spelling(BoolSpelling s) {
    d_.spelling = s;
    return *this;
  }
  Def& Level(OptionLevel l) {
    d_.level = l;
    return *this;
  }
  Def& NeedsRestart() {
    d_.live = false;
    return *this;
  }
  Def& Desc(std::string text) {
    d_.description = std::move(text);
    return *this;
  }
  operator OptionDef() const { return d_; }  // NOLINT(google-explicit-constructor)

 private:
  OptionDef d_;
};

Def Toggle(std::string key, std::string xlator, bool on) {
  return Def(std::move(key), OptionType::kBool, on ? "on" : "off", kClientGraph,
             {{std::move(xlator), ""}});
}

const std::vector<std::string> kLogLevels = {"DEBUG",    "WARNING", "ERROR", "INFO",
                                             "CRITICAL", "NONE",    "TRACE"};

std::vector<OptionDef> BuildTable() {
  using T = OptionType;
  using L = OptionLevel;
  constexpr unsigned kClientShd = kClientGraph | kShdGraph;
  std::vector<OptionDef> t = {
      // Client xlators switched on and off; they stack in this order above DHT.
      Toggle("performance.write-behind", "performance/write-behind", true)
          .Desc("enable/disable the write-behind translator"),
      Toggle("performance.read-ahead", "performance/read-ahead", false)
          .Desc("enable/disable the read-ahead translator"),
      Toggle("performance.readdir-ahead", "performance/readdir-ahead", false)
          .Desc("enable/disable the readdir-ahead translator"),
      Toggle("performance.io-cache", "performance/io-cache", false)
          .Desc("enable/disable the io-cache translator"),
      Toggle("performance.open-behind", "performance/open-behind", true)
          .Desc("enable/disable the open-behind translator"),
      Toggle("performance.quick-read", "performance/quick-read", true)
          .Desc("enable/disable the quick-read translator"),
      Toggle("performance.nl-cache", "performance/nl-cache", false)
          .Level(L::kAdvanced)
          .Desc("enable/disable the negative-lookup cache translator"),
      Toggle("performance.stat-prefetch", "performance/md-cache", true)
          .Desc("enable/disable the metadata cache (md-cache) translator"),
      Toggle("performance.client-io-threads", "performance/io-threads", true)
          .Desc("enable/disable the io-threads translator in the client graph"),
      Toggle("features.shard", "features/shard", false)
          .Desc("enable/disable sharding of large files"),
      Toggle("features.ctime", "features/utime", true)
          .Level(L::kAdvanced)
          .Desc("enable/disable consistent time attributes (features/utime)"),

      // Client performance options.
      Def("performance.cache-size", T::kSize, "32MB", kClientGraph,
          {{"performance/io-cache", "cache-size"}, {"performance/quick-read", "cache-size"}})
          .Range(0, 32 * kGiB)
          .Desc("size of the io-cache and quick-read caches"),
      Def("performance.write-behind-window-size", T::kSize, "1MB", kClientGraph,
          {{"performance/write-behind", "cache-size"}})
          .Range(512 * kKiB, kGiB)
          .Desc("per-file write-behind buffer"),
      Def("performance.flush-behind", T::kBool, "on", kClientGraph,
          {{"performance/write-behind", "flush-behind"}})
          .Desc("let flush return before the writes behind it are done"),
      Def("performance.io-thread-count", T::kInt, "16", kBrickGraph | kClientGraph,
          {{"performance/io-threads", "thread-count"}})
          .Range(1, 64)
          .Desc("maximum number of io-threads"),
      Def("performance.md-cache-timeout", T::kInt, "1", kClientGraph,
          {{"performance/md-cache", "md-cache-timeout"}})
          .Range(0, 600)
          .Desc("seconds metadata stays cached"),
      Def("performance.cache-invalidation", T::kBool, "off", kClientGraph,
          {{"performance/md-cache", "cache-invalidation"}})
          .Desc("md-cache honours upcall invalidations"),

      // Protocol and network.
      Def("network.ping-timeout", T::kTime, "42", kClientShd, {{"protocol/client", "ping-timeout"}})
          .Range(0, 1013)
          .Desc("seconds before an unresponsive brick is declared down"),
      Def("network.frame-timeout", T::kTime, "1800", kClientShd,
          {{"protocol/client", "frame-timeout"}})
          .Range(5, 86400)
          .Level(L::kAdvanced)
          .Desc("seconds before an unanswered call is failed"),
      Def("client.strict-locks", T::kBool, "off", kClientShd, {{"protocol/client", "strict-locks"}})
          .Level(L::kAdvanced)
          .Desc("do not reopen fds with posix locks after a reconnect"),
      Def("client.event-threads", T::kInt, "2", kClientShd, {{"protocol/client", "event-threads"}})
          .Range(1, 32)
          .Desc("epoll threads in client processes"),
      Def("server.event-threads", T::kInt, "2", kBrickGraph, {{"protocol/server", "event-threads"}})
          .Range(1, 32)
          .Desc("epoll threads in brick processes"),
      Def("transport.address-family", T::kEnum, "inet", kBrickGraph | kClientShd,
          {{"protocol/server", "transport.address-family"},
           {"protocol/client", "transport.address-family"}})
          .Values({"inet", "inet6"})
          .NeedsRestart()
          .Level(L::kAdvanced)
          .Desc("address family bricks listen on and clients connect with"),
      Def("auth.allow", T::kAddressList, "*", kBrickGraph,
          {{"protocol/server", "auth.addr.{brick}.allow"}})
          .Desc("comma-separated addresses (with * wildcards) allowed to connect to bricks"),
      Def("auth.reject", T::kAddressList, "", kBrickGraph,
          {{"protocol/server", "auth.addr.{brick}.reject"}})
          .Desc("comma-separated addresses (with * wildcards) refused by bricks"),

      // Replicate (AFR).
      Def("cluster.quorum-type", T::kEnum, "none", kClientShd,
          {{"cluster/replicate", "quorum-type"}})
          .Values({"none", "auto", "fixed"})
          .Desc("client quorum: none, auto (majority) or fixed (quorum-count)"),
      Def("cluster.quorum-count", T::kInt, "", kClientShd, {{"cluster/replicate", "quorum-count"}})
          .Range(1, 1024)
          .Desc("bricks that must be up for writes when quorum-type is fixed"),
      Def("cluster.self-heal-daemon", T::kBool, "enable", kShdGraph,
          {{"cluster/replicate", "self-heal-daemon"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("run the self-heal daemon for replicate subvolumes"),
      Def("cluster.disperse-self-heal-daemon", T::kBool, "enable", kShdGraph,
          {{"cluster/disperse", "self-heal-daemon"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("run the self-heal daemon for disperse subvolumes"),
      Def("cluster.heal-timeout", T::kTime, "600", kShdGraph,
          {{"cluster/replicate", "heal-timeout"}, {"cluster/disperse", "heal-timeout"}})
          .Range(5, INT_MAX)
          .Desc("seconds between index heal crawls of the self-heal daemon"),
      Def("cluster.eager-lock", T::kBool, "on", kClientShd, {{"cluster/replicate", "eager-lock"}})
          .Desc("keep the replicate transaction lock across consecutive writes"),
      Def("cluster.data-self-heal", T::kBool, "off", kClientGraph,
          {{"cluster/replicate", "data-self-heal"}})
          .Desc("clients heal file data on access"),
      Def("cluster.metadata-self-heal", T::kBool, "off", kClientGraph,
          {{"cluster/replicate", "metadata-self-heal"}})
          .Desc("clients heal metadata on access"),
      Def("cluster.entry-self-heal", T::kBool, "off", kClientGraph,
          {{"cluster/replicate", "entry-self-heal"}})
          .Desc("clients heal directory entries on access"),
      Def("cluster.granular-entry-heal", T::kBool, "off", kClientShd,
          {{"cluster/replicate", "granular-entry-heal"}})
          .Desc("track and heal directory entries individually"),
      Def("cluster.favorite-child-policy", T::kEnum, "none", kClientShd,
          {{"cluster/replicate", "favorite-child-policy"}})
          .Values({"none", "size", "ctime", "mtime", "majority"})
          .Desc("resolve split-brain automatically with this policy"),
      Def("cluster.shd-max-threads", T::kInt, "1", kClientShd,
          {{"cluster/replicate", "shd-max-threads"}})
          .Range(1, 64)
          .Desc("parallel heals per brick in the self-heal daemon"),
      Def("cluster.choose-local", T::kBool, "true", kClientGraph,
          {{"cluster/replicate", "choose-local"}})
          .Spelling(BoolSpelling::kTrueFalse)
          .Level(L::kAdvanced)
          .Desc("prefer a local brick for reads"),
      Def("cluster.use-anonymous-inode", T::kBool, "yes", kClientShd,
          {{"cluster/replicate", "use-anonymous-inode"}})
          .Spelling(BoolSpelling::kYesNo)
          .Level(L::kAdvanced)
          .Desc("heal renames and deletes through an anonymous inode"),
      Def("cluster.use-compound-fops", T::kBool, "off", kClientShd,
          {{"cluster/replicate", "use-compound-fops"}})
          .Level(L::kDeprecated)
          .Desc("no effect since GlusterFS 6"),

      // Disperse (EC).
      Def("disperse.eager-lock", T::kBool, "on", kClientShd, {{"cluster/disperse", "eager-lock"}})
          .Desc("keep the disperse transaction lock across consecutive writes"),
      Def("disperse.shd-max-threads", T::kInt, "1", kClientShd,
          {{"cluster/disperse", "shd-max-threads"}})
          .Range(1, 64)
          .Desc("parallel heals per brick in the self-heal daemon"),

      // Distribute (DHT).
      Def("cluster.lookup-optimize", T::kBool, "on", kClientGraph,
          {{"cluster/distribute", "lookup-optimize"}})
          .Desc("skip lookups on all subvolumes when the layout is complete"),
      Def("cluster.min-free-disk", T::kPercent, "10%", kClientGraph,
          {{"cluster/distribute", "min-free-disk"}})
          .Range(0, 100)
          .Desc("avoid placing new files on bricks with less free space than this"),
      Def("cluster.lock-migration", T::kBool, "off", kClientGraph,
          {{"cluster/distribute", "lock-migration"}})
          .Level(L::kExperimental)
          .Desc("migrate posix locks with files during rebalance"),
      Def("cluster.force-migration", T::kBool, "off", kClientGraph,
          {{"cluster/distribute", "force-migration"}})
          .Level(L::kAdvanced)
          .Desc("migrate files that are open for writing during rebalance"),

      // Features.
      Def("features.shard-block-size", T::kSize, "64MB", kClientGraph,
          {{"features/shard", "shard-block-size"}})
          .Range(4 * kMiB, 4 * kTiB)
          .Desc("size of each shard of a file"),
      Def("features.barrier", T::kBool, "disable", kBrickGraph, {{"features/barrier", "barrier"}})
          .Spelling(BoolSpelling::kEnableDisable)
          .Level(L::kAdvanced)
          .Desc("hold modifying fops on bricks (used around snapshots)"),
      Def("features.cache-invalidation", T::kBool, "off", kBrickGraph,
          {{"features/upcall", "cache-invalidation"}})
          .Desc("bricks send cache invalidations to clients"),
      Def("features.read-only", T::kBool, "off", kBrickGraph, {{"features/read-only", "read-only"}})
          .Desc("make the volume read-only"),
      Def("features.worm", T::kBool, "off", kBrickGraph, {{"features/worm", "worm"}})
          .Desc("write once read many for the whole volume"),
      Def("features.selinux", T::kBool, "on", kBrickGraph, {{"features/selinux", "selinux"}})
          .Level(L::kAdvanced)
          .Desc("store SELinux labels on bricks"),
      Def("features.leases", T::kBool, "off", kBrickGraph, {{"features/leases", "leases"}})
          .Level(L::kAdvanced)
          .Desc("enable lease support on bricks"),

      // Diagnostics.
      Def("diagnostics.brick-log-level", T::kEnum, "INFO", kBrickGraph,
          {{"debug/io-stats", "log-level"}})
          .Values(kLogLevels)
          .Desc("log level of brick processes"),
      Def("diagnostics.client-log-level", T::kEnum, "INFO", kClientShd,
          {{"debug/io-stats", "log-level"}})
          .Values(kLogLevels)
          .Desc("log level of clients and the self-heal daemon"),
      Def("diagnostics.latency-measurement", T::kBool, "off", kBrickGraph | kClientGraph,
          {{"debug/io-stats", "latency-measurement"}})
          .Desc("measure per-fop latency (volume profile)"),
      Def("diagnostics.count-fop-hits", T::kBool, "off", kBrickGraph | kClientGraph,
          {{"debug/io-stats", "count-fop-hits"}})
          .Desc("count fops (volume profile)"),

      // Storage.
      Def("storage.fips-mode-rchecksum", T::kBool, "on", kBrickGraph,
          {{"storage/posix", "fips-mode-rchecksum"}})
          .NeedsRestart()
          .Level(L::kAdvanced)
          .Desc("use SHA-256 instead of MD5 for rchecksum"),
      Def("storage.health-check-interval", T::kTime, "30", kBrickGraph,
          {{"storage/posix", "health-check-interval"}})
          .Range(0, INT_MAX)
          .Desc("seconds between brick filesystem health checks (0 disables)"),
      Def("nfs.disable", T::kBool, "on", kNoGraph, {})
          .Level(L::kDeprecated)
          .Desc("Gluster NFS is not provided; accepted and stored for compatibility"),
  };
  std::sort(t.begin(), t.end(),
            [](const OptionDef& a, const OptionDef& b) { return a.key < b.key; });
  return t;
}

// Key (canonical or alias) -> option; nullptr marks an ambiguous alias.
using Index = std::unordered_map<std::string, const OptionDef*>;

Index BuildIndex(const std::vector<OptionDef>& table) {
  Index canonical;
  for (const OptionDef& d : table) canonical[d.key] = &d;
  Index aliases;
  auto add_alias = [&](std::string alias, const OptionDef* d) {
    if (canonical.count(alias) != 0) return;
    auto [it, inserted] = aliases.emplace(alias, d);
    if (!inserted && it->second != d) it->second = nullptr;
  };
  for (const OptionDef& d : table) {
    for (const XlatorTarget& t : d.targets) {
      if (t.option.find('{') != std::string::npos) continue;
      const std::string short_name = t.xlator_type.substr(t.xlator_type.find('/') + 1);
      if (t.option.empty()) {
        add_alias(t.xlator_type, &d);
      } else {
        add_alias(t.xlator_type + "." + t.option, &d);
        add_alias(short_name + "." + t.option, &d);
      }
    }
  }
  canonical.merge(aliases);
  return canonical;
}

const Index& GetIndex() {
  static const Index* index = new Index(BuildIndex(AllOptions()));
  return *index;
}

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

StatusOr<std::string> Normalize(const OptionDef& d, std::string_view value) {
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

const std::vector<OptionDef>& AllOptions() {
  // Leaked on purpose: no destruction-order issues for callers at exit.
  static const std::vector<OptionDef>* table = new std::vector<OptionDef>(BuildTable());
  return *table;
}

const OptionDef* FindOption(std::string_view key) {
  const Index& index = GetIndex();
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : it->second;
}

StatusOr<std::string> ResolveOptionKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("option key is empty");
  if (key.size() > kMaxOptionKeyLength) {
    return InvalidArgumentError("unknown option: " + PrintableText(key, 64) + " (longer than " +
                                std::to_string(kMaxOptionKeyLength) + " characters)");
  }
  if (!std::all_of(key.begin(), key.end(), IsVolfileTokenChar)) {
    return InvalidArgumentError("unknown option: " + PrintableText(key) +
                                " (option keys are letters, digits and . _ - /)");
  }
  const Index& index = GetIndex();
  auto it = index.find(std::string(key));
  if (it != index.end() && it->second != nullptr) return it->second->key;
  if (it != index.end()) {
    return InvalidArgumentError("ambiguous option: " + std::string(key) +
                                " (use the full option name)");
  }
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const OptionDef& d : AllOptions()) {
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

StatusOr<NormalizedOption> NormalizeOption(std::string_view key, std::string_view value) {
  GD2_ASSIGN_OR_RETURN(std::string canonical, ResolveOptionKey(key));
  const OptionDef* def = FindOption(canonical);
  GD2_ASSIGN_OR_RETURN(std::string normalized, Normalize(*def, value));
  return NormalizedOption{std::move(canonical), std::move(normalized)};
}

StatusOr<std::string> ValidateOption(std::string_view key, std::string_view value) {
  GD2_ASSIGN_OR_RETURN(NormalizedOption o, NormalizeOption(key, value));
  return std::move(o.value);
}

StatusOr<std::map<std::string, std::string>> NormalizeOptions(
    const std::map<std::string, std::string>& options) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : options) {
    GD2_ASSIGN_OR_RETURN(NormalizedOption o, NormalizeOption(key, value));
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

std::vector<OptionValue> EffectiveOptions(const std::map<std::string, std::string>& set) {
  std::vector<OptionValue> out;
  for (const OptionDef& d : AllOptions()) {
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
