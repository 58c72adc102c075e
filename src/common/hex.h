// Lower-case hexadecimal text: of bytes (digests, random ids) and of numbers (etcd lease and
// member ids in keys and messages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gd2 {

// Two digits per byte, in order: {0x0f, 0xa0} -> "0fa0".
std::string HexBytes(const void* data, size_t size);
inline std::string HexBytes(std::string_view bytes) { return HexBytes(bytes.data(), bytes.size()); }

// The digits of `value` without leading zeros: 255 -> "ff", 0 -> "0".
std::string HexUint(uint64_t value);

}  // namespace gd2
