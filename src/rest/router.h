// Routes of the ReST API: name, method, path pattern with `{param}` segments (and a final
// `{param...}` that takes the rest of the path), and a handler returning StatusOr<Response>.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/status.h"

namespace gd2::rest {

enum class Method { kGet, kPost, kPut, kDelete };

// Read-your-writes across requests and peers. An answer carries the store revision it reflects
// (the revision of the writes made for it, or that of the state a read was answered from); a
// request may name the lowest revision its answer may reflect (the highest one its client saw).
inline constexpr char kRevisionHeader[] = "X-Gd2-Revision";
inline constexpr char kMinRevisionHeader[] = "X-Gd2-Min-Revision";
std::string_view MethodName(Method m);
std::optional<Method> ParseMethod(std::string_view m);

// What a handler sees of a request. Valid only during the handler call.
struct RequestContext {
  std::string req_id;
  Method method = Method::kGet;
  std::string path;
  std::map<std::string, std::string> params;          // from `{param}` segments
  std::multimap<std::string, std::string> query;      // ?key=value
  std::string_view body;
  std::string remote_addr;
  log::Logger log;
  // From X-Gd2-Min-Revision (0 when absent): a read must reflect at least this store revision,
  // waiting for its view of the store to reach it or reading etcd itself.
  int64_t min_revision = 0;
  // True while the handler runs on one of the server's I/O threads (a Route::nonblocking
  // route): it must not wait on anything (etcd, another peer, a long lock). A handler that
  // cannot answer without waiting returns Defer(), and the server runs it again on a handler
  // thread, where this is false.
  bool nonblocking = false;
  bool deferred = false;  // set by Defer()

  // Returns the query value or "" when absent.
  std::string Query(const std::string& key) const;
  // What a handler on an I/O thread returns when it would have to wait (see nonblocking).
  Status Defer() {
    deferred = true;
    return UnavailableError("deferred to a handler thread");
  }
};

// What a handler returns on success. Errors are returned as Status and rendered by the server.
struct Response {
  int status = 200;
  std::optional<nlohmann::json> json;
  std::string text;          // used when json is empty
  std::string content_type;  // for text
  std::vector<std::pair<std::string, std::string>> headers;
  // The store revision a read was answered from (0: not known). Sent as X-Gd2-Revision, or the
  // revision of the request's own writes if higher (the server adds those).
  int64_t revision = 0;

  static Response Ok(nlohmann::json body);
  static Response Created(nlohmann::json body, std::string location);
  static Response NoContent();
  static Response Text(std::string body, std::string content_type);
};

using Handler = std::function<StatusOr<Response>(RequestContext&)>;

struct Route {
  std::string name;  // "GetPeers"
  Method method = Method::kGet;
  std::string path;  // "/v1/peers/{peerid}"
  Handler handler;
  std::string description;
  std::string request_type;   // for GET /endpoints
  std::string response_type;
  bool auth = true;           // false only for /ping and /endpoints
  // The handler is first run on the I/O thread that read the request, with
  // RequestContext::nonblocking set, which saves two thread hand-offs per request; it answers
  // from memory or returns ctx.Defer(). Only for handlers that never write to the store.
  bool nonblocking = false;
};

class Router {
 public:
  // Adds a route. kAlreadyExists on a duplicate name or method+pattern; kInvalidArgument on a
  // malformed pattern. Not thread-safe: all routes are added before serving.
  Status Add(Route route);

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    bool path_known = false;  // some route has this path but another method (405)
  };
  // Finds the route for method + path. Precedence: of the patterns that match the path, the
  // most specific wins, compared segment by segment from the left: a literal segment beats
  // `{param}`, which beats `{param...}` (so "/v1/volumes/options-group" beats
  // "/v1/volumes/{volname}" whichever was added first). If that pattern has no route for
  // `method`, the result has no route and path_known set (405): a less specific pattern is
  // never tried instead. Thread-safe after setup.
  Match Find(Method method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Pattern {
    std::vector<std::string> segments;  // literal, "{x}" or "{x...}"
  };
  // Segment kinds in `rank`, lower is more specific.
  static constexpr int kLiteralRank = 0;
  static constexpr int kParamRank = 1;
  static constexpr int kRestRank = 2;
  static bool MatchPattern(const Pattern& p, const std::vector<std::string_view>& segs,
                           std::map<std::string, std::string>* params, std::vector<int>* rank);
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<Pattern> patterns_;
};

// Splits a path into segments ("/v1/peers/x" -> v1, peers, x). Empty segments are kept so that
// "//" never matches a pattern.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace gd2::rest
