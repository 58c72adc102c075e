// Fuzzes the client port's HTTP request reading (rest/http_reader.h) the way the server drives
// it: bytes arrive in chunks (the first input byte picks the chunk size), the reader uses a
// prefix of what is buffered, a finished request makes room for the next one on the same
// connection (pipelining), and the buffer may never grow past the reader's bound.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rest/http_reader.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] == 0 ? size : data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  gd2::rest::HttpLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 2048;
  auto reader = std::make_unique<gd2::rest::HttpRequestReader>(limits);
  std::string pending;
  size_t pos = 0;
  int requests = 0;
  using Phase = gd2::rest::HttpRequestReader::Phase;
  while (true) {
    if (pos < input.size()) {
      std::string_view next = input.substr(pos, chunk);
      pending.append(next);
      pos += next.size();
    }
    Phase before = reader->phase();
    auto used = reader->Feed(pending);
    if (!used.ok()) {
      Check(reader->phase() == Phase::kFailed);
      int status = reader->http_status();
      Check(status == 400 || status == 413 || status == 431);
      break;
    }
    Check(*used <= pending.size());
    pending.erase(0, *used);
    if (reader->phase() != Phase::kHeader) {
      const gd2::rest::HttpRequest& req = reader->request();
      Check(!req.method.empty());
      Check(req.version == 10 || req.version == 11);
    }
    if (reader->phase() == Phase::kDone) {
      Check(reader->request().body.size() <= limits.max_body_bytes);
      if (++requests > 32) break;
      reader = std::make_unique<gd2::rest::HttpRequestReader>(limits);
      continue;
    }
    if (pending.size() > reader->max_pending_bytes()) break;  // the server answers 431
    if (pos >= input.size() && *used == 0 && reader->phase() == before) break;
  }
  return 0;
}
