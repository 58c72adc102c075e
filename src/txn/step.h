// Transaction steps: a step is a name tied to the type of its arguments (StepId<Args>), the
// arguments' JSON mapping written once beside that type, and a do and an undo action taking the
// decoded arguments. StepRegistry holds the actions and is the one guarded entry point that runs
// them, for the local engine and for steps arriving over the peer RPC alike: it decodes and
// checks the arguments, runs the action and turns whatever goes wrong into a Status. It also
// keeps the runs of one part of a transaction on this peer in order (StepRegistry::Run).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace gd2::txn {

// Absolute deadline of a step. Deadline::max() means none.
using Deadline = std::chrono::steady_clock::time_point;

// What a step action runs with. Copied for each peer a step runs on.
struct StepContext {
  std::string txn_id;
  std::string req_id;  // the ReST request that started the transaction; may be empty
  log::Logger log;
  // When the initiator stops waiting for this step: a step bounds the processes it runs and the
  // waits it does by it (on another peer it is the peer RPC's deadline).
  Deadline deadline = Deadline::max();
  // Requested when the transaction gives up on the step (another peer of it failed): an action
  // may stop early, and then returns kCancelled (the engine does not report that as the step's
  // failure); its undo runs regardless.
  std::stop_token cancel;
};

// kInvalidArgument "bad step arguments: step=<step>: <detail>": the step refused its arguments.
// A transaction record carrying such a step is damaged or forged; it is quarantined, not retried.
Status BadArgumentsError(std::string_view step, std::string_view detail);
// True for a status made by BadArgumentsError (also after it crossed the peer RPC).
bool IsBadArguments(const Status& s);

// The name of a step whose arguments are an `Args`. `Args` provides, in its own namespace (found
// by argument-dependent lookup), its JSON mapping:
//   nlohmann::json EncodeStepArgs(const Args& args);
//   // kInvalidArgument naming the field for anything EncodeStepArgs would not have written.
//   Status DecodeStepArgs(const nlohmann::json& json, Args* args);
// Declared once per step, e.g. `inline constexpr txn::StepId<BrickSetArgs> kPrepareBricks{
// "volume.prepare-bricks"};`. Names are "plugin.verb" (txn::ValidateStepName).
template <typename Args>
class StepId {
 public:
  explicit constexpr StepId(std::string_view name) : name_(name) {}
  constexpr std::string_view name() const { return name_; }

 private:
  std::string_view name_;
};

// One step of a transaction: its name, its encoded arguments (as recorded in the store and sent
// to peers) and the peers it runs on. Built with MakeStep or MakePerPeerStep; the engine rebuilds
// it from records.
struct Step {
  std::string name;  // "volume.prepare-bricks"
  nlohmann::json args;             // for every peer without its own entry in peer_args
  std::vector<std::string> peers;  // peer ids to run it on
  // The arguments of particular peers (peer id -> encoded arguments): a step whose peers each
  // work on their own part (their own bricks) runs on all of them at once, and each is sent, and
  // undoes after a crash, its own part only.
  std::map<std::string, nlohmann::json> peer_args = {};

  // What `peer` runs the step with.
  const nlohmann::json& ArgsFor(const std::string& peer) const {
    auto it = peer_args.find(peer);
    return it == peer_args.end() ? args : it->second;
  }
};

// The same arguments on every peer in `peers`.
template <typename Args>
Step MakeStep(const StepId<Args>& id, const Args& args, std::vector<std::string> peers) {
  return Step{std::string(id.name()), EncodeStepArgs(args), std::move(peers), {}};
}

// Each peer its own arguments; the step runs on the peers of `per_peer`, in its order.
template <typename Args>
Step MakePerPeerStep(const StepId<Args>& id, const std::map<std::string, Args>& per_peer) {
  Step s{std::string(id.name()), nlohmann::json::object(), {}, {}};
  for (const auto& [peer, args] : per_peer) {
    s.peers.push_back(peer);
    s.peer_args.emplace(peer, EncodeStepArgs(args));
  }
  return s;
}

// Arguments of a step that takes none: encoded as {}, decoded from {} or null.
struct NoArgs {};
nlohmann::json EncodeStepArgs(const NoArgs&);
Status DecodeStepArgs(const nlohmann::json& json, NoArgs* args);

// A step action. Do and undo must be idempotent; undo must tolerate a do that stopped halfway.
template <typename Args>
using StepAction = std::function<Status(StepContext& ctx, const Args& args)>;
// A check of decoded arguments against this peer's configuration (e.g. no brick inside the
// workdir), run by the registry right after decoding. Its error is reported as bad arguments.
template <typename Args>
using ArgsCheck = std::function<Status(const Args& args)>;

class StepRegistry {
 public:
  // Registers the step `id`. A missing action (nullptr) succeeds without decoding anything.
  // Aborts startup on a duplicate name. Not thread-safe: register everything before serving.
  template <typename Args>
  void Add(const StepId<Args>& id, std::type_identity_t<StepAction<Args>> do_fn,
           std::type_identity_t<StepAction<Args>> undo_fn,
           std::type_identity_t<ArgsCheck<Args>> check = nullptr) {
    std::string name(id.name());
    Entry e;
    e.has_do = static_cast<bool>(do_fn);
    e.has_undo = static_cast<bool>(undo_fn);
    e.run = [name, do_fn = std::move(do_fn), undo_fn = std::move(undo_fn),
             check = std::move(check)](bool undo, StepContext& ctx,
                                       const nlohmann::json& json) -> Status {
      Args args{};
      Status decoded = Decode(name, [&] {
        GD2_RETURN_IF_ERROR(DecodeStepArgs(json, &args));
        return check ? check(args) : OkStatus();
      });
      if (!decoded.ok()) return decoded;
      return undo ? undo_fn(ctx, args) : do_fn(ctx, args);
    };
    AddEntry(std::move(name), std::move(e));
  }

