#include "rest/http_status.h"

namespace gd2::rest {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted: return 409;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kResourceExhausted: return 507;
    default: return 500;
  }
}

nlohmann::json ErrorBody(const Status& status, const std::string& req_id) {
  nlohmann::json err = {{"code", kErrorGeneric},
                        {"message", status.message()},
                        {"fields", {{"error", StatusCodeName(status.code())}, {"request-id", req_id}}}};
  return nlohmann::json{{"errors", nlohmann::json::array({err})}};
}

}  // namespace gd2::rest
