// Decoding of JSON request bodies into api types without exceptions escaping: every failure is
// kInvalidArgument "unable to parse the request: ..." naming the field when known.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gd2::api {

// Thrown only inside from_json functions; DecodeJson turns it into a Status.
struct DecodeError : std::exception {
  explicit DecodeError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

// Throws DecodeError if `j` is not an object or has a key outside `allowed`.
void RequireObjectWithKeys(const nlohmann::json& j, std::initializer_list<std::string_view> allowed);

// Reads j[key] into out if present (null counts as absent); throws DecodeError naming the key
// on a type mismatch.
template <typename T>
void GetOptional(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Only integers in range: a float or an out-of-range number would convert with undefined
    // behaviour or silently wrap.
    bool in_range = false;
    if (it->is_number_unsigned()) {
      in_range = it->template get<uint64_t>() <=
                 static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else if (it->is_number_integer()) {
      int64_t v = it->template get<int64_t>();
      in_range = (std::is_signed_v<T> || v >= 0) &&
                 v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                 (v < 0 || static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    }
    if (!in_range) throw DecodeError(std::string("field \"") + key + "\" must be an integer in range");
    out = it->template get<T>();
    return;
  }
  try {
    out = it->template get<T>();
  } catch (const DecodeError&) {
    throw;
  } catch (const std::exception&) {
    throw DecodeError(std::string("field \"") + key + "\" has the wrong type");
  }
}

template <typename T>
void GetRequired(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) throw DecodeError(std::string("field \"") + key + "\" is required");
  GetOptional(j, key, out);
}

// Parses `body` as JSON and converts it to T via its from_json. An empty body decodes as {}.
template <typename T>
StatusOr<T> DecodeJson(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body.empty() ? std::string_view("{}") : body, nullptr,
                                           false);
  if (j.is_discarded()) return InvalidArgumentError("unable to parse the request: invalid JSON");
  try {
    return j.template get<T>();
  } catch (const DecodeError& e) {
    return InvalidArgumentError("unable to parse the request: " + e.message);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("unable to parse the request: ") + e.what());
  }
}

// The filter of list requests (GET /v1/peers, /v1/volumes with ?key=&value=): true if both are
// empty, or some metadata entry has key `key` (any if empty) and value `value` (any if empty).
bool MetadataMatches(const std::map<std::string, std::string>& metadata, const std::string& key,
                     const std::string& value);

}  // namespace gd2::api
