#include "daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "api/peer.h"
#include "brick/process_kind.h"
#include "common/files.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/poll.h"
#include "common/tls_ca.h"
#include "daemon/embedded_etcd.h"
#include "daemon/etcd_membership.h"
#include "daemon/peer_handler.h"
#include "daemon/plugin_host.h"
#include "daemon/plugins.h"
#include "peer_rpc/client.h"
#include "peer_rpc/remote_step_runner.h"
#include "peer_rpc/server.h"
#include "plugins/peer/peer_store.h"
#include "rest/server.h"
#include "store/membership.h"
#include "store/session.h"
#include "store/store.h"
#include "store/view.h"
#include "sunrpc/portmap.h"
#include "sunrpc/rpc_server.h"
#include "sunrpc/volfile_provider.h"
#include "txn/core_steps.h"

namespace gd2::daemon {

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Stop(); }

int Daemon::client_port() const { return server_ ? server_->port() : 0; }

Status Daemon::RegisterSelf() {
  api::Peer self;
  self.id = identity_.peer_id;
  self.name = config_.peer_name;
  self.peer_addresses = {config_.peer_address.ConnectHost() + ":" +
                         std::to_string(config_.peer_address.port)};
  self.client_addresses = {config_.client_address.ConnectHost() + ":" +
                           std::to_string(server_ ? server_->port() : config_.client_address.port)};
  // Keep labels set earlier (peer edit) across restarts.
  auto existing = plugins::peer::GetPeer(*store_, services_.keys, self.id);
  if (existing.ok()) self.metadata = existing->metadata;
  if (self.metadata.count(api::kZoneKey) == 0) self.metadata[api::kZoneKey] = self.id;
  GD2_RETURN_IF_ERROR(plugins::peer::PutPeer(*store_, services_.keys, self));
  return plugins::peer::PutAlive(*store_, services_.keys, self.id, ::getpid(),
                                 session_->lease_id());
}

namespace {

// A phase of Daemon::Start: its name in logs and errors, and the method that runs it.
struct StartPhase {
  const char* name;
  Status (Daemon::*run)();
};

}  // namespace

Status Daemon::Start() {
  static constexpr StartPhase kPhases[] = {
      {"dirs", &Daemon::StartDirs},        {"identity", &Daemon::StartIdentity},
      {"etcd", &Daemon::StartEtcd},        {"store", &Daemon::StartStore},
      {"rpc", &Daemon::StartRpc},          {"plugins", &Daemon::StartPlugins},
      {"peer-rpc", &Daemon::StartPeerRpc}, {"serve", &Daemon::StartServing},
  };
  for (const StartPhase& phase : kPhases) {
    auto begun = std::chrono::steady_clock::now();
    Status s = (this->*phase.run)();
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begun).count();
    if (!s.ok()) {
      log::Root().Error("start phase failed",
                        {{"phase", phase.name}, {"duration_ms", ms}, {"error", s}});
      return s.WithContext(std::string("start phase ") + phase.name);
    }
  }
  log::Root().Info("glusterd2 ready",
                   {{"client_address",
                     config_.client_address.ConnectHost() + ":" + std::to_string(server_->port())},
                    {"store", config_.embedded_etcd() ? "embedded" : "external"}});
  return OkStatus();
}

Status Daemon::StartDirs() {
  // Each client-port connection, mount and brick holds a descriptor: the usual soft limit of
  // 1024 would cap them long before the servers' own connection limits do.
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  const std::pair<const char*, const std::string&> dirs[] = {
      {"workdir", config_.workdir}, {"rundir", config_.rundir}, {"logdir", config_.logdir}};
  for (const auto& [what, dir] : dirs) {
    GD2_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    GD2_RETURN_IF_ERROR(CheckPrivateDir(what, dir));
  }
  // The daemon and every process it starts work in the rundir, so a core file or anything else
  // written relative to the working directory lands where an admin looks, not wherever the
  // daemon happened to be started from.
  if (::chdir(config_.rundir.c_str()) != 0) return ErrnoError("chdir " + config_.rundir, errno);
  GD2_ASSIGN_OR_RETURN(lock_fd_, OpenNoFollow(config_.workdir + "/glusterd2.lock", O_RDWR | O_CREAT, 0600));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return FailedPreconditionError("another glusterd2 is running with workdir " + config_.workdir);
  }
  return OkStatus();
}

