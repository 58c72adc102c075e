// Volume options: the definition of one option (which xlator option, or which whole xlator, its
// key controls, in which volfile graphs, its type, default, allowed values and level) and
// OptionTable, the lookup and validation over a set of them. The definitions come from the
// plugins that own them (plugins::Registrar::AddOption; the volume plugin's are in
// plugins/volume/options.h); the daemon builds one table from all of them. Validation normalises
// values so that what is stored is exactly what volgen writes. A table is immutable and safe to
// read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/volume.h"
#include "common/status.h"

namespace gd2::volgen {

// kAddressList: comma-separated address patterns as glusterd's internet-address-list (auth.allow,
// auth.reject): "*", host names and IPv4 addresses whose labels may be "*" or contain '*'
// (192.168.1.*, *.example.com), IPv4 or IPv6 networks (10.0.0.0/8), IPv6 addresses.
enum class OptionType { kBool, kInt, kSize, kPercent, kEnum, kString, kTime, kAddressList };
enum class OptionLevel { kBasic, kAdvanced, kExperimental, kDeprecated };
// How a normalised boolean is spelled (glusterd writes e.g. "barrier disable", "send-gids true").
enum class BoolSpelling { kOnOff, kEnableDisable, kTrueFalse, kYesNo };

// Bit set of the graphs an option changes.
enum GraphMask : unsigned {
  kNoGraph = 0,
  kBrickGraph = 1u << 0,   // <vol>.<host>.<brick>.vol
  kClientGraph = 1u << 1,  // [trusted-]<vol>.tcp-fuse.vol
  kShdGraph = 1u << 2,     // <vol>-shd.vol
};

// One xlator option written by an option. An empty `option` means the option switches the
// whole xlator on or off. "{brick}" in `option` is replaced by the brick path.
struct XlatorTarget {
  std::string xlator_type;  // e.g. "performance/quick-read"
  std::string option;       // e.g. "cache-size"
};

struct OptionDef {
  std::string key;  // canonical key, glusterd's spelling: "performance.cache-size"
  std::vector<XlatorTarget> targets;
  OptionType type = OptionType::kString;
  std::string default_value;  // normalised; what `volume get` shows when unset
  int64_t min = 0;            // kInt/kTime: value; kSize: bytes; kPercent: percent
  int64_t max = 0;
  std::vector<std::string> allowed;  // kEnum, canonical spellings
  BoolSpelling spelling = BoolSpelling::kOnOff;
  unsigned graphs = kNoGraph;  // GraphMask bits
  // True when running processes pick the change up on their own after the volfile-change
  // callback (reconfigure or graph switch); false when a brick restart is needed.
  bool live = true;
  OptionLevel level = OptionLevel::kBasic;
  std::string description;

  bool IsXlatorToggle() const { return targets.size() == 1 && targets[0].option.empty(); }
};

// Builds one OptionDef as one statement, so that a plugin's table reads row by row:
//   OptionBuilder("performance.cache-size", OptionType::kSize, "32MB", kClientGraph,
//                 {{"performance/io-cache", "cache-size"}}).Range(0, 32 * kGiB).Desc("...")
class OptionBuilder {
 public:
  OptionBuilder(std::string key, OptionType type, std::string default_value, unsigned graphs,
                std::vector<XlatorTarget> targets);
  OptionBuilder& Range(int64_t min, int64_t max);
  OptionBuilder& Values(std::vector<std::string> allowed);
  OptionBuilder& Spelling(BoolSpelling s);
  OptionBuilder& Level(OptionLevel l);
  OptionBuilder& NeedsRestart();
  OptionBuilder& Desc(std::string text);
  operator OptionDef() const { return d_; }  // NOLINT(google-explicit-constructor)

