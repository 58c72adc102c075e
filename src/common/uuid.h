// Random (version 4) UUIDs and short random hex ids for requests and transactions.
#pragma once

#include <string>
#include <string_view>

namespace gd2 {

// Returns a new random UUID in canonical lower-case form. Thread-safe.
std::string NewUuid();
// Returns true if `s` is a canonical UUID (8-4-4-4-12 hex digits).
bool IsUuid(std::string_view s);
// Returns `bytes` random bytes as lower-case hex (2*bytes characters). Thread-safe.
std::string RandomHex(size_t bytes);

}  // namespace gd2