Status Daemon::StartIdentity() {
  GD2_ASSIGN_OR_RETURN(identity_, LoadOrCreateIdentity(config_.workdir));
  GD2_ASSIGN_OR_RETURN(secret_, LoadOrCreateSecret(config_.workdir, config_.cluster_secret_file));
  // A peer that left a cluster as an etcd member must not start that member's data again.
  if (::access((config_.workdir + "/store.wipe").c_str(), F_OK) == 0) {
    std::error_code ec;
    std::filesystem::remove_all(config_.workdir + "/store", ec);
    ::unlink((config_.workdir + "/store.wipe").c_str());
  }
  external_store_ = !config_.etcd_endpoints.empty();
  EtcdMembership::Options mo;
  mo.workdir = config_.workdir;
  mo.own_client_url = config_.etcd_client_url;
  mo.members_key = store::KeySpace(identity_.cluster_id).EtcdMembers();
  // A peer that joined another peer's cluster uses that cluster's store.
  if (config_.etcd_endpoints.empty()) {
    auto sc = LoadStoreConfig(config_.workdir);
    if (sc.ok()) {
      membership_ = std::make_unique<EtcdMembership>(mo, *sc);
      if (!sc->etcd_member) {
        config_.etcd_endpoints = sc->etcd_endpoints;
        // The single-node store of the time before joining is never used again.
        std::error_code ec;
        std::filesystem::remove_all(config_.workdir + "/store", ec);
      }
    } else if (sc.status().code() != StatusCode::kNotFound) {
      return sc.status();
    }
  }
  log::SetRoot(log::Logger({log::Field("peer_id", identity_.peer_id)}));
  auto& log = log::Root();
  log.Info("starting glusterd2", {{"version", GD2_VERSION}, {"cluster_id", identity_.cluster_id},
                                  {"pid", ::getpid()}});
  log.Info("configuration", {{"config", config_.Describe()}});
  if (!config_.rest_auth) {
    log.Warn("ReST authentication is OFF: anyone who reaches the client address can manage the "
             "cluster; use this for development only");
  }
  return OkStatus();
}

Status Daemon::StartEtcd() {
  store::Options& so = store_options_;
  if (!external_store_) {
    // The cluster's own etcd (this peer's member or others'): TLS with the cluster CA.
    GD2_ASSIGN_OR_RETURN(EtcdTlsFiles tls,
                         PrepareEtcdTls(config_.workdir, identity_.peer_id, identity_.cluster_id,
                                        config_.etcd_client_url, config_.etcd_peer_url));
    so.ca_file = tls.ca_file;
    so.cert_file = tls.cert_file;
    so.key_file = tls.key_file;
    so.tls_server_name = tls::kStoreServerName;
  }
  std::optional<StoreConfig> joined;
  if (membership_) joined = membership_->config();
  if (!config_.embedded_etcd()) {
    so.endpoints = config_.etcd_endpoints;
    if (external_store_) {
      so.ca_file = config_.etcd_ca_file;
      so.cert_file = config_.etcd_cert_file;
      so.key_file = config_.etcd_key_file;
    }
    if (joined) so.cluster_id = joined->etcd_cluster_id;
    return OkStatus();
  }
  EmbeddedEtcdOptions eo;
  eo.name = identity_.peer_id;
  eo.data_dir = config_.workdir + "/store";
  eo.log_file = config_.logdir + "/etcd.log";
  eo.client_url = config_.etcd_client_url;
  eo.peer_url = config_.etcd_peer_url;
  eo.ca_file = so.ca_file;
  eo.cert_file = so.cert_file;
  eo.key_file = so.key_file;
  bool joining = joined && joined->etcd_member && !joined->join_initial_cluster.empty();
  if (joining) {
    // First start as a new member of the cluster joined: empty data dir, existing cluster.
    eo.initial_cluster = joined->join_initial_cluster;
    eo.initial_cluster_state = "existing";
    eo.wipe_data_dir = true;
  }
  etcd_ = std::make_unique<EmbeddedEtcd>(eo);
  GD2_RETURN_IF_ERROR(etcd_->Start(std::chrono::seconds(30)));
  so.endpoints = {config_.etcd_client_url};
  if (joined && joined->etcd_member) {
    if (joining) GD2_RETURN_IF_ERROR(membership_->CompleteJoin(so, std::chrono::seconds(60)));
    so.endpoints = membership_->config().etcd_endpoints;
  }
  if (joined) so.cluster_id = membership_->config().etcd_cluster_id;
  return OkStatus();
}

