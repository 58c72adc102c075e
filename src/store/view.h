// store::View keeps a local copy of chosen key prefixes (peer records, liveness keys, volume
// records), kept current by one etcd watch over the daemon's whole key space, so that reads made
// for every ReST GET need no etcd round trip. Readers take an immutable snapshot: a consistent
// state of every kept prefix at one store revision. Because the watch covers every key the daemon
// writes, the view's revision follows the store's, and a reader that must see a write at revision
// R (read-your-writes) waits for the view to reach R (Await) or reads etcd itself.
//
// Memory is bounded: at most ViewOptions::max_entries kept keys and max_bytes of their keys and
// values. A view that would exceed a bound stops serving (Await answers kUnavailable, readers go
// to etcd) and tries again from a full read after resync_backoff_max. Besides those bytes it
// holds one decoded object per entry (what the prefix's decoder returns) and per-entry overhead
// of about 200 bytes; while a batch of changes is applied, the node pointers of the changed
// prefix exist twice (copy-on-write), never the values.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace gd2::store {

class Watcher;
struct WatchEvent;

// One key of a view. Immutable once published; shared by every snapshot that contains it.
struct ViewEntry {
  KeyValue kv;
  // What the kept prefix's decoder made of kv (empty without a decoder, or if it gave nothing).
  std::any decoded;

  // The decoded object if it is a T, else nullptr.
  template <typename T>
  const T* As() const {
    return std::any_cast<T>(&decoded);
  }
};

// The state of every kept prefix at one store revision. Immutable; thread-safe. Pointers it hands
// out live as long as the snapshot.
class ViewSnapshot {
 public:
  using EntryMap = std::map<std::string, std::shared_ptr<const ViewEntry>, std::less<>>;
  struct Kept {
    std::string prefix;
    std::shared_ptr<const EntryMap> entries;
  };

  ViewSnapshot(int64_t revision, std::vector<Kept> kept)
      : revision_(revision), kept_(std::move(kept)) {}

  // Every change up to and including this revision is applied; none after it.
  int64_t revision() const { return revision_; }
  // The entry of `key`, or nullptr if it does not exist or lies under no kept prefix.
  const ViewEntry* Get(std::string_view key) const;
  // The entries whose key starts with `prefix`, sorted by key. Empty if `prefix` lies under no
  // kept prefix (a prefix that holds several kept prefixes is not listed either).
  std::vector<const ViewEntry*> List(std::string_view prefix) const;
  // The kept prefixes and their entries (for the view itself and tests).
  const std::vector<Kept>& kept() const { return kept_; }

 private:
  const Kept* KeptFor(std::string_view key) const;

  int64_t revision_;
  std::vector<Kept> kept_;
};

struct ViewOptions {
  // The prefix watched: every key the daemon writes lies under it (KeySpace::Prefix()), so that
  // the view's revision reaches the revision of each of its writes.
  std::string watch_prefix;
  // Bounds of what is kept: keys, and bytes of keys and values.
  size_t max_entries = 100000;
  size_t max_bytes = size_t{64} << 20;
  // Waits between attempts to read the kept prefixes again after the watch lost history (etcd
  // compacted it) or a bound was exceeded; doubles up to the maximum.
  std::chrono::milliseconds resync_backoff_min{100};
  std::chrono::milliseconds resync_backoff_max{std::chrono::seconds(30)};
  // How long ForRead waits for the view to reach a revision before the reader goes to etcd.
  std::chrono::milliseconds read_wait{std::chrono::seconds(1)};
};

// Thread-safe after Start(). Keep() is called before Start() only.
class View {
 public:
  // Turns a kept key's value into the object readers use (e.g. a parsed record), once per change
  // instead of once per read. Runs on the watch thread; must not block. Returning an empty
  // std::any (e.g. for a value that does not parse) leaves the entry undecoded; so does throwing.
  using Decoder = std::function<std::any(const KeyValue&)>;

