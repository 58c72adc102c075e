#include "plugins/peer/plugin.h"

#include <thread>

#include "api/json.h"
#include "api/volume.h"
#include "common/log.h"
#include "peer_rpc/client.h"
#include "plugins/peer/peer_store.h"
#include "store/lock.h"
#include "store/membership.h"
#include "store/session.h"
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

namespace {

constexpr auto kJoinTimeout = std::chrono::seconds(60);

// "host" or "host:port" -> "host:port" with the default peer port.
StatusOr<std::string> PeerRpcAddress(const std::string& a) {
  if (a.empty()) return InvalidArgumentError("empty peer address");
  for (char c : a) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) return InvalidArgumentError("bad peer address: " + a);
  }
  if (a.find(':') == std::string::npos) return a + ":" + std::to_string(peer_rpc::kDefaultPort);
  return a;
}

}  // namespace

StatusOr<rest::Response> PeerPlugin::Add(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::PeerAddReq req, api::DecodeJson<api::PeerAddReq>(ctx.body));
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(req.metadata, false));
  GD2_ASSIGN_OR_RETURN(std::string address, PeerRpcAddress(req.addresses.front()));
  // One join at a time in the cluster.
  GD2_ASSIGN_OR_RETURN(store::LockGuard guard,
                       store::Lock::Acquire(*services_.store, *services_.session, services_.keys,
                                            "peer-join", std::chrono::seconds(5)));
  peer_rpc::JoinCall call;
  call.cluster_id = services_.cluster_id;
  call.etcd_endpoints = services_.etcd_endpoints;
  call.auth_secret = services_.secret;
  call.initiator = services_.peer_id;
  call.zone = req.zone;
  call.metadata = req.metadata;
  call.req_id = ctx.req_id;
  auto deadline = peer_rpc::Client::In(std::chrono::seconds(30));
  GD2_ASSIGN_OR_RETURN(peer_rpc::JoinResult joined, services_.peer_client->Join(address, call, deadline));
  ctx.log.Info("peer joining", {{"peer", joined.peer_id}, {"address", address}});
  // The new peer restarts on our store and registers itself; wait until it is online.
  auto until = std::chrono::steady_clock::now() + kJoinTimeout;
  while (true) {
    auto p = GetPeer(*services_.store, services_.keys, joined.peer_id);
    if (p.ok() && p->online) {
      api::Peer peer = *p;
      for (const auto& [k, v] : req.metadata) peer.metadata[k] = v;
      if (!req.zone.empty()) peer.metadata[api::kZoneKey] = req.zone;
      GD2_RETURN_IF_ERROR(PutPeer(*services_.store, services_.keys, peer));
      ctx.log.Info("peer added", {{"peer", peer.id}, {"name", peer.name}});
      return rest::Response::Created(peer, "/v1/peers/" + peer.id);
    }
    if (std::chrono::steady_clock::now() > until) {
      return DeadlineExceededError("peer " + joined.peer_id + " accepted the join but did not come "
                                   "online in the cluster's store");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

StatusOr<rest::Response> PeerPlugin::Remove(rest::RequestContext& ctx) {
  std::string id = ctx.params["peerid"];
  if (id == services_.peer_id) return InvalidArgumentError("a peer cannot remove itself");
  GD2_ASSIGN_OR_RETURN(api::Peer p, GetPeer(*services_.store, services_.keys, id));
  bool force = ctx.Query("force") == "true" || ctx.Query("force") == "1";
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> vols, services_.store->List(services_.keys.VolumesPrefix()));
  for (const auto& kv : vols) {
    auto v = api::ParseVolume(kv.value);
    if (!v.ok() || force) continue;
    for (const auto& sv : v->subvols) {
      for (const auto& b : sv.bricks) {
        if (b.peer_id == id) {
          return PermissionDeniedError("peer hosts bricks of volume " + v->name +
                                       "; remove them first (or force)");
        }
      }
    }
  }
  if (p.online && !p.peer_addresses.empty()) {
    peer_rpc::LeaveCall call;
    call.cluster_id = services_.cluster_id;
    call.initiator = services_.peer_id;
    call.req_id = ctx.req_id;
    Status s = services_.peer_client->Leave(p.peer_addresses.front(), call,
                                            peer_rpc::Client::In(std::chrono::seconds(10)));
    if (!s.ok() && !force) return s.WithContext("peer did not leave");
  }
  // A removed peer's etcd member goes too (a peer that left removed itself already; a dead one
  // must not keep counting for quorum).
  Status member = store::RemoveMemberNamed(*services_.store, id, std::chrono::seconds(10));
  if (!member.ok()) ctx.log.Warn("cannot remove the peer's etcd member", {{"peer", id}, {"error", member}});
  GD2_ASSIGN_OR_RETURN(std::string peer_key, services_.keys.Peer(id));
  GD2_ASSIGN_OR_RETURN(std::string alive_key, services_.keys.Alive(id));
  // The peer has left by now; the store may be electing a leader after the membership change,
  // so a timeout here is retried rather than leaving a record of a peer that is gone.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (true) {
    Status s = services_.store
                   ->Txn({}, {store::Op::Delete(peer_key), store::Op::Delete(alive_key)}, {})
                   .status();
    if (s.ok()) break;
    bool transient = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
    if (!transient || std::chrono::steady_clock::now() > until) return s;
    ctx.log.Warn("retrying peer record removal", {{"peer", id}, {"error", s}});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ctx.log.Info("peer removed", {{"peer", id}});
  return rest::Response::NoContent();
}

StatusOr<rest::Response> PeerPlugin::Edit(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::PeerEditReq req, api::DecodeJson<api::PeerEditReq>(ctx.body));
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(req.metadata, false));
  GD2_ASSIGN_OR_RETURN(api::Peer p, GetPeer(*services_.store, services_.keys, ctx.params["peerid"]));
  for (const auto& [k, v] : req.metadata) p.metadata[k] = v;
  if (!req.zone.empty()) p.metadata[api::kZoneKey] = req.zone;
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(p.metadata, true));
  GD2_RETURN_IF_ERROR(PutPeer(*services_.store, services_.keys, p));
  ctx.log.Info("peer edited", {{"peer", p.id}});
  return rest::Response::Ok(p);
}

void PeerPlugin::Register(Registrar& r) {
  r.AddRoute({"AddPeer", rest::Method::kPost, "/v1/peers",
              [this](rest::RequestContext& ctx) { return Add(ctx); },
              "add the peer at a peer address to this cluster", "PeerAddReq", "Peer"});
  r.AddRoute({"DeletePeer", rest::Method::kDelete, "/v1/peers/{peerid}",
              [this](rest::RequestContext& ctx) { return Remove(ctx); },
              "remove a peer (?force=true if it hosts bricks or is down)", "", ""});
  r.AddRoute({"EditPeer", rest::Method::kPost, "/v1/peers/{peerid}",
              [this](rest::RequestContext& ctx) { return Edit(ctx); },
              "set a peer's zone and metadata", "PeerEditReq", "Peer"});
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
