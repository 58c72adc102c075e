#include "plugins/volume/plugin.h"

#include <limits>
#include <set>

#include "common/log.h"
#include "common/volfile_text.h"
#include "plugins/volume/options.h"
#include "plugins/volume/volume_store.h"
#include "store/lock.h"
#include "store/session.h"
#include "store/watcher.h"
#include "sunrpc/portmap.h"
#include "sunrpc/rpc_server.h"
#include "sunrpc/volfile_id.h"
#include "txn/quarantine.h"
#include "volgen/options.h"
#include "volgen/volgen.h"

namespace gd2::plugins::volume {

VolumePlugin::VolumePlugin(Services& services)
    : services_(services),
      keys_(services.keys),
      volumes_(*services.store, keys_),
      client_volfiles_(
          [this](std::string_view id, const sunrpc::Dict&) { return ClientVolfile(id); }),
      brick_volfiles_(
          [this](std::string_view id, const sunrpc::Dict&) { return BrickVolfile(id); }),
      shd_volfiles_([this](std::string_view id, const sunrpc::Dict&) { return ShdVolfile(id); },
                    [this](std::string_view id) { return ShdReplyXdata(id); }) {
  brick::BrickRuntimeOptions o;
  o.run_dir = services_.rundir;
  o.log_dir = services_.logdir;
  o.peer_id = services_.peer_id;
  o.volfile_server_host = services_.client_host;
  o.volfile_server_port = services_.client_port;
  o.portmap = services_.portmap;
  o.ports.random_start = true;
  o.on_brick_state = [this](const brick::BrickEvent& e) {
    PublishBrickState(e.brick_path, e.running(), e.pid, e.port);
  };
  runtime_ = std::make_unique<brick::BrickRuntime>(std::move(o));
}

VolumePlugin::~VolumePlugin() { Stop(); }

void VolumePlugin::Register(Registrar& r) {
  r.AddKeyKind(kVolumesKind);
  r.AddKeyKind(kBrickStateKind);
  r.AddKeyKind(kPendingKind);
  for (volgen::OptionDef& def : VolumeOptionDefs()) r.AddOption(std::move(def));
  r.ProvideApi<VolumeApi>(volumes_);

  auto step = [this]<typename Args>(Status (VolumePlugin::*fn)(txn::StepContext&, const Args&)) {
    return txn::StepAction<Args>(
        [this, fn](txn::StepContext& ctx, const Args& a) { return (this->*fn)(ctx, a); });
  };
  // Arguments come from the store or another peer: no brick inside this daemon's workdir.
  auto bricks_ok = [this](const BrickSetArgs& a) {
    return CheckBrickSetArgs(a, services_.workdir);
  };
  auto volume_ok = [this](const VolumeArgs& a) { return CheckVolumeArgs(a, services_.workdir); };
  r.AddStep(kPrepareBricks, step(&VolumePlugin::PrepareBricks),
            step(&VolumePlugin::UnprepareBricks), bricks_ok);
  r.AddStep(kStartBricks, step(&VolumePlugin::StartBricks), step(&VolumePlugin::UndoStartBricks),
            volume_ok);
  r.AddStep(kStopBricks, step(&VolumePlugin::StopBricks), step(&VolumePlugin::UndoStopBricks),
            volume_ok);
  r.AddStep(kDeleteBricks, step(&VolumePlugin::DeleteBricks), step(&VolumePlugin::UndoDeleteBricks),
            bricks_ok);
  // Each runs under its volume's lock, also when a record is rolled back or finished.
  auto bricks_lock = [](const BrickSetArgs& a) {
    return std::vector<std::string>{VolumeLockName(a.volume)};
  };
  auto volume_lock = [](const VolumeArgs& a) {
    return std::vector<std::string>{VolumeLockName(a.volume.name)};
  };
  r.RequireLocks(kPrepareBricks, bricks_lock);
  r.RequireLocks(kDeleteBricks, bricks_lock);
  r.RequireLocks(kStartBricks, volume_lock);
  r.RequireLocks(kStopBricks, volume_lock);
  // The cleanup of a delete runs once it committed. Its undo stays for the records of deletes
  // that cleaned before their commit.
  r.AllowAsFinishStep(kDeleteBricks);

  r.AddVolfileProvider({sunrpc::VolfileKind::kClient, ""}, client_volfiles_);
  r.AddVolfileProvider({sunrpc::VolfileKind::kBrick, ""}, brick_volfiles_);
  r.AddVolfileProvider(sunrpc::VolfileProviderKey::Daemon("shd"), shd_volfiles_);

  // GETs read the store view when it reflects the request's revision, etcd otherwise.
  if (services_.view != nullptr) GD2_CHECK(KeepVolumes(*services_.view, keys_).ok());
  using rest::Method;
  auto h = [this](StatusOr<rest::Response> (VolumePlugin::*fn)(rest::RequestContext&)) {
    return [this, fn](rest::RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  r.AddRoute({"VolumeCreate", Method::kPost, "/v1/volumes", h(&VolumePlugin::Create),
              "create a volume from bricks", "VolCreateReq", "VolumeInfo"});
  r.AddRoute({"VolumeList", Method::kGet, "/v1/volumes", h(&VolumePlugin::List),
              "list volumes (?key=K&value=V filters on metadata)", "", "[VolumeInfo]"});
  rest::Route info{"VolumeInfo",
                   Method::kGet,
                   "/v1/volumes/{volname}",
                   h(&VolumePlugin::Info),
                   "show one volume",
                   "",
                   "VolumeInfo"};
  info.nonblocking = true;  // from the view on the I/O thread, or deferred (ReadVolume)
  r.AddRoute(std::move(info));
  r.AddRoute({"VolumeDelete", Method::kDelete, "/v1/volumes/{volname}", h(&VolumePlugin::Delete),
              "delete a stopped volume", "", ""});
  r.AddRoute({"VolumeStart", Method::kPost, "/v1/volumes/{volname}/start",
              h(&VolumePlugin::StartVolume), "start the bricks of a volume", "VolStartReq",
              "VolumeInfo"});
  r.AddRoute({"VolumeStop", Method::kPost, "/v1/volumes/{volname}/stop", h(&VolumePlugin::StopVolume),
              "stop the bricks of a volume", "VolStopReq", "VolumeInfo"});
  r.AddRoute({"VolumeStatus", Method::kGet, "/v1/volumes/{volname}/status",
              h(&VolumePlugin::VolumeStatus), "volume and brick status", "", "VolumeStatusResp"});
  r.AddRoute({"VolumeBricksStatus", Method::kGet, "/v1/volumes/{volname}/bricks",
              h(&VolumePlugin::Bricks), "brick status", "", "[BrickStatus]"});
  r.AddRoute({"VolumeOptions", Method::kPost, "/v1/volumes/{volname}/options",
              h(&VolumePlugin::SetOptions), "set volume options", "VolOptionReq", "VolumeInfo"});
  r.AddRoute({"VolumeOptionsGet", Method::kGet, "/v1/volumes/{volname}/options",
              h(&VolumePlugin::GetOptions), "all volume options with values and defaults", "",
              "[OptionInfo]"});
  // An option name may contain '/' ("cluster/replicate.eager-lock").
  r.AddRoute({"VolumeOptionGet", Method::kGet, "/v1/volumes/{volname}/options/{optname...}",
              h(&VolumePlugin::GetOption), "one volume option", "", "OptionInfo"});
  r.AddRoute({"OptionGroupList", Method::kGet, "/v1/volumes/options-group",
              h(&VolumePlugin::OptionGroups), "option groups (none are defined)", "",
              "[OptionGroup]"});
  r.AddRoute({"VolumeOptionsReset", Method::kDelete, "/v1/volumes/{volname}/options",
              h(&VolumePlugin::ResetOptions), "reset volume options to their defaults",
              "VolOptionResetReq", "VolumeInfo"});
  r.AddRoute({"VolumeHealInfo", Method::kGet, "/v1/volumes/{volname}/heal-info",
              h(&VolumePlugin::HealInfo), "entries pending heal per brick", "", "[BrickHealInfo]"});
  r.ServeQuery<VolumeQueryArgs, std::vector<api::BrickHealInfo>>(
      kHealInfoQuery, [this](const peer_rpc::QueryContext& c, const VolumeQueryArgs& a) {
        return LocalHealInfo(c, a);
      });
  r.ServeQuery<VolumeQueryArgs, std::vector<api::BrickStatus>>(
      kBrickStatusQuery, [this](const peer_rpc::QueryContext& c, const VolumeQueryArgs& a) {
        return LocalBrickStatuses(c, a);
      });
}

Status VolumePlugin::Start() {
  peers_ = services_.apis.Find<peer::PeerApi>();
  if (peers_ == nullptr) return FailedPreconditionError("the volume plugin needs the peer plugin");
  if (!brick_states_) {
    store::Session* session = services_.session;
    brick_states_ = std::make_unique<store::StatePublisher>(
        *services_.store, [session] { return session != nullptr ? session->lease_id() : 0; });
  }

  // Every peer tells its own volfile clients when a volume record changes. From just after the
  // store view's revision: a change the view has not applied is then always delivered here, so
  // a process that fetched its volfile from the view before it (at start-up, when no change was
  // delivered yet) is still told to fetch again.
  watcher_ = std::make_unique<store::Watcher>(*services_.store);
  std::string prefix = keys_.VolumesPrefix();
  sunrpc::RpcServer* rpc = services_.rpc;
  int64_t viewed = services_.view != nullptr ? services_.view->revision() : 0;
  // Changes etcd compacted before they were delivered (this peer cut off or down for longer
  // than etcd keeps history): reads for volfiles reflect at least the revision the watch goes
  // on from (etcd until the store view has it), every volfile client fetches again, the
  // fallback copies go (deleted volumes among them), and this peer's bricks are reconciled
  // with the volumes as they are now.
  watcher_->OnGap([this, rpc](int64_t compact_revision) {
    delivered_.RaiseFloor(compact_revision);
    watched_.clear();
    {
      MutexLock lock(mu_);
      cache_.clear();
    }
    size_t n = rpc->NotifyAll();
    log::Root().Warn("volume changes lost from etcd's history; volfile clients told to fetch again",
                     {{"connections", n}});
    MutexLock lock(reconcile_mu_);
    reconcile_wanted_ = true;
    reconcile_cv_.NotifyAll();
  });
  return watcher_->Watch(
      prefix, viewed > 0 ? viewed + 1 : 0,
      [this, prefix, rpc](const std::vector<store::WatchEvent>& events) {
        for (const auto& e : events) {
          if (e.kv.key.size() <= prefix.size()) continue;
          std::string name = e.kv.key.substr(prefix.size());
          bool volfiles_may_change = true;
          // Before FETCHSPEC goes out below: the fetches it causes read at least this change.
          delivered_.Delivered(name, e.kv.mod_revision, e.type == store::WatchEvent::Type::kDelete);
          if (e.type == store::WatchEvent::Type::kPut) {
            auto v = api::ParseVolume(e.kv.value);
            if (v.ok()) {
              {
                MutexLock lock(mu_);
                cache_[name] = *v;
              }
              // A change of state only (start, stop) changes no volfile: processes that fetched
              // one are not told to fetch it again, as glusterd does not tell them.
              auto seen = watched_.find(name);
              volfiles_may_change = seen == watched_.end() || VolfileInputsDiffer(seen->second, *v);
              watched_[name] = *v;
            }
          } else {
            MutexLock lock(mu_);
            cache_.erase(name);
            watched_.erase(name);
          }
          if (!volfiles_may_change) continue;
          size_t n = rpc->NotifyVolfileChanged(name);
          if (n > 0)
            log::Root().Info("volfile change sent", {{"volume", name}, {"connections", n}});
        }
        // Without a view, reads go to etcd and need no revision.
        store::View* view = services_.view;
        delivered_.ForgetDeletedUpTo(view != nullptr ? view->revision()
                                                     : std::numeric_limits<int64_t>::max());
      },
      [](const Status& err) {
        log::Root().Error("volume watch ended", {{"error", err}});
      });
}

bool VolfileInputsDiffer(const api::Volume& before, const api::Volume& after) {
  // Everything in the record but its state and its change counter goes into some volfile.
  api::Volume a = before;
  a.state = after.state;
  a.version = after.version;
  return !(a == after);
}

void VolumePlugin::PublishBrickState(const std::string& brick_path, bool running, pid_t pid,
                                     int port) {
  // Other peers answer volume status for this peer's bricks from these keys; they vanish with
  // the session lease when this daemon dies.
  auto key = keys_.BrickState(services_.peer_id, brick_path);
  if (!key.ok() || !brick_states_) return;
  if (running) {
    brick_states_->Put(*key, nlohmann::json{{"pid", pid}, {"port", port}}.dump());
  } else {
    brick_states_->Delete(*key);
  }
}

void VolumePlugin::OnServing() {
  {
    MutexLock lock(reconcile_mu_);
    reconcile_wanted_ = true;
  }
  reconcile_ = std::thread([this] { ReconcileLoop(); });
}

void VolumePlugin::OnSessionRenewed() {
  MutexLock lock(reconcile_mu_);
  reconcile_wanted_ = true;
  reconcile_cv_.NotifyAll();
}

void VolumePlugin::ReconcileLoop() {
  constexpr auto kFirstRetry = std::chrono::seconds(5);
  constexpr auto kMaxRetry = std::chrono::seconds(60);
  std::chrono::seconds retry = kFirstRetry;
  bool again = false;  // the last pass left work undone
  while (true) {
    {
      MutexLock lock(reconcile_mu_);
      auto until = std::chrono::steady_clock::now() + retry;
      while (!reconcile_wanted_ && !reconcile_stopping_) {
        if (!again) {
          reconcile_cv_.Wait(reconcile_mu_);
        } else if (!reconcile_cv_.WaitUntil(reconcile_mu_, until)) {
          break;  // time for another pass
        }
      }
      if (reconcile_stopping_) return;
      reconcile_wanted_ = false;
    }
    bool done = Reconcile();
    // Brick state keys died with the old lease: publish them again.
    for (const auto& path : runtime_->Bricks()) {
      brick::ProcessState st = runtime_->BrickState(path);
      if (st.running) PublishBrickState(path, true, st.pid, st.port);
    }
    if (done) {
      again = false;
      retry = kFirstRetry;
    } else {
      if (again) retry = std::min(retry * 2, std::chrono::seconds(kMaxRetry));
      again = true;
      log::Root().Warn("reconcile left work undone; trying again",
                       {{"retry_in_s", static_cast<int64_t>(retry.count())}});
    }
  }
}

bool VolumePlugin::Reconcile() {
  bool done = true;
  // Work left for this peer while it was offline (bricks of volumes deleted meanwhile).
  if (auto prefix = keys_.PendingPrefix(services_.peer_id); prefix.ok()) {
    auto pending = services_.store->List(*prefix);
    if (!pending.ok()) {
      log::Root().Error("cannot list pending work", {{"error", pending.status()}});
      done = false;
    }
    for (const auto& kv : pending.ok() ? *pending : std::vector<store::KeyValue>{}) {
      done = RunPendingWork(kv) && done;
    }
  }
  auto kvs = services_.store->List(keys_.VolumesPrefix());
  if (!kvs.ok()) {
    log::Root().Error("cannot reconcile bricks", {{"error", kvs.status()}});
    return false;
  }
  const std::string prefix = keys_.VolumesPrefix();
  for (const auto& kv : *kvs) done = ReconcileVolume(kv.key.substr(prefix.size())) && done;
  return done;
}

namespace {

// The volume's cluster lock, so that what is read is still true while this peer acts on it.
StatusOr<store::LockGuard> VolumeLock(Services& services, const std::string& volume) {
  return store::Lock::Acquire(*services.store, *services.session, services.keys, VolumeLockName(volume),
                              std::chrono::seconds(5));
}

}  // namespace

bool VolumePlugin::RunPendingWork(const store::KeyValue& kv) {
  auto work = DecodePendingWork(kv.value, services_.workdir);
  if (!work.ok()) {
    // Damaged or forged: set aside, never acted on, never read again.
    auto q = txn::Quarantine(*services_.store, services_.keys, kv, "pending", work.status(), log::Root());
    if (!q.ok()) log::Root().Error("cannot quarantine a bad pending record", {{"key", kv.key}, {"error", q.status()}});
    return q.ok();
  }
  BrickSetArgs a = work->args;
  auto guard = VolumeLock(services_, a.volume);
  if (!guard.ok()) {
    log::Root().Warn("pending work postponed: volume busy", {{"key", kv.key}, {"error", guard.status()}});
    return false;
  }
  txn::StepContext ctx;
  ctx.log = log::Root().With({{"key", kv.key}});
  Status result = CleanDeletedBricks(ctx, a);
  if (txn::IsBadArguments(result)) {
    // The volume it claims was deleted is in the store: not a delete's leftover.
    guard->ReleaseOrHandOver();
    auto q = txn::Quarantine(*services_.store, services_.keys, kv, "pending", result, log::Root());
    if (!q.ok()) log::Root().Error("cannot quarantine a bad pending record", {{"key", kv.key}, {"error", q.status()}});
    return q.ok();
  }
  // The record goes once its work is done; a cleanup that failed is tried again on the next
  // pass (a brick that outlived SIGKILL, a removal the filesystem refused).
  bool done = false;
  if (result.ok()) {
    auto t = services_.store->Txn({store::Compare::ModRevisionEquals(kv.key, kv.mod_revision)},
                                  {store::Op::Delete(kv.key)}, {});
    if (!t.ok()) ctx.log.Warn("cannot delete pending record", {{"error", t.status()}});
    done = t.ok();
  }
  guard->ReleaseOrHandOver();
  if (result.ok()) {
    log::Root().Info("deferred brick cleanup done", {{"key", kv.key}, {"volume", a.volume}});
  } else {
    log::Root().Warn("deferred brick cleanup failed; trying again later",
                     {{"key", kv.key}, {"volume", a.volume}, {"error", result}});
  }
  return done;
}

bool VolumePlugin::ReconcileVolume(const std::string& name) {
  if (!api::ValidateVolumeName(name).ok()) {
    log::Root().Error("volume record with an invalid name skipped", {{"volume", name.substr(0, 64)}});
    return true;  // nothing a later pass could do better
  }
  auto guard = VolumeLock(services_, name);
  if (!guard.ok()) {
    // A transaction holds it (and brings the processes to the state it commits), or etcd did
    // not answer: looked at again on the next pass.
    log::Root().Warn("volume busy, not reconciled", {{"volume", name}, {"error", guard.status()}});
    return false;
  }
  auto stored = GetVolume(*services_.store, keys_, name);
  Status s;
  bool not_for_a_retry = false;
  if (!stored.ok()) {
    if (stored.status().code() != StatusCode::kNotFound) s = stored.status();
  } else {
    // A stored record is input too: only a valid one reaches processes.
    auto v = DecodeVolumeArgs("reconcile", EncodeVolumeArgs(stored->volume), services_.workdir);
    if (!v.ok() || v->name != name) {
      s = v.ok() ? InvalidArgumentError("volume record name differs from its key") : v.status();
      not_for_a_retry = true;  // a later pass reads the same record
    } else {
      {
        MutexLock lock(mu_);
        cache_[v->name] = *v;
      }
      bool start = v->state == api::VolumeState::kStarted;
      s = start ? StartLocalBricks(*v, log::Root()) : StopLocalBricks(*v, log::Root());
      // A brick that did not sign in within the start timeout (30 s) is not tried again by the
      // timer: each try would hold the volume's lock that long, and the admin's own operations
      // on the volume would find it busy. A renewed session, or `volume start --force`, does.
      if (start && s.code() == StatusCode::kDeadlineExceeded) not_for_a_retry = true;
    }
  }
  guard->ReleaseOrHandOver();
  if (!s.ok()) log::Root().Error("brick reconcile failed", {{"volume", name}, {"error", s}});
  return s.ok() || not_for_a_retry;
}

void VolumePlugin::Stop() {
  {
    MutexLock lock(reconcile_mu_);
    reconcile_stopping_ = true;
    reconcile_cv_.NotifyAll();
  }
  if (reconcile_.joinable()) reconcile_.join();
  if (watcher_) {
    watcher_->Stop();
    watcher_.reset();
  }
  // Bricks outlive the daemon: only stop watching them.
  runtime_->Shutdown();
  // What the bricks last reported still goes out (it dies with the lease anyway).
  if (brick_states_) brick_states_->Stop();
}

namespace {

// The checks a volume record passes before volfiles are built from it: the API's own
// (names, paths, hosts, tokens, layout), typed option values, and the record's name matching the
// volume the volfile id asked for.
Status CheckServableVolume(const volgen::OptionTable& options, const api::Volume& v,
                           const std::string& requested) {
  GD2_RETURN_IF_ERROR(api::ValidateVolume(v));
  if (v.name != requested) {
    return InvalidArgumentError("record of volume " + requested + " names volume " + v.name);
  }
  return options.NormalizeAll(v.options).status();
}

}  // namespace

sunrpc::Dict VolumePlugin::ShdReplyXdata(std::string_view volfile_id) {
  sunrpc::Dict d;
  auto id = sunrpc::ParseVolfileId(volfile_id);
  if (!id.ok()) return d;
  d.SetString("pidfile", runtime_->ShdPidFile(id->volume));
  return d;
}

StatusOr<api::Volume> VolumePlugin::ServableVolume(const sunrpc::VolfileId& id,
                                                   std::string_view volfile_id) {
  api::Volume v;
  // From the store view when it has applied every change this peer's volume watch has
  // delivered for the volume: the watch tells the volume's processes to fetch again after each
  // change (above), so what they fetch then is never older than that change. Otherwise, and for
  // a volume the view does not have yet, from etcd.
  auto stored = ReadVolumeAtLeast(services_.view, *services_.store, keys_, id.volume,
                                  delivered_.For(id.volume));
  if (stored.ok()) {
    v = stored->volume;
    MutexLock lock(mu_);
    cache_[v.name] = v;
  } else if (stored.status().code() == StatusCode::kNotFound) {
    return stored.status();
  } else {
    // Store unreachable: a restarting brick still gets the last known volfile.
    MutexLock lock(mu_);
    auto it = cache_.find(id.volume);
    if (it == cache_.end()) return UnavailableError("store unreachable and volume not cached");
    v = it->second;
  }
  // A stored record is input like a request: one that fails validation (damaged, or written to
  // the store by something other than this daemon) is never turned into volfile text.
  if (Status bad = CheckServableVolume(services_.options, v, id.volume); !bad.ok()) {
    auto key = keys_.Volume(id.volume);
    log::Root().Error("volume record refused, volfile not served",
                      {{"key", key.ok() ? *key : id.volume},
                       {"volfile_id", PrintableText(volfile_id)},
                       {"error", bad}});
    return Status(StatusCode::kDataLoss, "volume record fails validation: " + bad.message());
  }
  return v;
}

StatusOr<std::string> VolumePlugin::ClientVolfile(std::string_view volfile_id) {
  GD2_ASSIGN_OR_RETURN(sunrpc::VolfileId id, sunrpc::ParseVolfileId(volfile_id));
  GD2_ASSIGN_OR_RETURN(api::Volume v, ServableVolume(id, volfile_id));
  volgen::ClientContext cc;
  cc.trusted = false;
  return volgen::FuseVolfile(services_.options, v, cc);
}

StatusOr<std::string> VolumePlugin::BrickVolfile(std::string_view volfile_id) {
  GD2_ASSIGN_OR_RETURN(sunrpc::VolfileId id, sunrpc::ParseVolfileId(volfile_id));
  GD2_ASSIGN_OR_RETURN(api::Volume v, ServableVolume(id, volfile_id));
  std::string_view wanted = volfile_id.substr(volfile_id.front() == '/' ? 1 : 0);
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (volgen::BrickVolfileId(v.name, b.host, b.path) == wanted) {
        volgen::BrickContext bc;
        bc.workdir = services_.workdir;
        return volgen::BrickVolfile(services_.options, v, b, bc);
      }
    }
  }
  return NotFoundError("no such brick volfile: " + std::string(volfile_id));
}

StatusOr<std::string> VolumePlugin::ShdVolfile(std::string_view volfile_id) {
  GD2_ASSIGN_OR_RETURN(sunrpc::VolfileId id, sunrpc::ParseVolfileId(volfile_id));
  GD2_ASSIGN_OR_RETURN(api::Volume v, ServableVolume(id, volfile_id));
  return volgen::ShdVolfile(services_.options, v, volgen::ShdContext{});
}

}  // namespace gd2::plugins::volume