  // True if a step of this name is registered.
  bool Has(std::string_view name) const;

  // Declares the cluster locks step `id` (registered with Add) must run under, given its
  // arguments (the volume's lock for a step on a volume's bricks). The engine checks them against
  // a transaction's locks, in what it runs and in records read back: a record whose locks do not
  // cover its steps is damaged or forged (its undo would race with the operations the locks keep
  // out) and is quarantined. Aborts for a step not registered.
  template <typename Args>
  void RequireLocks(
      const StepId<Args>& id,
      std::type_identity_t<std::function<std::vector<std::string>(const Args& args)>> locks) {
    std::string name(id.name());
    SetLocks(name,
             [name, locks = std::move(locks)](
                 const nlohmann::json& json) -> StatusOr<std::vector<std::string>> {
               Args args{};
               GD2_RETURN_IF_ERROR(Decode(name, [&] { return DecodeStepArgs(json, &args); }));
               return locks(args);
             });
  }
  // The locks step `name` needs with `args` (none for a step without RequireLocks or not
  // registered here); BadArgumentsError if the arguments do not decode. Never throws.
  StatusOr<std::vector<std::string>> LocksFor(std::string_view name,
                                              const nlohmann::json& args) const;

  // Declares that step `id` (registered with Add, with a do) may be a finish step, run after
  // its transaction committed (Commit::finish): its do runs then, never its undo. The engine
  // runs no other step after a commit: one in a commit is an error before it, one in a
  // committed record read back is bad arguments (the record is damaged or forged). Aborts for
  // a step not registered.
  template <typename Args>
  void AllowAsFinish(const StepId<Args>& id) {
    AllowAsFinish(id.name());
  }
  bool IsFinishStep(std::string_view name) const;

  // Runs the do (undo = false) or undo action of step `name` with `args`: decodes and checks
  // the arguments, then runs the action with `ctx`. Never throws. Returns the action's status;
  // kOk for a step without that action; kUnimplemented "unknown transaction step on this peer:
  // step=<name>"; BadArgumentsError when the arguments do not decode or pass the check (an
  // exception while decoding included); kInternal "step threw: step=<name>: <what>" when the
  // action throws. Thread-safe if the actions are.
  //
  // The runs of one part of a transaction on this peer (ctx.txn_id and `name`; none when
  // txn_id is empty) take turns. The initiator may stop waiting for a do on another peer (its
  // deadline passed, another peer of the step failed, the initiator died and another peer took
  // over) and send its undo while the do still runs there: the undo waits for the do to end. A
  // do that arrives after its part's undo began (it was queued behind it, or sent again after a
  // broken connection) is refused with kAborted and not run: nothing would undo it. A run that
  // cannot take its turn before ctx.deadline fails with kDeadlineExceeded, one whose ctx.cancel
  // is stopped first with kCancelled; neither ran, and the engine tries an undo again later.
  Status Run(std::string_view name, bool undo, StepContext& ctx, const nlohmann::json& args) const;

  // How long a part's undo is remembered to refuse its late do: longer than any step call
  // waits (Engine::kStepTimeout). At most kUndoneKept parts are remembered.
  static constexpr std::chrono::minutes kUndoneFor{10};
  static constexpr size_t kUndoneKept = 4096;

 private:
  struct Entry {
    bool has_do = false;
    bool has_undo = false;
    bool finish = false;  // AllowAsFinish
    std::function<StatusOr<std::vector<std::string>>(const nlohmann::json& json)> locks;
    std::function<Status(bool undo, StepContext& ctx, const nlohmann::json& json)> run;
  };
  // Runs `decode`, mapping its error or exception to BadArgumentsError(step, ...).
  static Status Decode(const std::string& step, const std::function<Status()>& decode);
  void AddEntry(std::string name, Entry e);
  // The entry of a registered step; aborts (naming `what` was declared) for another name.
  Entry& Registered(std::string_view name, const char* what);
  void AllowAsFinish(std::string_view name);
  void SetLocks(
      const std::string& name,
      std::function<StatusOr<std::vector<std::string>>(const nlohmann::json& json)> locks);

  // Waits for the turn of `part` (see Run) and takes it; OK if the caller may run.
  Status TakeTurn(const std::string& part, std::string_view name, bool undo,
                  const StepContext& ctx) const GD2_EXCLUDES(parts_mu_);
  void EndTurn(const std::string& part) const GD2_EXCLUDES(parts_mu_);

  std::map<std::string, Entry, std::less<>> steps_;

  // The parts of transactions that run on this peer now, and those whose undo began (oldest
  // first, for kUndoneFor and at most kUndoneKept).
  mutable Mutex parts_mu_;
  mutable CondVar parts_cv_;
  mutable std::set<std::string, std::less<>> running_ GD2_GUARDED_BY(parts_mu_);
  mutable std::set<std::string, std::less<>> undone_ GD2_GUARDED_BY(parts_mu_);
  mutable std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> undone_order_
      GD2_GUARDED_BY(parts_mu_);
};

}  // namespace gd2::txn
