// The unversioned service routes (/ping, /version, /endpoints, /metrics) and /v1/healthz.
#include "api/peer.h"
#include "common/metrics.h"
#include "daemon/daemon.h"
#include "store/store.h"

namespace gd2::daemon {

void Daemon::AddCoreRoutes(plugins::Registrar& r) {
  using rest::Method;
  using rest::RequestContext;
  using rest::Response;
  // GlusterD2 answers /ping with 200 and no body.
  rest::Route ping{"Ping", Method::kGet, "/ping",
                   [](RequestContext&) -> StatusOr<Response> { return Response(); },
                   "liveness probe, no auth", "", ""};
  ping.auth = false;
  ping.nonblocking = true;
  r.AddRoute(std::move(ping));

  rest::Route endpoints{"GetEndpoints", Method::kGet, "/endpoints",
                        [this](RequestContext&) -> StatusOr<Response> {
                          nlohmann::json out = nlohmann::json::array();
                          for (const auto& route : router_.routes()) {
                            out.push_back(api::Endpoint{route->name, route->description,
                                                        std::string(rest::MethodName(route->method)),
                                                        route->path, route->request_type,
                                                        route->response_type});
                          }
                          return Response::Ok(std::move(out));
                        },
                        "list the ReST routes, no auth", "", "[Endpoint]"};
  endpoints.auth = false;
  r.AddRoute(std::move(endpoints));

  r.AddRoute({"GetVersion", Method::kGet, "/version",
              [](RequestContext&) -> StatusOr<Response> {
                return Response::Ok(api::VersionResp{GD2_VERSION, 1});
              },
              "daemon and API version", "", "VersionResp"});

  r.AddRoute({"GetMetrics", Method::kGet, "/metrics",
              [](RequestContext&) -> StatusOr<Response> {
                return Response::Text(metrics::Default().Render(),
                                      "text/plain; version=0.0.4; charset=utf-8");
              },
              "Prometheus metrics", "", "text"});

  r.AddRoute({"Healthz", Method::kGet, "/v1/healthz",
              [this](RequestContext&) -> StatusOr<Response> {
                api::HealthResp h;
                h.peer_id = identity_.peer_id;
                h.cluster_id = identity_.cluster_id;
                h.store_mode = config_.embedded_etcd() ? "embedded" : "external";
                auto members = store_->MemberList();
                h.store_reachable = members.ok();
                if (!members.ok()) {
                  // 503 with the body still saying what is wrong.
                  return UnavailableError("store unreachable: " + members.status().message());
                }
                h.healthy = true;
                for (const auto& m : *members) {
                  api::StoreMemberHealth mh;
                  mh.name = m.name;
                  mh.endpoint = m.client_urls.empty() ? "" : m.client_urls.front();
                  auto st = store_->EndpointStatus(mh.endpoint);
                  mh.healthy = st.ok();
                  if (st.ok()) {
                    mh.version = st->version;
                  } else {
                    mh.error = st.status().message();
                    h.healthy = false;
                  }
                  h.members.push_back(std::move(mh));
                }
                return Response::Ok(h);
              },
              "store reachability and member health", "", "HealthResp"});
}

}  // namespace gd2::daemon
