// The transaction engine. An operation is a list of named steps, each run on the peers that
// need it (never the whole cluster), with an undo action. The initiator takes cluster locks on
// the objects involved, records its progress in the store, runs the steps (each on all of its
// peers at once, at most kMaxParallelPeers at a time), undoes the executed ones in reverse order
// when one fails (each on all of its peers at once), and only then commits the result in one etcd
// transaction fenced by its locks: an initiator whose lock expired while it stalled cannot
// commit. A recovery pass at start-up undoes what a crashed initiator left, and any peer takes
// over the transactions of an initiator that stays dead (TakeOver).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/keys.h"
#include "store/store.h"
#include "txn/step.h"

namespace gd2::store {
class Session;
}

namespace gd2::txn {

// What the initiator writes to the store when every step succeeded.
struct Commit {
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
  // Steps run once the commit took effect, each on all its peers at once, one step after the
  // other, still under the transaction's locks: work that must not happen unless the change
  // commits and cannot be undone (removing what a deleted object left on its peers). They are
  // never undone and must be idempotent: a peer whose part failed (or could not be reached) does
  // it again later, itself (its TakeOver passes, its next start), and if the initiator dies
  // before they end, the peer that takes its transactions over runs them all again.
  std::vector<Step> finish;
};

struct Txn {
  std::string description;          // "volume create v1", for logs
  std::string req_id;               // the ReST request it serves, sent with its steps; may be empty
  std::vector<std::string> locks;   // lock names (key segments), taken in sorted order
  std::vector<Step> steps;
  // If set, called once the locks are held and before anything is recorded or run: it reads the
  // objects the transaction acts on again and checks their state under the locks, and returns
  // the steps to run (replacing `steps`). An error ends the transaction with nothing done. State
  // checked before the locks were taken must never decide a destructive step.
  std::function<StatusOr<std::vector<Step>>()> plan;
  // Called after the last step; builds the commit (may read the store). A non-OK status undoes
  // the steps.
  std::function<StatusOr<Commit>()> commit;
};

// Runs one step on one other peer (peer_rpc::RemoteStepRunner). The engine calls it from several
// threads at once, for different peers and for the same peer: it must be thread-safe. It must
// give up by ctx.deadline.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual Status Run(const std::string& peer_id, bool undo, StepContext& ctx, const Step& step) = 0;
};

class Engine {
 public:
  // `remote` runs steps on other peers; nullptr: only local steps are possible (kUnavailable
  // for others). All references must outlive the engine.
  Engine(store::Store& store, store::Session& session, store::KeySpace keys,
         const StepRegistry& registry, std::string self_peer_id, StepRunner* remote = nullptr);

  // Runs `txn`. A step runs on all its peers at once (at most kMaxParallelPeers at a time), each
  // with a deadline kStepTimeout after the step began; once one peer failed, peers not yet begun
  // are skipped and the parts still running see ctx.cancel (another peer's call is cancelled,
  // peer_rpc::StepCall::cancel; its undo waits there for the do to end, StepRegistry::Run).
  // Errors: kAborted "cluster lock busy" (lock not obtained in 5 s) or "lock lost before
  // commit"; the failing step's error with the step and peer named (the first failing peer in
  // the step's order, not counting parts that ended with kCancelled after being told to
  // stop); store errors.
  // Once the commit took effect the transaction has succeeded, whatever its finish steps
  // (Commit::finish) do: a part that failed is logged and done later.
  // On every error the executed steps have been undone, on every peer of each step begun (also
  // the peers of the failed step that succeeded or were skipped), except one: kUnavailable "the
  // outcome of the commit is not known" when etcd answered neither the commit nor, for
  // kCommitOutcomeWait, the reads after it. Then nothing is undone (the commit may have taken
  // effect) and the record is left to TakeOver, which rolls the transaction back if it did not
  // commit. Thread-safe.
  Status Run(Txn txn, const log::Logger& log);

  // Undoes the steps of transactions this peer started and did not finish (it crashed), and
  // this peer's part of failed transactions whose undo could not reach it (it was down), then
  // forgets them; committed ones (and this peer's part of their finish steps that failed) are
  // finished instead. Call at start-up before serving. Returns how many were rolled back or
  // finished.
  StatusOr<int> Recover(const log::Logger& log);

  // Rolls back, on every peer, the unfinished transactions of initiators that are dead (their
  // liveness key is gone, so their locks are free): a crashed initiator that does not come back
  // leaves nothing behind. A transaction that had committed is not rolled back but finished:
  // its finish steps are run (the same for each case below). Also retries this peer's part of
  // failed transactions whose undo failed here (undo_peers naming this peer), so those do not wait
  // for a restart, and rolls back this peer's own records that no Run of this process is working on
  // (the commit's outcome was not known, or the record could not be updated after an undo; a
  // crashed run's before Recover got to it). Any peer may call it at any time; peers that race take
  // turns on the transaction's locks and the loser finds nothing left. Returns how many were rolled
  // back or finished.
  //
  // Recover and TakeOver never stop on a bad record: one that does not parse, or whose step
  // refuses its arguments (IsBadArguments), is moved to quarantine/ (txn/quarantine.h), logged
  // with its key and counted in gd2_store_records_quarantined_total{kind="txn"}.
  StatusOr<int> TakeOver(const log::Logger& log);

