#include "plugins/peer/plugin.h"

#include "common/log.h"
#include "plugins/peer/peer_store.h"
#include "store/store.h"
#include "store/watcher.h"

namespace gd2::plugins::peer {
namespace {

// ?key=K&value=V filter on metadata: key alone matches presence, value alone any key's value.
bool MatchesFilter(const api::Peer& p, const std::string& key, const std::string& value) {
  if (key.empty() && value.empty()) return true;
  for (const auto& [k, v] : p.metadata) {
    if ((key.empty() || k == key) && (value.empty() || v == value)) return true;
  }
  return false;
}

}  // namespace

PeerPlugin::PeerPlugin(Services& services) : services_(services) {}
PeerPlugin::~PeerPlugin() { Stop(); }

Status PeerPlugin::StartWatch() {
  auto watcher = std::make_unique<store::Watcher>(*services_.store);
  std::string prefix = services_.keys.AlivePrefix();
  Status s = watcher->Watch(
      prefix, 0,
      [prefix](const std::vector<store::WatchEvent>& events) {
        for (const auto& e : events) {
          std::string id = e.kv.key.substr(prefix.size());
          if (e.type == store::WatchEvent::Type::kPut && e.kv.version == 1) {
            log::Root().Info("peer online", {{"peer", id}});
          } else if (e.type == store::WatchEvent::Type::kDelete) {
            log::Root().Info("peer offline", {{"peer", id}});
          }
        }
      },
      [](const Status& err) {
        // Only liveness logging depends on this watch; nothing is cached from it.
        log::Root().Error("peer watch ended", {{"error", err}});
      });
  if (!s.ok()) return s;
  watcher_ = std::move(watcher);
  return OkStatus();
}

Status PeerPlugin::Start() { return StartWatch(); }

void PeerPlugin::Stop() {
  if (watcher_) {
    watcher_->Stop();
    watcher_.reset();
  }
}

void PeerPlugin::Register(Registrar& r) {
  r.AddRoute({"GetPeers", rest::Method::kGet, "/v1/peers",
              [this](rest::RequestContext& ctx) -> StatusOr<rest::Response> {
                GD2_ASSIGN_OR_RETURN(std::vector<api::Peer> peers,
                                     ListPeers(*services_.store, services_.keys));
                std::string key = ctx.Query("key");
                std::string value = ctx.Query("value");
                nlohmann::json out = nlohmann::json::array();
                for (const auto& p : peers) {
                  if (MatchesFilter(p, key, value)) out.push_back(p);
                }
                return rest::Response::Ok(std::move(out));
              },
              "list the peers of the cluster (?key=K&value=V filters on metadata)", "",
              "[Peer]"});
  r.AddRoute({"GetPeer", rest::Method::kGet, "/v1/peers/{peerid}",
              [this](rest::RequestContext& ctx) -> StatusOr<rest::Response> {
                GD2_ASSIGN_OR_RETURN(api::Peer p, GetPeer(*services_.store, services_.keys,
                                                          ctx.params["peerid"]));
                return rest::Response::Ok(p);
              },
              "show one peer", "", "Peer"});
}

}  // namespace gd2::plugins::peer
