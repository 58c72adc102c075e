// Transaction steps of the volume plugin: what one peer does to its own bricks.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <future>

#include "brick/prepare.h"
#include "common/files.h"
#include "plugins/volume/plugin.h"
#include "plugins/volume/step_args.h"
#include "plugins/volume/volume_store.h"
#include "sunrpc/portmap.h"
#include "volgen/volgen.h"

namespace gd2::plugins::volume {
namespace {

constexpr auto kBrickStartTimeout = std::chrono::seconds(30);
constexpr auto kBrickStopTimeout = std::chrono::seconds(10);
constexpr int kBrickPortAttempts = 3;

// True if `port` cannot be bound on any address because something holds it.
bool PortTaken(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bool taken = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return taken;
}

}  // namespace

brick::BrickSpec VolumePlugin::SpecFor(const api::Volume& v, const api::Brick& b, int port) const {
  brick::BrickSpec spec;
  spec.volume = v.name;
  spec.volume_id = v.id;
  spec.brick_path = b.path;
  spec.host = b.host;
  spec.port = port;
  spec.volfile_server_host = services_.client_host;
  spec.volfile_server_port = services_.client_port;
  spec.peer_id = services_.peer_id;
  return spec;
}

brick::BrickSpec VolumePlugin::ShdSpecFor(const api::Volume& v) const {
  brick::BrickSpec spec;
  spec.volume = v.name;
  spec.volume_id = v.id;
  spec.host = services_.client_host;
  spec.volfile_server_host = services_.client_host;
  spec.volfile_server_port = services_.client_port;
  spec.peer_id = services_.peer_id;
  return spec;
}

Status VolumePlugin::PrepareBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  brick::PrepareOptions po;
  po.create_dir = a.create_dir;
  po.reuse = a.reuse;
  po.allow_root_dir = a.allow_root_dir;
  po.allow_mount_as_brick = a.allow_mount_as_brick;
  GD2_ASSIGN_OR_RETURN(std::string dir, VolumeWorkDir(services_.workdir, a.volume));
  GD2_RETURN_IF_ERROR(MakeDirs(dir));
  for (const auto& p : a.paths) {
    GD2_RETURN_IF_ERROR(brick::PrepareBrick(p, a.volume_id, po));
    ctx.log.Debug("brick prepared", {{"path", p}});
  }
  return OkStatus();
}

Status VolumePlugin::UnprepareBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  // The undo of a create that did not commit: a volume of this id in the store means the record
  // is not what it claims (a committed create leaves no record to undo).
  auto stored = GetVolume(*services_.store, services_.keys, a.volume);
  if (stored.ok() && stored->volume.id == a.volume_id) {
    return txn::BadArgumentsError(kPrepareBricksStep,
                                  "volume " + a.volume + " exists with this id; refusing to undo its creation");
  }
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  // Another volume of the same name (created since) keeps its directory.
  return UnprepareLocal(ctx, a, /*keep_workdir=*/stored.ok());
}

Status VolumePlugin::UnprepareLocal(txn::StepContext& ctx, const BrickSetArgs& a, bool keep_workdir) {
  brick::UnprepareOptions uo;
  uo.remove_internal_dir = true;
  uo.remove_dir_if_empty = a.create_dir;
  Status first;
  for (const auto& p : a.paths) {
    // Only a root carrying this volume's id is touched (UnprepareBrick checks it).
    Status s = brick::UnprepareBrick(p, a.volume_id, uo);
    if (!s.ok()) {
      ctx.log.Warn("brick cleanup failed", {{"path", p}, {"error", s}});
      if (first.ok()) first = s;
    }
  }
  if (!keep_workdir) {
    GD2_ASSIGN_OR_RETURN(std::string dir, VolumeWorkDir(services_.workdir, a.volume));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return first;
}

Status VolumePlugin::StartLocalBricks(const api::Volume& v, const log::Logger& log,
                                     std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_[v.name] = v;
  }
  std::vector<api::Brick> local;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (b.peer_id == services_.peer_id) local.push_back(b);
    }
  }
  if (local.empty()) return OkStatus();
  deadline = std::min(deadline, std::chrono::steady_clock::now() + kBrickStartTimeout);
  // Start every brick at once: each waits for its own SIGNIN.
  std::vector<std::future<Status>> started;
  for (const auto& b : local) {
    started.push_back(std::async(std::launch::async, [&, b]() -> Status {
      GD2_RETURN_IF_ERROR(brick::VerifyBrickVolumeId(b.path, v.id));
      brick::BrickSpec probe = SpecFor(v, b, 0);
      auto adopted = bricks_->Adopt(probe);
      if (adopted.ok() && *adopted) {
        brick::ProcessState st = bricks_->State(bricks_->Key(probe));
        ports_.Reserve(st.port).IgnoreError();
        services_.portmap->Set(b.path, st.port);
        return OkStatus();
      }
      Status s;
      for (int attempt = 0; attempt < kBrickPortAttempts; ++attempt) {
        GD2_ASSIGN_OR_RETURN(int port, ports_.Allocate());
        services_.portmap->Remove(b.path);
        s = bricks_->Start(SpecFor(v, b, port), deadline);
        if (s.ok()) return s;
        ports_.Release(port);
        // Another process bound the port between the allocator's probe and the brick's bind
        // (another daemon on this host starting bricks at the same moment): try the next one.
        if (s.code() != StatusCode::kUnavailable || !PortTaken(port)) return s;
        log.Warn("brick port taken by another process; retrying", {{"brick", b.path}, {"port", port}});
      }
      return s;
    }));
  }
  Status first;
  for (auto& f : started) {
    Status s = f.get();
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  for (const auto& b : local) log.Info("brick started", {{"volume", v.name}, {"brick", b.path}});
  if (volgen::HasShdGraph(v)) {
    brick::BrickSpec shd = ShdSpecFor(v);
    auto adopted = shd_->Adopt(shd);
    if (!adopted.ok() || !*adopted) GD2_RETURN_IF_ERROR(shd_->Start(shd, deadline));
  }
  return OkStatus();
}

