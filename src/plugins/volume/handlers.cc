// ReST handlers of the volume plugin: validate, build a transaction, run it, answer from the
// committed state.
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "api/json.h"
#include "api/peer.h"
#include "api/volume_req.h"
#include "brick/mountinfo.h"
#include "common/parallel.h"
#include "common/uuid.h"
#include "peer_rpc/client.h"
#include "plugins/volume/plugin.h"
#include "plugins/volume/step_args.h"
#include "plugins/volume/volume_store.h"
#include "store/view.h"
#include "volgen/options.h"
#include "volgen/volgen.h"

namespace gd2::plugins::volume {
namespace {

// Peers that host at least one brick of `v`, in brick order.
std::vector<std::string> BrickPeers(const api::Volume& v) {
  std::vector<std::string> peers;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (std::find(peers.begin(), peers.end(), b.peer_id) == peers.end()) peers.push_back(b.peer_id);
    }
  }
  return peers;
}

// `base` for each brick peer of `v`, with that peer's brick paths and host, by peer id.
std::map<std::string, BrickSetArgs> BrickArgsByPeer(const api::Volume& v,
                                                    const BrickSetArgs& base) {
  std::map<std::string, BrickSetArgs> out;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      BrickSetArgs& a = out.try_emplace(b.peer_id, base).first->second;
      a.paths.push_back(b.path);
      a.host = b.host;
    }
  }
  return out;
}

// kUnavailable naming the first brick peer that is offline.
Status RequireOnline(const std::vector<std::string>& peers, const std::set<std::string>& online) {
  for (const auto& p : peers) {
    if (online.count(p) == 0) return UnavailableError("peer hosting bricks is offline: peer=" + p);
  }
  return OkStatus();
}

StatusOr<txn::Commit> ToCommit(StatusOr<VolumeCommit> c) {
  if (!c.ok()) return c.status();
  return txn::Commit{std::move(c->compares), std::move(c->ops), {}};
}

std::string FsTypeName(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0x58465342: return "xfs";
    case 0xEF53: return "ext4";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794c7630: return "overlay";
    default: return "unknown";
  }
}

// The volume for a GET: from the store view when it reflects the request's revision (its
// revision in *revision), else from etcd (*revision = 0); on an I/O thread, ctx.Defer() instead
// of etcd.
StatusOr<StoredVolume> ReadVolume(const Services& s, const VolumeKeys& keys,
                                  rest::RequestContext& ctx, const std::string& name,
                                  int64_t* revision = nullptr) {
  auto view = ReadView(s, ctx);
  if (view == nullptr && ctx.nonblocking) return ctx.Defer();
  if (revision != nullptr) *revision = view ? view->revision() : 0;
  return view ? GetVolume(*view, keys, name) : GetVolume(*s.store, keys, name);
}

}  // namespace

