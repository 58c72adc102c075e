#include "client/client.h"

#include <ctime>

#include <httplib.h>

#include "api/json.h"
#include "common/jwt.h"

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

}  // namespace

Client::Client(ClientOptions opts) : opts_(std::move(opts)) {}
Client::~Client() = default;

StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions opts) {
  const std::string& e = opts.endpoint;
  if (!(e.starts_with("http://") || e.starts_with("https://")) || e.size() <= 8) {
    return InvalidArgumentError("endpoint must be http://host:port or https://host:port, got: " + e);
  }
  std::unique_ptr<Client> c(new Client(std::move(opts)));
  c->http_ = std::make_unique<httplib::Client>(c->opts_.endpoint);
  if (!c->http_->is_valid()) return InvalidArgumentError("bad endpoint: " + c->opts_.endpoint);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(c->opts_.timeout).count();
  auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(c->opts_.timeout).count() % 1000000;
  c->http_->set_connection_timeout(secs, usecs);
  c->http_->set_read_timeout(secs, usecs);
  c->http_->set_write_timeout(secs, usecs);
  c->http_->set_keep_alive(true);
  // Do() encodes the target itself: the token signs the query exactly as sent.
  c->http_->set_url_encode(false);
  // Headers and body go out in separate writes: without this, Nagle plus the server's delayed
  // ACK add 40 ms to every request with a body.
  c->http_->set_tcp_nodelay(true);
  if (!c->opts_.ca_file.empty()) c->http_->set_ca_cert_path(c->opts_.ca_file);
  c->http_->enable_server_certificate_verification(!c->opts_.insecure);
  return c;
}

StatusOr<nlohmann::json> Client::Do(std::string_view method, const std::string& raw_path,
                                    const std::optional<nlohmann::json>& body) {
  httplib::Headers headers;
  std::string path = EncodeTarget(raw_path);
  std::string payload = body ? body->dump() : "";
  if (!opts_.secret.empty()) {
    size_t q = raw_path.find('?');
    // qsh takes the path as given (GlusterD2 clients hash the unencoded path), qrh the query as
    // sent.
    std::string p = raw_path.substr(0, q);
    size_t eq = path.find('?');
    std::string query = eq == std::string::npos ? "" : path.substr(eq + 1);
    headers.emplace("Authorization",
                    "Bearer " + jwt::SignRequest(opts_.secret, {method, p, query}, payload,
                                                 std::time(nullptr), kTokenTtlSeconds, opts_.user));
  }
  auto send = [&]() -> httplib::Result {
    if (method == "GET") return http_->Get(path, headers);
    if (method == "POST") return http_->Post(path, headers, payload, "application/json");
    if (method == "PUT") return http_->Put(path, headers, payload, "application/json");
    if (body) return http_->Delete(path, headers, payload, "application/json");
    return http_->Delete(path, headers);
  };
  if (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE") {
    return InvalidArgumentError("unsupported method: " + std::string(method));
  }
  httplib::Result res = send();
  last_ids_.clear();
  last_status_ = 0;
  if (!res) {
    return UnavailableError("cannot reach glusterd2 at " + opts_.endpoint + ": " +
                            httplib::to_string(res.error()));
  }
  last_status_ = res->status;
  for (const auto& [k, v] : res->headers) {
    if (k.size() >= 3 && (k.ends_with("-Id") || k.ends_with("-ID") || k.ends_with("-id"))) {
      last_ids_.emplace_back(k, v);
    }
  }
  nlohmann::json j;
  if (!res->body.empty()) {
    j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded()) {
      if (res->status >= 200 && res->status < 300) {
        return nlohmann::json(res->body);  // non-JSON success body (e.g. /metrics)
      }
      return Status(CodeForHttpStatus(res->status),
                    "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
    }
  }
  if (res->status >= 200 && res->status < 300) return j;
  std::string message = "HTTP " + std::to_string(res->status);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
      j["errors"][0].is_object() && j["errors"][0].contains("message") &&
      j["errors"][0]["message"].is_string()) {
    message = j["errors"][0]["message"].get<std::string>();
    for (size_t i = 1; i < j["errors"].size(); ++i) {
      if (j["errors"][i].contains("message") && j["errors"][i]["message"].is_string()) {
        message += "; " + j["errors"][i]["message"].get<std::string>();
      }
    }
  }
  return Status(CodeForHttpStatus(res->status), message);
}

template <typename T>
StatusOr<T> Client::DoAs(std::string_view method, const std::string& path,
                         const std::optional<nlohmann::json>& body) {
  GD2_ASSIGN_OR_RETURN(nlohmann::json j, Do(method, path, body));
  try {
    return j.get<T>();
  } catch (const std::exception& e) {
    return InternalError("unexpected response from " + path + ": " + e.what());
  }
}

Status Client::Ping() { return Do("GET", "/ping").status(); }
StatusOr<api::VersionResp> Client::Version() { return DoAs<api::VersionResp>("GET", "/version"); }
StatusOr<api::HealthResp> Client::Health() { return DoAs<api::HealthResp>("GET", "/v1/healthz"); }

StatusOr<std::vector<api::Peer>> Client::ListPeers(const std::string& key, const std::string& value) {
  std::string path = "/v1/peers";
  httplib::Params params;
  if (!key.empty()) params.emplace("key", key);
  if (!value.empty()) params.emplace("value", value);
  if (!params.empty()) path = httplib::append_query_params(path, params);
  return DoAs<std::vector<api::Peer>>("GET", path);
}

StatusOr<api::Peer> Client::GetPeer(const std::string& id) {
  return DoAs<api::Peer>("GET", "/v1/peers/" + id);
}

StatusOr<api::Peer> Client::AddPeer(const api::PeerAddReq& req) {
  return DoAs<api::Peer>("POST", "/v1/peers", nlohmann::json(req));
}

Status Client::RemovePeer(const std::string& id, bool force) {
  return Do("DELETE", "/v1/peers/" + id + (force ? "?force=true" : "")).status();
}

StatusOr<api::Peer> Client::EditPeer(const std::string& id, const api::PeerEditReq& req) {
  return DoAs<api::Peer>("POST", "/v1/peers/" + id, nlohmann::json(req));
}

}  // namespace gd2::client