Status Daemon::StartStore() {
  GD2_ASSIGN_OR_RETURN(store_, store::Store::Connect(store_options_));
  // A member that has just started or been promoted, or a cluster that is electing a leader,
  // refuses calls for a moment ("no leader"); wait for it rather than fail the start.
  auto waited_from = std::chrono::steady_clock::now();
  Status serving;
  PollUntil(waited_from + std::chrono::seconds(60),
            {std::chrono::milliseconds(100), std::chrono::milliseconds(100)}, [&] {
              serving = store_->Get(store::KeySpace(identity_.cluster_id).EtcdMembers()).status();
              return serving.code() != StatusCode::kUnavailable &&
                     serving.code() != StatusCode::kDeadlineExceeded;
            });
  if (!serving.ok()) return serving.WithContext("etcd not serving");
  double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - waited_from).count();
  if (waited > 1) log::Root().Info("waited for etcd to serve", {{"seconds", waited}});
  if (config_.embedded_etcd()) {
    // A member whose data dates from plain http (or from another --etcd-peer-url) still
    // advertises its old peer URL; joining members would dial that.
    StatusOr<bool> moved =
        store::AdvertisePeerUrl(*store_, identity_.peer_id, config_.etcd_peer_url);
    if (!moved.ok()) {
      log::Root().Warn("cannot update this etcd member's peer URL", {{"error", moved.status()}});
    } else if (*moved) {
      log::Root().Info("etcd member peer URL updated", {{"peer_url", config_.etcd_peer_url}});
    }
  }
  if (config_.embedded_etcd() && !membership_) {
    // The peer that founded the cluster: a member from the start, with only its own etcd to
    // talk to until others join; from then on it follows the membership like everyone (so it
    // keeps working while its own member is down), written to store.toml once it changes.
    StoreConfig founder;
    founder.etcd_endpoints = {config_.etcd_client_url};
    founder.etcd_member = true;
    EtcdMembership::Options mo;
    mo.workdir = config_.workdir;
    mo.own_client_url = config_.etcd_client_url;
    mo.members_key = store::KeySpace(identity_.cluster_id).EtcdMembers();
    membership_ = std::make_unique<EtcdMembership>(mo, founder);
  }
  if (membership_) GD2_RETURN_IF_ERROR(membership_->Start(*store_));

  services_.store = store_.get();
  services_.keys = store::KeySpace(identity_.cluster_id);
  services_.peer_id = identity_.peer_id;
  services_.cluster_id = identity_.cluster_id;
  services_.peer_name = config_.peer_name;
  services_.workdir = config_.workdir;
  services_.rundir = config_.rundir;
  services_.logdir = config_.logdir;
  services_.client_host = config_.client_address.ConnectHost();
  services_.client_port = config_.client_address.port;
  services_.lease_ttl_seconds = config_.lease_ttl_seconds;

  // A predecessor of this daemon that was killed may still hold a lease with its liveness key
  // and cluster locks; revoke it so its locks do not block us until the lease expires.
  if (auto alive_key = services_.keys.Alive(identity_.peer_id); alive_key.ok()) {
    auto old = store_->Get(*alive_key);
    if (old.ok() && old->has_value() && (*old)->lease != 0) {
      Status r = store_->RevokeLease((*old)->lease);
      log::Root().Info("revoked the lease of a previous run",
                       {{"lease", (*old)->lease}, {"result", r}});
    }
  }
  store::SessionOptions sess;
  sess.ttl = std::chrono::seconds(config_.lease_ttl_seconds);
  // Liveness goes on every new lease; when etcd does not take it, the session tries again until
  // it does (until then other peers see this one offline).
  sess.on_new_lease = [this](int64_t lease) -> Status {
    GD2_RETURN_IF_ERROR(
        plugins::peer::PutAlive(*store_, services_.keys, identity_.peer_id, ::getpid(), lease));
    log::Root().Info("liveness registered", {{"lease", lease}});
    // Delivered only while the plugins serve, never to one that is stopping (PluginHost).
    if (PluginHost* host = renewals_.load()) host->OnSessionRenewed();
    return OkStatus();
  };
  session_ = std::make_unique<store::Session>(*store_, std::move(sess));
  GD2_RETURN_IF_ERROR(session_->Start());
  services_.session = session_.get();
  store::ViewOptions vo;
  vo.watch_prefix = services_.keys.Prefix();
  view_ = std::make_unique<store::View>(*store_, vo);
  services_.view = view_.get();
  return OkStatus();
}

