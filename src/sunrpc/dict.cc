#include "sunrpc/dict.h"

#include <cstdint>

#include "sunrpc/xdr.h"

namespace gd2::sunrpc {

void Dict::SetString(std::string key, std::string_view value) {
  std::string v(value);
  v.push_back('\0');
  SetRaw(std::move(key), std::move(v));
}

void Dict::SetRaw(std::string key, std::string value) {
  for (auto& [k, v] : values_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  values_.emplace_back(std::move(key), std::move(value));
}

const std::string* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : values_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::string> Dict::GetString(std::string_view key) const {
  const std::string* found = Find(key);
  if (found == nullptr) return std::nullopt;
  std::string v = *found;
  if (!v.empty() && v.back() == '\0') v.pop_back();
  return v;
}

std::optional<std::string> Dict::GetRaw(std::string_view key) const {
  const std::string* found = Find(key);
  if (found == nullptr) return std::nullopt;
  return *found;
}

std::string EncodeDict(const Dict& d) {
  if (d.empty()) return {};
  XdrWriter w;
  w.PutU32(static_cast<uint32_t>(d.size()));
  std::string out = w.Release();
  for (const auto& [key, value] : d.values()) {
    XdrWriter lens;
    lens.PutU32(static_cast<uint32_t>(key.size()));
    lens.PutU32(static_cast<uint32_t>(value.size()));
    out += lens.data();
    out += key;
    out.push_back('\0');
    out += value;
  }
  return out;
}

StatusOr<Dict> DecodeDict(std::string_view bytes) {
  Dict d;
  if (bytes.empty()) return d;
  // The dict is not XDR, but its length words are big-endian u32s like XDR's; the reader gives
  // the bounds checks. Keys and values are unpadded, so they are sliced by hand.
  XdrReader r(bytes);
  auto count = r.U32();
  if (!count.ok()) return InvalidArgumentError("dict: truncated count");
  // Each pair takes at least 9 bytes (two lengths and the key's NUL).
  if (*count > kMaxDictEntries || *count > r.remaining() / 9) {
    return InvalidArgumentError("dict: bad pair count: count=" + std::to_string(*count));
  }
  size_t pos = 4;
  for (uint32_t i = 0; i < *count; ++i) {
    XdrReader lens(bytes.substr(pos));
    auto key_len = lens.U32();
    auto value_len = lens.U32();
    if (!key_len.ok() || !value_len.ok()) return InvalidArgumentError("dict: truncated pair");
    pos += 8;
    if (*key_len > kMaxDictKeyLength) {
      return InvalidArgumentError("dict: key too long: len=" + std::to_string(*key_len));
    }
    size_t left = bytes.size() - pos;
    if (size_t{*key_len} + 1 > left || *value_len > left - *key_len - 1) {
      return InvalidArgumentError("dict: truncated pair");
    }
    if (bytes[pos + *key_len] != '\0') return InvalidArgumentError("dict: key not terminated");
    std::string key(bytes.substr(pos, *key_len));
    pos += size_t{*key_len} + 1;
    d.SetRaw(std::move(key), std::string(bytes.substr(pos, *value_len)));
    pos += *value_len;
  }
  if (pos != bytes.size()) {
    return InvalidArgumentError("dict: trailing bytes: count=" +
                                std::to_string(bytes.size() - pos));
  }
  return d;
}

}  // namespace gd2::sunrpc
