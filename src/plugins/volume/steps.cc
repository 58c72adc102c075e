// Transaction steps of the volume plugin: what one peer does to its own bricks.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <set>

#include "brick/prepare.h"
#include "common/files.h"
#include "common/parallel.h"
#include "plugins/volume/plugin.h"
#include "plugins/volume/step_args.h"
#include "plugins/volume/volume_store.h"
#include "volgen/volgen.h"

namespace gd2::plugins::volume {
namespace {

constexpr auto kBrickStartTimeout = std::chrono::seconds(30);
constexpr auto kBrickStopTimeout = std::chrono::seconds(10);
// Shorter than the shortest lease (lease-ttl is 2 s at the least): a cleanup that took longer
// asks the store again before it removes the volume's work directory.
constexpr auto kWorkDirRecheckAfter = std::chrono::seconds(1);
// Bricks of one step prepared or cleaned up at once. Each is a walk of its own directory tree
// (deleting a brick removes the 256 fan-out directories of its .glusterfs), mostly on a
// filesystem of its own.
constexpr size_t kMaxParallelBricks = 8;

// Runs fn on every path at once (at most kMaxParallelBricks at a time); the statuses in the
// order of `paths`. An exception in fn is that path's kInternal status (on the step's own thread
// the step registry would have caught it; on a helper thread it would end the daemon).
template <typename Fn>
std::vector<Status> ForEachBrick(const std::vector<std::string>& paths, Fn&& fn) {
  std::vector<Status> out(paths.size());
  ParallelFor(paths.size(), kMaxParallelBricks, [&](size_t i) {
    try {
      out[i] = fn(paths[i]);
    } catch (const std::exception& e) {
      out[i] = InternalError(std::string("brick step threw: path=") + paths[i] + ": " + e.what());
    }
  });
  return out;
}
}  // namespace

brick::BrickGroup VolumePlugin::LocalGroup(const api::Volume& v) const {
  brick::BrickGroup g;
  g.volume = v.name;
  g.volume_id = v.id;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (b.peer_id == services_.peer_id) g.bricks.push_back({b.path, b.host});
    }
  }
  g.self_heal = volgen::HasShdGraph(v);
  return g;
}

Status VolumePlugin::PrepareBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  brick::PrepareOptions po;
  po.create_dir = a.create_dir;
  po.reuse = a.reuse;
  po.allow_root_dir = a.allow_root_dir;
  po.allow_mount_as_brick = a.allow_mount_as_brick;
  GD2_ASSIGN_OR_RETURN(std::string dir, VolumeWorkDir(services_.workdir, a.volume));
  GD2_RETURN_IF_ERROR(MakeDirs(dir));
  std::vector<Status> prepared = ForEachBrick(
      a.paths, [&](const std::string& p) { return brick::PrepareBrick(p, a.volume_id, po); });
  // The first error in brick order; bricks prepared beside a failed one are the undo's to clean.
  for (size_t i = 0; i < a.paths.size(); ++i) {
    GD2_RETURN_IF_ERROR(prepared[i]);
    ctx.log.Debug("brick prepared", {{"path", a.paths[i]}});
  }
  return OkStatus();
}

Status VolumePlugin::UnprepareBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  // The undo of a create that did not commit: a stored volume of this id means the record is not
  // what it claims (a committed create leaves no record to undo).
  GD2_ASSIGN_OR_RETURN(FreeBricks free, WithoutLivePaths(kPrepareBricksStep, a));
  // Another volume of the same name (created since) keeps its directory.
  return UnprepareLocal(ctx, free.args, /*keep_workdir=*/free.name_in_use);
}

