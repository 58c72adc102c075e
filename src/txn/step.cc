#include "txn/step.h"

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

Status StepRegistry::Run(std::string_view name, bool undo, StepContext& ctx,
                         const nlohmann::json& args) const {
  auto it = steps_.find(name);
  if (it == steps_.end()) {
    return UnimplementedError("unknown transaction step on this peer: step=" +
                              std::string(name.substr(0, 64)));
  }
  const Entry& e = it->second;
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
