#include "common/uuid.h"

#include <openssl/rand.h>

#include <cstdio>
#include <vector>

#include "common/hex.h"
#include "common/status.h"

namespace gd2 {
namespace {
void RandomBytes(unsigned char* buf, size_t n) {
  GD2_CHECK(RAND_bytes(buf, static_cast<int>(n)) == 1);
}
}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  RandomBytes(b, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  RandomBytes(b.data(), b.size());
  return HexBytes(b.data(), b.size());
}

}  // namespace gd2
