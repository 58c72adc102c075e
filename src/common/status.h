// Status and StatusOr<T>: the error type used across glusterd2. Codes follow the canonical
// gRPC set so that every boundary (HTTP, etcd gRPC, peer RPC, CSI) needs one mapping table.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gd2 {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the lower-case name of a code, e.g. "not_found".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: volume not found: name=v1"
  std::string ToString() const;
  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;
  // Explicitly drops a status whose failure does not matter to the caller.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status AbortedError(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status DeadlineExceededError(std::string m) {
  return Status(StatusCode::kDeadlineExceeded, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status UnauthenticatedError(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status OutOfRangeError(std::string m) { return Status(StatusCode::kOutOfRange, std::move(m)); }
// Status from errno, e.g. ErrnoError("open", errno) -> "open: No such file or directory".
Status ErrnoError(std::string_view what, int err);

// Holds either a value or a non-OK Status. Shaped like std::expected so a later switch is
// mechanical.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}                      // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}                // NOLINT
  StatusOr(Status status) : status_(std::move(status)) {           // NOLINT
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "StatusOr built from ok status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& { Check(); return *value_; }
  T& value() & { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }
  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return value_ ? *value_ : std::move(fallback); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void Check() const {
    if (!value_) std::abort();
  }
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace gd2

#define GD2_CONCAT_INNER(a, b) a##b
#define GD2_CONCAT(a, b) GD2_CONCAT_INNER(a, b)

// `expr` is evaluated into a local (not bound by reference): a Status taken from a temporary
// StatusOr must not dangle.
#define GD2_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    ::gd2::Status gd2_status_ = ::gd2::internal::GetStatus(expr);              \
    if (!gd2_status_.ok()) return gd2_status_;                                 \
  } while (0)

#define GD2_ASSIGN_OR_RETURN(lhs, expr) \
  GD2_ASSIGN_OR_RETURN_IMPL(GD2_CONCAT(gd2_statusor_, __LINE__), lhs, expr)
#define GD2_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// Aborts with a message: for conditions only a bug can cause.
#define GD2_CHECK(cond)                                                                  \
  do {                                                                                   \
    if (!(cond)) ::gd2::internal::CheckFailed(#cond, __FILE__, __LINE__);                 \
  } while (0)

namespace gd2::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
