// XDR (RFC 4506) encoding and bounds-checked decoding, the wire format of every Sun-RPC message
// the volfile service exchanges. XdrReader never reads past its input and caps every
// variable-length item, so it is safe on bytes from the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gd2::sunrpc {

// Largest string<> / opaque<> the readers accept unless the caller passes a tighter limit.
inline constexpr uint32_t kDefaultMaxOpaque = 1 << 20;

// Appends XDR items to an owned byte string. Not thread-safe; cheap to create.
class XdrWriter {
 public:
  void PutU32(uint32_t v);
  void PutI32(int32_t v) { PutU32(static_cast<uint32_t>(v)); }
  void PutU64(uint64_t v);
  void PutBool(bool v) { PutU32(v ? 1 : 0); }
  // Variable-length opaque<> / string<>: u32 length, the bytes, zero padding to 4.
  void PutOpaque(std::string_view bytes);
  void PutString(std::string_view s) { PutOpaque(s); }
  // Fixed-length opaque[n]: the bytes and zero padding, no length word.
  void PutFixedOpaque(std::string_view bytes);

  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads XDR items from a borrowed buffer. Every read checks the remaining length and returns
// kOutOfRange when the input is truncated, kInvalidArgument when a length exceeds its limit.
// Padding bytes are skipped without being checked. Not thread-safe.
class XdrReader {
 public:
  explicit XdrReader(std::string_view in) : in_(in) {}

  StatusOr<uint32_t> U32();
  StatusOr<int32_t> I32();
  StatusOr<uint64_t> U64();
  // Accepts only 0 and 1.
  StatusOr<bool> Bool();
  // opaque<max_len>; the returned bytes are a copy.
  StatusOr<std::string> Opaque(uint32_t max_len = kDefaultMaxOpaque);
  StatusOr<std::string> String(uint32_t max_len = kDefaultMaxOpaque) { return Opaque(max_len); }
  // Skips opaque<max_len> without copying it.
  Status SkipOpaque(uint32_t max_len = kDefaultMaxOpaque);
  // Fixed-length opaque[len] (plus padding).
  StatusOr<std::string> FixedOpaque(uint32_t len);

  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  // The unread rest of the input.
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  Status Need(size_t n) const;

  std::string_view in_;
  size_t pos_ = 0;
};

// Number of padding bytes after `len` data bytes.
inline size_t XdrPad(size_t len) { return (4 - (len % 4)) % 4; }

}  // namespace gd2::sunrpc
