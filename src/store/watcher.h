// store::Watcher follows the changes under one key prefix over etcd's Watch stream, on its own
// thread. When the stream breaks (etcd restart, network) it reconnects and resumes right after
// the last revision it delivered, so no event is lost or delivered twice. If etcd has compacted
// the revisions it needs, it reports that once through the error callback and stops (the owner
// then re-lists the prefix and starts a new watch from the list's revision), unless it has a gap
// callback (OnGap): then it tells that and goes on from the oldest revision etcd kept.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace grpc {
class ClientContext;
}

namespace gd2::store {

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For kPut the new key-value. For kDelete only key and mod_revision (the revision of the
  // delete) are set.
  KeyValue kv;
};

class Watcher {
 public:
  // Called on the watcher thread with the events of one or more whole revisions, in revision
  // order. May call Stop() but must not destroy the Watcher.
  using EventsCallback = std::function<void(const std::vector<WatchEvent>&)>;
  // Called at most once, on the watcher thread, when the watch ends for good: kOutOfRange
  // ("watch compacted: ...") if etcd compacted revisions the watch still needed (and there is
  // no gap callback).
  using ErrorCallback = std::function<void(const Status&)>;
  // Called on the watcher thread with false when a stream breaks (changes may be missed until a
  // new one resumes) and true when etcd confirms a stream.
  using StreamCallback = std::function<void(bool live)>;

  // `store` must outlive the watcher.
  explicit Watcher(Store& store);
  // Stops and joins.
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Watches every key starting with `prefix`, from `start_revision` (inclusive; 0 means only
  // changes after the watch is created). Returns once etcd has confirmed the watch, so changes
  // made after Watch() returns are delivered. Errors: kFailedPrecondition if called twice;
  // kUnavailable/kDeadlineExceeded if etcd did not confirm within the store's request_timeout (a
  // stream that closes before etcd confirmed it is opened again within that time).
  // A compacted start_revision is reported through on_error, or on_gap when set (etcd confirms
  // such a watch first, so either may run before or while Watch() returns).
  Status Watch(std::string prefix, int64_t start_revision, EventsCallback on_events,
               ErrorCallback on_error = nullptr) GD2_EXCLUDES(mu_);
  // Called on the watcher thread when etcd has compacted changes the watch had not delivered
  // yet (a start revision already compacted, a stream resumed or catching up after an outage
  // longer than etcd keeps history), with the oldest revision etcd still has; the stream
  // callback has been told false first. Changes after the last delivered one and before that
  // revision are lost (a delete there is not replayed): the callback rebuilds what its caller
  // derives from them (reads the prefix again, or tells its clients to). The watch then goes on
  // from that revision, so every change from it on is delivered (some may repeat what a read in
  // the callback saw). Runs one at a time with the other callbacks.
  using GapCallback = std::function<void(int64_t compact_revision)>;

  // Sets the stream callback; call before Watch().
  void OnStream(StreamCallback on_stream) { on_stream_ = std::move(on_stream); }
  // Sets the gap callback; call before Watch(). Without one, a compaction ends the watch
  // (on_error, kOutOfRange).
  void OnGap(GapCallback on_gap) { on_gap_ = std::move(on_gap); }
  // Cancels the stream and joins the thread (unless called from a callback). Idempotent.
  void Stop() GD2_EXCLUDES(mu_);

  // The revision of the last delivered event (or the revision the watch started after).
  int64_t last_revision() const { return last_revision_.load(); }

 private:
  struct StreamEnd {
    Status status;                 // why the stream ended
    bool created;                  // whether etcd had confirmed the watch on it
    int64_t compact_revision = 0;  // with kOutOfRange: the oldest revision etcd has
  };
  void Run() GD2_EXCLUDES(mu_);
  // Runs one Watch stream until it ends.
  StreamEnd RunStream() GD2_EXCLUDES(mu_);
  void SetEstablished(Status status) GD2_EXCLUDES(mu_);

  Store& store_;
  std::string prefix_;
  EventsCallback on_events_;
  ErrorCallback on_error_;
  StreamCallback on_stream_;
  GapCallback on_gap_;
  std::atomic<int64_t> last_revision_{0};
  // Whether last_revision_ is meaningful yet: false while a "from now" watch awaits its first
  // confirmation. Set by Watch() before the thread starts, then used only by the thread.
  bool know_revision_ = false;
  // Until when Watch() waits for the first stream; set before the thread starts.
  std::chrono::steady_clock::time_point first_deadline_;
  std::thread thread_;

  Mutex mu_;
  CondVar cv_;
  bool started_ GD2_GUARDED_BY(mu_) = false;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  // Outcome of the first stream: set once to OK (created) or the error.
  bool established_set_ GD2_GUARDED_BY(mu_) = false;
  Status established_ GD2_GUARDED_BY(mu_);
  // The live stream's context, for Stop.
  grpc::ClientContext* ctx_ GD2_GUARDED_BY(mu_) = nullptr;
};

}  // namespace gd2::store
