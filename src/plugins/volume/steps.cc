// Transaction steps of the volume plugin: what one peer does to its own bricks.
#include <filesystem>
#include <future>

#include "brick/prepare.h"
#include "common/files.h"
#include "plugins/volume/plugin.h"
#include "sunrpc/portmap.h"
#include "volgen/volgen.h"

namespace gd2::plugins::volume {
namespace {

constexpr auto kBrickStartTimeout = std::chrono::seconds(30);
constexpr auto kBrickStopTimeout = std::chrono::seconds(10);

StatusOr<api::Volume> VolumeArg(const nlohmann::json& args) {
  if (!args.contains("volume")) return InvalidArgumentError("step args have no volume");
  return api::VolumeFromJson(args["volume"]);
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

Status VolumePlugin::PrepareBricks(txn::StepContext& ctx, const nlohmann::json& args) {
  std::string volume_id = args.value("volume_id", "");
  brick::PrepareOptions po;
  po.create_dir = args.value("create_dir", false);
  po.reuse = args.value("reuse", false);
  po.allow_root_dir = args.value("allow_root_dir", false);
  po.allow_mount_as_brick = args.value("allow_mount_as_brick", false);
  GD2_RETURN_IF_ERROR(MakeDirs(services_.workdir + "/vols/" + args.value("volume", "")));
  for (const auto& p : args.value("paths", std::vector<std::string>{})) {
    GD2_RETURN_IF_ERROR(brick::PrepareBrick(p, volume_id, po));
    ctx.log.Debug("brick prepared", {{"path", p}});
  }
  return OkStatus();
}

Status VolumePlugin::UnprepareBricks(txn::StepContext& ctx, const nlohmann::json& args) {
  std::string volume_id = args.value("volume_id", "");
  brick::UnprepareOptions uo;
  uo.remove_internal_dir = true;
  uo.remove_dir_if_empty = args.value("create_dir", false);
  Status first;
  for (const auto& p : args.value("paths", std::vector<std::string>{})) {
    Status s = brick::UnprepareBrick(p, volume_id, uo);
    if (!s.ok()) {
      ctx.log.Warn("brick cleanup failed", {{"path", p}, {"error", s}});
      if (first.ok()) first = s;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(services_.workdir + "/vols/" + args.value("volume", ""), ec);
  return first;
}

Status VolumePlugin::StartLocalBricks(const api::Volume& v, const log::Logger& log) {
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
  auto deadline = std::chrono::steady_clock::now() + kBrickStartTimeout;
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
      GD2_ASSIGN_OR_RETURN(int port, ports_.Allocate());
      services_.portmap->Remove(b.path);
      Status s = bricks_->Start(SpecFor(v, b, port), deadline);
      if (!s.ok()) ports_.Release(port);
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

Status VolumePlugin::StopLocalBricks(const api::Volume& v, const log::Logger& log) {
  auto deadline = std::chrono::steady_clock::now() + kBrickStopTimeout;
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

Status VolumePlugin::StartBricks(txn::StepContext& ctx, const nlohmann::json& args) {
  GD2_ASSIGN_OR_RETURN(api::Volume v, VolumeArg(args));
  return StartLocalBricks(v, ctx.log);
}

Status VolumePlugin::StopBricks(txn::StepContext& ctx, const nlohmann::json& args) {
  GD2_ASSIGN_OR_RETURN(api::Volume v, VolumeArg(args));
  return StopLocalBricks(v, ctx.log);
}

Status VolumePlugin::DeleteBricks(txn::StepContext& ctx, const nlohmann::json& args) {
  // Bricks of a volume stopped while this peer was down may still run here: stop them first.
  api::Volume v;
  v.name = args.value("volume", "");
  v.id = args.value("volume_id", "");
  api::Subvol sv;
  for (const auto& p : args.value("paths", std::vector<std::string>{})) {
    api::Brick b;
    b.peer_id = services_.peer_id;
    b.host = args.value("host", services_.client_host);
    b.path = p;
    sv.bricks.push_back(b);
  }
  v.subvols.push_back(sv);
  GD2_RETURN_IF_ERROR(StopLocalBricks(v, ctx.log));
  brick::BrickSpec shd = ShdSpecFor(v);
  shd_->Adopt(shd).status().IgnoreError();
  GD2_RETURN_IF_ERROR(shd_->Stop(shd_->Key(shd), std::chrono::steady_clock::now() + kBrickStopTimeout));
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.erase(v.name);
  }
  return UnprepareBricks(ctx, args);
}

}  // namespace gd2::plugins::volume
