// The serialized glusterfs "dict" carried in opaque xdata<> fields of management messages
// (gluster-wire.md section 1.4). It is glusterfs's own layout, not XDR:
//   be32 count, then per pair: be32 keylen, be32 valuelen, key, NUL, value bytes.
// String values travel with a trailing NUL, integers as decimal text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gd2::sunrpc {

// Limits applied when decoding a dict from the network.
inline constexpr size_t kMaxDictEntries = 1024;
inline constexpr size_t kMaxDictKeyLength = 4096;

// Key/value map with raw byte values. Keys are unique and keep their insertion order (so a
// decoded dict re-encodes to the same bytes). Lookups are linear: dicts here hold a handful of
// keys. Copyable, not thread-safe.
class Dict {
 public:
  // Stores `value` followed by a NUL, the way glusterfs sends strings and integers.
  void SetString(std::string key, std::string_view value);
  // Stores the bytes as they are.
  void SetRaw(std::string key, std::string value);

  // Returns the value with one trailing NUL removed, or nullopt when absent.
  std::optional<std::string> GetString(std::string_view key) const;
  // Returns the exact stored bytes, or nullopt when absent.
  std::optional<std::string> GetRaw(std::string_view key) const;

  bool empty() const { return values_.empty(); }
  size_t size() const { return values_.size(); }
  // The pairs in insertion order.
  const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }

  // Equal when both hold the same pairs in the same order.
  friend bool operator==(const Dict& a, const Dict& b) { return a.values_ == b.values_; }

 private:
  const std::string* Find(std::string_view key) const;

  std::vector<std::pair<std::string, std::string>> values_;
};

// Serializes `d`. An empty dict becomes an empty string (sent as a zero-length opaque), as the
// stock processes do.
std::string EncodeDict(const Dict& d);

// Parses a serialized dict. An empty input and a 4-byte zero count both give an empty dict.
// Returns kInvalidArgument for truncated or malformed input (missing key NUL, key longer than
// kMaxDictKeyLength, more than kMaxDictEntries pairs, trailing bytes). A repeated key keeps the
// last value at the position of the first.
StatusOr<Dict> DecodeDict(std::string_view bytes);

}  // namespace gd2::sunrpc
