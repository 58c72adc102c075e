#include "store/view.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "store/watcher.h"

namespace gd2::store {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

size_t EntryBytes(const KeyValue& kv) { return kv.key.size() + kv.value.size(); }

}  // namespace

const ViewSnapshot::Kept* ViewSnapshot::KeptFor(std::string_view key) const {
  for (const Kept& k : kept_) {
    if (StartsWith(key, k.prefix)) return &k;
  }
  return nullptr;
}

const ViewEntry* ViewSnapshot::Get(std::string_view key) const {
  const Kept* k = KeptFor(key);
  if (k == nullptr) return nullptr;
  auto it = k->entries->find(key);
  return it == k->entries->end() ? nullptr : it->second.get();
}

std::vector<const ViewEntry*> ViewSnapshot::List(std::string_view prefix) const {
  std::vector<const ViewEntry*> out;
  const Kept* k = KeptFor(prefix);
  if (k == nullptr) return out;
  for (auto it = k->entries->lower_bound(prefix);
       it != k->entries->end() && StartsWith(it->first, prefix); ++it) {
    out.push_back(it->second.get());
  }
  return out;
}

View::View(Store& store, ViewOptions options) : store_(store), options_(std::move(options)) {}

View::~View() { Stop(); }

Status View::Keep(std::string prefix, Decoder decoder) {
  {
    MutexLock lock(mu_);
    if (started_) return FailedPreconditionError("view already started: prefix=" + prefix);
  }
  if (prefix.empty() || !StartsWith(prefix, options_.watch_prefix)) {
    return InvalidArgumentError("view prefix not under the watched prefix: prefix=" + prefix +
                                " watch_prefix=" + options_.watch_prefix);
  }
  for (const KeptSpec& s : specs_) {
    if (StartsWith(prefix, s.prefix) || StartsWith(s.prefix, prefix)) {
      return InvalidArgumentError("view prefixes overlap: prefix=" + prefix + " kept=" + s.prefix);
    }
  }
  specs_.push_back(KeptSpec{std::move(prefix), std::move(decoder)});
  return OkStatus();
}

Status View::Start() {
  {
    MutexLock lock(mu_);
    if (started_) return FailedPreconditionError("view already started");
    started_ = true;
    stopping_ = false;
  }
  Status s = Load();
  if (s.ok()) s = WatchFromCurrent();
  if (s.code() == StatusCode::kResourceExhausted) {
    // Too much to keep (or to read in one answer): readers use etcd; try again later.
    log::Root().Error("store view not serving", {{"error", s}});
    RequestResync(options_.resync_backoff_max);
  } else if (!s.ok()) {
    MutexLock lock(mu_);
    started_ = false;
    return s;
  } else {
    MutexLock lock(mu_);
    // Not if the new watch broke, or asked for a resync, since it returned.
    serving_ = !resync_wanted_ && !stream_broken_;
  }
  cv_.NotifyAll();
  resync_thread_ = std::thread(&View::ResyncLoop, this);
  return OkStatus();
}

void View::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    serving_ = false;
  }
  cv_.NotifyAll();
  if (resync_thread_.joinable()) resync_thread_.join();
  if (watcher_) {
    watcher_->Stop();
    watcher_.reset();
  }
}

std::shared_ptr<const ViewEntry> View::MakeEntry(size_t kept_index, KeyValue kv) const {
  auto entry = std::make_shared<ViewEntry>();
  const Decoder& decode = specs_[kept_index].decoder;
  if (decode) {
    try {
      entry->decoded = decode(kv);
    } catch (...) {
      entry->decoded.reset();
    }
  }
  entry->kv = std::move(kv);
  return entry;
}

void View::Publish(std::shared_ptr<const ViewSnapshot> snapshot, bool serving) {
  {
    MutexLock lock(mu_);
    current_ = std::move(snapshot);
    if (!serving) serving_ = false;
  }
  cv_.NotifyAll();
}