StatusOr<rest::Response> VolumePlugin::Create(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::VolCreateReq req, api::DecodeJson<api::VolCreateReq>(ctx.body));
  GD2_RETURN_IF_ERROR(api::ValidateVolumeName(req.name));
  if (req.transport != "tcp") return InvalidArgumentError("unsupported transport: " + req.transport);
  if (req.subvols.empty()) return InvalidArgumentError("a volume needs at least one brick");
  for (const auto& [flag, on] : req.flags) {
    (void)on;
    if (flag != "reuse-bricks" && flag != "allow-root-dir" && flag != "allow-mount-as-brick" &&
        flag != "create-brick-dir") {
      return InvalidArgumentError("unknown flag: " + flag);
    }
  }
  GD2_RETURN_IF_ERROR(api::ValidateMetadata(req.metadata, false));
  // A quick answer for the common case; checked again under the locks below.
  auto existing = GetVolume(*services_.store, keys_, req.name);
  if (existing.ok()) return AlreadyExistsError("volume already exists: " + req.name);
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();

  const api::SubvolReq& first = req.subvols.front();
  api::LayoutRequest layout;
  layout.replica_count = first.replica;
  layout.arbiter_count = first.arbiter;
  layout.disperse_count = first.disperse_count;
  layout.disperse_data_count = first.disperse_data;
  layout.disperse_redundancy = first.disperse_redundancy;
  if (first.type == "replicate" && layout.replica_count == 0) {
    layout.replica_count = static_cast<int>(first.bricks.size());
  }
  if (first.type == "disperse" && layout.disperse_count == 0 && layout.disperse_data_count == 0) {
    layout.disperse_count = static_cast<int>(first.bricks.size());
  }
  std::vector<std::string> whos;
  for (const auto& sv : req.subvols) {
    if (sv.type != first.type || sv.replica != first.replica || sv.arbiter != first.arbiter ||
        sv.disperse_count != first.disperse_count || sv.disperse_data != first.disperse_data ||
        sv.disperse_redundancy != first.disperse_redundancy) {
      return InvalidArgumentError("all subvolumes must have the same type and counts");
    }
    for (const auto& br : sv.bricks) whos.push_back(br.peer_id);
  }
  // Each brick's peer as a peer record, all resolved together: two store requests however many
  // peers the bricks name (a peer name also needs the peer list). Every one is in the answer.
  GD2_ASSIGN_OR_RETURN(auto resolved, peers_->FindPeers(whos));
  std::vector<api::Brick> flat;
  for (const auto& sv : req.subvols) {
    for (const auto& br : sv.bricks) {
      const api::Peer* p = &resolved.at(br.peer_id);
      api::Brick b;
      b.id = NewUuid();
      b.peer_id = p->id;
      b.host = peer::ClientHost(*p, services_.client_host);
      b.path = br.path;
      GD2_RETURN_IF_ERROR(api::ValidateBrickPath(b.path));
      if (IsUnder(b.path, services_.workdir) || IsUnder(services_.workdir, b.path)) {
        return InvalidArgumentError("brick may not be inside the glusterd2 workdir: " + b.path);
      }
      flat.push_back(std::move(b));
    }
  }

  api::Volume v;
  v.id = NewUuid();
  v.name = req.name;
  v.transport = req.transport;
  v.state = api::VolumeState::kCreated;
  GD2_ASSIGN_OR_RETURN(v.subvols, api::PlanSubvols(v.name, std::move(flat), layout));
  v.type = api::VolumeTypeFor(v.subvols);
  v.metadata = req.metadata;
  v.auth.username = NewUuid();
  v.auth.password = NewUuid();
  v.version = 1;
  using OptionMap = std::map<std::string, std::string>;
  GD2_ASSIGN_OR_RETURN(OptionMap user_opts, services_.options.NormalizeAll(req.options));
  for (const auto& [k, val] : user_opts) {
    GD2_RETURN_IF_ERROR(
        volgen::CheckOptionLevel(*services_.options.Find(k), req.allow_advanced_options,
                                 req.allow_experimental_options, req.allow_deprecated_options));
  }
  v.options = volgen::CreateTimeOptions(v.type);
  for (const auto& [k, val] : user_opts) v.options[k] = val;
  GD2_RETURN_IF_ERROR(api::ValidateVolume(v));

  // Replica sets on one peer lose the point of replication.
  if (!req.force) {
    for (const auto& sv : v.subvols) {
      if (sv.type == api::SubvolType::kDistribute) continue;
      std::set<std::string> seen;
      for (const auto& b : sv.bricks) {
        if (!seen.insert(b.peer_id).second) {
          return InvalidArgumentError(
              "bricks of subvolume " + sv.name + " are on the same peer; use force to allow it");
        }
      }
    }
  }
  auto flag = [&](const char* f) { return req.flags.count(f) != 0 && req.flags.at(f); };
  txn::Txn t;
  t.req_id = ctx.req_id;
  t.description = "volume create " + v.name;
  // The name's lock, and one lock for every create: brick paths are claimed by whichever
  // create holds it, so two creates cannot both pass the path-in-use check.
  t.locks = {VolumeLockName(v.name), kBrickClaimLock};
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    // Under the locks: nothing is prepared for a name or a path that is taken.
    GD2_ASSIGN_OR_RETURN(std::vector<StoredVolume> all, ListVolumes(*services_.store, keys_));
    for (const auto& other : all) {
      if (other.volume.name == v.name) return AlreadyExistsError("volume already exists: " + v.name);
    }
    // A path belongs to one volume only, bricks do not nest, and no two bricks share a name.
    std::vector<const api::Volume*> others;
    for (const auto& other : all) others.push_back(&other.volume);
    GD2_RETURN_IF_ERROR(api::CheckBrickConflicts(v, others));
    GD2_ASSIGN_OR_RETURN(std::set<std::string> online, peers_->OnlinePeers(BrickPeers(v)));
    GD2_RETURN_IF_ERROR(RequireOnline(BrickPeers(v), online));
    // One step on every brick peer at once, each with its own paths.
    BrickSetArgs base;
    base.volume = v.name;
    base.volume_id = v.id;
    base.create_dir = flag("create-brick-dir");
    base.reuse = flag("reuse-bricks");
    base.allow_root_dir = flag("allow-root-dir") || req.force;
    base.allow_mount_as_brick = flag("allow-mount-as-brick") || req.force;
    return std::vector<txn::Step>{txn::MakePerPeerStep(kPrepareBricks, BrickArgsByPeer(v, base))};
  };
  t.commit = [&]() { return ToCommit(PutCommit(keys_, v, 0)); };
  GD2_RETURN_IF_ERROR(services_.txn->Run(std::move(t), ctx.log));
  ctx.log.Info("volume created", {{"volume", v.name}, {"volume_id", v.id}});
  return rest::Response::Created(api::VolumeToJson(v), "/v1/volumes/" + v.name);
}

