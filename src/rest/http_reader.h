// HttpRequestReader: reads one HTTP/1.x request from bytes, without sockets (Boost.Beast's
// parser underneath). It stops after the header so the server can route and authenticate the
// request before accepting a single byte of its body, and it bounds the header and the body
// (chunked bodies too). The server feeds it what it reads; the fuzz target feeds it directly.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gd2::rest {

struct HttpLimits {
  // The request line and all header fields together.
  size_t max_header_bytes = 16 * 1024;
  // The decoded body (the sum of all chunks for a chunked body).
  size_t max_body_bytes = 1 << 20;
};

struct HttpRequest {
  std::string method;  // as sent: "GET"
  std::string target;  // as sent: "/v1/volumes?x=1"
  std::string path;    // percent-decoded path of the target: "/v1/volumes"
  std::multimap<std::string, std::string> query;  // decoded ?key=value pairs ('+' is a space)
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  unsigned version = 11;         // 10 or 11
  bool keep_alive = true;        // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool expect_continue = false;  // "Expect: 100-continue"
  bool has_body = false;         // Content-Length > 0 or chunked

  // The first value of a header (case-insensitive name), or "".
  std::string Header(std::string_view name) const;
};

// Not thread-safe. One reader per request: make a new one for the next request of a keep-alive
// connection (Feed() reports how many bytes belonged to this one).
class HttpRequestReader {
 public:
  enum class Phase { kHeader, kBody, kDone, kFailed };

  explicit HttpRequestReader(HttpLimits limits = {});
  ~HttpRequestReader();
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  // Parses a prefix of `data` and returns how many bytes it used; the caller drops those and
  // passes the rest again, with more bytes appended, on the next call. In kHeader it uses
  // nothing until the whole header is there, then exactly the header, and moves to kBody (or
  // kDone when there is no body) without looking at the body. In kBody it uses body bytes and
  // moves to kDone at the end of the body; bytes after that belong to the next request.
  // On malformed input or a limit it moves to kFailed and returns the error: kInvalidArgument
  // (HTTP 400), kResourceExhausted with http_status() 431 (header) or 413 (body). In kDone and
  // kFailed it uses nothing.
  StatusOr<size_t> Feed(std::string_view data);

  Phase phase() const { return phase_; }
  // The request; header fields once past kHeader, the body once kDone.
  const HttpRequest& request() const { return request_; }
  HttpRequest& mutable_request() { return request_; }
  // The HTTP status for the failure in kFailed (400, 413 or 431).
  int http_status() const { return http_status_; }
  // The limit on bytes a caller may buffer for this reader before it must make progress: a
  // header longer than this fails anyway.
  size_t max_pending_bytes() const;

 private:
  struct Parser;
  void TakeHeader();

  HttpLimits limits_;
  std::unique_ptr<Parser> parser_;
  Phase phase_ = Phase::kHeader;
  HttpRequest request_;
  int http_status_ = 0;
};

// Percent-decodes `s`; with `plus_is_space` also '+' -> ' ' (query strings). Invalid escapes
// are kept as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace gd2::rest
