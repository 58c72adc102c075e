#include "txn/step.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace gd2::txn {
namespace {

constexpr char kBadArgumentsPrefix[] = "bad step arguments: ";

}  // namespace

Status BadArgumentsError(std::string_view step, std::string_view detail) {
  return InvalidArgumentError(std::string(kBadArgumentsPrefix) + "step=" + std::string(step) +
                              ": " + std::string(detail));
}

bool IsBadArguments(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument &&
         s.message().find(kBadArgumentsPrefix) != std::string::npos;
}

nlohmann::json EncodeStepArgs(const NoArgs&) { return nlohmann::json::object(); }

Status DecodeStepArgs(const nlohmann::json& json, NoArgs*) {
  if (!json.is_null() && !json.is_object()) return InvalidArgumentError("expected an object");
  return OkStatus();
}

Status StepRegistry::Decode(const std::string& step, const std::function<Status()>& decode) {
  Status s;
  // Arguments come from the store or another peer: a decoder that throws on them must not take
  // the daemon down (again at every start, for a record read back by recovery).
  try {
    s = decode();
  } catch (const std::exception& ex) {
    s = InvalidArgumentError(ex.what());
  }
  if (s.ok() || IsBadArguments(s)) return s;
  return BadArgumentsError(step, s.message());
}

void StepRegistry::AddEntry(std::string name, Entry e) {
  if (steps_.count(name) != 0) {
    std::fprintf(stderr, "duplicate transaction step: %s\n", name.c_str());
    std::abort();
  }
  steps_.emplace(std::move(name), std::move(e));
}

bool StepRegistry::Has(std::string_view name) const { return steps_.find(name) != steps_.end(); }

StepRegistry::Entry& StepRegistry::Registered(std::string_view name, const char* what) {
  auto it = steps_.find(name);
  if (it == steps_.end()) {
    std::fprintf(stderr, "%s for a step not registered: %.*s\n", what,
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  return it->second;
}

void StepRegistry::AllowAsFinish(std::string_view name) {
  Entry& e = Registered(name, "finish");
  if (!e.has_do) {
    std::fprintf(stderr, "finish step without a do action: %.*s\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  e.finish = true;
}

void StepRegistry::SetLocks(
    const std::string& name,
    std::function<StatusOr<std::vector<std::string>>(const nlohmann::json& json)> locks) {
  Registered(name, "locks").locks = std::move(locks);
}

StatusOr<std::vector<std::string>> StepRegistry::LocksFor(std::string_view name,
                                                          const nlohmann::json& args) const {
  auto it = steps_.find(name);
  if (it == steps_.end() || !it->second.locks) return std::vector<std::string>{};
  try {
    return it->second.locks(args);
  } catch (const std::exception& ex) {
    return BadArgumentsError(it->first, ex.what());
  } catch (...) {
    return BadArgumentsError(it->first, "arguments could not be read");
  }
}

bool StepRegistry::IsFinishStep(std::string_view name) const {
  auto it = steps_.find(name);
  return it != steps_.end() && it->second.finish;
}

Status StepRegistry::TakeTurn(const std::string& part, std::string_view name, bool undo,
                              const StepContext& ctx) const {
  using Clock = std::chrono::steady_clock;
  // A stopped cancel wakes the wait below (at once, before the lock, if stopped already).
  std::stop_callback wake(ctx.cancel, [this] {
    MutexLock lock(parts_mu_);
    parts_cv_.NotifyAll();
  });
  auto what = [&] {
    return "step=" + std::string(name) + " txn_id=" + ctx.txn_id + (undo ? " (undo)" : "");
  };
  MutexLock lock(parts_mu_);
  auto now = Clock::now();
  while (!undone_order_.empty() &&
         (undone_order_.front().first + kUndoneFor < now || undone_order_.size() > kUndoneKept)) {
    undone_.erase(undone_order_.front().second);
    undone_order_.pop_front();
  }
  bool waited = false;
  while (running_.count(part) != 0) {
    if (!waited) {
      ctx.log.Info("step waits for an earlier run of its part on this peer to end",
                   {{"step", std::string(name)}, {"undo", undo}});
      waited = true;
    }
    if (ctx.cancel.stop_requested()) {
      return Status(StatusCode::kCancelled,
                    "step given up while an earlier run of its part still ran on this peer: " +
                        what() + "; it did not run");
    }
    now = Clock::now();
    if (now >= ctx.deadline) {
      return DeadlineExceededError(
          "an earlier run of this step's part still runs on this peer: " + what() +
          "; it did not run" + (undo ? " (the undo is tried again later)" : ""));
    }
    // Deadline::max() is not handed to the clock: waits are a second at most.
    parts_cv_.WaitUntil(parts_mu_, std::min(ctx.deadline, now + std::chrono::seconds(1)));
  }
  if (!undo && undone_.count(part) != 0) {
    return AbortedError("step's part was undone on this peer already: " + what() +
                        "; a do sent before its undo is not run");
  }
  if (undo && undone_.insert(part).second) undone_order_.emplace_back(Clock::now(), part);
  running_.insert(part);
  return OkStatus();
}

void StepRegistry::EndTurn(const std::string& part) const {
  MutexLock lock(parts_mu_);
  running_.erase(part);
  parts_cv_.NotifyAll();
}

Status StepRegistry::Run(std::string_view name, bool undo, StepContext& ctx,
                         const nlohmann::json& args) const {
  auto it = steps_.find(name);
  if (it == steps_.end()) {
    return UnimplementedError("unknown transaction step on this peer: step=" +
                              std::string(name.substr(0, 64)));
  }
  const Entry& e = it->second;
  std::string part;
  if (!ctx.txn_id.empty()) {
    part = ctx.txn_id + '\n' + it->first;
    GD2_RETURN_IF_ERROR(TakeTurn(part, it->first, undo, ctx));
  }
  struct Turn {
    const StepRegistry* registry;
    const std::string& part;
    ~Turn() {
      if (!part.empty()) registry->EndTurn(part);
    }
  } turn{this, part};
  if (!(undo ? e.has_undo : e.has_do)) return OkStatus();
  try {
    return e.run(undo, ctx, args);
  } catch (const std::exception& ex) {
    return InternalError("step threw: step=" + it->first + ": " + ex.what());
  } catch (...) {
    return InternalError("step threw: step=" + it->first);
  }
}

}  // namespace gd2::txn
