#include "common/failpoint.h"

#include <cstdlib>
#include <string>
#include <string_view>

namespace gd2 {

namespace {

const std::string& Armed() {
  static const std::string armed = [] {
    const char* v = std::getenv("GD2_FAILPOINT");
    return std::string(v != nullptr ? v : "");
  }();
  return armed;
}

}  // namespace

bool FailpointArmed(std::string_view name) {
  const std::string& armed = Armed();
  return !armed.empty() && armed == name;
}

int FailpointPauseMs(std::string_view name) {
  const std::string& armed = Armed();
  const std::string_view marker = "@sleep=";
  if (armed.size() <= name.size() + marker.size() || !armed.starts_with(name) ||
      std::string_view(armed).substr(name.size(), marker.size()) != marker) {
    return 0;
  }
  std::string_view digits = std::string_view(armed).substr(name.size() + marker.size());
  int ms = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || ms > 600000) return 0;
    ms = ms * 10 + (c - '0');
  }
  return ms <= 600000 ? ms : 0;
}

}  // namespace gd2
