#include "store/watcher.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "store/store_impl.h"

namespace gd2::store {
namespace {

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

}  // namespace

Watcher::Watcher(Store& store) : store_(store) {}

Watcher::~Watcher() { Stop(); }

Status Watcher::Watch(std::string prefix, int64_t start_revision, EventsCallback on_events,
                      ErrorCallback on_error) {
  {
    MutexLock lock(mu_);
    if (started_) return FailedPreconditionError("watcher already started");
    started_ = true;
  }
  prefix_ = std::move(prefix);
  on_events_ = std::move(on_events);
  on_error_ = std::move(on_error);
  last_revision_ = start_revision > 0 ? start_revision - 1 : 0;
  know_revision_ = start_revision > 0;
  first_deadline_ = CondVar::Clock::now() + store_.options().request_timeout;
  thread_ = std::thread(&Watcher::Run, this);

  Status result;
  {
    MutexLock lock(mu_);
    while (!established_set_ && cv_.WaitUntil(mu_, first_deadline_)) {
    }
    result = established_set_
                 ? established_
                 : DeadlineExceededError("etcd watch not confirmed in time: prefix=" + prefix_);
  }
  if (!result.ok()) Stop();
  return result;
}

void Watcher::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  cv_.NotifyAll();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Watcher::SetEstablished(Status status) {
  {
    MutexLock lock(mu_);
    if (established_set_) return;
    established_set_ = true;
    established_ = std::move(status);
  }
  cv_.NotifyAll();
}

void Watcher::Run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  bool was_broken = false;
  while (true) {
    StreamEnd end = RunStream();
    bool first_failed;
    {
      MutexLock lock(mu_);
      if (stopping_) break;
      first_failed = !established_set_;
    }
    if (first_failed) {
      // A stream that closed before etcd confirmed it (a member restarting or electing a leader)
      // is tried again until Watch() stops waiting; anything else is Watch()'s answer.
      if (end.status.code() != StatusCode::kUnavailable ||
          CondVar::Clock::now() + backoff >= first_deadline_) {
        SetEstablished(end.status);
        break;
      }
      {
        MutexLock lock(mu_);
        auto until = CondVar::Clock::now() + backoff;
        while (!stopping_ && cv_.WaitUntil(mu_, until)) {
        }
        if (stopping_) break;
      }
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    if (end.status.code() == StatusCode::kOutOfRange) {
      // Only forward: a compact revision at or below where the watch resumed (which etcd does
      // not send) would repeat forever.
      if (on_gap_ && end.compact_revision > last_revision_.load() + 1) {
        log::Root().Warn("etcd watch lost history; going on from the oldest revision etcd has",
                         {{"prefix", prefix_},
                          {"revision", last_revision_.load()},
                          {"compact_revision", end.compact_revision}});
        if (on_stream_) on_stream_(false);
        last_revision_ = end.compact_revision - 1;
        know_revision_ = true;
        on_gap_(end.compact_revision);
        backoff = kMinBackoff;
        continue;
      }
      log::Root().Warn("etcd watch compacted", {{"prefix", prefix_}, {"error", end.status}});
      if (on_error_) on_error_(end.status);
      break;
    }
    if (on_stream_) on_stream_(false);
    // A stream that got going ends an outage: its successor starts with a short backoff.
    if (end.created) backoff = kMinBackoff;
    if (end.created || !was_broken) {
      log::Root().Warn(
          "etcd watch stream broken, reconnecting",
          {{"prefix", prefix_}, {"revision", last_revision_.load()}, {"error", end.status}});
    }
    was_broken = true;
    {
      MutexLock lock(mu_);
      auto until = CondVar::Clock::now() + backoff;
      while (!stopping_ && cv_.WaitUntil(mu_, until)) {
      }
      if (stopping_) break;
    }
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  // A Watch() still waiting for the first stream gets the reason.
  SetEstablished(Status(StatusCode::kCancelled, "watcher stopped: prefix=" + prefix_));
}

Watcher::StreamEnd Watcher::RunStream() {
  Store::Impl& impl = *store_.impl_;
  grpc::ClientContext ctx;
  {
    MutexLock lock(mu_);
    if (stopping_) return {Status(StatusCode::kCancelled, "watcher stopped"), false};
    ctx_ = &ctx;
  }
  // No deadline: the stream lives as long as the watch. Stop() cancels it. A member that loses
  // its leader ends the stream, and it resumes on another.
  Store::Impl::RequireLeader(ctx);
  std::shared_ptr<Store::Impl::Conn> conn = impl.conn();
  auto stream = conn->watch->Watch(&ctx);

  etcdserverpb::WatchRequest req;
  etcdserverpb::WatchCreateRequest* create = req.mutable_create_request();
  create->set_key(prefix_.empty() ? std::string(1, '\0') : prefix_);
  create->set_range_end(PrefixRangeEnd(prefix_));
  int64_t resume_from = know_revision_ ? last_revision_.load() + 1 : 0;
  create->set_start_revision(resume_from);

  Status result = UnavailableError("etcd watch stream closed: endpoints=" + conn->endpoints_text);
  bool created = false;
  int64_t compact_revision = 0;
  etcdserverpb::WatchResponse resp;
  if (stream->Write(req)) {
    while (stream->Read(&resp)) {
      if (!impl.SameCluster(resp.header())) {
        // The address of a removed member, now serving a cluster of its own: resume elsewhere.
        result = UnavailableError("etcd watch answered by another cluster: prefix=" + prefix_ +
                                  " cluster_id=" + std::to_string(resp.header().cluster_id()));
        break;
      }
      if (resp.compact_revision() > 0) {
        compact_revision = resp.compact_revision();
        result = OutOfRangeError("watch compacted: prefix=" + prefix_ +
                                 " revision=" + std::to_string(resume_from) +
                                 " compact_revision=" + std::to_string(resp.compact_revision()));
        break;
      }
      if (resp.canceled()) {
        result = UnavailableError("etcd cancelled the watch: prefix=" + prefix_ +
                                  " reason=" + resp.cancel_reason());
        break;
      }
      if (resp.created()) {
        created = true;
        // Watching "from now": everything up to the header revision is already history.
        if (!know_revision_) {
          last_revision_ = resp.header().revision();
          know_revision_ = true;
        }
        SetEstablished(OkStatus());
        if (on_stream_) on_stream_(true);
        continue;
      }
      std::vector<WatchEvent> events;
      int64_t seen = last_revision_.load();
      int64_t newest = seen;
      for (const mvccpb::Event& e : resp.events()) {
        // Replayed history at or below what we delivered (cannot normally happen because we
        // resume at seen+1, but a duplicate would break our callers' invariants).
        if (e.kv().mod_revision() <= seen) continue;
        WatchEvent ev;
        ev.type =
            e.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
        ev.kv = FromProto(e.kv());
        newest = std::max(newest, ev.kv.mod_revision);
        events.push_back(std::move(ev));
      }
      if (events.empty()) continue;
      last_revision_ = newest;
      if (on_events_) on_events_(events);
    }
  }
  {
    MutexLock lock(mu_);
    ctx_ = nullptr;
  }
  ctx.TryCancel();
  grpc::Status finish = stream->Finish();
  if (result.code() == StatusCode::kUnavailable && !finish.ok() &&
      finish.error_code() != grpc::StatusCode::CANCELLED) {
    result = impl.Error(finish, "watch");
  }
  return {std::move(result), created, compact_revision};
}

}  // namespace gd2::store
