#include "daemon/peer_handler.h"

#include <optional>

#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "common/tls_ca.h"
#include "common/uuid.h"
#include "daemon/embedded_etcd.h"
#include "daemon/identity.h"
#include "peer_rpc/local_step.h"
#include "plugins/peer/peer_store.h"
#include "plugins/volume/volume_api.h"
#include "store/membership.h"
#include "store/store.h"

namespace gd2::daemon {

Status PeerHandler::RunStep(const peer_rpc::StepCall& call) {
  if (!call.undo) GD2_FAILPOINT("participant.before-step:" + call.step);
  Status s = peer_rpc::RunLocalStep(steps_, call, log::Root());
  if (!call.undo) GD2_FAILPOINT("participant.after-step:" + call.step);
  return s;
}

peer_rpc::PeerIdentity PeerHandler::Identity() {
  return peer_rpc::PeerIdentity{services_.peer_id, services_.cluster_id};
}

StatusOr<peer_rpc::JoinResult> PeerHandler::Join(const peer_rpc::JoinCall& call) {
  if (!IsUuid(call.cluster_id)) return InvalidArgumentError("bad cluster id");
  if (call.cluster_id == services_.cluster_id) {
    return AlreadyExistsError("peer is already a member of this cluster");
  }
  if (call.etcd_endpoints.empty()) return InvalidArgumentError("no etcd endpoints to join");
  if (call.auth_secret.size() < 16) return InvalidArgumentError("cluster secret too short");
  std::optional<tls::CertAndKey> ca;
  if (!call.store_ca_cert.empty() || !call.store_ca_key.empty()) {
    ca = tls::CertAndKey{call.store_ca_cert, call.store_ca_key};
    GD2_RETURN_IF_ERROR(tls::CheckCa(*ca).WithContext("the cluster CA in the join grant"));
  }
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> peers,
                       services_.store->List(services_.keys.PeersPrefix()));
  if (peers.size() > 1) {
    return FailedPreconditionError("peer already belongs to a cluster with other peers");
  }
  if (const auto* volumes = services_.apis.Find<plugins::volume::VolumeApi>(); volumes != nullptr) {
    GD2_ASSIGN_OR_RETURN(std::vector<api::Volume> vols, volumes->ListVolumes());
    if (!vols.empty())
      return FailedPreconditionError("peer has volumes; it cannot join another cluster");
  }
  auto self = plugins::peer::GetPeer(*services_.store, services_.keys, services_.peer_id);
  if (!self.ok()) return self.status();

  if (!etcd_.embedded) {
    // Started with --etcd-endpoints: it stays on those, so they must hold the cluster.
    GD2_ASSIGN_OR_RETURN(store::KeySpace theirs, store::KeySpace::Create(call.cluster_id));
    GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> there,
                         services_.store->List(theirs.PeersPrefix(), 1));
    if (there.empty()) {
      return FailedPreconditionError("this peer's etcd (--etcd-endpoints) does not hold cluster " +
                                     call.cluster_id + "; start it with that cluster's etcd endpoints");
    }
  } else if (call.etcd_members == 0) {
    return FailedPreconditionError("the cluster uses external etcd: start this peer with "
                                   "--etcd-endpoints of that etcd before adding it");
  }
  // Become an etcd member while the cluster has fewer than it keeps: added as a learner now,
  // started and promoted by this daemon when it restarts on the cluster's store.
  StoreConfig sc;
  sc.etcd_endpoints = call.etcd_endpoints;
  if (etcd_.embedded) {
    // The cluster's etcd admits only certificates of its CA: one from it, in memory, for the
    // calls below; after the restart the daemon issues this node's own from the installed CA.
    if (!ca) return InvalidArgumentError("join grant carries no store CA for the embedded etcd");
    GD2_ASSIGN_OR_RETURN(
        tls::CertAndKey cert,
        tls::IssueCert(*ca, services_.peer_id, EtcdCertHosts(etcd_.client_url, etcd_.peer_url)));
    store::Options so;
    so.ca_pem = ca->cert_pem;
    so.cert_pem = cert.cert_pem;
    so.key_pem = cert.key_pem;
    so.tls_server_name = tls::kStoreServerName;
    so.endpoints = call.etcd_endpoints;
    so.cluster_id = call.etcd_cluster_id;
    so.dial_timeout = std::chrono::seconds(5);
    GD2_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> cluster, store::Store::Connect(so));
    GD2_ASSIGN_OR_RETURN(std::vector<store::Member> members, cluster->MemberList());
    GD2_ASSIGN_OR_RETURN(sc.etcd_cluster_id, cluster->ClusterId());
    int voting = 0;
    for (const auto& m : members) voting += m.is_learner ? 0 : 1;
    if (voting < call.etcd_members) {
      GD2_ASSIGN_OR_RETURN(store::JoinPlan plan,
                           store::PrepareMemberJoin(*cluster, services_.peer_id, etcd_.peer_url));
      sc.etcd_endpoints = plan.client_urls;
      sc.etcd_member = true;
      sc.join_initial_cluster = plan.initial_cluster;
      sc.join_member_id = plan.member_id;
      log::Root().Info("joining as an etcd member", {{"member_id", std::to_string(plan.member_id)}});
    }
  }
  // The cluster CA first: the node certificate is issued from it at the restart.
  if (ca) GD2_RETURN_IF_ERROR(tls::InstallCa(tls::TlsPathsIn(services_.workdir), *ca));
  if (etcd_.embedded) GD2_RETURN_IF_ERROR(SaveStoreConfig(services_.workdir, sc));
  GD2_RETURN_IF_ERROR(WriteFileAtomic(services_.workdir + "/auth", call.auth_secret, 0600));
  GD2_RETURN_IF_ERROR(SaveIdentity(services_.workdir, daemon::Identity{services_.peer_id, call.cluster_id}));
  log::Root().Info("joining cluster", {{"cluster_id", call.cluster_id}, {"initiator", call.initiator},
                                       {"req_id", call.req_id}});
  restart_();
  peer_rpc::JoinResult r;
  r.peer_id = self->id;
  r.peer_name = self->name;
  r.peer_addresses = self->peer_addresses;
  r.client_addresses = self->client_addresses;
  return r;
}

