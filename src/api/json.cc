#include "api/json.h"

namespace gd2::api {

void RequireObjectWithKeys(const nlohmann::json& j, std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) throw DecodeError("request body must be a JSON object");
  for (const auto& item : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) {
      if (item.key() == a) known = true;
    }
    if (!known) throw DecodeError("unknown field \"" + item.key() + "\"");
  }
}

bool MetadataMatches(const std::map<std::string, std::string>& metadata, const std::string& key,
                     const std::string& value) {
  if (key.empty() && value.empty()) return true;
  for (const auto& [k, v] : metadata) {
    if ((key.empty() || k == key) && (value.empty() || v == value)) return true;
  }
  return false;
}

}  // namespace gd2::api
