// Volumes: create/start/stop/delete volumes on stock GlusterFS bricks, volume options, status
// and heal info, and the volfiles the stock processes fetch over GETSPEC. State lives in the
// store (volumes/<name>); bricks run on the peers that host them, supervised by that peer.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "api/volume.h"
#include "api/volume_req.h"
#include "brick/runtime.h"
#include "common/thread_annotations.h"
#include "plugins/peer/peer_api.h"
#include "plugins/plugin.h"
#include "plugins/volume/step_args.h"
#include "plugins/volume/volume_store.h"
#include "store/state_publisher.h"
#include "store/store.h"
#include "sunrpc/volfile_provider.h"

namespace gd2::store {
class Watcher;
}

namespace gd2::plugins::volume {

// Whether a change of a volume record from `before` to `after` can change any of its volfiles
// (anything but the state and the change counter).
bool VolfileInputsDiffer(const api::Volume& before, const api::Volume& after);

class VolumePlugin : public Plugin {
 public:
  explicit VolumePlugin(Services& services);
  ~VolumePlugin() override;
  std::string_view Name() const override { return "volume"; }
  void Register(Registrar& r) override;
  Status Start() override;
  void OnServing() override;
  // Re-publishes brick state and re-applies the stored volumes to local processes.
  void OnSessionRenewed() override;
  void Stop() override;

 private:
  // Volfile providers (registered by kind): client, brick and self-heal daemon volfiles from the
  // stored volume. `volfile_id` has passed sunrpc::ParseVolfileId with the provider's kind.
  StatusOr<std::string> ClientVolfile(std::string_view volfile_id);
  StatusOr<std::string> BrickVolfile(std::string_view volfile_id);
  StatusOr<std::string> ShdVolfile(std::string_view volfile_id);
  // The self-heal daemon wants its pid file named in the GETSPEC reply, as glusterd sends it.
  sunrpc::Dict ShdReplyXdata(std::string_view volfile_id);
  // The stored (or, with the store unreachable, last known) record of the volume `id` names,
  // once it passed validation; kDataLoss for a record that does not.
  StatusOr<api::Volume> ServableVolume(const sunrpc::VolfileId& id, std::string_view volfile_id);

