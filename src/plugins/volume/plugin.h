// Volumes: create/start/stop/delete volumes on stock GlusterFS bricks, volume options, status
// and heal info, and the volfiles the stock processes fetch over GETSPEC. State lives in the
// store (volumes/<name>); bricks run on the peers that host them, supervised by that peer.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/volume.h"
#include "api/volume_req.h"
#include "brick/port_allocator.h"
#include "brick/supervisor.h"
#include "plugins/plugin.h"
#include "plugins/volume/step_args.h"
#include "store/store.h"
#include "sunrpc/volfile_provider.h"

namespace gd2::store {
class Watcher;
}

namespace gd2::plugins::volume {

class VolumePlugin : public Plugin, public sunrpc::VolfileProvider {
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

  // sunrpc::VolfileProvider: brick, client and self-heal daemon volfiles from the stored volume.
  StatusOr<std::string> GetVolfile(std::string_view volfile_id, const sunrpc::Dict& xdata) override;
  // The self-heal daemon wants its pid file named in the GETSPEC reply, as glusterd sends it.
  sunrpc::Dict GetVolfileReplyXdata(std::string_view volfile_id) override;

 private:
  // Steps (run on each peer that hosts bricks of the volume).
  Status PrepareBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status UnprepareBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status StartBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status StopBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status DeleteBricks(txn::StepContext& ctx, const nlohmann::json& args);
  // Undo actions: each first checks in the store that the transaction it undoes did not commit
  // (a record claiming otherwise is refused as bad arguments and quarantined).
  Status UndoStartBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status UndoStopBricks(txn::StepContext& ctx, const nlohmann::json& args);
  Status UndoDeleteBricks(txn::StepContext& ctx, const nlohmann::json& args);
  // Removes what PrepareBrick set on roots carrying a.volume_id, and the volume's workdir
  // directory unless `keep_workdir`.
  Status UnprepareLocal(txn::StepContext& ctx, const BrickSetArgs& a, bool keep_workdir);
  // Stops this peer's processes of the bricks in `a` and unprepares them.
  Status DeleteLocalBricks(txn::StepContext& ctx, const BrickSetArgs& a);
  // Runs pending/ work for this peer under the volume's lock (see Reconcile).
  void RunPendingWork(const store::KeyValue& kv);
  // One stored volume applied to this peer's processes, under the volume's lock.
  void ReconcileVolume(const std::string& name);

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
  // The peer RPC's HealInfo: this peer's online bricks of call.volume. kNotFound for an unknown
  // volume, kFailedPrecondition when it is not started or not replicate/disperse.
  StatusOr<std::vector<api::BrickHealInfo>> LocalHealInfo(const peer_rpc::HealInfoCall& call);
  // HealInfo over the peer RPC to `peer_id`; by brick name (host:path).
  StatusOr<std::map<std::string, api::BrickHealInfo>> RemoteHealInfo(
      const std::string& peer_id, const std::string& volume, const rest::RequestContext& ctx);

  // Starts (or adopts) this peer's bricks and self-heal daemon of `v`.
  Status StartLocalBricks(const api::Volume& v, const log::Logger& log);
  Status StopLocalBricks(const api::Volume& v, const log::Logger& log);
  brick::BrickSpec SpecFor(const api::Volume& v, const api::Brick& b, int port) const;
  brick::BrickSpec ShdSpecFor(const api::Volume& v) const;
  void PublishBrickState(const std::string& brick_path, bool running, pid_t pid, int port);
  // Brings local processes in line with the stored volumes (after a daemon restart).
  void Reconcile();
  std::vector<api::BrickStatus> BrickStatuses(const api::Volume& v) const;
  // Changes the stored options through a transaction and notifies volfile users.
  StatusOr<api::Volume> CommitOptions(const std::string& name,
                                      const std::function<Status(api::Volume&)>& change,
                                      const log::Logger& log);

  Services& services_;
  brick::PortAllocator ports_;
  std::unique_ptr<brick::Supervisor> bricks_;
  std::unique_ptr<brick::Supervisor> shd_;
  std::unique_ptr<store::Watcher> watcher_;
  // The reconcile worker: runs Reconcile() at OnServing and again whenever asked.
  void ReconcileLoop();
  std::thread reconcile_;
  std::mutex reconcile_mu_;
  std::condition_variable reconcile_cv_;
  bool reconcile_wanted_ = false;    // guarded by reconcile_mu_
  bool reconcile_stopping_ = false;  // guarded by reconcile_mu_
  mutable std::mutex mu_;
  std::map<std::string, api::Volume> cache_;  // guarded by mu_: last volumes read, for GETSPEC
};

}  // namespace gd2::plugins::volume