Status VolumePlugin::StopLocalBricks(const api::Volume& v, const log::Logger& log,
                                    std::chrono::steady_clock::time_point deadline) {
  deadline = std::min(deadline, std::chrono::steady_clock::now() + kBrickStopTimeout);
  Status first;
  if (volgen::HasShdGraph(v)) {
    brick::BrickSpec shd = ShdSpecFor(v);
    Status s = shd_->Stop(shd_->Key(shd), deadline);
    if (!s.ok()) first = s;
  }
  std::vector<std::future<Status>> stopped;
  for (const auto& sv : v.subvols) {
    for (const auto& b : sv.bricks) {
      if (b.peer_id != services_.peer_id) continue;
      stopped.push_back(std::async(std::launch::async, [&, b]() -> Status {
        brick::BrickSpec spec = SpecFor(v, b, 0);
        std::string key = bricks_->Key(spec);
        int port = bricks_->State(key).port;
        if (bricks_->State(key).pid == 0) {
          // Not supervised by this process (e.g. left running by a crashed daemon): adopt first
          // so that Stop finds it.
          bricks_->Adopt(spec).status().IgnoreError();
          port = bricks_->State(key).port;
        }
        GD2_RETURN_IF_ERROR(bricks_->Stop(key, deadline));
        services_.portmap->Remove(b.path);
        if (port > 0) ports_.Release(port);
        log.Info("brick stopped", {{"volume", v.name}, {"brick", b.path}});
        return OkStatus();
      }));
    }
  }
  for (auto& f : stopped) {
    Status s = f.get();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status VolumePlugin::StartBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  return StartLocalBricks(a.volume, ctx.log, ctx.deadline);
}

Status VolumePlugin::StopBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  return StopLocalBricks(a.volume, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoStartBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  const api::Volume& v = a.volume;
  auto stored = GetVolume(*services_.store, services_.keys, v.name);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  // Only the bricks of the volume this start was for, and not while the store says it is
  // started (a forced start of a started volume, or a record that is not what it claims).
  if (stored.ok() && stored->volume.id != v.id) return OkStatus();
  if (stored.ok() && stored->volume.state == api::VolumeState::kStarted) {
    ctx.log.Info("volume is started in the store; its bricks stay", {{"volume", v.name}});
    return OkStatus();
  }
  return StopLocalBricks(v, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoStopBricks(txn::StepContext& ctx, const VolumeArgs& a) {
  const api::Volume& v = a.volume;
  // Bricks come back only as the store has the volume: started, with this id.
  auto stored = GetVolume(*services_.store, services_.keys, v.name);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  if (!stored.ok() || stored->volume.id != v.id || stored->volume.state != api::VolumeState::kStarted) {
    ctx.log.Info("volume is not started in the store; its bricks stay stopped", {{"volume", v.name}});
    return OkStatus();
  }
  return StartLocalBricks(stored->volume, ctx.log, ctx.deadline);
}

Status VolumePlugin::UndoDeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  // The undo of a delete that did not commit: the volume must still be in the store.
  auto stored = GetVolume(*services_.store, services_.keys, a.volume);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  if (!stored.ok() || stored->volume.id != a.volume_id) {
    return txn::BadArgumentsError(kDeleteBricksStep, "volume " + a.volume +
                                                         " with this id is not in the store; refusing to undo its delete");
  }
  return PrepareBricks(ctx, a);
}

Status VolumePlugin::DeleteBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
  return DeleteLocalBricks(ctx, a);
}

Status VolumePlugin::DeleteLocalBricks(txn::StepContext& ctx, const BrickSetArgs& a) {
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
  GD2_RETURN_IF_ERROR(StopLocalBricks(v, ctx.log, ctx.deadline));
  brick::BrickSpec shd = ShdSpecFor(v);
  shd_->Adopt(shd).status().IgnoreError();
  auto shd_deadline = std::min(ctx.deadline, std::chrono::steady_clock::now() + kBrickStopTimeout);
  GD2_RETURN_IF_ERROR(shd_->Stop(shd_->Key(shd), shd_deadline));
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.erase(v.name);
  }
  return UnprepareLocal(ctx, a, /*keep_workdir=*/false);
}

}  // namespace gd2::plugins::volume