StatusOr<rest::Response> VolumePlugin::List(rest::RequestContext& ctx) {
  auto view = ReadView(services_, ctx);
  GD2_ASSIGN_OR_RETURN(std::vector<StoredVolume> all,
                       view ? ListVolumes(*view, keys_) : ListVolumes(*services_.store, keys_));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sv : all) {
    if (api::MetadataMatches(sv.volume.metadata, ctx.Query("key"), ctx.Query("value"))) {
      out.push_back(api::VolumeToJson(sv.volume));
    }
  }
  rest::Response resp = rest::Response::Ok(std::move(out));
  resp.revision = view ? view->revision() : 0;
  return resp;
}

StatusOr<rest::Response> VolumePlugin::Info(rest::RequestContext& ctx) {
  int64_t revision = 0;
  GD2_ASSIGN_OR_RETURN(StoredVolume sv,
                       ReadVolume(services_, keys_, ctx, ctx.params["volname"], &revision));
  rest::Response resp = rest::Response::Ok(api::VolumeToJson(sv.volume));
  resp.revision = revision;
  return resp;
}

StatusOr<rest::Response> VolumePlugin::Delete(rest::RequestContext& ctx) {
  std::string name = ctx.params["volname"];
  GD2_RETURN_IF_ERROR(
      VolumeExists(services_.view, *services_.store, keys_, name, ctx.min_revision));
  txn::Txn t;
  t.req_id = ctx.req_id;
  t.description = "volume delete " + name;
  // Not the brick claim lock: creates of other volumes go on while the bricks are cleaned after
  // the commit (a large .glusterfs can take minutes); a path still being cleaned carries this
  // volume's id, which PrepareBrick refuses, so no create takes it before its cleanup is done.
  t.locks = {VolumeLockName(name)};
  StoredVolume sv;
  std::vector<store::Op> pending;  // cleanup that offline peers do when they are back
  std::map<std::string, BrickSetArgs> online_part;  // cleanup that online peers do at once
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    // Read and checked under the lock: a start that got the lock first makes this a 409 before
    // any brick is touched.
    GD2_ASSIGN_OR_RETURN(sv, GetVolume(*services_.store, keys_, name));
    if (sv.volume.state == api::VolumeState::kStarted) {
      return FailedPreconditionError("volume is started; stop it before deleting: " + name);
    }
    GD2_ASSIGN_OR_RETURN(std::set<std::string> online, peers_->OnlinePeers(BrickPeers(sv.volume)));
    pending.clear();
    // One step on every online brick peer at once, each deleting its own paths; an offline
    // peer's part waits for it as pending work.
    BrickSetArgs base;
    base.volume = name;
    base.volume_id = sv.volume.id;
    base.allow_root_dir = true;
    base.allow_mount_as_brick = true;
    base.reuse = true;
    online_part.clear();
    for (auto& [peer, a] : BrickArgsByPeer(sv.volume, base)) {
      if (online.count(peer) != 0) {
        online_part.emplace(peer, std::move(a));
        continue;
      }
      GD2_ASSIGN_OR_RETURN(std::string key, keys_.Pending(peer, "volume-delete." + name));
      pending.push_back(store::Op::Put(key, EncodePendingWork(PendingWork{kDeleteBricksStep, a})));
      ctx.log.Warn("peer offline, brick cleanup deferred", {{"volume", name}, {"peer", peer}});
    }
    std::vector<txn::Step> steps;
    if (!online_part.empty()) {
      // The processes on every online peer (a peer that cannot be reached fails the delete
      // here, with nothing lost); the bricks are cleaned once the delete has committed, since
      // a cleanup cannot be undone in full (.glusterfs holds the gfid handles and heal indices).
      std::vector<std::string> peers;
      for (const auto& [peer, a] : online_part) peers.push_back(peer);
      steps.push_back(txn::MakeStep(kStopBricks, VolumeArgs{sv.volume}, std::move(peers)));
    }
    return steps;
  };
  t.commit = [&]() -> StatusOr<txn::Commit> {
    GD2_ASSIGN_OR_RETURN(txn::Commit c, ToCommit(DeleteCommit(keys_, name, sv.mod_revision)));
    c.ops.insert(c.ops.end(), pending.begin(), pending.end());
    // A peer whose cleanup fails (or that goes down first) cleans up later (txn::Commit::finish).
    if (!online_part.empty()) c.finish.push_back(txn::MakePerPeerStep(kDeleteBricks, online_part));
    return c;
  };
  GD2_RETURN_IF_ERROR(services_.txn->Run(std::move(t), ctx.log));
  ctx.log.Info("volume deleted", {{"volume", name}});
  return rest::Response::NoContent();
}