  // True while a Run of this process has left a record whose commit's outcome it did not learn
  // (kUnavailable "the outcome of the commit is not known"): a TakeOver pass resolves it once
  // etcd answers again, so the caller of TakeOver should pass again within a second or so rather
  // than wait for its periodic pass (a retry of the same request is refused until then).
  bool AwaitingOutcome() const GD2_EXCLUDES(unknown_mu_);
  // Called, on the Run's thread and with no lock of the engine held, each time a Run leaves such
  // a record; nullptr: nobody. Set it before serving and clear it before whatever it calls goes.
  void OnOutcomeUnknown(std::function<void()> wake) GD2_EXCLUDES(unknown_mu_);

  static constexpr std::chrono::milliseconds kLockTimeout{5000};
  static constexpr std::chrono::milliseconds kStepTimeout{std::chrono::minutes(2)};
  static constexpr size_t kMaxParallelPeers = 16;
  // How long a commit that etcd did not answer is looked for before its outcome counts as not
  // known.
  static constexpr std::chrono::milliseconds kCommitOutcomeWait{10000};
  // How long AwaitingOutcome() stays true for one record that no pass resolves (etcd stays
  // away, or the record waits for a peer that is down).
  static constexpr std::chrono::minutes kOutcomeAwaitMax{5};

 private:
  // After a commit that failed without an answer: whether it was applied all the same (its
  // transaction record, which only the commit deletes or marks committed, is gone or marked),
  // asked until etcd answers or kCommitOutcomeWait has passed; nullopt if it never did.
  std::optional<bool> CommitApplied(const std::string& record_key);
  // OK if `locks` has every lock the steps need with their arguments (StepRegistry::LocksFor, on
  // every peer's arguments) and, for `finish` steps, each may run after a commit
  // (StepRegistry::AllowAsFinish); else BadArgumentsError naming the step and what is missing.
  Status CheckSteps(const std::vector<Step>& steps, const std::vector<std::string>& locks,
                    bool finish) const;
  // Whether a Run of this process works on transaction `txn_id` now.
  bool Running(const std::string& txn_id) const GD2_EXCLUDES(running_mu_);
  // Runs `step` on one peer: this one through the registry, another through the StepRunner.
  Status RunStep(const std::string& peer, bool undo, StepContext& ctx, const Step& step);
  // Runs (or undoes) `step` on each of `peers` at once, each with its own copy of `ctx` and the
  // deadline `deadline`. For a do, a failure requests `stop`, and peers not begun by then are
  // skipped with kAborted. Returns one result per peer, in the order of `peers`.
  struct PeerResult {
    Status status;
    bool ran = false;  // false: skipped after another peer failed
    // Failed with kCancelled once another peer had failed: it stopped because it was told to,
    // and is not the step's failure.
    bool told_to_stop = false;
  };
  std::vector<PeerResult> RunOnPeers(const Step& step, const std::vector<std::string>& peers,
                                     bool undo, const StepContext& ctx, std::stop_source* stop);
  enum class Scope { kAll, kSelf };
  // Undoes the record `seen` as listed (kAll: every step on every peer, under the transaction's
  // locks; kSelf: this peer's part of a record with undo_peers) and deletes it, or narrows its
  // undo_peers to the peers still unreachable; finishes a committed record the same way (its
  // finish steps, finish_peers). False if the record was gone or changed since.
  StatusOr<bool> RollBack(const store::KeyValue& seen, Scope scope, const log::Logger& log);
  // Lists the transaction records and rolls back those `pick` gives a scope to (pick: parsed
  // record -> StatusOr<std::optional<Scope>>); a failed rollback is logged as `on_failure` and
  // skipped. Returns how many were rolled back.
  template <typename Pick>
  StatusOr<int> RollBackEach(const log::Logger& log, std::string_view on_failure, Pick pick);
  // Undoes steps [0, count) in reverse, each on all its peers at once (only on `only_peer` if not
  // empty; never again on a peer whose undo failed). Returns the peers where an undo failed
  // (unreachable): they undo when they are back. `bad`, if given, is set to the first
  // IsBadArguments status of an undo.
  std::vector<std::string> UndoSteps(const std::vector<Step>& steps, size_t count, StepContext& ctx,
                                     const std::string& only_peer = "", Status* bad = nullptr);
  // Runs a committed transaction's finish steps in order, the same way (forward, and doing):
  // returns the peers where one failed; they do the rest of their part later.
  std::vector<std::string> FinishSteps(const std::vector<Step>& steps, StepContext& ctx,
                                       const std::string& only_peer = "", Status* bad = nullptr);
  // UndoSteps and FinishSteps.
  std::vector<std::string> RunParts(const std::vector<Step>& steps, size_t count, bool undo,
                                    StepContext& ctx, const std::string& only_peer, Status* bad);

  store::Store& store_;
  store::Session& session_;
  store::KeySpace keys_;
  const StepRegistry& registry_;
  std::string self_;
  StepRunner* remote_;
  // The transactions Run works on now (TakeOver leaves their records alone).
  mutable Mutex running_mu_;
  std::set<std::string> running_ GD2_GUARDED_BY(running_mu_);
  // Record keys of this process's Runs whose commit outcome is not known yet (AwaitingOutcome);
  // a key goes once a pass finds the record resolved.
  mutable Mutex unknown_mu_;
  // Each with when its Run left it: an outcome awaited for longer than kOutcomeAwaitMax is
  // left to the periodic passes.
  std::map<std::string, std::chrono::steady_clock::time_point> unknown_ GD2_GUARDED_BY(unknown_mu_);
  std::function<void()> on_unknown_ GD2_GUARDED_BY(unknown_mu_);
};

}  // namespace gd2::txn
