#include "common/failpoint.h"

#include <cstdlib>
#include <string>

namespace gd2 {

bool FailpointArmed(std::string_view name) {
  static const std::string armed = [] {
    const char* v = std::getenv("GD2_FAILPOINT");
    return std::string(v != nullptr ? v : "");
  }();
  return !armed.empty() && armed == name;
}

}  // namespace gd2
