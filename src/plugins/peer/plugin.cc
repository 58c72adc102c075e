#include "plugins/peer/plugin.h"

#include <algorithm>
#include <set>
#include <thread>

#include "api/json.h"
#include "common/log.h"
#include "common/tls_ca.h"
#include "peer_rpc/client.h"
#include "plugins/peer/peer_store.h"
#include "plugins/volume/volume_api.h"
#include "store/lock.h"
#include "store/membership.h"
#include "store/session.h"
#include "store/store.h"
#include "store/view.h"
#include "store/watcher.h"
#include "txn/core_steps.h"
#include "txn/engine.h"

namespace gd2::plugins::peer {
PeerPlugin::PeerPlugin(Services& services)
    : services_(services), peers_(*services.store, services.keys, services.peer_id) {}
PeerPlugin::~PeerPlugin() { Stop(); }

Status PeerPlugin::StartWatch() {
  auto watcher = std::make_unique<store::Watcher>(*services_.store);
  std::string prefix = services_.keys.AlivePrefix();
  // Peers that went offline while changes were lost from etcd's history: their transactions are
  // looked for now rather than at the next periodic pass.
  watcher->OnGap([this](int64_t) { WakeTakeOver(); });
  Status s = watcher->Watch(
      prefix, 0,
      [this, prefix](const std::vector<store::WatchEvent>& events) {
        for (const auto& e : events) {
          std::string id = e.kv.key.substr(prefix.size());
          if (e.type == store::WatchEvent::Type::kPut && e.kv.version == 1) {
            log::Root().Info("peer online", {{"peer", id}});
          } else if (e.type == store::WatchEvent::Type::kDelete) {
            log::Root().Info("peer offline", {{"peer", id}});
            // Transactions it started and did not finish are now for the others to undo.
            WakeTakeOver();
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

void PeerPlugin::OnServing() {
  // A commit whose outcome etcd did not tell is rolled back by the next pass that reaches etcd.
  services_.txn->OnOutcomeUnknown([this] { WakeTakeOver(); });
  takeover_ = std::thread([this] { TakeOverLoop(); });
}

void PeerPlugin::WakeTakeOver() {
  MutexLock lock(takeover_mu_);
  takeover_wanted_ = true;
  takeover_cv_.NotifyAll();
}

void PeerPlugin::TakeOverLoop() {
  // At start, whenever a peer goes offline, and every half minute in case an event was missed;
  // every second while a commit's outcome is not known (the pass that reaches etcd again
  // resolves it, and a retry of its request is refused until then).
  bool first = true;
  while (true) {
    const auto every = services_.txn->AwaitingOutcome() ? kOutcomeRetry : kTakeOverInterval;
    {
      MutexLock lock(takeover_mu_);
      if (!first) {
        const auto until = std::chrono::steady_clock::now() + every;
        while (!takeover_wanted_ && !takeover_stopping_) {
          if (!takeover_cv_.WaitUntil(takeover_mu_, until)) break;
        }
      }
      if (takeover_stopping_) return;
      takeover_wanted_ = false;
    }
    first = false;
    auto n = services_.txn->TakeOver(log::Root());
    if (!n.ok()) {
      log::Root().Warn("transaction takeover pass failed", {{"error", n.status()}});
    } else if (*n > 0) {
      log::Root().Warn(
          "resolved transactions left unfinished (rolled back, or finished if committed)",
          {{"count", *n}});
    }
  }
}

void PeerPlugin::Stop() {
  if (takeover_.joinable()) services_.txn->OnOutcomeUnknown(nullptr);
  {
    MutexLock lock(takeover_mu_);
    takeover_stopping_ = true;
    takeover_cv_.NotifyAll();
  }
  if (takeover_.joinable()) takeover_.join();
  if (watcher_) {
    watcher_->Stop();
    watcher_.reset();
  }
}

namespace {

constexpr auto kJoinTimeout = std::chrono::seconds(60);
// Bounds of a peer secret (the daemon makes 64 hex characters; it refuses fewer than 16).
constexpr size_t kMinSecretBytes = 16;
constexpr size_t kMaxSecretBytes = 4096;

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
  if (!req.peer_secret.empty() &&
      (req.peer_secret.size() < kMinSecretBytes || req.peer_secret.size() > kMaxSecretBytes)) {
    return InvalidArgumentError("field \"peer-secret\" must have " +
                                std::to_string(kMinSecretBytes) + ".." +
                                std::to_string(kMaxSecretBytes) + " bytes");
  }
  GD2_ASSIGN_OR_RETURN(std::string address, PeerRpcAddress(req.addresses.front()));
  // One join at a time in the cluster.
  GD2_ASSIGN_OR_RETURN(store::LockGuard guard,
                       store::Lock::Acquire(*services_.store, *services_.session, services_.keys,
                                            "peer-join", std::chrono::seconds(5)));
  peer_rpc::JoinCall call;
  call.cluster_id = services_.cluster_id;
  // The endpoints in use now: they follow the membership (a member removed since start-up
  // may serve another cluster at its old address).
  call.etcd_endpoints = services_.store->endpoints();
  GD2_ASSIGN_OR_RETURN(call.etcd_cluster_id, services_.store->ClusterId());
  call.auth_secret = services_.secret;
  // The cluster CA goes to the new peer with the secret (inside the sealed grant).
  auto ca = tls::LoadCa(tls::TlsPathsIn(services_.workdir));
  if (ca.ok()) {
    call.store_ca_cert = ca->cert_pem;
    call.store_ca_key = ca->key_pem;
  } else if (ca.status().code() != StatusCode::kNotFound) {
    return ca.status().WithContext("cannot read the cluster CA");
  }
  call.initiator = services_.peer_id;
  call.zone = req.zone;
  call.metadata = req.metadata;
  call.etcd_members = services_.etcd_members;
  call.req_id = ctx.req_id;
  auto deadline = peer_rpc::Client::In(std::chrono::seconds(30));
  // The new peer must prove it knows this secret before it is sent anything, and we prove the
  // same to it: its own secret, or ours when peers share the cluster secret.
  const std::string& peer_secret = req.peer_secret.empty() ? services_.secret : req.peer_secret;
  StatusOr<peer_rpc::JoinResult> join =
      services_.peer_client->Join(address, call, peer_secret, deadline);
  if (join.status().code() == StatusCode::kUnauthenticated) {
    // The caller's own token was fine: this is about the peer's secret (403, not 401).
    return PermissionDeniedError(join.status().message() +
                                 " (give the peer's secret: peer add --peer-secret-file)");
  }
  GD2_ASSIGN_OR_RETURN(peer_rpc::JoinResult joined, std::move(join));
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
  GD2_RETURN_IF_ERROR(GetPeer(*services_.store, services_.keys, id).status());
  // Membership changes one at a time: joins, removals and the promotions they cause.
  GD2_ASSIGN_OR_RETURN(store::LockGuard guard,
                       store::Lock::Acquire(*services_.store, *services_.session, services_.keys,
                                            "peer-join", std::chrono::seconds(5)));
  // Read under the lock: a removal that raced this one has finished by now.
  GD2_ASSIGN_OR_RETURN(api::Peer p, GetPeer(*services_.store, services_.keys, id));
  bool force = ctx.Query("force") == "true" || ctx.Query("force") == "1";
  // Bricks are the volume plugin's to know about (absent when that plugin is not built in).
  const auto* volumes = services_.apis.Find<volume::VolumeApi>();
  if (volumes != nullptr && !force) {
    GD2_ASSIGN_OR_RETURN(std::vector<volume::HostedBrick> hosted, volumes->BricksOnPeer(id));
    if (!hosted.empty()) {
      return PermissionDeniedError("peer hosts bricks of volume " + hosted.front().volume +
                                   "; remove them first (or force)");
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
  if (services_.etcd_members > 0) {
    Status published = store::PublishMembers(*services_.store, services_.keys.EtcdMembers());
    if (!published.ok()) ctx.log.Warn("cannot publish the etcd members", {{"error", published}});
  }
  // The peer has left by now; the store may be electing a leader after the membership change,
  // so a timeout here is retried rather than leaving a record of a peer that is gone.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (true) {
    Status s = DeletePeer(*services_.store, services_.keys, p);
    if (s.ok()) break;
    bool transient = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
    if (!transient || std::chrono::steady_clock::now() > until) return s;
    ctx.log.Warn("retrying peer record removal", {{"peer", id}, {"error", s}});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ctx.log.Info("peer removed", {{"peer", id}});
  if (services_.etcd_members > 0) PromoteMember(ctx, p);
  return rest::Response::NoContent();
}

void PeerPlugin::PromoteMember(rest::RequestContext& ctx, const api::Peer& removed) {
  auto members = services_.store->MemberList();
  auto peers = ListPeers(*services_.store, services_.keys);
  if (!members.ok() || !peers.ok()) {
    ctx.log.Warn("cannot check the etcd membership after a peer removal",
                 {{"error", members.ok() ? peers.status() : members.status()}});
    return;
  }
  int voting = 0;
  std::set<std::string> member_names, member_zones;
  for (const auto& m : *members) {
    member_names.insert(m.name);
    voting += m.is_learner ? 0 : 1;
  }
  if (voting >= services_.etcd_members || voting + 1 > static_cast<int>(peers->size())) return;
  // Online client peers, those in a zone without a member first (a zone should not take the
  // store's quorum down with it).
  std::vector<const api::Peer*> candidates;
  for (const auto& p : *peers) {
    if (member_names.count(p.id) != 0) {
      auto z = p.metadata.find(api::kZoneKey);
      if (z != p.metadata.end()) member_zones.insert(z->second);
    } else if (p.online && p.id != removed.id) {
      candidates.push_back(&p);
    }
  }
  std::stable_partition(candidates.begin(), candidates.end(), [&](const api::Peer* p) {
    auto z = p->metadata.find(api::kZoneKey);
    return z == p->metadata.end() || member_zones.count(z->second) == 0;
  });
  for (const api::Peer* p : candidates) {
    txn::Txn t;
    t.description = "etcd member promotion of peer " + p->id;
    t.locks = {"etcd-membership"};
    t.steps.push_back(txn::MakeStep(txn::kBecomeMemberStep, txn::NoArgs{}, {p->id}));
    Status s = services_.txn->Run(std::move(t), ctx.log);
    if (s.ok()) {
      ctx.log.Info("peer becomes an etcd member in place of a removed one",
                   {{"peer", p->id}, {"removed", removed.id}});
      return;
    }
    ctx.log.Warn("peer could not become an etcd member", {{"peer", p->id}, {"error", s}});
  }
  if (!candidates.empty()) ctx.log.Warn("no peer could take the removed peer's etcd member");
}

StatusOr<rest::Response> PeerPlugin::Edit(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::PeerEditReq req, api::DecodeJson<api::PeerEditReq>(ctx.body));
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(req.metadata, false));
  // Under the membership lock: an edit must not write back the record of a peer that a
  // concurrent removal just deleted, nor lose a concurrent edit.
  GD2_ASSIGN_OR_RETURN(store::LockGuard guard,
                       store::Lock::Acquire(*services_.store, *services_.session, services_.keys,
                                            "peer-join", std::chrono::seconds(5)));
  GD2_ASSIGN_OR_RETURN(api::Peer p, GetPeer(*services_.store, services_.keys, ctx.params["peerid"]));
  for (const auto& [k, v] : req.metadata) p.metadata[k] = v;
  if (!req.zone.empty()) p.metadata[api::kZoneKey] = req.zone;
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(p.metadata, true));
  GD2_RETURN_IF_ERROR(PutPeer(*services_.store, services_.keys, p));
  ctx.log.Info("peer edited", {{"peer", p.id}});
  return rest::Response::Ok(p);
}

void PeerPlugin::Register(Registrar& r) {
  r.ProvideApi<PeerApi>(peers_);
  r.AddRoute({"AddPeer", rest::Method::kPost, "/v1/peers",
              [this](rest::RequestContext& ctx) { return Add(ctx); },
              "add the peer at a peer address to this cluster", "PeerAddReq", "Peer"});
  r.AddRoute({"DeletePeer", rest::Method::kDelete, "/v1/peers/{peerid}",
              [this](rest::RequestContext& ctx) { return Remove(ctx); },
              "remove a peer (?force=true if it hosts bricks or is down)", "", ""});
  r.AddRoute({"EditPeer", rest::Method::kPost, "/v1/peers/{peerid}",
              [this](rest::RequestContext& ctx) { return Edit(ctx); },
              "set a peer's zone and metadata", "PeerEditReq", "Peer"});
  // GETs read the store view when it reflects the request's revision, etcd otherwise.
  if (services_.view != nullptr) GD2_CHECK(KeepPeers(*services_.view, services_.keys).ok());
  // Both run on the I/O thread first and defer to a handler thread when the view cannot answer.
  rest::Route list{"GetPeers",
                   rest::Method::kGet,
                   "/v1/peers",
                   [this](rest::RequestContext& ctx) -> StatusOr<rest::Response> {
                     auto view = ReadView(services_, ctx);
                     if (view == nullptr && ctx.nonblocking) return ctx.Defer();
                     GD2_ASSIGN_OR_RETURN(std::vector<api::Peer> peers,
                                          view ? ListPeers(*view, services_.keys)
                                               : ListPeers(*services_.store, services_.keys));
                     std::string key = ctx.Query("key");
                     std::string value = ctx.Query("value");
                     nlohmann::json out = nlohmann::json::array();
                     for (const auto& p : peers) {
                       if (api::MetadataMatches(p.metadata, key, value)) out.push_back(p);
                     }
                     rest::Response resp = rest::Response::Ok(std::move(out));
                     resp.revision = view ? view->revision() : 0;
                     return resp;
                   },
                   "list the peers of the cluster (?key=K&value=V filters on metadata)",
                   "",
                   "[Peer]"};
  list.nonblocking = true;
  r.AddRoute(std::move(list));
  rest::Route one{"GetPeer",
                  rest::Method::kGet,
                  "/v1/peers/{peerid}",
                  [this](rest::RequestContext& ctx) -> StatusOr<rest::Response> {
                    auto view = ReadView(services_, ctx);
                    if (view == nullptr && ctx.nonblocking) return ctx.Defer();
                    const std::string& id = ctx.params["peerid"];
                    GD2_ASSIGN_OR_RETURN(api::Peer p,
                                         view ? GetPeer(*view, services_.keys, id)
                                              : GetPeer(*services_.store, services_.keys, id));
                    rest::Response resp = rest::Response::Ok(p);
                    resp.revision = view ? view->revision() : 0;
                    return resp;
                  },
                  "show one peer",
                  "",
                  "Peer"};
  one.nonblocking = true;
  r.AddRoute(std::move(one));
}

}  // namespace gd2::plugins::peer