Status PeerHandler::BecomeMember(txn::StepContext& ctx) {
  if (!etcd_.embedded) {
    return FailedPreconditionError("peer uses external etcd endpoints; it cannot run a member");
  }
  auto sc = LoadStoreConfig(services_.workdir);
  // The founding peer of a cluster has no store configuration: it is a member already.
  if (!sc.ok() && sc.status().code() == StatusCode::kNotFound) return OkStatus();
  if (!sc.ok()) return sc.status();
  if (sc->etcd_member) return OkStatus();
  GD2_ASSIGN_OR_RETURN(sc->etcd_cluster_id, services_.store->ClusterId());
  GD2_ASSIGN_OR_RETURN(store::JoinPlan plan,
                       store::PrepareMemberJoin(*services_.store, services_.peer_id, etcd_.peer_url));
  uint64_t cluster_id = sc->etcd_cluster_id;
  Status saved = UpdateStoreConfig(services_.workdir, [&](StoreConfig& c) {
    c.etcd_endpoints = plan.client_urls;
    c.etcd_member = true;
    c.join_initial_cluster = plan.initial_cluster;
    c.join_member_id = plan.member_id;
    c.etcd_cluster_id = cluster_id;
    return OkStatus();
  });
  if (!saved.ok()) {
    // Without the configuration the learner would never start: take it back.
    services_.store->MemberRemove(plan.member_id).IgnoreError();
    return saved;
  }
  ctx.log.Info("becoming an etcd member", {{"member_id", std::to_string(plan.member_id)}});
  restart_();
  return OkStatus();
}

Status PeerHandler::Leave(const peer_rpc::LeaveCall& call) {
  if (call.cluster_id != services_.cluster_id) {
    return FailedPreconditionError("peer is not a member of cluster " + call.cluster_id);
  }
  // An etcd member leaves the cluster's membership first; its data is wiped at the restart.
  Status left = store::RemoveMemberNamed(*services_.store, services_.peer_id, std::chrono::seconds(8));
  log::Root().Info("left etcd membership", {{"result", left}});
  if (left.ok()) {
    // The others move off this peer's etcd address before it serves a new cluster there.
    Status published = store::PublishMembers(*services_.store, services_.keys.EtcdMembers());
    if (!published.ok()) log::Root().Warn("cannot publish the etcd members", {{"error", published}});
  }
  GD2_RETURN_IF_ERROR(WriteFileAtomic(services_.workdir + "/store.wipe", "", 0600));
  GD2_RETURN_IF_ERROR(RemoveStoreConfig(services_.workdir));
  GD2_RETURN_IF_ERROR(tls::RemoveCa(tls::TlsPathsIn(services_.workdir)));
  GD2_RETURN_IF_ERROR(WriteFileAtomic(services_.workdir + "/auth", RandomHex(32), 0600));
  GD2_RETURN_IF_ERROR(SaveIdentity(services_.workdir, daemon::Identity{services_.peer_id, NewUuid()}));
  log::Root().Info("leaving cluster", {{"cluster_id", call.cluster_id}, {"initiator", call.initiator},
                                       {"req_id", call.req_id}});
  restart_();
  return OkStatus();
}

}  // namespace gd2::daemon
