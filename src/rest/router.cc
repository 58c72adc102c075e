#include "rest/router.h"

namespace gd2::rest {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
  }
  return "GET";
}

std::optional<Method> ParseMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "DELETE") return Method::kDelete;
  return std::nullopt;
}

std::string RequestContext::Query(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

Response Response::Ok(nlohmann::json body) {
  Response r;
  r.json = std::move(body);
  return r;
}

Response Response::Created(nlohmann::json body, std::string location) {
  Response r;
  r.status = 201;
  r.json = std::move(body);
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

Response Response::Text(std::string body, std::string content_type) {
  Response r;
  r.text = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Status Router::Add(Route route) {
  if (route.path.empty() || route.path.front() != '/') {
    return InvalidArgumentError("route path must start with /: " + route.path);
  }
  Pattern p;
  for (std::string_view s : SplitPath(route.path)) {
    if (s.empty()) return InvalidArgumentError("route path has an empty segment: " + route.path);
    p.segments.emplace_back(s);
  }
  for (size_t i = 0; i < p.segments.size(); ++i) {
    const std::string& s = p.segments[i];
    bool rest = s.size() > 5 && s.front() == '{' && s.ends_with("...}");
    if (rest && i + 1 != p.segments.size()) {
      return InvalidArgumentError("{x...} must be the last segment: " + route.path);
    }
  }
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i]->name == route.name) return AlreadyExistsError("duplicate route name: " + route.name);
    if (routes_[i]->method == route.method && routes_[i]->path == route.path) {
      return AlreadyExistsError("duplicate route: " + std::string(MethodName(route.method)) + " " +
                                route.path + " (" + routes_[i]->name + ", " + route.name + ")");
    }
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  patterns_.push_back(std::move(p));
  return OkStatus();
}

bool Router::MatchPattern(const Pattern& p, const std::vector<std::string_view>& segs,
                          std::map<std::string, std::string>* params, std::vector<int>* rank) {
  params->clear();
  rank->clear();
  for (size_t i = 0; i < p.segments.size(); ++i) {
    const std::string& ps = p.segments[i];
    bool is_param = ps.size() > 2 && ps.front() == '{' && ps.back() == '}';
    if (is_param && ps.ends_with("...}")) {
      if (i >= segs.size()) return false;
      std::string rest;
      for (size_t k = i; k < segs.size(); ++k) {
        if (segs[k].empty()) return false;
        if (k > i) rest += '/';
        rest += segs[k];
      }
      (*params)[ps.substr(1, ps.size() - 5)] = rest;
      rank->push_back(kRestRank);
      return true;
    }
    if (i >= segs.size()) return false;
    if (is_param) {
      if (segs[i].empty()) return false;
      (*params)[ps.substr(1, ps.size() - 2)] = std::string(segs[i]);
      rank->push_back(kParamRank);
    } else {
      if (segs[i] != ps) return false;
      rank->push_back(kLiteralRank);
    }
  }
  return p.segments.size() == segs.size();
}

Router::Match Router::Find(Method method, std::string_view path) const {
  // The most specific pattern that matches wins, whatever the method: compared segment by
  // segment from the left, a literal beats a {param}, which beats a {param...}. Its routes
  // then answer for their methods; another method is 405, never a less specific route.
  Match best;
  std::vector<int> best_rank;
  bool found = false;
  std::vector<std::string_view> segs = SplitPath(path);
  std::map<std::string, std::string> params;
  std::vector<int> rank;
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!MatchPattern(patterns_[i], segs, &params, &rank)) continue;
    if (!found || rank < best_rank) {
      found = true;
      best_rank = rank;
      best = Match{};
    } else if (rank != best_rank) {
      continue;
    }
    if (routes_[i]->method == method) {
      best.route = routes_[i].get();
      best.params = params;
    }
  }
  best.path_known = found && best.route == nullptr;
  return best;
}

}  // namespace gd2::rest