StatusOr<VolumePlugin::FreeBricks> VolumePlugin::WithoutLivePaths(std::string_view step,
                                                                  BrickSetArgs a) const {
  GD2_ASSIGN_OR_RETURN(std::vector<StoredVolume> volumes, ListVolumes(*services_.store, keys_));
  bool name_in_use = false;
  std::vector<std::string> used;
  for (const auto& other : volumes) {
    if (other.volume.id == a.volume_id) {
      // Undo and cleanup act on roots carrying a.volume_id: under its own name the volume is
      // still there (the record claims what did not happen), under another name they would act
      // on that volume's bricks.
      return txn::BadArgumentsError(step, "volume id " + a.volume_id +
                                              " belongs to stored volume " + other.volume.name +
                                              "; refusing to act for " + a.volume);
    }
    name_in_use = name_in_use || other.volume.name == a.volume;
    for (const auto& sv : other.volume.subvols) {
      for (const auto& b : sv.bricks) {
        if (b.peer_id == services_.peer_id) used.push_back(b.path);
      }
    }
  }
  // A path inside a stored brick or above one too: its cleanup would work in that brick's tree.
  std::erase_if(a.paths, [&used](const std::string& p) {
    return std::any_of(used.begin(), used.end(),
                       [&p](const std::string& u) { return IsUnder(p, u) || IsUnder(u, p); });
  });
  return FreeBricks{std::move(a), name_in_use};
}

Status VolumePlugin::UnprepareLocal(txn::StepContext& ctx, const BrickSetArgs& a, bool keep_workdir) {
  brick::UnprepareOptions uo;
  uo.remove_internal_dir = true;
  uo.remove_dir_if_empty = a.create_dir;
  // Only a root carrying this volume's id is touched (UnprepareBrick checks it); one that carries
  // another volume's id is that volume's (a create refused the path for it, or it took the path
  // since), and is left alone without failing the undo or the delete.
  uo.leave_other_volume = true;
  // Done before the step's deadline, with time to answer: the initiator gives up at the deadline
  // and lets the volume's lock go, and a cleanup still running then would work beside the next
  // holder. What is left waits for the retry (the root keeps its id until it is clean).
  uo.deadline = CleanupDeadline(ctx.deadline);
  uo.cancel = ctx.cancel;  // on another peer: its initiator gave up on the step, or died
  const auto started = std::chrono::steady_clock::now();
  std::vector<Status> cleaned = ForEachBrick(
      a.paths, [&](const std::string& p) { return brick::UnprepareBrick(p, a.volume_id, uo); });
  Status first;
  for (size_t i = 0; i < a.paths.size(); ++i) {
    if (cleaned[i].ok()) continue;
    ctx.log.Warn("brick cleanup failed", {{"path", a.paths[i]}, {"error", cleaned[i]}});
    if (first.ok()) first = cleaned[i];
  }
  if (keep_workdir) return first;
  // Not removed now, so not done: the retry finds the roots clean and removes it.
  if (Status go = brick::CleanupMayGoOn(uo, "the work directory of volume " + a.volume); !go.ok()) {
    return first.ok() ? go : first;
  }
  const auto now = std::chrono::steady_clock::now();
  // The name was free when the step began. A volume of that name can be made meanwhile only if
  // this step's initiator died and its lock went with its lease (seconds at the least), so after
  // a long cleanup the store is asked again: the directory would be the new volume's.
  if (now - started > kWorkDirRecheckAfter) {
    auto again = GetVolume(*services_.store, keys_, a.volume);
    if (again.ok()) return first;
    if (again.status().code() != StatusCode::kNotFound) return first.ok() ? again.status() : first;
  }
  GD2_ASSIGN_OR_RETURN(std::string dir, VolumeWorkDir(services_.workdir, a.volume));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return first;
}

Status VolumePlugin::StartLocalBricks(const api::Volume& v, const log::Logger& log,
                                      std::chrono::steady_clock::time_point deadline,
                                      std::stop_token cancel) {
  {
    MutexLock lock(mu_);
    cache_[v.name] = v;
  }
  brick::BrickGroup group = LocalGroup(v);
  if (group.bricks.empty()) return OkStatus();
  GD2_RETURN_IF_ERROR(runtime_->Start(
      group, std::min(deadline, std::chrono::steady_clock::now() + kBrickStartTimeout), cancel));
  for (const auto& b : group.bricks) {
    log.Info("brick started", {{"volume", v.name}, {"brick", b.path}});
  }
  return OkStatus();
}

