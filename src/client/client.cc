#include "client/client.h"

#include <charconv>
#include <ctime>
#include <exception>

#include <httplib.h>

#include "api/json.h"
#include "common/jwt.h"
#include "common/sigpipe.h"
#include "common/thread_annotations.h"

namespace gd2::client {

StatusCode CodeForHttpStatus(int http) {
  switch (http) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 405: return StatusCode::kInvalidArgument;
    case 409: return StatusCode::kAborted;
    case 413: return StatusCode::kInvalidArgument;
    case 501: return StatusCode::kUnimplemented;
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    case 507: return StatusCode::kResourceExhausted;
    default: return http >= 500 ? StatusCode::kInternal : StatusCode::kUnknown;
  }
}

std::string EscapePathSegment(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char ch : segment) {
    bool unreserved = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
    if (unreserved) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 0x0f];
    }
  }
  return out;
}

std::vector<std::string> SplitEndpoints(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string part = list.substr(start, comma - start);
    size_t first = part.find_first_not_of(' ');
    size_t last = part.find_last_not_of(' ');
    if (first != std::string::npos) out.push_back(part.substr(first, last - first + 1));
    start = comma + 1;
  }
  return out;
}

namespace {

// Lifetime of the per-request tokens: long enough for a slow upload, short enough that a
// captured token is of little use.
constexpr int64_t kTokenTtlSeconds = 60;

// The request target as it goes on the wire: bytes a URL cannot carry (controls, space,
// non-ASCII, and the characters RFC 3986 never allows) percent-encoded, everything else kept,
// so the token signs exactly the query the server receives.
std::string EncodeTarget(std::string_view target) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : target) {
    auto c = static_cast<unsigned char>(ch);
    bool keep =
        c > 0x20 && c < 0x7f && std::string_view("\"<>\\^`{|}").find(ch) == std::string_view::npos;
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The request surely did not reach the endpoint: nothing can have been applied.
bool NotConnected(httplib::Error e) {
  return e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout ||
         e == httplib::Error::SSLConnection || e == httplib::Error::BindIPAddress;
}

std::string QueryPath(std::string path, const std::string& key, const std::string& value) {
  httplib::Params params;
  if (!key.empty()) params.emplace("key", key);
  if (!value.empty()) params.emplace("value", value);
  if (!params.empty()) path = httplib::append_query_params(path, params);
  return path;
}

std::string VolumePath(const std::string& name) { return "/v1/volumes/" + EscapePathSegment(name); }

Status Unexpected(const std::string& path, const std::string& why) {
  return InternalError("unexpected response from " + path + ": " + why);
}

// The message of a non-2xx answer: the {"errors": [{"message": ...}]} body joined by "; ", or
// "HTTP <status>" when the body has none.
std::string ErrorMessage(int status, const nlohmann::json& j) {
  std::string message;
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    for (const nlohmann::json& e : j["errors"]) {
      if (e.is_object() && e.contains("message") && e["message"].is_string()) {
        message += (message.empty() ? "" : "; ") + e["message"].get<std::string>();
      }
    }
  }
  return message.empty() ? "HTTP " + std::to_string(status) : message;
}

}  // namespace

// One endpoint and its idle connections. A connection is used by one call at a time: taken
// from `idle` (or opened), and put back after a complete answer.
struct Client::Endpoint {
  std::string url;
  Mutex mu;
  std::vector<std::unique_ptr<httplib::Client>> idle GD2_GUARDED_BY(mu);
};

// The outcome of one try against one endpoint.
struct Client::Attempt {
  httplib::Result result;
  bool failover = false;  // no answer, and trying the next endpoint is safe
};

Client::Client(ClientOptions opts) : opts_(std::move(opts)) {}
Client::~Client() {
  // Dropping an idle TLS connection sends close_notify, on a socket the daemon may have closed.
  SigpipeShield shield;
  endpoints_.clear();
}

StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions opts) {
  if (opts.endpoints.empty()) return InvalidArgumentError("no glusterd2 endpoint given");
  if (opts.endpoints.size() > kMaxEndpoints) {
    return InvalidArgumentError("too many endpoints: at most " + std::to_string(kMaxEndpoints));
  }
  for (const std::string& e : opts.endpoints) {
    if (!(e.starts_with("http://") || e.starts_with("https://")) || e.size() <= 8) {
      return InvalidArgumentError("endpoint must be http://host:port or https://host:port, got: " +
                                  e);
    }
    if (!httplib::Client(e).is_valid()) return InvalidArgumentError("bad endpoint: " + e);
  }
  std::unique_ptr<Client> c(new Client(std::move(opts)));
  for (const std::string& e : c->opts_.endpoints) {
    auto ep = std::make_unique<Endpoint>();
    ep->url = e;
    c->endpoints_.push_back(std::move(ep));
  }
  return c;
}

Client::Attempt Client::Send(size_t i, std::string_view method, const std::string& target,
                             const std::string& payload, bool has_body,
                             const std::string& authorization) {
  // Every write below, and the close_notify of a TLS connection dropped on failure, may meet a
  // connection the daemon has closed: an error for this call, never a signal for the process.
  SigpipeShield shield;
  Endpoint& ep = *endpoints_[i];
  std::unique_ptr<httplib::Client> http;
  {
    MutexLock lock(ep.mu);
    if (!ep.idle.empty()) {
      http = std::move(ep.idle.back());
      ep.idle.pop_back();
    }
  }
  if (!http) {
    http = std::make_unique<httplib::Client>(ep.url);
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(opts_.timeout).count();
    auto usecs =
        std::chrono::duration_cast<std::chrono::microseconds>(opts_.timeout).count() % 1000000;
    http->set_connection_timeout(secs, usecs);
    http->set_read_timeout(secs, usecs);
    http->set_write_timeout(secs, usecs);
    http->set_keep_alive(true);
    // Do() encodes the target itself: the token signs the query exactly as sent.
    http->set_url_encode(false);
    // Headers and body go out in separate writes: without this, Nagle plus the server's delayed
    // ACK add 40 ms to every request with a body.
    http->set_tcp_nodelay(true);
    if (!opts_.ca_file.empty()) http->set_ca_cert_path(opts_.ca_file);
    http->enable_server_certificate_verification(!opts_.insecure);
  }
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  if (int64_t r = min_revision(); r > 0) headers.emplace(kMinRevisionHeader, std::to_string(r));
  auto send = [&]() -> httplib::Result {
    if (method == "GET") return http->Get(target, headers);
    if (method == "POST") return http->Post(target, headers, payload, "application/json");
    if (method == "PUT") return http->Put(target, headers, payload, "application/json");
    if (has_body) return http->Delete(target, headers, payload, "application/json");
    return http->Delete(target, headers);
  };
  httplib::Result result = send();
  if (result) {
    MutexLock lock(ep.mu);
    if (ep.idle.size() < opts_.max_idle_connections) ep.idle.push_back(std::move(http));
    return Attempt{std::move(result), false};
  }
  bool failover = NotConnected(result.error()) || method == "GET";
  return Attempt{std::move(result), failover};
}

void Client::NoteRevision(int64_t revision) {
  int64_t seen = min_revision_.load(std::memory_order_relaxed);
  while (revision > seen &&
         !min_revision_.compare_exchange_weak(seen, revision, std::memory_order_relaxed)) {
  }
}