StatusOr<rest::Response> VolumePlugin::StartVolume(rest::RequestContext& ctx) {
  std::string name = ctx.params["volname"];
  GD2_ASSIGN_OR_RETURN(api::VolStartReq req, api::DecodeJson<api::VolStartReq>(ctx.body));
  GD2_RETURN_IF_ERROR(
      VolumeExists(services_.view, *services_.store, keys_, name, ctx.min_revision));
  txn::Txn t;
  t.req_id = ctx.req_id;
  t.description = "volume start " + name;
  t.locks = {VolumeLockName(name)};
  StoredVolume sv;
  api::Volume v;
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    GD2_ASSIGN_OR_RETURN(sv, GetVolume(*services_.store, keys_, name));
    if (sv.volume.state == api::VolumeState::kStarted && !req.force_start_bricks) {
      return FailedPreconditionError("volume already started");
    }
    v = sv.volume;
    v.state = api::VolumeState::kStarted;
    v.version++;
    GD2_ASSIGN_OR_RETURN(std::set<std::string> online, peers_->OnlinePeers(BrickPeers(v)));
    GD2_RETURN_IF_ERROR(RequireOnline(BrickPeers(v), online));
    // One step on every brick peer: they start their bricks at once.
    return std::vector<txn::Step>{txn::MakeStep(kStartBricks, VolumeArgs{v}, BrickPeers(v))};
  };
  t.commit = [&]() { return ToCommit(PutCommit(keys_, v, sv.mod_revision)); };
  GD2_RETURN_IF_ERROR(services_.txn->Run(std::move(t), ctx.log));
  ctx.log.Info("volume started", {{"volume", name}});
  return rest::Response::Ok(api::VolumeToJson(v));
}

StatusOr<rest::Response> VolumePlugin::StopVolume(rest::RequestContext& ctx) {
  std::string name = ctx.params["volname"];
  GD2_ASSIGN_OR_RETURN(api::VolStopReq req, api::DecodeJson<api::VolStopReq>(ctx.body));
  GD2_RETURN_IF_ERROR(
      VolumeExists(services_.view, *services_.store, keys_, name, ctx.min_revision));
  txn::Txn t;
  t.req_id = ctx.req_id;
  t.description = "volume stop " + name;
  t.locks = {VolumeLockName(name)};
  StoredVolume sv;
  api::Volume v;
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    GD2_ASSIGN_OR_RETURN(sv, GetVolume(*services_.store, keys_, name));
    if (sv.volume.state != api::VolumeState::kStarted && !req.force) {
      return FailedPreconditionError("volume already stopped");
    }
    v = sv.volume;
    v.state = api::VolumeState::kStopped;
    v.version++;
    GD2_ASSIGN_OR_RETURN(std::set<std::string> online, peers_->OnlinePeers(BrickPeers(v)));
    std::vector<std::string> peers;
    for (const auto& peer : BrickPeers(v)) {
      // An offline peer stops its bricks when it is back (it reconciles with the stored state).
      if (online.count(peer) == 0) {
        ctx.log.Warn("peer offline, its bricks stop when it returns", {{"volume", name}, {"peer", peer}});
        continue;
      }
      peers.push_back(peer);
    }
    // One step on every online brick peer: they stop their bricks at once.
    std::vector<txn::Step> steps;
    if (!peers.empty())
      steps.push_back(txn::MakeStep(kStopBricks, VolumeArgs{sv.volume}, std::move(peers)));
    return steps;
  };
  t.commit = [&]() { return ToCommit(PutCommit(keys_, v, sv.mod_revision)); };
  GD2_RETURN_IF_ERROR(services_.txn->Run(std::move(t), ctx.log));
  ctx.log.Info("volume stopped", {{"volume", name}});
  return rest::Response::Ok(api::VolumeToJson(v));
}