Status View::Load() {
  std::vector<Op> ops;
  ops.reserve(specs_.size());
  for (const KeptSpec& s : specs_) ops.push_back(Op::GetPrefix(s.prefix));
  // One transaction: every prefix as of one revision.
  GD2_ASSIGN_OR_RETURN(TxnResult read, store_.Txn({}, std::move(ops)));
  {
    MutexLock lock(mu_);
    ++loads_;
  }
  if (read.results.size() != specs_.size()) {
    return InternalError("store view read: unexpected answer count: " +
                         std::to_string(read.results.size()));
  }
  size_t entries = 0;
  size_t bytes = 0;
  std::vector<ViewSnapshot::Kept> kept;
  kept.reserve(specs_.size());
  for (size_t i = 0; i < specs_.size(); ++i) {
    auto map = std::make_shared<ViewSnapshot::EntryMap>();
    for (KeyValue& kv : read.results[i].kvs) {
      ++entries;
      bytes += EntryBytes(kv);
      if (entries > options_.max_entries || bytes > options_.max_bytes) {
        return ResourceExhaustedError(
            "store view over its bounds: max_entries=" + std::to_string(options_.max_entries) +
            " max_bytes=" + std::to_string(options_.max_bytes));
      }
      std::string key = kv.key;
      map->emplace(std::move(key), MakeEntry(i, std::move(kv)));
    }
    kept.push_back(ViewSnapshot::Kept{specs_[i].prefix, std::move(map)});
  }
  entries_ = entries;
  bytes_ = bytes;
  applying_ = true;
  int64_t revision = read.revision;
  {
    MutexLock lock(mu_);
    // The revision never goes back, even if this answer came from a member behind the one the
    // watch used (its changes since are delivered by the watch from here).
    if (current_ != nullptr) revision = std::max(revision, current_->revision());
  }
  Publish(std::make_shared<ViewSnapshot>(revision, std::move(kept)), false);
  return OkStatus();
}

Status View::WatchFromCurrent() {
  int64_t from;
  {
    MutexLock lock(mu_);
    from = current_->revision() + 1;
  }
  auto watcher = std::make_unique<Watcher>(store_);
  // While the stream is broken the view may miss changes for an unknown time: readers go to
  // etcd (and get its errors) until a stream resumes.
  {
    MutexLock lock(mu_);
    stream_broken_ = false;
  }
  watcher->OnStream([this](bool live) {
    {
      MutexLock lock(mu_);
      stream_broken_ = !live;
      if (!live) {
        serving_ = false;
      } else if (applying_ && !resync_wanted_ && !stopping_ && current_ != nullptr) {
        serving_ = true;
      }
    }
    cv_.NotifyAll();
  });
  Status s = watcher->Watch(
      options_.watch_prefix, from,
      [this](const std::vector<WatchEvent>& events) { OnEvents(events); },
      [this](const Status& status) { OnWatchError(status); });
  if (!s.ok()) return s;
  watcher_ = std::move(watcher);
  return OkStatus();
}

void View::OnEvents(const std::vector<WatchEvent>& events) {
  if (!applying_) return;
  std::shared_ptr<const ViewSnapshot> base;
  {
    MutexLock lock(mu_);
    base = current_;
  }
  std::vector<ViewSnapshot::Kept> kept = base->kept();
  // Copy-on-write: a prefix's map is copied (its node pointers, not the values) at its first
  // change in this batch; snapshots already handed out keep the old one.
  std::vector<std::shared_ptr<ViewSnapshot::EntryMap>> changed(kept.size());
  int64_t revision = base->revision();
  for (const WatchEvent& e : events) {
    revision = std::max(revision, e.kv.mod_revision);
    size_t i = 0;
    while (i < specs_.size() && !StartsWith(e.kv.key, specs_[i].prefix)) ++i;
    if (i == specs_.size()) continue;
    if (!changed[i]) changed[i] = std::make_shared<ViewSnapshot::EntryMap>(*kept[i].entries);
    ViewSnapshot::EntryMap& map = *changed[i];
    auto it = map.find(e.kv.key);
    if (it != map.end()) {
      --entries_;
      bytes_ -= EntryBytes(it->second->kv);
      map.erase(it);
    }
    if (e.type == WatchEvent::Type::kPut) {
      ++entries_;
      bytes_ += EntryBytes(e.kv);
      map.emplace(e.kv.key, MakeEntry(i, e.kv));
    }
  }
  if (entries_ > options_.max_entries || bytes_ > options_.max_bytes) {
    applying_ = false;
    log::Root().Error("store view over its bounds, not serving",
                      {{"entries", entries_},
                       {"bytes", bytes_},
                       {"max_entries", options_.max_entries},
                       {"max_bytes", options_.max_bytes}});
    RequestResync(options_.resync_backoff_max);
    return;
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    if (changed[i]) kept[i].entries = std::move(changed[i]);
  }
  Publish(std::make_shared<ViewSnapshot>(revision, std::move(kept)), true);
}

