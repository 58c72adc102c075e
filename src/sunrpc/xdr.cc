#include "sunrpc/xdr.h"

namespace gd2::sunrpc {

void XdrWriter::PutU32(uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out_.append(b, 4);
}

void XdrWriter::PutU64(uint64_t v) {
  PutU32(static_cast<uint32_t>(v >> 32));
  PutU32(static_cast<uint32_t>(v));
}

void XdrWriter::PutOpaque(std::string_view bytes) {
  GD2_CHECK(bytes.size() <= UINT32_MAX);
  PutU32(static_cast<uint32_t>(bytes.size()));
  PutFixedOpaque(bytes);
}

void XdrWriter::PutFixedOpaque(std::string_view bytes) {
  out_.append(bytes);
  out_.append(XdrPad(bytes.size()), '\0');
}

Status XdrReader::Need(size_t n) const {
  if (remaining() < n) {
    return OutOfRangeError("xdr: truncated input: need=" + std::to_string(n) +
                           " have=" + std::to_string(remaining()));
  }
  return OkStatus();
}

StatusOr<uint32_t> XdrReader::U32() {
  GD2_RETURN_IF_ERROR(Need(4));
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
  pos_ += 4;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

StatusOr<int32_t> XdrReader::I32() {
  GD2_ASSIGN_OR_RETURN(uint32_t v, U32());
  return static_cast<int32_t>(v);
}

StatusOr<uint64_t> XdrReader::U64() {
  GD2_RETURN_IF_ERROR(Need(8));
  GD2_ASSIGN_OR_RETURN(uint32_t hi, U32());
  GD2_ASSIGN_OR_RETURN(uint32_t lo, U32());
  return (uint64_t{hi} << 32) | lo;
}

StatusOr<bool> XdrReader::Bool() {
  GD2_ASSIGN_OR_RETURN(uint32_t v, U32());
  if (v > 1) return InvalidArgumentError("xdr: bad boolean: value=" + std::to_string(v));
  return v == 1;
}

StatusOr<std::string> XdrReader::Opaque(uint32_t max_len) {
  GD2_ASSIGN_OR_RETURN(uint32_t len, U32());
  if (len > max_len) {
    return InvalidArgumentError("xdr: opaque too long: len=" + std::to_string(len) +
                                " max=" + std::to_string(max_len));
  }
  return FixedOpaque(len);
}

Status XdrReader::SkipOpaque(uint32_t max_len) {
  GD2_ASSIGN_OR_RETURN(uint32_t len, U32());
  if (len > max_len) {
    return InvalidArgumentError("xdr: opaque too long: len=" + std::to_string(len) +
                                " max=" + std::to_string(max_len));
  }
  size_t total = size_t{len} + XdrPad(len);
  GD2_RETURN_IF_ERROR(Need(total));
  pos_ += total;
  return OkStatus();
}

StatusOr<std::string> XdrReader::FixedOpaque(uint32_t len) {
  size_t total = size_t{len} + XdrPad(len);
  GD2_RETURN_IF_ERROR(Need(total));
  std::string out(in_.substr(pos_, len));
  pos_ += total;
  return out;
}

}  // namespace gd2::sunrpc