Status Daemon::StartRpc() {
  std::string secret = secret_;
  peer_rpc::ClientOptions pco;
  pco.secret = [secret] { return secret; };
  peer_client_ = std::make_unique<peer_rpc::Client>(pco);
  store::Store* st = store_.get();
  store::View* view = view_.get();
  store::KeySpace keys = services_.keys;
  remote_steps_ = std::make_unique<peer_rpc::RemoteStepRunner>(
      *peer_client_,
      [st, view, keys](const std::string& peer_id) -> StatusOr<std::string> {
        // From the store view when it has the peer (no etcd round trip per remote step), else
        // from etcd (a peer added moments ago, a view that does not serve).
        if (auto snap = view != nullptr ? view->TryForRead(0) : nullptr) {
          auto p = plugins::peer::GetPeer(*snap, keys, peer_id);
          if (p.ok() && !p->peer_addresses.empty()) return p->peer_addresses.front();
        }
        GD2_ASSIGN_OR_RETURN(api::Peer p, plugins::peer::GetPeer(*st, keys, peer_id));
        if (p.peer_addresses.empty()) return NotFoundError("peer has no address: " + peer_id);
        return p.peer_addresses.front();
      },
      identity_.peer_id);
  engine_ = std::make_unique<txn::Engine>(*store_, *session_, services_.keys, steps_,
                                          identity_.peer_id, remote_steps_.get());
  services_.peer_client = peer_client_.get();
  services_.secret = secret_;
  services_.etcd_members = external_store_ ? 0 : config_.etcd_members;
  services_.txn = engine_.get();
  portmap_ = std::make_unique<sunrpc::PortMap>();
  volfiles_ = std::make_unique<sunrpc::VolfileRegistry>();
  rpc_ = std::make_unique<sunrpc::RpcServer>(*volfiles_, *portmap_);
  GD2_RETURN_IF_ERROR(rpc_->Start());
  // Bricks and self-heal daemons sign in and fetch their volfiles only here (brick/process_kind.h).
  GD2_RETURN_IF_ERROR(rpc_->ListenLocal(config_.rundir + "/" + brick::kVolfileSocketName));
  services_.rpc = rpc_.get();
  services_.portmap = portmap_.get();
  return OkStatus();
}