// How long another peer has to answer a query about its bricks, and how many are asked at once.
constexpr auto kPeerQueryTimeout = std::chrono::seconds(5);
constexpr size_t kMaxPeersAskedAtOnce = 16;

template <typename Args, typename Result>
StatusOr<Result> VolumePlugin::AskPeer(const std::string& peer_id,
                                       peer_rpc::QueryId<Args, Result> query, const Args& args,
                                       const std::string& req_id) const {
  GD2_ASSIGN_OR_RETURN(api::Peer p, peers_->GetPeer(peer_id));
  if (p.peer_addresses.empty()) return NotFoundError("peer has no peer address: " + peer_id);
  return peer_rpc::Ask(*services_.peer_client, p.peer_addresses.front(), query, args, req_id,
                       peer_rpc::Client::In(kPeerQueryTimeout));
}

template <typename Args, typename Result>
std::map<std::string, StatusOr<Result>> VolumePlugin::AskPeers(
    const std::vector<std::string>& peer_ids, peer_rpc::QueryId<Args, Result> query,
    const Args& args, const std::string& req_id) const {
  std::vector<StatusOr<Result>> answers(peer_ids.size(), InternalError("peer not asked"));
  ParallelFor(peer_ids.size(), kMaxPeersAskedAtOnce,
              [&](size_t i) { answers[i] = AskPeer(peer_ids[i], query, args, req_id); });
  std::map<std::string, StatusOr<Result>> out;
  for (size_t i = 0; i < peer_ids.size(); ++i) out.emplace(peer_ids[i], std::move(answers[i]));
  return out;
}

api::BrickStatus VolumePlugin::LocalBrickStatus(const api::Volume& v, const api::Brick& b) const {
  api::BrickStatus st;
  st.info = api::BrickToJson(b, v);
  brick::ProcessState ps = runtime_->BrickState(b.path);
  st.online = ps.running && v.state == api::VolumeState::kStarted;
  st.pid = st.online ? ps.pid : 0;
  st.port = st.online ? ps.port : 0;
  struct statfs fs {};
  if (::statfs(b.path.c_str(), &fs) == 0) {
    st.fs_type = FsTypeName(static_cast<long>(fs.f_type));
    st.size.capacity = static_cast<uint64_t>(fs.f_blocks) * fs.f_bsize;
    st.size.free = static_cast<uint64_t>(fs.f_bavail) * fs.f_bsize;
    st.size.used = static_cast<uint64_t>(fs.f_blocks - fs.f_bfree) * fs.f_bsize;
  }
  // The mount holding the brick, as GlusterD2 reported it.
  if (auto m = brick::MountOfPath(b.path); m.ok()) {
    st.device = m->source;
    st.mount_opts = brick::CombinedMountOptions(*m);
  }
  return st;
}

bool VolumePlugin::BrickOnline(const api::Volume& v, const api::Brick& b) const {
  if (b.peer_id != services_.peer_id) return PublishedBrickStatus(v, b).online;
  return v.state == api::VolumeState::kStarted && runtime_->BrickState(b.path).running;
}

api::BrickStatus VolumePlugin::PublishedBrickStatus(const api::Volume& v,
                                                    const api::Brick& b) const {
  api::BrickStatus st;
  st.info = api::BrickToJson(b, v);
  auto key = keys_.BrickState(b.peer_id, b.path);
  auto kv = key.ok() ? services_.store->Get(*key)
                     : StatusOr<std::optional<store::KeyValue>>(key.status());
  if (kv.ok() && kv->has_value() && v.state == api::VolumeState::kStarted) {
    // Written by that peer, but read as input (ParseBrickState never throws).
    BrickStateRecord bs = ParseBrickState((*kv)->value);
    st.online = bs.valid;
    st.pid = bs.pid;
    st.port = bs.port;
  }
  return st;
}

StatusOr<std::vector<api::BrickStatus>> VolumePlugin::LocalBrickStatuses(
    const peer_rpc::QueryContext&, const VolumeQueryArgs& args) const {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, GetVolume(*services_.store, keys_, args.volume));
  std::vector<api::BrickStatus> out;
  for (const auto& s : sv.volume.subvols) {
    for (const auto& b : s.bricks) {
      if (b.peer_id == services_.peer_id) out.push_back(LocalBrickStatus(sv.volume, b));
    }
  }
  return out;
}

