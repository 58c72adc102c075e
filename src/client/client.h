// The C++ ReST client of glusterd2, used by glustercli, the CSI driver and the tests. One Client
// serves many threads at once: it keeps a small pool of keep-alive connections per endpoint,
// signs every request with a fresh JWT (see common/jwt.h) when a secret is set, fails over
// between several endpoints, and carries read-your-writes across them (X-Gd2-Revision in,
// X-Gd2-Min-Revision out).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/peer.h"
#include "api/volume.h"
#include "api/volume_req.h"
#include "common/status.h"

namespace gd2::client {

// The response header that carries the store revision a daemon's answer reflects, and the
// request header that asks a daemon to answer from at least that revision.
inline constexpr char kRevisionHeader[] = "X-Gd2-Revision";
inline constexpr char kMinRevisionHeader[] = "X-Gd2-Min-Revision";

// At most this many endpoints per client.
inline constexpr size_t kMaxEndpoints = 16;

struct ClientOptions {
  // http:// or https://host:port, tried in this order; at least one, at most kMaxEndpoints.
  std::vector<std::string> endpoints = {"http://127.0.0.1:24007"};
  std::string secret;  // empty: no Authorization header
  std::string user = "glustercli";
  // Per attempt: connecting, and each read or write on the connection.
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;    // https: CA to verify the server with
  bool insecure = false;  // https: skip verification
  // Idle keep-alive connections kept per endpoint; more are opened when more threads call at
  // once, and closed after their call.
  size_t max_idle_connections = 8;
};

// What one call learned from the answer, for callers that show or log it. Filled by every call
// that takes a `CallInfo*` (when not null), also when the call fails.
struct CallInfo {
  std::string endpoint;  // the endpoint that answered; empty when none did
  int http_status = 0;   // 0 when no endpoint answered
  // Response headers ending in "-Id" (request, peer and cluster ids), in the order received.
  std::vector<std::pair<std::string, std::string>> ids;
  int64_t revision = 0;  // the answer's X-Gd2-Revision, 0 when absent
};

// Every call returns the daemon's error with a code from the HTTP status (404 -> kNotFound
// "volume not found", 400 -> kInvalidArgument, 401 -> kUnauthenticated, ...);
// kUnavailable "cannot reach glusterd2 at <endpoints>: ..." when no endpoint answered; and
// kInternal "unexpected response from <path>: ..." when a 2xx body does not decode.
//
// Failover: a call goes first to the endpoint that answered last. When that endpoint cannot be
// connected to (refused, unreachable, connect timeout), the next one is tried, and so on once
// round the list. A GET whose answer is lost after it was sent is also tried on the next
// endpoint; any other request is not (it may have been applied) and fails with kUnavailable
// "... no answer from <endpoint> (the request may have been applied)". An HTTP answer, even an
// error, is never failed over.
//
// Thread-safe: every method may be called from any number of threads at once.
// A connection closed by the daemon while the client still writes to it is an error for that
// call, never a SIGPIPE for the process; the process's signal dispositions are left alone.
class Client {
 public:
  // kInvalidArgument for no endpoints, too many, or a malformed one.
  static StatusOr<std::unique_ptr<Client>> Create(ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request. Returns the parsed JSON body on 2xx (null for an empty body, a JSON string for
  // a non-JSON body such as /metrics).
  StatusOr<nlohmann::json> Do(std::string_view method, const std::string& path,
                              const std::optional<nlohmann::json>& body = std::nullopt,
                              CallInfo* info = nullptr);

  // Service.
  Status Ping(CallInfo* info = nullptr);
  StatusOr<api::VersionResp> Version(CallInfo* info = nullptr);
  StatusOr<api::HealthResp> Health(CallInfo* info = nullptr);

  // Peers (/v1/peers). Empty key/value means no filter.
  StatusOr<std::vector<api::Peer>> ListPeers(const std::string& key = "",
                                             const std::string& value = "",
                                             CallInfo* info = nullptr);
  StatusOr<api::Peer> GetPeer(const std::string& id, CallInfo* info = nullptr);
  StatusOr<api::Peer> AddPeer(const api::PeerAddReq& req, CallInfo* info = nullptr);
  Status RemovePeer(const std::string& id, bool force = false, CallInfo* info = nullptr);
  StatusOr<api::Peer> EditPeer(const std::string& id, const api::PeerEditReq& req,
                               CallInfo* info = nullptr);

  // Volumes (/v1/volumes). Create, start, stop and the option calls return the volume after
  // the change. Empty key/value means no filter.
  StatusOr<api::Volume> CreateVolume(const api::VolCreateReq& req, CallInfo* info = nullptr);
  StatusOr<std::vector<api::Volume>> ListVolumes(const std::string& key = "",
                                                 const std::string& value = "",
                                                 CallInfo* info = nullptr);
  StatusOr<api::Volume> GetVolume(const std::string& name, CallInfo* info = nullptr);
  Status DeleteVolume(const std::string& name, CallInfo* info = nullptr);
  StatusOr<api::Volume> StartVolume(const std::string& name, const api::VolStartReq& req = {},
                                    CallInfo* info = nullptr);
  StatusOr<api::Volume> StopVolume(const std::string& name, const api::VolStopReq& req = {},
                                   CallInfo* info = nullptr);
  StatusOr<api::VolumeStatusResp> VolumeStatus(const std::string& name, CallInfo* info = nullptr);
  StatusOr<std::vector<api::BrickStatus>> VolumeBricks(const std::string& name,
                                                       CallInfo* info = nullptr);
  StatusOr<api::Volume> SetOptions(const std::string& name, const api::VolOptionReq& req,
                                   CallInfo* info = nullptr);
  StatusOr<std::vector<api::OptionInfo>> GetOptions(const std::string& name,
                                                    CallInfo* info = nullptr);
  // `option` may contain '/' ("cluster/replicate.eager-lock").
  StatusOr<api::OptionInfo> GetOption(const std::string& name, const std::string& option,
                                      CallInfo* info = nullptr);
  StatusOr<api::Volume> ResetOptions(const std::string& name, const api::VolOptionResetReq& req,
                                     CallInfo* info = nullptr);
  StatusOr<std::vector<api::BrickHealInfo>> HealInfo(const std::string& name,
                                                     CallInfo* info = nullptr);

  // The endpoints in the order given.
  const std::vector<std::string>& endpoints() const { return opts_.endpoints; }
  // The highest X-Gd2-Revision seen so far (0: none); sent as X-Gd2-Min-Revision.
  int64_t min_revision() const { return min_revision_.load(std::memory_order_relaxed); }

 private:
  struct Endpoint;
  struct Attempt;
  explicit Client(ClientOptions opts);
  // One try against endpoint `i`.
  Attempt Send(size_t i, std::string_view method, const std::string& target,
               const std::string& payload, bool has_body, const std::string& authorization);
  void NoteRevision(int64_t revision);
  template <typename T>
  StatusOr<T> DoAs(std::string_view method, const std::string& path,
                   const std::optional<nlohmann::json>& body, CallInfo* info);
  StatusOr<api::Volume> DoVolume(std::string_view method, const std::string& path,
                                 const std::optional<nlohmann::json>& body, CallInfo* info);

  const ClientOptions opts_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<size_t> preferred_{0};  // index of the endpoint that answered last
  std::atomic<int64_t> min_revision_{0};
};

// Maps an HTTP status to a StatusCode (the inverse of rest/http_status.h).
StatusCode CodeForHttpStatus(int http);

// Percent-encodes everything but RFC 3986 unreserved characters, so a name can be one path
// segment: "a/b c" -> "a%2Fb%20c".
std::string EscapePathSegment(const std::string& segment);

// Splits "a,b,c" into its non-empty, space-trimmed parts.
std::vector<std::string> SplitEndpoints(const std::string& list);

}  // namespace gd2::client