  // Steps (run on each peer that hosts bricks of the volume); the registry decoded and checked
  // their arguments (step_args.h).
  Status PrepareBricks(txn::StepContext& ctx, const BrickSetArgs& a);
  Status UnprepareBricks(txn::StepContext& ctx, const BrickSetArgs& a);
  Status StartBricks(txn::StepContext& ctx, const VolumeArgs& a);
  Status StopBricks(txn::StepContext& ctx, const VolumeArgs& a);
  // A finish step of the delete (run once it committed, under its locks) and the pending work
  // of a peer that was offline: CleanDeletedBricks.
  Status DeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a);
  // Undo actions: each first checks in the store that the transaction it undoes did not commit
  // (a record claiming otherwise is refused as bad arguments and quarantined).
  Status UndoStartBricks(txn::StepContext& ctx, const VolumeArgs& a);
  Status UndoStopBricks(txn::StepContext& ctx, const VolumeArgs& a);
  Status UndoDeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a);
  // Removes what PrepareBrick set on roots carrying a.volume_id, and the volume's workdir
  // directory unless `keep_workdir`.
  Status UnprepareLocal(txn::StepContext& ctx, const BrickSetArgs& a, bool keep_workdir);
  // Stops this peer's processes of the bricks in `a` and unprepares them. `name_in_use`: a volume
  // of a.volume's name exists again (created since the delete): its self-heal daemon, its cached
  // record and its work directory stay.
  Status DeleteLocalBricks(txn::StepContext& ctx, const BrickSetArgs& a, bool name_in_use = false);
  // The cleanup of a deleted volume's bricks on this peer; the caller holds the volume's lock.
  // Checks in the store first: a volume of a.volume_id that is still there makes the arguments
  // bad (a damaged or forged record: txn::BadArgumentsError, nothing touched). Then only the
  // bricks whose root still carries a.volume_id (or cannot be read) are stopped and cleaned:
  // paths a stored volume uses now, roots cleaned by an earlier try (which a new volume may take
  // at any moment) and roots of another volume are left alone, processes included. Creates need
  // not wait for it: PrepareBrick refuses a root that still carries the old id. Idempotent.
  Status CleanDeletedBricks(txn::StepContext& ctx, const BrickSetArgs& deleted);
  // `a` without the paths that lie at, inside or above this peer's bricks of stored volumes, and
  // whether a stored volume is named a.volume (created since), from one listing of the volumes.
  // BadArgumentsError (naming `step`) if a stored volume has a.volume_id, by any name: the undo of
  // a create and the cleanup of a delete act on roots carrying that id, so a damaged or forged
  // record claiming a live volume's id is refused before anything is touched.
  struct FreeBricks {
    BrickSetArgs args;
    bool name_in_use = false;
  };
  StatusOr<FreeBricks> WithoutLivePaths(std::string_view step, BrickSetArgs a) const;
  // Runs pending/ work for this peer under the volume's lock (see Reconcile). The record is
  // deleted once the work is done (or set aside if it is bad); false if it stays for another
  // try (the volume was busy, or the cleanup failed).
  bool RunPendingWork(const store::KeyValue& kv);
  // One stored volume applied to this peer's processes, under the volume's lock; false if that
  // could not be done and a later pass may do better (the volume was busy, etcd did not answer,
  // a brick process exited at start; not a brick that did not sign in within the start timeout,
  // whose retries would hold the volume's lock that long each time).
  bool ReconcileVolume(const std::string& name);

  // Handlers.
  StatusOr<rest::Response> Create(rest::RequestContext& ctx);
  StatusOr<rest::Response> List(rest::RequestContext& ctx);
  StatusOr<rest::Response> Info(rest::RequestContext& ctx);
  StatusOr<rest::Response> Delete(rest::RequestContext& ctx);
  StatusOr<rest::Response> StartVolume(rest::RequestContext& ctx);
  StatusOr<rest::Response> StopVolume(rest::RequestContext& ctx);
  StatusOr<rest::Response> VolumeStatus(rest::RequestContext& ctx);
  StatusOr<rest::Response> Bricks(rest::RequestContext& ctx);
  StatusOr<rest::Response> SetOptions(rest::RequestContext& ctx);
  StatusOr<rest::Response> GetOptions(rest::RequestContext& ctx);
  StatusOr<rest::Response> GetOption(rest::RequestContext& ctx);
  StatusOr<rest::Response> ResetOptions(rest::RequestContext& ctx);
  // GET /v1/volumes/options-group: the option groups, of which none are defined yet.
  StatusOr<rest::Response> OptionGroups(rest::RequestContext& ctx);
  // Every brick's pending heals: this peer's counted here, other peers' asked of them over
  // the peer RPC (?local=true answers only for this peer's bricks).
  StatusOr<rest::Response> HealInfo(rest::RequestContext& ctx);
  // The heal info query: this peer's online bricks of args.volume. kNotFound for an unknown
  // volume, kFailedPrecondition when it is not started or not replicate/disperse.
  StatusOr<std::vector<api::BrickHealInfo>> LocalHealInfo(const peer_rpc::QueryContext& ctx,
                                                          const VolumeQueryArgs& args) const;
  // Asks `peer_id` (at its first peer address) the query, within kPeerQueryTimeout.
  template <typename Args, typename Result>
  StatusOr<Result> AskPeer(const std::string& peer_id, peer_rpc::QueryId<Args, Result> query,
                           const Args& args, const std::string& req_id) const;
  // AskPeer for each of `peer_ids`, at most kMaxPeersAskedAtOnce at a time; by peer id.
  template <typename Args, typename Result>
  std::map<std::string, StatusOr<Result>> AskPeers(const std::vector<std::string>& peer_ids,
                                                   peer_rpc::QueryId<Args, Result> query,
                                                   const Args& args,
                                                   const std::string& req_id) const;

  // Starts (or adopts) this peer's bricks and self-heal daemon of `v`, waiting for them until
  // `deadline` and at most the brick start timeout.
  Status StartLocalBricks(
      const api::Volume& v, const log::Logger& log,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
      std::stop_token cancel = {});
  // Stops them, waiting until `deadline` and at most the brick stop timeout.
  Status StopLocalBricks(const api::Volume& v, const log::Logger& log,
                         std::chrono::steady_clock::time_point deadline =
                             std::chrono::steady_clock::time_point::max());
  // This peer's bricks of `v` as a brick group of the runtime (self-heal daemon if v has one).
  brick::BrickGroup LocalGroup(const api::Volume& v) const;
  void PublishBrickState(const std::string& brick_path, bool running, pid_t pid, int port);
  // Brings local processes in line with the stored volumes (after a daemon restart) and runs
  // this peer's pending work; false if any of it is left for another pass.
  bool Reconcile();
  // Every brick's status. This peer's bricks are measured here; another peer's come from that
  // peer itself over the peer RPC (every such peer asked at once; one that does not answer in
  // time is shown with the state it published, online, pid and port, and a warning is logged).
  std::vector<api::BrickStatus> BrickStatuses(const api::Volume& v,
                                              const rest::RequestContext& ctx) const;
  api::BrickStatus LocalBrickStatus(const api::Volume& v, const api::Brick& b) const;
  // Whether a brick runs: this peer's from its process, another peer's from the state that
  // peer published (no call to it).
  bool BrickOnline(const api::Volume& v, const api::Brick& b) const;
  api::BrickStatus PublishedBrickStatus(const api::Volume& v, const api::Brick& b) const;
  // The brick status query: this peer's bricks of args.volume, measured here.
  StatusOr<std::vector<api::BrickStatus>> LocalBrickStatuses(const peer_rpc::QueryContext& ctx,
                                                             const VolumeQueryArgs& args) const;
  // Changes the stored options through a transaction and notifies volfile users.
  // The volume is the request's "volname".
  StatusOr<api::Volume> CommitOptions(rest::RequestContext& ctx,
                                      const std::function<Status(api::Volume&)>& change);

  Services& services_;
  const VolumeKeys keys_;
  StoredVolumes volumes_;                 // offered to other plugins as VolumeApi
  const peer::PeerApi* peers_ = nullptr;  // the peer plugin's, from Start()
  sunrpc::VolfileFunctions client_volfiles_;
  sunrpc::VolfileFunctions brick_volfiles_;
  sunrpc::VolfileFunctions shd_volfiles_;
  // This peer's brick and self-heal processes; made in the constructor, so GETSPEC (served from
  // Register() on) and the steps always find it.
  std::unique_ptr<brick::BrickRuntime> runtime_;
  std::unique_ptr<store::Watcher> watcher_;
  // Brick process state for other peers (brickstate keys), written in the background so that a
  // brick start or stop never waits on etcd for it. Set in Start().
  std::unique_ptr<store::StatePublisher> brick_states_;
  // The reconcile worker: runs Reconcile() at OnServing and again whenever asked, and after a
  // pass that left work undone, again after a backoff (5 s doubling to 60 s).
  void ReconcileLoop();
  std::thread reconcile_;
  Mutex reconcile_mu_;
  CondVar reconcile_cv_;
  bool reconcile_wanted_ GD2_GUARDED_BY(reconcile_mu_) = false;
  bool reconcile_stopping_ GD2_GUARDED_BY(reconcile_mu_) = false;
  // Brick paths a cleanup of a deleted volume works on now (CleanDeletedBricks): two cleanups of
  // one brick (a stalled initiator's finish step and a takeover's) take turns, and the second
  // looks at the root after the first is done with it.
  Mutex cleaning_mu_;
  CondVar cleaning_cv_;
  std::set<std::string> cleaning_ GD2_GUARDED_BY(cleaning_mu_);
  mutable Mutex mu_;
  // The last volumes read, for GETSPEC.
  std::map<std::string, api::Volume> cache_ GD2_GUARDED_BY(mu_);
  // What the volume watch delivered, for the GETSPEC reads (ServableVolume).
  DeliveredRevisions delivered_;
  // The last record of each volume the watch delivered; used by the watch's callbacks only.
  std::map<std::string, api::Volume> watched_;
};

}  // namespace gd2::plugins::volume
