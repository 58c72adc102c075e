// PortMap: the node's registry of brick path -> TCP port, as glusterd's pmap registry. Bricks
// fill it with SIGNIN and empty it with SIGNOUT over the volfile service; clients query it with
// PORTBYBRICK. The daemon also uses it to learn when a glusterfsd it started is up
// (WaitSignin) and removes entries of bricks it knows are dead (Remove).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/thread_annotations.h"

namespace gd2::sunrpc {

struct PortMapEntry {
  int port = 0;
  int pid = 0;              // from SIGNIN; 0 when set by Set()
  uint64_t generation = 0;  // value of Generation() right after this entry was written
};

enum class PortMapEvent { kSignin, kSignout, kRemoved };

// Thread-safe. Brick names are matched byte-exactly (the brick path as in the volfiles). As in
// glusterd, an entry stays when the brick's management connection drops; bricks sign in again
// when they reconnect.
class PortMap {
 public:
  // Called after each change (not Set()), outside the map's lock, on the thread that made it
  // (for SIGNIN/SIGNOUT an RPC connection thread), one callback at a time: keep it short, do not
  // block, and do not subscribe or unsubscribe from it.
  using ChangeCallback =
      std::function<void(PortMapEvent event, const std::string& brick, const PortMapEntry& entry)>;
  using SubscriptionId = uint64_t;

  PortMap() = default;
  PortMap(const PortMap&) = delete;
  PortMap& operator=(const PortMap&) = delete;

  // Adds a change callback; every subscriber sees every change from then on (a brick runtime
  // learns that a brick it restarted signed in; tests watch the map).
  SubscriptionId Subscribe(ChangeCallback cb) GD2_EXCLUDES(cb_mu_);
  // Removes a callback. Once it returns, the callback is not running and is not called again,
  // so what it captured may go. Unknown ids are ignored.
  void Unsubscribe(SubscriptionId id) GD2_EXCLUDES(cb_mu_);

  // At most this many bricks are registered; SIGNIN of a new name beyond it is refused.
  static constexpr size_t kMaxEntries = 16384;

  // Records a SIGNIN: brick -> port, replacing any previous entry, and wakes WaitSignin.
  // Returns false (and records nothing) if the map is full.
  bool Signin(const std::string& brick, int port, int pid);
  // Records a SIGNOUT: removes the entry if its port equals `port` (or `port` is 0). Returns
  // true if an entry was removed.
  bool Signout(std::string_view brick, int port);
  // Sets an entry without a SIGNIN (ports persisted across daemon restarts, brick-mux attach).
  // Does not count as a sign-in for WaitSignin or the callback.
  void Set(const std::string& brick, int port);
  // Forgets a brick (the daemon saw it die). Returns true if there was an entry.
  bool Remove(std::string_view brick);

  // The current entry for `brick`, or nullopt.
  std::optional<PortMapEntry> Lookup(std::string_view brick) const;
  // The port for `brick`, or nullopt.
  std::optional<int> PortOf(std::string_view brick) const;

  // A counter bumped by every change. To wait for a brick you are about to start without being
  // fooled by an older entry: take g = Generation(), spawn, then WaitSignin(brick, deadline, g).
  uint64_t Generation() const;
  // Blocks until `brick` has signed in with generation > `after_generation`, or `deadline`
  // passes. Returns true if it did. Safe to call from any thread except an RPC connection's.
  bool WaitSignin(std::string_view brick, std::chrono::steady_clock::time_point deadline,
                  uint64_t after_generation = 0) const;

  // Blocks until `brick` is registered with `port` by a SIGNIN, or `deadline` passes. Returns
  // whether it is. Safe to call from any thread except an RPC connection's.
  bool WaitPort(std::string_view brick, int port,
                std::chrono::steady_clock::time_point deadline) const;

  // A copy of all entries.
  std::map<std::string, PortMapEntry, std::less<>> Snapshot() const;

 private:
  void Notify(PortMapEvent event, const std::string& brick, const PortMapEntry& entry)
      GD2_EXCLUDES(mu_, cb_mu_);

  mutable Mutex mu_;
  mutable CondVar cv_;
  std::map<std::string, PortMapEntry, std::less<>> entries_ GD2_GUARDED_BY(mu_);
  // Last generation at which each brick signed in; kept after removal so WaitSignin callers
  // that were waiting across a quick signin+signout still see it.
  std::map<std::string, uint64_t, std::less<>> last_signin_ GD2_GUARDED_BY(mu_);
  uint64_t generation_ GD2_GUARDED_BY(mu_) = 0;
  // Held while callbacks run: Unsubscribe waits for a call in progress.
  Mutex cb_mu_;
  std::map<SubscriptionId, ChangeCallback> callbacks_ GD2_GUARDED_BY(cb_mu_);
  SubscriptionId next_subscription_ GD2_GUARDED_BY(cb_mu_) = 1;
};

}  // namespace gd2::sunrpc