void View::OnWatchError(const Status& status) {
  // The watch lost history it needed (etcd compacted it): what it missed is unknown.
  log::Root().Warn("store view watch ended, reading again", {{"error", status}});
  RequestResync(std::chrono::milliseconds(0));
}

void View::RequestResync(std::chrono::milliseconds delay) {
  {
    MutexLock lock(mu_);
    serving_ = false;
    resync_wanted_ = true;
    resync_at_ = std::chrono::steady_clock::now() + delay;
  }
  cv_.NotifyAll();
}

void View::ResyncLoop() {
  std::chrono::milliseconds backoff = options_.resync_backoff_min;
  while (true) {
    {
      MutexLock lock(mu_);
      while (!stopping_ && !(resync_wanted_ && std::chrono::steady_clock::now() >= resync_at_)) {
        if (resync_wanted_) {
          cv_.WaitUntil(mu_, resync_at_);
        } else {
          cv_.Wait(mu_);
        }
      }
      if (stopping_) return;
      resync_wanted_ = false;
    }
    if (watcher_) {
      watcher_->Stop();
      watcher_.reset();
    }
    Status s = Load();
    if (s.ok()) s = WatchFromCurrent();
    if (s.ok()) {
      bool serving;
      {
        MutexLock lock(mu_);
        // A Stop() meanwhile wins, and so does a watch that broke, or asked for another
        // resync (over its bounds, history lost), since it returned.
        serving_ = !stopping_ && !resync_wanted_ && !stream_broken_;
        serving = serving_;
      }
      cv_.NotifyAll();
      if (serving) log::Root().Info("store view serving again", {{"revision", revision()}});
      backoff = options_.resync_backoff_min;
      continue;
    }
    bool too_big = s.code() == StatusCode::kResourceExhausted;
    std::chrono::milliseconds delay = too_big ? options_.resync_backoff_max : backoff;
    backoff = std::min(backoff * 2, options_.resync_backoff_max);
    log::Root().Warn("store view cannot read the store, retrying",
                     {{"error", s}, {"retry_ms", static_cast<int64_t>(delay.count())}});
    RequestResync(delay);
  }
}

StatusOr<std::shared_ptr<const ViewSnapshot>> View::Await(
    int64_t revision, std::chrono::steady_clock::time_point deadline) const {
  MutexLock lock(mu_);
  while (!stopping_ && serving_ && current_->revision() < revision) {
    if (!cv_.WaitUntil(mu_, deadline)) break;
  }
  if (stopping_ || !serving_) return UnavailableError("store view not serving");
  if (current_->revision() < revision) {
    return DeadlineExceededError(
        "store view behind: revision=" + std::to_string(current_->revision()) +
        " want=" + std::to_string(revision));
  }
  return current_;
}

std::shared_ptr<const ViewSnapshot> View::ForRead(int64_t min_revision) const {
  auto s = Await(min_revision, std::chrono::steady_clock::now() + options_.read_wait);
  return s.ok() ? *std::move(s) : nullptr;
}

std::shared_ptr<const ViewSnapshot> View::TryForRead(int64_t min_revision) const {
  MutexLock lock(mu_);
  if (stopping_ || !serving_ || current_ == nullptr || current_->revision() < min_revision) {
    return nullptr;
  }
  return current_;
}

int64_t View::revision() const {
  MutexLock lock(mu_);
  return current_ == nullptr ? 0 : current_->revision();
}

bool View::serving() const {
  MutexLock lock(mu_);
  return serving_;
}

int64_t View::loads() const {
  MutexLock lock(mu_);
  return loads_;
}

}  // namespace gd2::store