std::vector<api::BrickStatus> VolumePlugin::BrickStatuses(const api::Volume& v,
                                                          const rest::RequestContext& ctx) const {
  // Other peers' bricks, as each of those peers measured them, by (peer, brick path).
  std::map<std::pair<std::string, std::string>, api::BrickStatus> answered;
  if (v.state == api::VolumeState::kStarted) {
    std::set<std::string> peers;
    for (const auto& s : v.subvols) {
      for (const auto& b : s.bricks) {
        if (b.peer_id != services_.peer_id) peers.insert(b.peer_id);
      }
    }
    auto answers = AskPeers({peers.begin(), peers.end()}, kBrickStatusQuery,
                            VolumeQueryArgs{v.name}, ctx.req_id);
    for (auto& [peer, r] : answers) {
      if (!r.ok()) {
        ctx.log.Warn("brick status not answered by peer; showing its published state",
                     {{"peer", peer}, {"error", r.status()}});
        continue;
      }
      for (auto& st : *r) {
        auto path = st.info.find("path");
        if (path == st.info.end() || !path->is_string()) continue;
        answered[{peer, path->get<std::string>()}] = std::move(st);
      }
    }
  }
  std::vector<api::BrickStatus> out;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (b.peer_id == services_.peer_id) {
        out.push_back(LocalBrickStatus(v, b));
        continue;
      }
      if (auto it = answered.find({b.peer_id, b.path}); it != answered.end()) {
        // That peer's measurements, under this peer's description of the brick.
        api::BrickStatus st = std::move(it->second);
        st.info = api::BrickToJson(b, v);
        out.push_back(std::move(st));
      } else {
        out.push_back(PublishedBrickStatus(v, b));
      }
    }
  }
  return out;
}

StatusOr<rest::Response> VolumePlugin::VolumeStatus(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, ReadVolume(services_, keys_, ctx, ctx.params["volname"]));
  api::VolumeStatusResp resp;
  resp.info = api::VolumeToJson(sv.volume);
  resp.bricks = BrickStatuses(sv.volume, ctx);
  resp.online = !resp.bricks.empty();
  for (const auto& b : resp.bricks) resp.online = resp.online && b.online;
  // Capacity as a client sees it: the sum over distribute subvolumes of the smallest brick.
  size_t i = 0;
  for (const auto& s : sv.volume.subvols) {
    uint64_t cap = UINT64_MAX, used = 0, free = UINT64_MAX;
    for (size_t k = 0; k < s.bricks.size(); ++k, ++i) {
      cap = std::min(cap, resp.bricks[i].size.capacity);
      free = std::min(free, resp.bricks[i].size.free);
      used = std::max(used, resp.bricks[i].size.used);
    }
    if (s.type == api::SubvolType::kDisperse && s.disperse_count > 0) {
      uint64_t data = static_cast<uint64_t>(s.disperse_count - s.disperse_redundancy);
      cap *= data;
      free *= data;
      used *= data;
    }
    if (cap != UINT64_MAX) resp.size.capacity += cap;
    if (free != UINT64_MAX) resp.size.free += free;
    resp.size.used += used;
  }
  return rest::Response::Ok(resp);
}

StatusOr<rest::Response> VolumePlugin::Bricks(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, ReadVolume(services_, keys_, ctx, ctx.params["volname"]));
  return rest::Response::Ok(BrickStatuses(sv.volume, ctx));
}

StatusOr<api::Volume> VolumePlugin::CommitOptions(
    rest::RequestContext& ctx, const std::function<Status(api::Volume&)>& change) {
  std::string name = ctx.params["volname"];
  GD2_RETURN_IF_ERROR(
      VolumeExists(services_.view, *services_.store, keys_, name, ctx.min_revision));
  // Volfiles are generated on demand from the record, so the commit is the whole change; the
  // volume watch on every peer then sends FETCHSPEC to the processes using this volume.
  txn::Txn t;
  t.req_id = ctx.req_id;
  t.description = "volume options " + name;
  t.locks = {VolumeLockName(name)};
  StoredVolume sv;
  api::Volume v;
  t.plan = [&]() -> StatusOr<std::vector<txn::Step>> {
    // The change applies to the record as it is under the lock.
    GD2_ASSIGN_OR_RETURN(sv, GetVolume(*services_.store, keys_, name));
    v = sv.volume;
    GD2_RETURN_IF_ERROR(change(v));
    v.version++;
    GD2_RETURN_IF_ERROR(api::ValidateVolume(v));
    return std::vector<txn::Step>{};
  };
  t.commit = [&]() { return ToCommit(PutCommit(keys_, v, sv.mod_revision)); };
  GD2_RETURN_IF_ERROR(services_.txn->Run(std::move(t), ctx.log));
  return v;
}

