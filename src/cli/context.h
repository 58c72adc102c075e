// What every glustercli command shares: global flags, the ReST client, output helpers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "common/status.h"

namespace gd2::cli {

struct GlobalOptions {
  std::string endpoints = "http://127.0.0.1:24007";
  std::string user = "glustercli";
  std::string secret;
  std::string secret_file;
  std::string cacert;
  bool insecure = false;
  double timeout_seconds = 30;
  bool script_mode = false;
  bool json = false;
  bool verbose = false;
};

class Context {
 public:
  GlobalOptions opts;

  // The client for every --endpoints entry (failing over between them), created on first use
  // with the secret resolved as --secret > --secret-file > GD2_AUTH_SECRET >
  // /var/lib/glusterd2/auth (if readable).
  StatusOr<client::Client*> Client();
  // Runs `body` with the client and returns its exit code; a client that cannot be made (bad
  // endpoint, unreadable secret file) is a failure like any other (Fail).
  int WithClient(const std::function<int(client::Client&)>& body);
  // Where calls record what the server answered, for Fail: pass it to every client call.
  client::CallInfo* info() { return &info_; }

  // Prints a failure the way users expect: one line on stderr, then (to stderr) the -Id
  // response headers of the last answer recorded in info(). Returns the exit code 1.
  int Fail(const Status& s);
  // The same for a request about volume `volume`: the server's "volume not found" (a text
  // GlusterD2's clients match, so the server keeps it bare) is printed with the name.
  int Fail(const Status& s, const std::string& volume);
  // Prints JSON (--json) or runs `human`.
  void Print(const nlohmann::json& j, const std::function<void()>& human) const;
  // Asks "<question> [y/N]" unless --script-mode. False means do not proceed.
  bool Confirm(const std::string& question) const;

 private:
  std::unique_ptr<client::Client> client_;
  client::CallInfo info_;
};

// Prints rows as an aligned table with a header line.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

}  // namespace gd2::cli
