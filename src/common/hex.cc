#include "common/hex.h"

namespace gd2 {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

}  // namespace

std::string HexBytes(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string HexUint(uint64_t value) {
  char buf[16];
  size_t start = sizeof(buf);
  do {
    buf[--start] = kDigits[value & 15];
    value >>= 4;
  } while (value != 0);
  return std::string(buf + start, sizeof(buf) - start);
}

}  // namespace gd2
