#include "cli/context.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/files.h"

namespace gd2::cli {

StatusOr<client::Client*> Context::Client() {
  if (client_) return client_.get();
  client::ClientOptions co;
  co.endpoints = client::SplitEndpoints(opts.endpoints);
  co.user = opts.user;
  co.ca_file = opts.cacert;
  co.insecure = opts.insecure;
  if (opts.timeout_seconds <= 0 || opts.timeout_seconds > 86400) {
    return InvalidArgumentError("--timeout must be between 0 and 86400 seconds");
  }
  co.timeout = std::chrono::milliseconds(static_cast<int64_t>(opts.timeout_seconds * 1000));
  if (!opts.secret.empty()) {
    co.secret = opts.secret;
  } else if (!opts.secret_file.empty()) {
    auto s = ReadFile(opts.secret_file);
    if (!s.ok()) return InvalidArgumentError("cannot read --secret-file: " + s.status().message());
    co.secret = *s;
  } else if (const char* env = std::getenv("GD2_AUTH_SECRET"); env != nullptr && *env != '\0') {
    co.secret = env;
  } else if (auto s = ReadFile("/var/lib/glusterd2/auth"); s.ok()) {
    co.secret = *s;
  }
  while (!co.secret.empty() && (co.secret.back() == '\n' || co.secret.back() == ' ')) {
    co.secret.pop_back();
  }
  GD2_ASSIGN_OR_RETURN(client_, client::Client::Create(co));
  return client_.get();
}

int Context::WithClient(const std::function<int(client::Client&)>& body) {
  StatusOr<client::Client*> c = Client();
  if (!c.ok()) return Fail(c.status());
  return body(**c);
}

int Context::Fail(const Status& s) {
  std::fprintf(stderr, "Error: %s\n", s.message().c_str());
  for (const auto& [k, v] : info_.ids) std::fprintf(stderr, "%s: %s\n", k.c_str(), v.c_str());
  return 1;
}

int Context::Fail(const Status& s, const std::string& volume) {
  if (s.code() == StatusCode::kNotFound && s.message() == "volume not found") {
    return Fail(Status(s.code(), "volume not found: " + volume));
  }
  return Fail(s);
}

void Context::Print(const nlohmann::json& j, const std::function<void()>& human) const {
  if (opts.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    human();
  }
}

bool Context::Confirm(const std::string& question) const {
  if (opts.script_mode) return true;
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < r.size() ? r[i] : "";
      out += cell;
      if (i + 1 < width.size()) out += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

}  // namespace gd2::cli
