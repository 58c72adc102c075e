#include "txn/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "common/failpoint.h"
#include "common/metrics.h"
#include "common/parallel.h"
#include "common/poll.h"
#include "common/uuid.h"
#include "store/lock.h"
#include "store/session.h"
#include "txn/quarantine.h"
#include "txn/record.h"

namespace gd2::txn {
namespace {

// Records of this process's transactions whose commit outcome etcd did not tell yet.
metrics::Gauge& OutcomesAwaited() {
  static metrics::Gauge& g = metrics::Default().GetGauge(
      "gd2_txn_outcomes_awaited",
      "transactions of this peer whose commit etcd did not answer and whose record no takeover "
      "pass has resolved yet");
  return g;
}

std::vector<RecordStep> RecordSteps(const std::vector<Step>& steps) {
  std::vector<RecordStep> out;
  for (const auto& s : steps) out.push_back(RecordStep{s.name, s.args, s.peers, s.peer_args});
  return out;
}

std::vector<Step> StepsOf(const Record& r) {
  std::vector<Step> out;
  for (const auto& s : r.steps) out.push_back(Step{s.name, s.args, s.peers, s.peer_args});
  return out;
}

// The progress record of a transaction: enough to undo it after a crash. Once it committed
// (`committed`), `steps` are its finish steps, all of them to run, and `owed` the peers that
// still owe their part (finish_peers); before, `owed` are the undo_peers.
std::string MakeRecord(const std::string& id, const std::string& initiator, const std::string& what,
                       const std::vector<std::string>& locks, const std::vector<Step>& steps,
                       size_t started, const std::vector<std::string>& owed = {},
                       bool committed = false) {
  Record r;
  r.id = id;
  r.initiator = initiator;
  r.description = what;
  r.locks = locks;
  r.steps = RecordSteps(steps);
  r.started = committed ? steps.size() : started;
  r.committed = committed;
  (committed ? r.finish_peers : r.undo_peers) = owed;
  return SerializeRecord(r);
}

}  // namespace

Engine::Engine(store::Store& store, store::Session& session, store::KeySpace keys,
               const StepRegistry& registry, std::string self_peer_id, StepRunner* remote)
    : store_(store),
      session_(session),
      keys_(std::move(keys)),
      registry_(registry),
      self_(std::move(self_peer_id)),
      remote_(remote) {}

Status Engine::RunStep(const std::string& peer, bool undo, StepContext& ctx, const Step& step) {
  if (peer != self_) {
    if (remote_ == nullptr) return UnavailableError("no peer RPC to run step on peer " + peer);
    return remote_->Run(peer, undo, ctx, step);
  }
  return registry_.Run(step.name, undo, ctx, step.ArgsFor(peer));
}

std::vector<Engine::PeerResult> Engine::RunOnPeers(const Step& step,
                                                   const std::vector<std::string>& peers, bool undo,
                                                   const StepContext& ctx, std::stop_source* stop) {
  std::vector<PeerResult> results(peers.size());
  Deadline deadline = std::chrono::steady_clock::now() + kStepTimeout;
  auto run_one = [&](size_t i) {
    if (stop != nullptr && stop->stop_requested()) {
      results[i].status = AbortedError("not run: another peer of the step failed");
      return;
    }
    StepContext peer_ctx = ctx;
    peer_ctx.deadline = std::min(ctx.deadline, deadline);
    if (stop != nullptr) peer_ctx.cancel = stop->get_token();
    auto t0 = std::chrono::steady_clock::now();
    results[i].ran = true;
    results[i].status = RunStep(peers[i], undo, peer_ctx, step);
    const Status& s = results[i].status;
    // Steps and the peer RPC answer kCancelled when they stop because they were told to.
    results[i].told_to_stop =
        stop != nullptr && stop->stop_requested() && s.code() == StatusCode::kCancelled;
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (s.ok()) {
      ctx.log.Info(undo ? "step undone" : "step done",
                   {{"step", step.name}, {"peer", peers[i]}, {"duration_ms", ms}});
    } else {
      if (stop != nullptr) stop->request_stop();
      if (results[i].told_to_stop) {
        ctx.log.Info("step stopped: another peer of it failed",
                     {{"step", step.name}, {"peer", peers[i]}, {"duration_ms", ms}, {"error", s}});
        return;
      }
      ctx.log.Error(undo ? "step undo failed" : "step failed",
                    {{"step", step.name}, {"peer", peers[i]}, {"duration_ms", ms}, {"error", s}});
    }
  };
  // The results are complete when every peer's run has returned.
  ParallelFor(peers.size(), kMaxParallelPeers, run_one);
  return results;
}

std::vector<std::string> Engine::UndoSteps(const std::vector<Step>& steps, size_t count,
                                           StepContext& ctx, const std::string& only_peer,
                                           Status* bad) {
  return RunParts(steps, count, /*undo=*/true, ctx, only_peer, bad);
}

std::vector<std::string> Engine::FinishSteps(const std::vector<Step>& steps, StepContext& ctx,
                                             const std::string& only_peer, Status* bad) {
  return RunParts(steps, steps.size(), /*undo=*/false, ctx, only_peer, bad);
}

std::vector<std::string> Engine::RunParts(const std::vector<Step>& steps, size_t count, bool undo,
                                          StepContext& ctx, const std::string& only_peer,
                                          Status* bad) {
  std::vector<std::string> failed;
  for (size_t n = 0; n < count; ++n) {
    const Step& step = steps[undo ? count - 1 - n : n];
    std::vector<std::string> peers;
    for (const auto& p : step.peers) {
      if (!only_peer.empty() && p != only_peer) continue;
      // A peer whose part of an earlier step (in this order) failed does all the rest of its
      // part itself, in order.
      if (std::find(failed.begin(), failed.end(), p) != failed.end()) continue;
      peers.push_back(p);
    }
    if (peers.empty()) continue;
    std::vector<PeerResult> results = RunOnPeers(step, peers, undo, ctx, nullptr);
    for (size_t k = 0; k < peers.size(); ++k) {
      const Status& s = results[k].status;
      if (s.ok()) continue;
      // The peer does its part itself when it is back (Recover) or on its next TakeOver pass.
      failed.push_back(peers[k]);
      if (bad != nullptr && bad->ok() && IsBadArguments(s)) *bad = s;
    }
  }
  return failed;
}

std::optional<bool> Engine::CommitApplied(const std::string& record_key) {
  // Only the commit deletes the record, or marks it committed, while its initiator runs it
  // (TakeOver leaves a running transaction's record alone).
  std::optional<bool> applied;
  PollUntil(std::chrono::steady_clock::now() + kCommitOutcomeWait,
            {std::chrono::milliseconds(250), std::chrono::milliseconds(250)}, [&] {
              StatusOr<std::optional<store::KeyValue>> record = store_.Get(record_key);
              if (!record.ok()) return false;
              if (!record->has_value()) {
                applied = true;
              } else {
                StatusOr<Record> r = ParseRecord((*record)->value);
                applied = r.ok() && r->committed;
              }
              return true;
            });
  return applied;
}

Status Engine::CheckSteps(const std::vector<Step>& steps, const std::vector<std::string>& locks,
                          bool finish) const {
  for (const Step& step : steps) {
    if (finish && !registry_.IsFinishStep(step.name)) {
      return BadArgumentsError(step.name,
                               "cannot run after a commit (StepRegistry::AllowAsFinish)");
    }
    // What each of its peers runs it with.
    for (const auto& peer : step.peers) {
      GD2_ASSIGN_OR_RETURN(std::vector<std::string> needed,
                           registry_.LocksFor(step.name, step.ArgsFor(peer)));
      for (const auto& lock : needed) {
        if (std::find(locks.begin(), locks.end(), lock) != locks.end()) continue;
        return BadArgumentsError(
            step.name, "runs under lock " + lock + ", which the transaction does not take");
      }
    }
  }
  return OkStatus();
}

bool Engine::Running(const std::string& txn_id) const {
  MutexLock lock(running_mu_);
  return running_.contains(txn_id);
}

Status Engine::Run(Txn txn, const log::Logger& log) {
  auto start = std::chrono::steady_clock::now();
  StepContext ctx;
  ctx.txn_id = RandomHex(8);
  ctx.req_id = txn.req_id;
  ctx.log = log.With({{"txn_id", ctx.txn_id}});
  // While it runs, its record is this Run's alone.
  struct RunningMark {
    Engine* engine;
    std::string id;
    RunningMark(Engine* e, std::string txn_id) : engine(e), id(std::move(txn_id)) {
      MutexLock lock(engine->running_mu_);
      engine->running_.insert(id);
    }
    ~RunningMark() { Clear(); }
    void Clear() {
      MutexLock lock(engine->running_mu_);
      engine->running_.erase(id);
    }
    RunningMark(const RunningMark&) = delete;
    RunningMark& operator=(const RunningMark&) = delete;
  } running_mark(this, ctx.txn_id);

  std::sort(txn.locks.begin(), txn.locks.end());
  txn.locks.erase(std::unique(txn.locks.begin(), txn.locks.end()), txn.locks.end());
  std::vector<store::LockGuard> guards;
  for (const auto& name : txn.locks) {
    auto g = store::Lock::Acquire(store_, session_, keys_, name, kLockTimeout);
    if (!g.ok()) return g.status();
    guards.push_back(std::move(*g));
  }
  // A lock etcd does not let go of now goes to the session at once (a second try would wait
  // for etcd once more).
  auto release = [&guards] {
    for (auto& g : guards) g.ReleaseOrHandOver();
  };
  // Where the time went, for the line that ends the transaction.
  auto locked = std::chrono::steady_clock::now();
  if (txn.plan) {
    // State is read and checked here, under the locks: nothing is recorded or run if it fails.
    StatusOr<std::vector<Step>> planned = txn.plan();
    if (!planned.ok()) {
      release();
      ctx.log.Info("transaction not started", {{"txn", txn.description}, {"error", planned.status()}});
      return planned.status();
    }
    txn.steps = std::move(planned).value();
  }
  // A step run without the locks it needs (StepRegistry::RequireLocks) is a bug of the caller.
  if (Status covered = CheckSteps(txn.steps, txn.locks, /*finish=*/false); !covered.ok()) {
    release();
    return InternalError("transaction " + txn.description + ": " + covered.message());
  }
  auto planned_at = std::chrono::steady_clock::now();

  StatusOr<std::string> record_key_or = keys_.Txn(ctx.txn_id);
  if (!record_key_or.ok()) {
    release();
    return record_key_or.status();
  }
  const std::string record_key = *record_key_or;
  size_t started = 0;
  Status failure;
  bool outcome_unknown = false;
  std::function<void()> wake;  // on_unknown_, called at the end when the outcome is not known
  std::vector<Step> finish;  // the commit's finish steps, once it took effect
  for (; started < txn.steps.size(); ++started) {
    const Step& step = txn.steps[started];
    // Record the intent before acting, so a crash mid-step is undone by recovery.
    auto put = store_.Put(record_key, MakeRecord(ctx.txn_id, self_, txn.description, txn.locks,
                                                 txn.steps, started + 1));
    if (!put.ok()) {
      failure = put.status();
      break;
    }
    // Every peer of the step at once. The record already counts the step as begun, so a failure
    // on one peer undoes it on all of them, including those that succeeded or were skipped.
    std::stop_source stop;
    std::vector<PeerResult> results = RunOnPeers(step, step.peers, false, ctx, &stop);
    // The first failure in the step's order; peers skipped or told to stop after it are not its
    // cause. The part that asked for the stop saw none requested, so it is never told_to_stop:
    // a step with such parts always has a failure to report.
    for (size_t i = 0; i < results.size() && failure.ok(); ++i) {
      const Status& s = results[i].status;
      if (s.ok() || !results[i].ran || results[i].told_to_stop) continue;
      failure = Status(
          s.code(), "step " + step.name + " failed on peer " + step.peers[i] + ": " + s.message());
    }
    if (failure.ok()) GD2_FAILPOINT("txn.after-step:" + step.name);
    if (!failure.ok()) {
      ++started;  // the failed step may have done part of its work
      break;
    }
  }

  auto steps_done = std::chrono::steady_clock::now();
  if (failure.ok()) {
    GD2_FAILPOINT("txn.before-commit");
    StatusOr<Commit> commit = txn.commit ? txn.commit() : StatusOr<Commit>(Commit{});
    // Finish steps obey the rules their records are held to (RollBack): a caller's bug otherwise.
    if (Status covered =
            commit.ok() ? CheckSteps(commit->finish, txn.locks, /*finish=*/true) : OkStatus();
        !covered.ok()) {
      commit = InternalError("transaction " + txn.description + ": " + covered.message());
    }
    if (!commit.ok()) {
      failure = commit.status();
    } else {
      std::vector<store::Compare> compares = commit->compares;
      for (const auto& g : guards) compares.push_back(g.FenceCompare());
      std::vector<store::Op> ops = commit->ops;
      if (commit->finish.empty()) {
        ops.push_back(store::Op::Delete(record_key));
        // The locks go in the same request as the commit.
        for (const auto& g : guards) ops.push_back(g.ReleaseOp());
      } else {
        // The record now says what is left to do, and the locks stay until it is done.
        ops.push_back(
            store::Op::Put(record_key, MakeRecord(ctx.txn_id, self_, txn.description, txn.locks,
                                                  commit->finish, 0, {}, /*committed=*/true)));
      }
      auto r = store_.Txn(compares, ops, {});
      if (r.ok() && GD2_FAILPOINT_ARMED("txn.commit-answer-lost")) {
        r = UnavailableError("etcd connection lost before the commit's answer (failpoint)");
      }
      if (!r.ok()) {
        std::optional<bool> applied = CommitApplied(record_key);
        if (applied == true) {
          // Its answer was lost, but the commit (and the release of its locks) took effect:
          // undoing the steps now would contradict the store, without the locks.
          ctx.log.Warn("commit applied though its answer was lost", {{"error", r.status()}});
          finish = commit->finish;
        } else if (applied == false) {
          failure = r.status();
        } else {
          // Undoing now could contradict a commit that took effect: the record stays, and
          // TakeOver rolls the transaction back once etcd answers if it did not commit.
          outcome_unknown = true;
          failure = UnavailableError(
              "the outcome of the commit is not known: etcd answered neither the commit nor the "
              "reads after it for " +
              std::to_string(kCommitOutcomeWait.count() / 1000) + " s (" + r.status().message() +
              "); if it did not take effect it is rolled back as soon as etcd answers again, and "
              "until then a retry may find the objects it claimed still taken: check, then retry");
          // etcd has just not answered for kCommitOutcomeWait: the locks are not asked for
          // again (each would wait for its timeout) but left to the session.
          for (auto& g : guards) g.HandOver();
          MutexLock lock(unknown_mu_);
          unknown_[record_key] = std::chrono::steady_clock::now();
          OutcomesAwaited().Set(static_cast<double>(unknown_.size()));
          wake = on_unknown_;
        }
      } else {
        if (commit->finish.empty()) {
          for (auto& g : guards) g.ReleasedBy(*r);
        }
        if (!r->succeeded) {
          failure =
              AbortedError("transaction not committed: its cluster lock was lost or the " +
                           std::string("object changed concurrently (") + txn.description + ")");
        } else {
          finish = commit->finish;
        }
      }
    }
  }

  if (!failure.ok() && !outcome_unknown) {
    std::vector<std::string> unreached = UndoSteps(txn.steps, started, ctx);
    Status d;
    if (unreached.empty()) {
      d = store_.Delete(record_key).status();
    } else {
      // The peers named undo their part later: Recover at their start, TakeOver while they run.
      d = store_.Put(record_key, MakeRecord(ctx.txn_id, self_, txn.description, txn.locks,
                                            txn.steps, started, unreached))
              .status();
    }
    if (!d.ok()) ctx.log.Warn("cannot update transaction record", {{"error", d}});
  }
  auto committed_at = std::chrono::steady_clock::now();
  if (!finish.empty()) {
    GD2_FAILPOINT("txn.before-finish");
    std::vector<std::string> owed = FinishSteps(finish, ctx);
    if (!owed.empty()) {
      ctx.log.Warn("finish steps failed on some peers; they finish their part later",
                   {{"txn", txn.description}, {"peers", owed.size()}});
    }
    // The outcome and the release of the locks in one request, fenced by the locks like the
    // commit: an initiator whose locks expired while it finished (its transaction may be in
    // another peer's hands by now) writes nothing. Should it not apply, the record stays as the
    // commit wrote it, and whoever resolves it next finishes it all again.
    std::vector<store::Compare> fences;
    for (const auto& g : guards) fences.push_back(g.FenceCompare());
    std::vector<store::Op> ops;
    if (owed.empty()) {
      ops.push_back(store::Op::Delete(record_key));
    } else {
      ops.push_back(store::Op::Put(
          record_key, MakeRecord(ctx.txn_id, self_, txn.description, txn.locks, finish, 0, owed,
                                 /*committed=*/true)));
    }
    for (const auto& g : guards) ops.push_back(g.ReleaseOp());
    auto r = store_.Txn(fences, ops, {});
    if (r.ok() && r->succeeded) {
      for (auto& g : guards) g.ReleasedBy(*r);
    } else {
      ctx.log.Warn("cannot update transaction record",
                   {{"error", r.ok() ? Status(AbortedError("a lock was lost while finishing"))
                                     : r.status()}});
    }
  }
  release();

  auto end = std::chrono::steady_clock::now();
  auto ms_between = [](auto from, auto to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  double ms = ms_between(start, end);
  metrics::Default()
      .GetHistogram("gd2_txn_duration_seconds", "transaction latency", {{"result", failure.ok() ? "ok" : "error"}})
      .Observe(ms / 1000);
  if (failure.ok()) {
    ctx.log.Info("transaction committed", {{"txn", txn.description},
                                           {"duration_ms", ms},
                                           {"lock_ms", ms_between(start, locked)},
                                           {"plan_ms", ms_between(locked, planned_at)},
                                           {"steps_ms", ms_between(planned_at, steps_done)},
                                           {"commit_ms", ms_between(steps_done, committed_at)},
                                           {"finish_ms", ms_between(committed_at, end)}});
  } else {
    ctx.log.Error("transaction failed", {{"txn", txn.description}, {"duration_ms", ms},
                                         {"error", failure}});
  }
  // The takeover pass that resolves it, as soon as etcd answers again (which skips records a
  // Run still works on: this one is done with its record).
  if (wake) {
    running_mark.Clear();
    wake();
  }
  return failure;
}

template <typename Pick>
StatusOr<int> Engine::RollBackEach(const log::Logger& log, std::string_view on_failure, Pick pick) {
  // Records whose outcome this process awaits: the ones this pass finds resolved are forgotten at
  // its end (not those a Run adds meanwhile). Resolved: gone, or no longer as the Run left it,
  // uncommitted with nobody owing a part (another peer took it over, and what is left waits for
  // a peer, not for etcd).
  std::set<std::string> awaited;
  {
    MutexLock lock(unknown_mu_);
    for (const auto& [key, since] : unknown_) awaited.insert(key);
  }
  GD2_ASSIGN_OR_RETURN(std::vector<store::KeyValue> records, store_.List(keys_.TxnPrefix()));
  std::set<std::string> open;  // awaited records this pass leaves
  for (const auto& kv : records) {
    if (!awaited.contains(kv.key)) continue;
    auto r = ParseRecord(kv.value);
    if (r.ok() && !r->committed && r->owed_peers().empty() && r->initiator == self_) {
      open.insert(kv.key);
    }
  }
  struct Forget {
    Engine* engine;
    const std::set<std::string>& awaited;
    const std::set<std::string>& open;
    ~Forget() {
      MutexLock lock(engine->unknown_mu_);
      const auto now = std::chrono::steady_clock::now();
      for (const auto& key : awaited) {
        auto it = engine->unknown_.find(key);
        if (it == engine->unknown_.end()) continue;
        if (!open.contains(key) || now - it->second > kOutcomeAwaitMax) engine->unknown_.erase(it);
      }
      OutcomesAwaited().Set(static_cast<double>(engine->unknown_.size()));
    }
  } forget{this, awaited, open};
  int undone = 0;
  for (const auto& kv : records) {
    auto r = ParseRecord(kv.value);
    if (!r.ok()) {
      // Damaged or forged: set aside so that no pass reads it again.
      auto q = Quarantine(store_, keys_, kv, "txn", r.status(), log);
      if (!q.ok()) log.Error("cannot quarantine a bad transaction record", {{"key", kv.key}, {"error", q.status()}});
      continue;
    }
    GD2_ASSIGN_OR_RETURN(std::optional<Scope> scope, pick(*r));
    if (!scope.has_value()) continue;
    auto done = RollBack(kv, *scope, log);
    if (!done.ok()) {
      log.Warn(std::string(on_failure), {{"key", kv.key}, {"error", done.status()}});
      continue;
    }
    undone += *done ? 1 : 0;
    if (*done) open.erase(kv.key);
  }
  return undone;
}

bool Engine::AwaitingOutcome() const {
  MutexLock lock(unknown_mu_);
  return !unknown_.empty();
}

void Engine::OnOutcomeUnknown(std::function<void()> wake) {
  MutexLock lock(unknown_mu_);
  on_unknown_ = std::move(wake);
}

StatusOr<int> Engine::Recover(const log::Logger& log) {
  // Another peer may be taking one over right now (its locks are busy); a store error leaves
  // it for the next start.
  return RollBackEach(log, "cannot roll back an unfinished transaction",
                      [this](const Record& r) -> StatusOr<std::optional<Scope>> {
                        const std::vector<std::string>& owed = r.owed_peers();
                        if (r.initiator == self_ && owed.empty())
                          return std::optional<Scope>(Scope::kAll);
                        bool my_part = std::find(owed.begin(), owed.end(), self_) != owed.end();
                        if (my_part) return std::optional<Scope>(Scope::kSelf);
                        return std::optional<Scope>();
                      });
}

StatusOr<int> Engine::TakeOver(const log::Logger& log) {
  return RollBackEach(log, "cannot take over a dead initiator's transaction",
                      [this](const Record& r) -> StatusOr<std::optional<Scope>> {
                        // This peer's part of a failed transaction whose undo failed here (or of a
                        // committed one whose finish step did): retry it now rather than at the
                        // next start.
                        const std::vector<std::string>& owed = r.owed_peers();
                        if (std::find(owed.begin(), owed.end(), self_) != owed.end()) {
                          return std::optional<Scope>(Scope::kSelf);
                        }
                        if (!owed.empty()) return std::optional<Scope>();
                        if (r.initiator == self_) {
                          // This peer's own, and no Run of this process works on it: a commit
                          // whose outcome was not known, an outcome that could not be written,
                          // or a crashed run's that Recover did not get to. Its record is there,
                          // so it did not commit (rolled back now rather than at the next start),
                          // or it is marked committed (finished now).
                          if (Running(r.id)) return std::optional<Scope>();
                          return std::optional<Scope>(Scope::kAll);
                        }
                        // Only a dead initiator's: its liveness key (bound to its session
                        // lease, like its locks) is gone.
                        GD2_ASSIGN_OR_RETURN(std::string alive_key, keys_.Alive(r.initiator));
                        GD2_ASSIGN_OR_RETURN(std::optional<store::KeyValue> alive, store_.Get(alive_key));
                        if (alive.has_value()) return std::optional<Scope>();
                        return std::optional<Scope>(Scope::kAll);
                      });
}

StatusOr<bool> Engine::RollBack(const store::KeyValue& seen, Scope scope, const log::Logger& log) {
  // The transaction's own locks: held by its initiator while it lives (or its lease does), so
  // holding them means nobody runs it any more; plus one per transaction, so that two peers
  // rolling back the same record take turns.
  const std::string& key = seen.key;
  GD2_ASSIGN_OR_RETURN(Record r, ParseRecord(seen.value));
  // A record whose locks do not cover its steps would have them undone (or finished) beside
  // the operations those locks keep out, and a committed one naming a step not made to run after
  // a commit would have any step's do run: damaged or forged, set aside before any lock is taken.
  if (Status covered = CheckSteps(StepsOf(r), r.locks, r.committed); !covered.ok()) {
    GD2_RETURN_IF_ERROR(Quarantine(store_, keys_, seen, "txn", covered, log).status());
    return false;
  }
  std::vector<store::LockGuard> guards;
  {
    // kSelf too: the undo must not run beside a newer transaction on the same objects.
    std::vector<std::string> locks = r.locks;
    locks.push_back("txn." + r.id);
    std::sort(locks.begin(), locks.end());
    for (const auto& name : locks) {
      auto g = store::Lock::Acquire(store_, session_, keys_, name, std::chrono::seconds(1));
      if (!g.ok()) {
        for (auto& held : guards) held.ReleaseOrHandOver();
        return g.status();
      }
      guards.push_back(std::move(*g));
    }
  }
  // Read again under the locks: another peer may have finished it meanwhile.
  auto again = store_.Get(key);
  Status result;
  bool done = false;
  if (!again.ok()) {
    result = again.status();
  } else if (again->has_value() && (*again)->mod_revision == seen.mod_revision) {
    StepContext ctx;
    ctx.txn_id = r.id;
    ctx.log = log.With({{"txn_id", ctx.txn_id}});
    ctx.log.Warn(
        r.committed ? "finishing committed transaction" : "rolling back unfinished transaction",
        {{"txn", r.description},
         {"initiator", r.initiator},
         {"steps_started", r.started},
         {"scope", scope == Scope::kAll ? "all peers" : "this peer"}});
    Status bad;
    const std::string only = scope == Scope::kAll ? "" : self_;
    std::vector<std::string> unreached;
    if (r.committed) {
      unreached = FinishSteps(StepsOf(r), ctx, only, &bad);
    } else {
      unreached = UndoSteps(StepsOf(r), r.started, ctx, only, &bad);
    }
    if (!bad.ok()) {
      // A step refused the record's arguments: it is damaged or forged. Set it aside instead of
      // keeping it for a retry that would fail the same way.
      for (auto& g : guards) g.ReleaseOrHandOver();
      // Set aside, not rolled back: not counted.
      GD2_RETURN_IF_ERROR(Quarantine(store_, keys_, **again, "txn", bad, log).status());
      return false;
    }
    if (scope == Scope::kSelf) {
      if (!unreached.empty()) {
        // This peer's part failed again: the record stays as it is for the next pass.
        for (auto& g : guards) g.ReleaseOrHandOver();
        return AbortedError(std::string(r.committed ? "finish" : "undo") +
                            " failed on this peer; kept for a retry: " + key);
      }
      unreached = r.owed_peers();
      unreached.erase(std::remove(unreached.begin(), unreached.end(), self_), unreached.end());
    }
    // Write the outcome unless the record changed meanwhile (another of its owed peers took
    // itself out): then take only this peer out of the newer version.
    const char* owed_field = r.committed ? "finish_peers" : "undo_peers";
    std::string value = (*again)->value;
    int64_t revision = (*again)->mod_revision;
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::vector<store::Op> ops;
      if (unreached.empty()) {
        ops.push_back(store::Op::Delete(key));
      } else {
        nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
        j[owed_field] = unreached;
        ops.push_back(store::Op::Put(key, j.dump()));
      }
      auto t = store_.Txn({store::Compare::ModRevisionEquals(key, revision)}, ops, {});
      if (!t.ok() || t->succeeded) {
        result = t.status();
        break;
      }
      auto fresh = store_.Get(key);
      if (!fresh.ok() || !fresh->has_value()) {
        result = fresh.status();
        break;
      }
      auto newer = ParseRecord((*fresh)->value);
      if (!newer.ok()) {
        result = newer.status();
        break;
      }
      if (scope == Scope::kSelf) {
        unreached = newer->owed_peers();
        unreached.erase(std::remove(unreached.begin(), unreached.end(), self_), unreached.end());
      }
      value = (*fresh)->value;
      revision = (*fresh)->mod_revision;
      result = AbortedError("transaction record kept changing: " + key);
    }
    done = result.ok();
  }
  for (auto& g : guards) g.ReleaseOrHandOver();
  if (!result.ok()) return result;
  return done;
}

}  // namespace gd2::txn