 private:
  OptionDef d_;
};

std::string_view OptionLevelName(OptionLevel level);  // "Basic", "Advanced", ...
std::string_view OptionTypeName(OptionType type);     // "bool", "int", ...

// Longest option key and value accepted; checked before anything else looks at them.
inline constexpr size_t kMaxOptionKeyLength = 128;
inline constexpr size_t kMaxOptionValueLength = 4096;

struct NormalizedOption {
  std::string key;    // canonical
  std::string value;  // normalised
};

// One row of `volume get`.
struct OptionValue {
  std::string key;
  std::string value;  // the set value, or the default
  std::string default_value;
  bool modified = false;
  OptionLevel level = OptionLevel::kBasic;
};

// The options a daemon supports, by canonical key and alias. Immutable once created; copies are
// independent; every method is safe to call from any thread.
class OptionTable {
 public:
  // A table without options: every key is unknown.
  OptionTable() = default;
  // kInvalidArgument naming the key for a key given twice, a key of more than
  // kMaxOptionKeyLength characters or with characters outside [A-Za-z0-9._-/], or a default
  // value that is not already in its own normalised form.
  static StatusOr<OptionTable> Create(std::vector<OptionDef> defs);

  // Every option, sorted by key.
  const std::vector<OptionDef>& all() const { return defs_; }

  // Finds an option by canonical key or alias. Aliases are "<xlator>.<option>" with the xlator
  // as "category/name" or "name" (cluster/replicate.eager-lock, replicate.eager-lock), and
  // "category/name" alone for xlator toggles (performance/write-behind). An alias that would
  // name two options is not accepted. Returns nullptr if the key is unknown.
  const OptionDef* Find(std::string_view key) const;

  // Returns the canonical key, or kInvalidArgument
  // "unknown option: perfomance.cache-size (did you mean performance.cache-size?)". A key
  // longer than kMaxOptionKeyLength or with characters no option has is refused before any
  // suggestion is searched for, so the cost of a call is bounded whatever the key.
  StatusOr<std::string> ResolveKey(std::string_view key) const;

  // Checks `value` against the option's type and range and returns its normalised form:
  // booleans (on/off/yes/no/true/false/enable/disable/1/0, any case) in the option's spelling,
  // enums in their canonical spelling, sizes as "<n>KB|MB|GB|TB" or plain bytes, percentages as
  // "<n>%", times as seconds, address lists as given. Every value must be a volfile token
  // (common/volfile_text.h: at most kMaxOptionValueLength characters of
  // [A-Za-z0-9._-/:,*%+@], not a keyword), since it is written into volfiles verbatim:
  // backticks, quotes, backslashes, '#', '$' and whitespace are refused for every option.
  // kInvalidArgument names key and value.
  StatusOr<std::string> Validate(std::string_view key, std::string_view value) const;

  // ResolveKey + Validate in one step.
  StatusOr<NormalizedOption> Normalize(std::string_view key, std::string_view value) const;
  // Normalises a whole `volume set` request. kInvalidArgument on the first bad option, or when
  // two keys resolve to the same option ("option given twice: ...").
  StatusOr<std::map<std::string, std::string>> NormalizeAll(
      const std::map<std::string, std::string>& options) const;

  // Every option in the table, in key order, with the values in `set` (canonical keys) applied.
  std::vector<OptionValue> Effective(const std::map<std::string, std::string>& set) const;

 private:
  std::vector<OptionDef> defs_;
  // Canonical key or alias -> index into defs_; kAmbiguous marks an alias of several options.
  static constexpr size_t kAmbiguous = SIZE_MAX;
  std::unordered_map<std::string, size_t> index_;
};

// kInvalidArgument unless the option's level is allowed: Basic always; Advanced, Experimental
// and Deprecated only with their allow flag (GlusterD2's allow-*-options request fields).
Status CheckOptionLevel(const OptionDef& def, bool allow_advanced, bool allow_experimental,
                        bool allow_deprecated);

// The options glusterd 10.3 writes into every new volume of this type (see the `info` files):
// storage.fips-mode-rchecksum, transport.address-family, nfs.disable, and for replicate types
// cluster.granular-entry-heal=on and performance.client-io-threads=off.
std::map<std::string, std::string> CreateTimeOptions(api::VolumeType type);

// Parses a size such as "64MB", "4MiB", "1g" or "1048576" into bytes (KB = 1024).
// kInvalidArgument if malformed or it overflows.
StatusOr<int64_t> ParseSize(std::string_view value);

}  // namespace gd2::volgen
