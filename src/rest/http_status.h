// The one mapping from Status to HTTP: status codes and GlusterD2's error body
// {"errors":[{"code":N,"message":"...","fields":{...}}]}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gd2::rest {

// Error codes in the body, stable across releases (GlusterD2's: 1 generic, 2 txn step failed).
inline constexpr int kErrorGeneric = 1;
inline constexpr int kErrorTxnStepFailed = 2;

// 400 invalid/failed-precondition/out-of-range, 401, 403, 404, 409 exists/aborted, 501, 503,
// 504, 507 no space, else 500.
int HttpStatusFor(StatusCode code);

// The error body for a failed request.
nlohmann::json ErrorBody(const Status& status, const std::string& req_id);

}  // namespace gd2::rest
