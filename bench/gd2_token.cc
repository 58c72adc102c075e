// gd2_token: prints a ReST JWT (common/jwt.h) for one request, for load generators that cannot
// sign each request themselves.
//
//   gd2_token <secret-file> <METHOD> <path>[?query] [ttl-seconds] [body]
//
// <secret-file> is the daemon's <workdir>/auth. The token is for a request with exactly `body`
// (none when not given); the default and largest ttl is jwt::kMaxLifetimeSeconds (the daemon
// refuses longer tokens), so a benchmark run with one token must end within it.
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "common/files.h"
#include "common/jwt.h"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: %s <secret-file> <METHOD> <path> [ttl-seconds] [body]\n", argv[0]);
    return 2;
  }
  int64_t ttl = gd2::jwt::kMaxLifetimeSeconds;
  if (argc >= 5) {
    std::string_view s = argv[4];
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ttl);
    if (ec != std::errc() || end != s.data() + s.size() || ttl <= 0 ||
        ttl > gd2::jwt::kMaxLifetimeSeconds) {
      std::fprintf(stderr, "gd2_token: bad ttl-seconds: %s\n", argv[4]);
      return 2;
    }
  }
  gd2::StatusOr<std::string> secret = gd2::ReadFile(argv[1]);
  if (!secret.ok()) {
    std::fprintf(stderr, "gd2_token: cannot read secret: %s\n", secret.status().ToString().c_str());
    return 1;
  }
  // Trim as the daemon does (daemon/identity.cc) so a hand-edited file gives the same key.
  std::string key = *secret;
  while (!key.empty() && (key.back() == '\n' || key.back() == ' ')) key.pop_back();
  std::string_view target = argv[3];
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  std::string_view body = argc == 6 ? argv[5] : "";
  std::string token =
      gd2::jwt::SignRequest(key, {argv[2], path, query}, body, std::time(nullptr), ttl);
  std::printf("%s\n", token.c_str());
  return 0;
}
