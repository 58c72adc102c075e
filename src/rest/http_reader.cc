#include "rest/http_reader.h"

#include <strings.h>

#include <algorithm>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <limits>

namespace gd2::rest {

namespace http = boost::beast::http;

struct HttpRequestReader::Parser {
  http::request_parser<http::string_body> p;
};

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ParseQuery(std::string_view q, std::multimap<std::string, std::string>& out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    out.emplace(std::move(key), std::move(value));
  }
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

HttpRequestReader::HttpRequestReader(HttpLimits limits)
    : limits_(limits), parser_(std::make_unique<Parser>()) {
  parser_->p.eager(false);
  parser_->p.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(limits_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->p.body_limit(limits_.max_body_bytes);
}

HttpRequestReader::~HttpRequestReader() = default;

size_t HttpRequestReader::max_pending_bytes() const {
  // A chunk header (size line with extensions) or trailer must fit as well as the header does.
  return std::max<size_t>(limits_.max_header_bytes, 64 * 1024);
}

void HttpRequestReader::TakeHeader() {
  const auto& msg = parser_->p.get();
  request_.method = std::string(msg.method_string());
  request_.target = std::string(msg.target());
  std::string_view target = request_.target;
  size_t q = target.find('?');
  request_.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) ParseQuery(target.substr(q + 1), request_.query);
  for (const auto& f : msg) {
    request_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  request_.version = msg.version();
  request_.keep_alive = msg.keep_alive();
  std::string expect = request_.Header("Expect");
  request_.expect_continue = ::strcasecmp(expect.c_str(), "100-continue") == 0;
  request_.has_body = parser_->p.chunked() || parser_->p.content_length().value_or(0) > 0;
}

StatusOr<size_t> HttpRequestReader::Feed(std::string_view data) {
  if (phase_ == Phase::kDone || phase_ == Phase::kFailed || data.empty()) return size_t{0};
  size_t used = 0;
  while (used < data.size() && !parser_->p.is_done()) {
    boost::beast::error_code ec;
    size_t n =
        parser_->p.put(boost::asio::const_buffer(data.data() + used, data.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) break;
    if (ec) {
      phase_ = Phase::kFailed;
      if (ec == http::error::header_limit) {
        http_status_ = 431;
        return ResourceExhaustedError("http: header larger than " +
                                      std::to_string(limits_.max_header_bytes) + " bytes");
      }
      if (ec == http::error::body_limit) {
        http_status_ = 413;
        return ResourceExhaustedError("http: body larger than " +
                                      std::to_string(limits_.max_body_bytes) + " bytes");
      }
      http_status_ = 400;
      return InvalidArgumentError("http: malformed request: " + ec.message());
    }
    if (phase_ == Phase::kHeader && parser_->p.is_header_done()) {
      TakeHeader();
      phase_ = Phase::kBody;
      // The caller decides whether the body is wanted before any of it is parsed.
      break;
    }
    if (n == 0) break;
  }
  if (parser_->p.is_done() && phase_ != Phase::kFailed) {
    if (phase_ == Phase::kHeader) TakeHeader();
    request_.body = std::move(parser_->p.get().body());
    phase_ = Phase::kDone;
  }
  return used;
}

}  // namespace gd2::rest
