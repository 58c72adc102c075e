// The C++ ReST client of glusterd2, used by glustercli, the CSI driver and the tests. Signs
// every request with a fresh JWT (see common/jwt.h) when a secret is set. Not thread-safe: use
// one Client per thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/peer.h"
#include "common/status.h"

namespace httplib {
class Client;
}

namespace gd2::client {

struct ClientOptions {
  std::string endpoint = "http://127.0.0.1:24007";  // http:// or https://host:port
  std::string secret;                               // empty: no Authorization header
  std::string user = "glustercli";
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;  // https: CA to verify the server with
  bool insecure = false;  // https: skip verification
};

class Client {
 public:
  // kInvalidArgument for a malformed endpoint.
  static StatusOr<std::unique_ptr<Client>> Create(ClientOptions opts);
  ~Client();

  // One request. Returns the parsed JSON body (null for empty bodies) on 2xx. Errors: the
  // server's message with a code from the HTTP status (404 -> kNotFound, 401 ->
  // kUnauthenticated, ...); kUnavailable "cannot reach glusterd2 at <endpoint>: ..." when the
  // daemon does not answer.
  StatusOr<nlohmann::json> Do(std::string_view method, const std::string& path,
                              const std::optional<nlohmann::json>& body = std::nullopt);

  Status Ping();
  StatusOr<api::VersionResp> Version();
  StatusOr<api::HealthResp> Health();
  StatusOr<std::vector<api::Peer>> ListPeers(const std::string& key = "",
                                             const std::string& value = "");
  StatusOr<api::Peer> GetPeer(const std::string& id);
  StatusOr<api::Peer> AddPeer(const api::PeerAddReq& req);
  Status RemovePeer(const std::string& id, bool force = false);
  StatusOr<api::Peer> EditPeer(const std::string& id, const api::PeerEditReq& req);

  // Headers ending in "-Id" of the last response (request, peer and cluster ids).
  const std::vector<std::pair<std::string, std::string>>& last_ids() const { return last_ids_; }
  int last_http_status() const { return last_status_; }
  const std::string& endpoint() const { return opts_.endpoint; }

 private:
  explicit Client(ClientOptions opts);
  template <typename T>
  StatusOr<T> DoAs(std::string_view method, const std::string& path,
                   const std::optional<nlohmann::json>& body = std::nullopt);

  ClientOptions opts_;
  std::unique_ptr<httplib::Client> http_;
  std::vector<std::pair<std::string, std::string>> last_ids_;
  int last_status_ = 0;
};

// Maps an HTTP status to a StatusCode (the inverse of rest/http_status.h).
StatusCode CodeForHttpStatus(int http);

}  // namespace gd2::client
