// gd2_token: prints a ReST JWT (common/jwt.h) for one request, for load generators that cannot
// sign each request themselves.
//
//   gd2_token <secret-file> <METHOD> <path> [ttl-seconds]
//
// <secret-file> is the daemon's <workdir>/auth. The default ttl is one hour; the daemon accepts
// any exp, so benchmarks can use one token for their whole run.
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
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: %s <secret-file> <METHOD> <path> [ttl-seconds]\n", argv[0]);
    return 2;
  }
  int64_t ttl = 3600;
  if (argc == 5) {
    std::string_view s = argv[4];
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ttl);
    if (ec != std::errc() || end != s.data() + s.size() || ttl <= 0) {
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
  std::string token = gd2::jwt::SignRequest(key, argv[2], argv[3], std::time(nullptr), ttl);
  std::printf("%s\n", token.c_str());
  return 0;
}