  // `store` must outlive the view.
  View(Store& store, ViewOptions options);
  // Stops.
  ~View();
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  // Keeps the keys under `prefix`, decoded with `decoder` (may be null). kInvalidArgument if
  // `prefix` does not lie under the watch prefix or overlaps a kept prefix (one starts with the
  // other); kFailedPrecondition after Start().
  Status Keep(std::string prefix, Decoder decoder = nullptr);
  // Reads every kept prefix at one revision and watches from the next. Returns once the watch
  // is confirmed; errors of the read or the watch (the Store's codes), kFailedPrecondition if
  // called twice. On failure nothing keeps running.
  Status Start();
  // Stops the watch and the resync thread; waiters get kUnavailable. Idempotent.
  void Stop();

  // A snapshot at a revision of at least `revision` (the current one for revision <= 0),
  // waiting until `deadline` for the watch to deliver it. kDeadlineExceeded if the view did not
  // reach `revision` by then; kUnavailable if it does not serve (not started, stopped, its watch
  // stream broken, reading the prefixes again after the watch lost history, or over a bound).
  StatusOr<std::shared_ptr<const ViewSnapshot>> Await(
      int64_t revision, std::chrono::steady_clock::time_point deadline) const;
  // For a read that must reflect `min_revision` (0: any): the snapshot, waiting up to
  // ViewOptions::read_wait for it. nullptr when the reader must go to etcd instead (the view
  // does not serve, or is still behind).
  std::shared_ptr<const ViewSnapshot> ForRead(int64_t min_revision) const;
  // The same without waiting: the current snapshot if the view serves and has reached
  // `min_revision`, else nullptr. For readers that must not block (an I/O thread).
  std::shared_ptr<const ViewSnapshot> TryForRead(int64_t min_revision) const;
  // The revision applied (0 before Start). It only grows, across resyncs too.
  int64_t revision() const;
  // Whether reads are answered from the view now.
  bool serving() const;
  // How many times the kept prefixes were read in full (1 after Start; a read that found more
  // than the bounds allow counts too), for tests and metrics.
  int64_t loads() const;

 private:
  struct KeptSpec {
    std::string prefix;
    Decoder decoder;
  };
  // Reads the kept prefixes at one revision (loads_ + 1) and publishes them. kResourceExhausted
  // if they exceed a bound.
  Status Load();
  // Starts a watcher from the published revision + 1.
  Status WatchFromCurrent();
  void OnEvents(const std::vector<WatchEvent>& events);
  void OnWatchError(const Status& status);
  // Marks the view not serving and asks the resync thread to read again after `delay`.
  void RequestResync(std::chrono::milliseconds delay);
  void ResyncLoop();
  std::shared_ptr<const ViewEntry> MakeEntry(size_t kept_index, KeyValue kv) const;
  void Publish(std::shared_ptr<const ViewSnapshot> snapshot, bool serving);

  Store& store_;
  const ViewOptions options_;
  std::vector<KeptSpec> specs_;  // set before Start, then read-only

  // The applier's bookkeeping: owned by whichever thread applies changes, the watcher's callback
  // or the resync thread while no watcher runs (they never overlap).
  size_t entries_ = 0;
  size_t bytes_ = 0;
  bool applying_ = false;  // false once a bound was exceeded, until the next Load

  std::unique_ptr<Watcher> watcher_;  // replaced by the resync thread only (and Start/Stop)
  std::thread resync_thread_;

  mutable Mutex mu_;
  mutable CondVar cv_;  // current_, serving_, stopping_ or resync_wanted_ changed
  std::shared_ptr<const ViewSnapshot> current_ GD2_GUARDED_BY(mu_);  // the latest applied state
  bool serving_ GD2_GUARDED_BY(mu_) = false;
  bool started_ GD2_GUARDED_BY(mu_) = false;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  bool resync_wanted_ GD2_GUARDED_BY(mu_) = false;
  // The current watch reported its stream broken and not resumed since (OnStream).
  bool stream_broken_ GD2_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point resync_at_ GD2_GUARDED_BY(mu_);
  int64_t loads_ GD2_GUARDED_BY(mu_) = 0;
};

}  // namespace gd2::store
