#include "brick/runtime.h"

#include <exception>
#include <map>
#include <set>
#include <utility>

#include "brick/prepare.h"
#include "common/log.h"
#include "common/parallel.h"
#include "sunrpc/portmap.h"

namespace gd2::brick {
namespace {

// How many ports a brick start tries when the one it was given is taken.
constexpr int kPortAttempts = 3;

}  // namespace

BrickRuntime::BrickRuntime(BrickRuntimeOptions options)
    : options_(std::move(options)), ports_(options_.ports) {
  GD2_CHECK(options_.portmap != nullptr);
  sunrpc::PortMap* portmap = options_.portmap;
  SupervisorOptions bo;
  bo.run_dir = options_.run_dir;
  bo.log_dir = options_.log_dir;
  bo.kind = options_.brick_kind;
  bo.poll_interval = options_.poll_interval;
  // A brick serves I/O once it has signed in to the port map with the port it was given.
  bo.ready = [portmap](const BrickSpec& spec) {
    auto e = portmap->Lookup(spec.brick_path);
    return e.has_value() && e->port == spec.port;
  };
  bo.wait_ready = [portmap](const BrickSpec& spec, Clock::time_point until) {
    portmap->WaitPort(spec.brick_path, spec.port, until);
  };
  // Each change is logged once, by the supervisor: a death as a warning, a stop asked for as info.
  bo.logger = log::Root();
  auto notify = options_.on_brick_state;
  bo.on_state_change = [portmap, notify](const ProcessEvent& e) {
    if (!e.running()) portmap->Remove(e.key);
    if (notify) notify(BrickEvent{e.key, e.change, e.pid, e.port});
  };
  bricks_ = std::make_unique<Supervisor>(std::move(bo));
  SupervisorOptions so;
  so.run_dir = options_.run_dir;
  so.log_dir = options_.log_dir;
  so.kind = options_.shd_kind;
  so.logger = log::Root();
  so.poll_interval = options_.poll_interval;
  shd_ = std::make_unique<Supervisor>(std::move(so));
  // A restarted brick is ready once it signs in: the monitor looks at it then, not at its next
  // poll. Sign-ins of bricks this runtime does not supervise are ignored by LookAt(). Last, so
  // that nothing after it can throw and leave the subscription behind.
  Supervisor* bricks = bricks_.get();
  signin_subscription_ = portmap->Subscribe(
      [bricks](sunrpc::PortMapEvent event, const std::string& brick, const sunrpc::PortMapEntry&) {
        if (event == sunrpc::PortMapEvent::kSignin) bricks->LookAt(brick);
      });
}

BrickRuntime::~BrickRuntime() { Shutdown(); }

void BrickRuntime::Shutdown() {
  if (uint64_t id = signin_subscription_.exchange(0); id != 0) options_.portmap->Unsubscribe(id);
  bricks_->Shutdown();
  shd_->Shutdown();
}

BrickSpec BrickRuntime::BrickSpecFor(const BrickGroup& group, const GroupBrick& brick,
                                     int port) const {
  BrickSpec spec;
  spec.volume = group.volume;
  spec.volume_id = group.volume_id;
  spec.brick_path = brick.path;
  spec.host = brick.host;
  spec.port = port;
  if (!group.volfile_id_prefix.empty()) {
    spec.volfile_id =
        group.volfile_id_prefix + group.volume + "." + brick.host + "." + DashedPath(brick.path);
  }
  spec.volfile_over_tcp = options_.volfile_over_tcp;
  spec.volfile_server_host = options_.volfile_server_host;
  spec.volfile_server_port = options_.volfile_server_port;
  spec.peer_id = options_.peer_id;
  spec.extra_args = group.extra_args;
  return spec;
}

BrickSpec BrickRuntime::ShdSpecFor(const BrickGroup& group) const {
  BrickSpec spec;
  spec.volume = group.volume;
  spec.volume_id = group.volume_id;
  spec.host = options_.volfile_server_host;
  spec.volfile_over_tcp = options_.volfile_over_tcp;
  spec.volfile_server_host = options_.volfile_server_host;
  spec.volfile_server_port = options_.volfile_server_port;
  spec.peer_id = options_.peer_id;
  return spec;
}

Status BrickRuntime::StartBrick(const BrickGroup& group, const GroupBrick& brick,
                                Clock::time_point deadline, std::stop_token cancel) {
  GD2_RETURN_IF_ERROR(VerifyBrickVolumeId(brick.path, group.volume_id));
  // Port 0: an adopted process reports the port it was started with.
  BrickSpec probe = BrickSpecFor(group, brick, 0);
  auto adopted = bricks_->Adopt(probe);
  if (adopted.ok() && *adopted) {
    ProcessState st = bricks_->State(bricks_->Key(probe));
    ports_.Reserve(st.port).IgnoreError();
    options_.portmap->Set(brick.path, st.port);
    return OkStatus();
  }
  // A brick that died and waits for its restart keeps the port of the process that died; one
  // the monitor has just restarted runs on it.
  const int before = bricks_->State(brick.path).port;
  Status s;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    GD2_ASSIGN_OR_RETURN(int port, ports_.Allocate());
    // An entry left by an earlier process would make the new one look ready at once.
    options_.portmap->Remove(brick.path);
    s = bricks_->Start(BrickSpecFor(group, brick, port), deadline, cancel);
    if (s.ok()) {
      // The port the brick runs on now is kept; the other goes back to the pool (the new one
      // when the start found the monitor's restart, the dead process's when it made a new one).
      const int used = bricks_->State(brick.path).port;
      if (used != port) ports_.Release(port);
      if (before > 0 && before != used) ports_.Release(before);
      return s;
    }
    ports_.Release(port);
    // Another process bound the port between the allocator's probe and the brick's bind (another
    // daemon on this host starting bricks at the same moment): try the next one.
    if (s.code() != StatusCode::kUnavailable || ports_.CanBind(port)) return s;
    log::Root().Warn("brick port taken by another process; retrying",
                     {{"brick", brick.path}, {"port", port}});
  }
  return s;
}