StatusOr<nlohmann::json> Client::Do(std::string_view method, const std::string& raw_path,
                                    const std::optional<nlohmann::json>& body, CallInfo* info) {
  if (info != nullptr) *info = CallInfo{};
  if (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE") {
    return InvalidArgumentError("unsupported method: " + std::string(method));
  }
  std::string target = EncodeTarget(raw_path);
  std::string payload = body ? body->dump() : "";
  std::string authorization;
  if (!opts_.secret.empty()) {
    // qsh takes the path as given (GlusterD2 clients hash the unencoded path), qrh the query as
    // sent.
    std::string p = raw_path.substr(0, raw_path.find('?'));
    size_t eq = target.find('?');
    std::string query = eq == std::string::npos ? "" : target.substr(eq + 1);
    authorization = "Bearer " + jwt::SignRequest(opts_.secret, {method, p, query}, payload,
                                                 std::time(nullptr), kTokenTtlSeconds, opts_.user);
  }
  const size_t n = endpoints_.size();
  const size_t first = preferred_.load(std::memory_order_relaxed) % n;
  std::string failures;
  std::optional<httplib::Result> answer;
  size_t answered = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (first + k) % n;
    Attempt a = Send(i, method, target, payload, body.has_value(), authorization);
    if (a.result) {
      answer = std::move(a.result);
      answered = i;
      break;
    }
    failures += (failures.empty() ? "" : "; ") + endpoints_[i]->url + ": " +
                httplib::to_string(a.result.error());
    if (!a.failover) {
      return UnavailableError("no answer from " + endpoints_[i]->url + " (" +
                              httplib::to_string(a.result.error()) +
                              "; the request may have been applied)");
    }
  }
  if (!answer) return UnavailableError("cannot reach glusterd2 at " + failures);
  if (answered != first) preferred_.store(answered, std::memory_order_relaxed);
  const httplib::Response& res = **answer;

  int64_t revision = 0;
  if (res.has_header(kRevisionHeader)) {
    std::string v = res.get_header_value(kRevisionHeader);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), revision);
    if (ec != std::errc() || end != v.data() + v.size() || revision < 0) revision = 0;
    NoteRevision(revision);
  }
  if (info != nullptr) {
    info->endpoint = endpoints_[answered]->url;
    info->http_status = res.status;
    info->revision = revision;
    for (const auto& [k, v] : res.headers) {
      if (k.size() >= 3 && (k.ends_with("-Id") || k.ends_with("-ID") || k.ends_with("-id"))) {
        info->ids.emplace_back(k, v);
      }
    }
  }

  const bool ok = res.status >= 200 && res.status < 300;
  nlohmann::json j;
  if (!res.body.empty()) {
    j = nlohmann::json::parse(res.body, nullptr, false);
    if (j.is_discarded()) {
      if (ok) return nlohmann::json(res.body);  // non-JSON success body (e.g. /metrics)
      return Status(CodeForHttpStatus(res.status),
                    "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 200));
    }
  }
  if (ok) return j;
  return Status(CodeForHttpStatus(res.status), ErrorMessage(res.status, j));
}

// Decodes through the api type's from_json, which may throw DecodeError or nlohmann's errors.
// A list endpoint may answer an empty list as null.
template <typename T>
StatusOr<T> Client::DoAs(std::string_view method, const std::string& path,
                         const std::optional<nlohmann::json>& body, CallInfo* info) {
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, Do(method, path, body, info));
  if constexpr (requires { typename T::value_type; }) {
    if (j.is_null()) return T{};
  }
  try {
    return j.get<T>();
  } catch (const std::exception& e) {
    return Unexpected(path, e.what());
  }
}

StatusOr<api::Volume> Client::DoVolume(std::string_view method, const std::string& path,
                                       const std::optional<nlohmann::json>& body, CallInfo* info) {
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, Do(method, path, body, info));
  StatusOr<api::Volume> v = api::VolumeFromJson(j);
  if (!v.ok()) return Unexpected(path, v.status().message());
  return v;
}

Status Client::Ping(CallInfo* info) { return Do("GET", "/ping", std::nullopt, info).status(); }

StatusOr<api::VersionResp> Client::Version(CallInfo* info) {
  return DoAs<api::VersionResp>("GET", "/version", std::nullopt, info);
}

StatusOr<api::HealthResp> Client::Health(CallInfo* info) {
  return DoAs<api::HealthResp>("GET", "/v1/healthz", std::nullopt, info);
}

StatusOr<std::vector<api::Peer>> Client::ListPeers(const std::string& key, const std::string& value,
                                                   CallInfo* info) {
  return DoAs<std::vector<api::Peer>>("GET", QueryPath("/v1/peers", key, value), std::nullopt,
                                      info);
}

StatusOr<api::Peer> Client::GetPeer(const std::string& id, CallInfo* info) {
  return DoAs<api::Peer>("GET", "/v1/peers/" + EscapePathSegment(id), std::nullopt, info);
}

StatusOr<api::Peer> Client::AddPeer(const api::PeerAddReq& req, CallInfo* info) {
  return DoAs<api::Peer>("POST", "/v1/peers", nlohmann::json(req), info);
}

Status Client::RemovePeer(const std::string& id, bool force, CallInfo* info) {
  return Do("DELETE", "/v1/peers/" + EscapePathSegment(id) + (force ? "?force=true" : ""),
            std::nullopt, info)
      .status();
}