StatusOr<rest::Response> VolumePlugin::SetOptions(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::VolOptionReq req, api::DecodeJson<api::VolOptionReq>(ctx.body));
  if (req.options.empty()) return InvalidArgumentError("no options given");
  using OptionMap = std::map<std::string, std::string>;
  GD2_ASSIGN_OR_RETURN(OptionMap opts, services_.options.NormalizeAll(req.options));
  for (const auto& [k, val] : opts) {
    GD2_RETURN_IF_ERROR(
        volgen::CheckOptionLevel(*services_.options.Find(k), req.allow_advanced_options,
                                 req.allow_experimental_options, req.allow_deprecated_options));
  }
  GD2_ASSIGN_OR_RETURN(api::Volume v, CommitOptions(ctx, [&](api::Volume& vol) {
                         for (const auto& [k, val] : opts) vol.options[k] = val;
                         return OkStatus();
                       }));
  for (const auto& [k, val] : opts) {
    ctx.log.Info("volume option set", {{"volume", v.name}, {"option", k}, {"value", val}});
  }
  return rest::Response::Ok(api::VolumeToJson(v));
}

StatusOr<rest::Response> VolumePlugin::ResetOptions(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(api::VolOptionResetReq req, api::DecodeJson<api::VolOptionResetReq>(ctx.body));
  if (req.options.empty() && !req.all) return InvalidArgumentError("no options given (or all)");
  std::vector<std::string> keys;
  for (const auto& k : req.options) {
    GD2_ASSIGN_OR_RETURN(std::string key, services_.options.ResolveKey(k));
    keys.push_back(key);
  }
  GD2_ASSIGN_OR_RETURN(api::Volume v, CommitOptions(ctx, [&](api::Volume& vol) {
                         if (req.all) {
                           vol.options = volgen::CreateTimeOptions(vol.type);
                         }
                         for (const auto& k : keys) {
                           auto defaults = volgen::CreateTimeOptions(vol.type);
                           if (defaults.count(k) != 0 && !req.force) {
                             vol.options[k] = defaults[k];
                           } else {
                             vol.options.erase(k);
                           }
                         }
                         return OkStatus();
                       }));
  ctx.log.Info("volume options reset", {{"volume", v.name}, {"all", req.all}});
  return rest::Response::Ok(api::VolumeToJson(v));
}

StatusOr<rest::Response> VolumePlugin::GetOptions(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, ReadVolume(services_, keys_, ctx, ctx.params["volname"]));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : services_.options.Effective(sv.volume.options)) {
    out.push_back(api::OptionInfo{o.key, o.value, o.modified, o.default_value,
                                  std::string(volgen::OptionLevelName(o.level))});
  }
  return rest::Response::Ok(std::move(out));
}

StatusOr<rest::Response> VolumePlugin::GetOption(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, ReadVolume(services_, keys_, ctx, ctx.params["volname"]));
  GD2_ASSIGN_OR_RETURN(std::string key, services_.options.ResolveKey(ctx.params["optname"]));
  for (const auto& o : services_.options.Effective(sv.volume.options)) {
    if (o.key == key) {
      return rest::Response::Ok(api::OptionInfo{o.key, o.value, o.modified, o.default_value,
                                                std::string(volgen::OptionLevelName(o.level))});
    }
  }
  return NotFoundError("option not found: " + key);
}

StatusOr<rest::Response> VolumePlugin::OptionGroups(rest::RequestContext&) {
  return rest::Response::Ok(nlohmann::json::array());
}

namespace {

// Pending heals of a local brick are the gfid links in its xattrop index (the base file
// "xattrop-<uuid>" is not an entry). The brick cannot name them without a crawl, so each is
// listed as "<gfid:GFID>", as glfsheal lists entries it cannot resolve.
void CountLocalHeals(const std::string& brick_path, api::BrickHealInfo& hi) {
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(brick_path + "/.glusterfs/indices/xattrop", ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("xattrop-", 0) == 0) continue;
    hi.total_entries++;
    if (hi.files.size() < api::BrickHealInfo::kMaxHealEntries) {
      hi.files.push_back({n, "<gfid:" + n + ">"});
    }
  }
  hi.entries_in_heal_pending = hi.total_entries;
  hi.entries = hi.total_entries;
}