Status BrickRuntime::Start(const BrickGroup& group, Clock::time_point deadline,
                           std::stop_token cancel) {
  // Every brick at once: each waits for its own SIGNIN. (ParallelFor runs them on this thread
  // if no thread can be made; an exception is that brick's error, since on the reconcile
  // thread it would end the daemon.)
  std::vector<Status> started(group.bricks.size());
  ParallelFor(group.bricks.size(), group.bricks.size(), [&](size_t i) {
    try {
      started[i] = StartBrick(group, group.bricks[i], deadline, cancel);
    } catch (const std::exception& e) {
      started[i] =
          InternalError("brick start threw: path=" + group.bricks[i].path + ": " + e.what());
    }
  });
  for (const Status& s : started) GD2_RETURN_IF_ERROR(s);
  if (cancel.stop_requested()) {
    return Status(StatusCode::kCancelled,
                  "start of volume " + group.volume + " given up by its caller");
  }
  if (group.self_heal) {
    BrickSpec shd = ShdSpecFor(group);
    auto adopted = shd_->Adopt(shd);
    if (!adopted.ok() || !*adopted) GD2_RETURN_IF_ERROR(shd_->Start(shd, deadline, cancel));
  }
  return OkStatus();
}

Status BrickRuntime::Stop(const BrickGroup& group, Clock::time_point deadline) {
  // Processes left running by an earlier daemon are adopted first, so that the stop finds them.
  std::vector<std::string> brick_keys;
  std::map<std::string, int> ports;
  for (const GroupBrick& b : group.bricks) {
    if (bricks_->State(b.path).pid == 0) {
      bricks_->Adopt(BrickSpecFor(group, b, 0)).status().IgnoreError();
    }
    ports[b.path] = bricks_->State(b.path).port;
    brick_keys.push_back(b.path);
  }
  std::vector<std::string> shd_keys;
  if (group.self_heal) {
    BrickSpec shd = ShdSpecFor(group);
    shd_->Adopt(shd).status().IgnoreError();
    shd_keys.push_back(shd_->Key(shd));
  }
  // The self-heal daemon and every brick are signalled at once, then waited for together.
  std::set<std::string> stopped;
  Status s = Supervisor::StopTogether({{bricks_.get(), brick_keys}, {shd_.get(), shd_keys}},
                                      deadline, &stopped);
  for (const auto& [path, port] : ports) {
    // A brick whose process survives keeps its port and port map entry (the error says why).
    if (stopped.count(path) == 0) continue;
    options_.portmap->Remove(path);
    if (port > 0) ports_.Release(port);
  }
  return s;
}

ProcessState BrickRuntime::BrickState(const std::string& brick_path) const {
  return bricks_->State(brick_path);
}

std::vector<std::string> BrickRuntime::Bricks() const { return bricks_->Keys(); }

std::string BrickRuntime::ShdPidFile(const std::string& volume) const {
  BrickGroup group;
  group.volume = volume;
  return shd_->Files(ShdSpecFor(group)).pid_file;
}

}  // namespace gd2::brick