Status VolumePlugin::StopLocalBricks(const api::Volume& v, const log::Logger& log,
                                     std::chrono::steady_clock::time_point deadline) {
  brick::BrickGroup group = LocalGroup(v);
  // Said of the bricks that ran (a delete stops a volume's bricks again, to be sure).
  std::vector<std::string> ran;
  for (const auto& b : group.bricks) {
    if (runtime_->BrickState(b.path).pid > 0) ran.push_back(b.path);
  }
  Status s = runtime_->Stop(
      group, std::min(deadline, std::chrono::steady_clock::now() + kBrickStopTimeout));
  if (s.ok()) {
    for (const auto& path : ran) log.Info("brick stopped", {{"volume", v.name}, {"brick", path}});
  }
  return s;
}

Status VolumePlugin::StartBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  // Told to stop when another peer of the start failed, or its initiator gave up.
  return StartLocalBricks(a.volume, ctx.log, ctx.deadline, ctx.cancel);
}

Status VolumePlugin::StopBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  return StopLocalBricks(a.volume, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoStartBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  const api::Volume& v = a.volume;
  auto stored = GetVolume(*services_.store, keys_, v.name);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  // Only the bricks of the volume this start was for, and not while the store says it is
  // started (a forced start of a started volume, or a record that is not what it claims).
  if (stored.ok() && stored->volume.id != v.id) return OkStatus();
  if (stored.ok() && stored->volume.state == api::VolumeState::kStarted) {
    // A forced start of a started volume: its bricks run as the store has them, including any
    // that this start began and gave up on when another peer failed.
    ctx.log.Info("volume is started in the store; its bricks are kept running",
                 {{"volume", v.name}});
    return StartLocalBricks(stored->volume, ctx.log, ctx.deadline);
  }
  // The bricks as the store has them (the record's list could name other volumes' bricks); for
  // a volume no longer stored, the record's without the bricks stored volumes use.
  if (stored.ok()) return StopLocalBricks(stored->volume, ctx.log, ctx.deadline);
  BrickSetArgs local;
  local.volume = v.name;
  local.volume_id = v.id;
  for (const auto& b : LocalGroup(v).bricks) local.paths.push_back(b.path);
  GD2_ASSIGN_OR_RETURN(FreeBricks free, WithoutLivePaths(kStartBricksStep, local));
  api::Volume left = v;
  const std::vector<std::string>& paths = free.args.paths;
  for (auto& sv : left.subvols) {
    std::erase_if(sv.bricks, [&](const api::Brick& b) {
      return b.peer_id == services_.peer_id &&
             std::find(paths.begin(), paths.end(), b.path) == paths.end();
    });
  }
  return StopLocalBricks(left, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoStopBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  const api::Volume& v = a.volume;
  // Bricks come back only as the store has the volume: started, with this id.
  auto stored = GetVolume(*services_.store, keys_, v.name);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  if (!stored.ok() || stored->volume.id != v.id || stored->volume.state != api::VolumeState::kStarted) {
    ctx.log.Info("volume is not started in the store; its bricks stay stopped", {{"volume", v.name}});
    return OkStatus();
  }
  return StartLocalBricks(stored->volume, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoDeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  // The undo of a delete that did not commit: the volume must still be in the store.
  auto stored = GetVolume(*services_.store, keys_, a.volume);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  if (!stored.ok() || stored->volume.id != a.volume_id) {
    return txn::BadArgumentsError(kDeleteBricksStep, "volume " + a.volume +
                                                         " with this id is not in the store; refusing to undo its delete");
  }
  // Only the volume's own bricks here are prepared again (a record's list could name any
  // directory), and a brick directory that is gone (its filesystem not mounted, say) is not
  // made again: the start-time check would then pass on an empty directory.
  const std::vector<brick::GroupBrick> mine = LocalGroup(stored->volume).bricks;
  for (const auto& path : a.paths) {
    if (std::none_of(mine.begin(), mine.end(), [&](const auto& b) { return b.path == path; })) {
      return txn::BadArgumentsError(
          kDeleteBricksStep,
          "path " + path + " is not a brick of volume " + a.volume + " on this peer");
    }
  }
  BrickSetArgs again = a;
  again.create_dir = false;
  return PrepareBricks(ctx, again);
}

Status VolumePlugin::DeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  return CleanDeletedBricks(ctx, a);
}

Status VolumePlugin::CleanDeletedBricks(txn::StepContext& ctx, const BrickSetArgs& deleted) {
  GD2_ASSIGN_OR_RETURN(FreeBricks free, WithoutLivePaths(kDeleteBricksStep, deleted));
  BrickSetArgs& a = free.args;
  // One cleanup of a path at a time on this peer; the roots are looked at once it is this one's
  // turn.
  {
    MutexLock lock(cleaning_mu_);
    while (std::any_of(a.paths.begin(), a.paths.end(),
                       [this](const std::string& p)
                           GD2_REQUIRES(cleaning_mu_) { return cleaning_.contains(p); })) {
      cleaning_cv_.Wait(cleaning_mu_);
    }
    cleaning_.insert(a.paths.begin(), a.paths.end());
  }
  struct Done {
    VolumePlugin* plugin;
    std::vector<std::string> paths;
    ~Done() {
      MutexLock lock(plugin->cleaning_mu_);
      for (const auto& p : paths) plugin->cleaning_.erase(p);
      plugin->cleaning_cv_.NotifyAll();
    }
  } done{this, a.paths};
  // Only roots that still carry the deleted volume's id (no other volume can take one until its
  // cleanup removes the id, last) or whose owner cannot be told (unreadable: nobody can take
  // them either) have anything left to stop or clean. A root without an id was cleaned before
  // (a retry) and may be taken by a new volume at any moment, and one with another id is that
  // volume's: their processes are not this cleanup's to stop.
  std::erase_if(a.paths, [&a](const std::string& p) {
    brick::RootOwner owner = brick::BrickRootOwner(p, a.volume_id);
    return owner == brick::RootOwner::kNoVolume || owner == brick::RootOwner::kOtherVolume;
  });
  return DeleteLocalBricks(ctx, a, free.name_in_use);
}

Status VolumePlugin::DeleteLocalBricks(txn::StepContext& ctx, const BrickSetArgs& a,
                                       bool name_in_use) {
  // Bricks of a volume stopped while this peer was down may still run here: stop them first.
  api::Volume v;
  v.name = a.volume;
  v.id = a.volume_id;
  api::Subvol sv;
  for (const auto& p : a.paths) {
    api::Brick b;
    b.peer_id = services_.peer_id;
    b.host = a.host.empty() ? services_.client_host : a.host;
    b.path = p;
    sv.bricks.push_back(b);
  }
  v.subvols.push_back(sv);
  // The volume's type is not known here: stop its self-heal daemon in case it has one (unless
  // the daemon of that name is the new volume's).
  brick::BrickGroup group = LocalGroup(v);
  group.self_heal = !name_in_use;
  // Usually nothing runs any more; a process that did is logged by the runtime ("process stopped").
  GD2_RETURN_IF_ERROR(runtime_->Stop(
      group, std::min(ctx.deadline, std::chrono::steady_clock::now() + kBrickStopTimeout)));
  if (!name_in_use) {
    MutexLock lock(mu_);
    cache_.erase(v.name);
  }
  return UnprepareLocal(ctx, a, /*keep_workdir=*/name_in_use);
}

}  // namespace gd2::plugins::volume