Status RequireHealable(const api::Volume& v) {
  if (v.type == api::VolumeType::kDistribute) {
    return FailedPreconditionError("volume " + v.name + " is not of type replicate or disperse");
  }
  if (v.state != api::VolumeState::kStarted) {
    return FailedPreconditionError("volume is not started");
  }
  return OkStatus();
}

// The heal info of one brick: counted when it is this peer's and online (`count`).
api::BrickHealInfo BrickHeal(const api::Brick& b, bool online, bool count) {
  api::BrickHealInfo hi;
  hi.host_id = b.peer_id;
  hi.name = b.host + ":" + b.path;
  hi.status = online ? "Connected" : "Transport endpoint is not connected";
  if (online && count) CountLocalHeals(b.path, hi);
  return hi;
}

}  // namespace

StatusOr<std::vector<api::BrickHealInfo>> VolumePlugin::LocalHealInfo(
    const peer_rpc::QueryContext&, const VolumeQueryArgs& args) const {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, GetVolume(*services_.store, keys_, args.volume));
  const api::Volume& v = sv.volume;
  GD2_RETURN_IF_ERROR(RequireHealable(v));
  std::vector<api::BrickHealInfo> out;
  for (const auto& s : v.subvols) {
    for (const auto& b : s.bricks) {
      if (b.peer_id == services_.peer_id) out.push_back(BrickHeal(b, BrickOnline(v, b), true));
    }
  }
  return out;
}

StatusOr<rest::Response> VolumePlugin::HealInfo(rest::RequestContext& ctx) {
  GD2_ASSIGN_OR_RETURN(StoredVolume sv, ReadVolume(services_, keys_, ctx, ctx.params["volname"]));
  const api::Volume& v = sv.volume;
  GD2_RETURN_IF_ERROR(RequireHealable(v));
  // ?local=true: only this peer's bricks.
  bool local_only = ctx.Query("local") == "true";
  // Whether each brick is online, in the volume's order; another peer's brick only when it is
  // shown (not with ?local=true).
  std::vector<bool> online;
  for (const auto& s : v.subvols) {
    for (const auto& b : s.bricks) {
      online.push_back((!local_only || b.peer_id == services_.peer_id) && BrickOnline(v, b));
    }
  }
  // Each other peer with an online brick is asked once, for all its bricks, all at once.
  std::map<std::string, StatusOr<std::map<std::string, api::BrickHealInfo>>> remote;
  if (!local_only) {
    std::set<std::string> peers;
    size_t i = 0;
    for (const auto& s : v.subvols) {
      for (const auto& b : s.bricks) {
        if (online[i++] && b.peer_id != services_.peer_id) peers.insert(b.peer_id);
      }
    }
    auto answers =
        AskPeers({peers.begin(), peers.end()}, kHealInfoQuery, VolumeQueryArgs{v.name}, ctx.req_id);
    for (auto& [peer, r] : answers) {
      if (!r.ok()) {
        remote.emplace(peer, r.status());
        continue;
      }
      std::map<std::string, api::BrickHealInfo> by_name;
      for (auto& hi : *r) {
        std::string name = hi.name;
        by_name[name] = std::move(hi);
      }
      ctx.log.Debug("heal info from peer", {{"peer", peer}, {"bricks", by_name.size()}});
      remote.emplace(peer, std::move(by_name));
    }
  }
  nlohmann::json out = nlohmann::json::array();
  size_t i = 0;
  for (const auto& s : v.subvols) {
    for (const auto& b : s.bricks) {
      bool brick_online = online[i++];
      bool mine = b.peer_id == services_.peer_id;
      if (local_only && !mine) continue;
      api::BrickHealInfo hi = BrickHeal(b, brick_online, mine);
      if (brick_online && !mine) {
        const auto& r = remote.at(b.peer_id);
        if (!r.ok()) {
          hi.status = "heal info unavailable: " + r.status().message();
        } else if (auto it = r->find(hi.name); it != r->end()) {
          hi = it->second;
        }
      }
      out.push_back(hi);
    }
  }
  return rest::Response::Ok(std::move(out));
}

}  // namespace gd2::plugins::volume