StatusOr<api::Peer> Client::EditPeer(const std::string& id, const api::PeerEditReq& req,
                                     CallInfo* info) {
  return DoAs<api::Peer>("POST", "/v1/peers/" + EscapePathSegment(id), nlohmann::json(req), info);
}

StatusOr<api::Volume> Client::CreateVolume(const api::VolCreateReq& req, CallInfo* info) {
  return DoVolume("POST", "/v1/volumes", nlohmann::json(req), info);
}

StatusOr<std::vector<api::Volume>> Client::ListVolumes(const std::string& key,
                                                       const std::string& value, CallInfo* info) {
  std::string path = QueryPath("/v1/volumes", key, value);
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, Do("GET", path, std::nullopt, info));
  if (j.is_null()) return std::vector<api::Volume>{};
  if (!j.is_array()) return Unexpected(path, "expected a JSON array");
  std::vector<api::Volume> volumes;
  volumes.reserve(j.size());
  for (const nlohmann::json& item : j) {
    StatusOr<api::Volume> v = api::VolumeFromJson(item);
    if (!v.ok()) return Unexpected(path, v.status().message());
    volumes.push_back(std::move(*v));
  }
  return volumes;
}

StatusOr<api::Volume> Client::GetVolume(const std::string& name, CallInfo* info) {
  return DoVolume("GET", VolumePath(name), std::nullopt, info);
}

Status Client::DeleteVolume(const std::string& name, CallInfo* info) {
  return Do("DELETE", VolumePath(name), std::nullopt, info).status();
}

StatusOr<api::Volume> Client::StartVolume(const std::string& name, const api::VolStartReq& req,
                                          CallInfo* info) {
  return DoVolume("POST", VolumePath(name) + "/start", nlohmann::json(req), info);
}

StatusOr<api::Volume> Client::StopVolume(const std::string& name, const api::VolStopReq& req,
                                         CallInfo* info) {
  return DoVolume("POST", VolumePath(name) + "/stop", nlohmann::json(req), info);
}

StatusOr<api::VolumeStatusResp> Client::VolumeStatus(const std::string& name, CallInfo* info) {
  return DoAs<api::VolumeStatusResp>("GET", VolumePath(name) + "/status", std::nullopt, info);
}

StatusOr<std::vector<api::BrickStatus>> Client::VolumeBricks(const std::string& name,
                                                             CallInfo* info) {
  return DoAs<std::vector<api::BrickStatus>>("GET", VolumePath(name) + "/bricks", std::nullopt,
                                             info);
}

StatusOr<api::Volume> Client::SetOptions(const std::string& name, const api::VolOptionReq& req,
                                         CallInfo* info) {
  return DoVolume("POST", VolumePath(name) + "/options", nlohmann::json(req), info);
}

StatusOr<std::vector<api::OptionInfo>> Client::GetOptions(const std::string& name, CallInfo* info) {
  return DoAs<std::vector<api::OptionInfo>>("GET", VolumePath(name) + "/options", std::nullopt,
                                            info);
}

StatusOr<api::OptionInfo> Client::GetOption(const std::string& name, const std::string& option,
                                            CallInfo* info) {
  // Sent with its '/' as is, as GlusterD2's clients do (the server matches the rest of the path).
  std::string path = VolumePath(name) + "/options";
  size_t start = 0;
  while (start <= option.size()) {
    size_t slash = option.find('/', start);
    if (slash == std::string::npos) slash = option.size();
    path += "/" + EscapePathSegment(option.substr(start, slash - start));
    start = slash + 1;
  }
  return DoAs<api::OptionInfo>("GET", path, std::nullopt, info);
}

StatusOr<api::Volume> Client::ResetOptions(const std::string& name,
                                           const api::VolOptionResetReq& req, CallInfo* info) {
  return DoVolume("DELETE", VolumePath(name) + "/options", nlohmann::json(req), info);
}

StatusOr<std::vector<api::BrickHealInfo>> Client::HealInfo(const std::string& name,
                                                           CallInfo* info) {
  return DoAs<std::vector<api::BrickHealInfo>>("GET", VolumePath(name) + "/heal-info", std::nullopt,
                                               info);
}

}  // namespace gd2::client