Status Daemon::StartPlugins() {
  plugins::Registrar registrar(router_, steps_, services_, *volfiles_);
  registrar.SetPlugin("core");
  AddCoreRoutes(registrar);
  plugins_ = std::make_unique<PluginHost>(AllPlugins(services_));
  renewals_ = plugins_.get();
  plugins_->Register(registrar);
  registrar.Finish();
  queries_ = registrar.queries();
  GD2_RETURN_IF_ERROR(view_->Start());
  GD2_RETURN_IF_ERROR(plugins_->Start());

  PeerHandler::EtcdSelf etcd_self{config_.etcd_client_url, config_.etcd_peer_url, !external_store_};
  peer_handler_ = std::make_unique<PeerHandler>(services_, steps_, etcd_self, [] {
    // Let the RPC reply leave first; main() restarts the daemon on SIGUSR2.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ::kill(::getpid(), SIGUSR2);
    }).detach();
  });
  // Registered here, before anything serves, as the registry is not locked.
  registrar.SetPlugin("core");
  registrar.AddStep(
      txn::kBecomeMemberStep,
      [h = peer_handler_.get()](txn::StepContext& ctx, const txn::NoArgs&) {
        return h->BecomeMember(ctx);
      },
      nullptr);
  return OkStatus();
}

Status Daemon::StartPeerRpc() {
  peer_rpc::ServerOptions pso;
  pso.host = config_.PeerListenHost();
  pso.port = config_.peer_address.port;
  pso.secret = [secret = secret_] { return secret; };
  pso.queries = &queries_;
  peer_server_ = std::make_unique<peer_rpc::Server>(pso, *peer_handler_);
  return peer_server_->Start();
}

Status Daemon::StartServing() {
  rest::ServerOptions ro;
  ro.host = config_.client_address.host.empty() ? "0.0.0.0" : config_.client_address.host;
  ro.port = config_.client_address.port;
  ro.cert_file = config_.cert_file;
  ro.key_file = config_.key_file;
  ro.auth = config_.rest_auth;
  ro.secret = secret_;
  ro.peer_id = identity_.peer_id;
  ro.cluster_id = identity_.cluster_id;
  sunrpc::RpcServer* rpc = rpc_.get();
  ro.rpc_handler = [rpc](int fd, std::string peer) { rpc->Adopt(fd, std::move(peer)); };
  // A write's answer leaves once this peer's reads see it (the watch is local: milliseconds).
  ro.await_revision = [view = view_.get()](int64_t revision) {
    view->Await(revision, std::chrono::steady_clock::now() + std::chrono::seconds(2))
        .status()
        .IgnoreError();
  };
  server_ = std::make_unique<rest::Server>(ro, router_);
  GD2_RETURN_IF_ERROR(server_->Start());

  // Undo what a crash left half done; needs the RPC service (bricks sign in through it).
  auto& log = log::Root();
  GD2_ASSIGN_OR_RETURN(int rolled_back, engine_->Recover(log));
  if (rolled_back > 0)
    log.Warn("resolved unfinished transactions at start (rolled back, or finished if committed)",
             {{"count", rolled_back}});
  GD2_RETURN_IF_ERROR(RegisterSelf());
  plugins_->OnServing();
  return OkStatus();
}

void Daemon::Stop() {
  bool any = server_ || session_ || store_ || etcd_;
  if (server_) {
    server_->Stop();
    server_.reset();
  }
  if (peer_server_) {
    peer_server_->Stop();
    peer_server_.reset();
  }
  // No session renewal reaches a plugin from here on (PluginHost::Stop).
  if (plugins_) plugins_->Stop();
  // The RPC server before the view: its workers read the view for GETSPEC answers.
  if (rpc_) {
    rpc_->Stop();
    rpc_.reset();
  }
  if (view_) {
    services_.view = nullptr;
    view_->Stop();
    view_.reset();
  }
  if (membership_) membership_->Stop();
  engine_.reset();
  remote_steps_.reset();
  peer_client_.reset();
  if (session_) {
    session_->Stop();
    session_.reset();
  }
  renewals_ = nullptr;
  plugins_.reset();
  membership_.reset();
  store_.reset();
  if (etcd_) {
    etcd_->Stop();
    etcd_.reset();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (any) log::Root().Info("glusterd2 stopped");
}

}  // namespace gd2::daemon
