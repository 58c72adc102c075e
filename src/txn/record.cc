#include "txn/record.h"

#include <algorithm>
#include <cctype>

#include "common/uuid.h"

namespace gd2::txn {
namespace {

bool AllOf(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }

bool IsStepNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}
bool IsTxnIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}
bool IsLockChar(char c) { return IsTxnIdChar(c) || c == '.'; }

std::string Shown(std::string_view s) { return std::string(s.substr(0, 64)); }

// Decodes an array of strings, each checked by `check`; kInvalidArgument naming `field`.
StatusOr<std::vector<std::string>> StringList(const nlohmann::json& j, const std::string& field,
                                              size_t max, Status (*check)(std::string_view)) {
  if (!j.is_array()) return InvalidArgumentError("transaction record: " + field + ": expected array");
  if (j.size() > max) return InvalidArgumentError("transaction record: " + field + ": too many entries");
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    std::string where = field + "[" + std::to_string(i) + "]";
    if (!e.is_string()) return InvalidArgumentError("transaction record: " + where + ": expected string");
    const auto& s = e.get_ref<const std::string&>();
    Status st = check(s);
    if (!st.ok()) return InvalidArgumentError("transaction record: " + where + ": " + st.message());
    out.push_back(s);
  }
  return out;
}

StatusOr<std::string> OptionalString(const nlohmann::json& r, const char* field) {
  auto it = r.find(field);
  if (it == r.end()) return std::string();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("transaction record: ") + field + ": expected string");
  }
  return it->get<std::string>();
}

}  // namespace

Status ValidatePeerId(std::string_view id) {
  if (!IsUuid(id)) return InvalidArgumentError("peer id is not a UUID: peer=" + Shown(id));
  return OkStatus();
}

Status ValidateStepName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !AllOf(name, IsStepNameChar)) {
    return InvalidArgumentError("invalid step name: step=" + Shown(name));
  }
  return OkStatus();
}

Status ValidateTxnId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !AllOf(id, IsTxnIdChar)) {
    return InvalidArgumentError("invalid transaction id: id=" + Shown(id));
  }
  return OkStatus();
}

Status ValidateLockName(std::string_view name) {
  if (name.empty() || name.size() > 128 || !AllOf(name, IsLockChar) || name == "." || name == "..") {
    return InvalidArgumentError("invalid lock name: lock=" + Shown(name));
  }
  return OkStatus();
}

StatusOr<Record> ParseRecord(std::string_view text) {
  if (text.size() > kMaxRecordBytes) return InvalidArgumentError("transaction record too large");
  nlohmann::json r = nlohmann::json::parse(text, nullptr, false);
  if (!r.is_object()) return InvalidArgumentError("transaction record is not a JSON object");
  Record out;
  GD2_ASSIGN_OR_RETURN(out.id, OptionalString(r, "id"));
  GD2_RETURN_IF_ERROR(ValidateTxnId(out.id).WithContext("transaction record: id"));
  GD2_ASSIGN_OR_RETURN(out.initiator, OptionalString(r, "initiator"));
  GD2_RETURN_IF_ERROR(ValidatePeerId(out.initiator).WithContext("transaction record: initiator"));
  GD2_ASSIGN_OR_RETURN(out.description, OptionalString(r, "description"));
  if (out.description.size() > 1024) out.description.resize(1024);
  if (r.contains("locks")) {
    GD2_ASSIGN_OR_RETURN(out.locks, StringList(r["locks"], "locks", kMaxRecordLocks, ValidateLockName));
  }
  auto steps = r.find("steps");
  if (steps == r.end() || !steps->is_array()) {
    return InvalidArgumentError("transaction record: steps: expected array");
  }
  if (steps->size() > kMaxRecordSteps) return InvalidArgumentError("transaction record: too many steps");
  for (size_t i = 0; i < steps->size(); ++i) {
    const auto& s = (*steps)[i];
    std::string where = "steps[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgumentError("transaction record: " + where + ": expected object");
    RecordStep step;
    auto name = s.find("name");
    if (name == s.end() || !name->is_string()) {
      return InvalidArgumentError("transaction record: " + where + ".name: expected string");
    }
    step.name = name->get<std::string>();
    GD2_RETURN_IF_ERROR(ValidateStepName(step.name).WithContext("transaction record: " + where));
    auto args = s.find("args");
    if (args == s.end() || !args->is_object()) {
      return InvalidArgumentError("transaction record: " + where + ".args: expected object");
    }
    step.args = *args;
    auto peers = s.find("peers");
    if (peers == s.end()) return InvalidArgumentError("transaction record: " + where + ".peers missing");
    GD2_ASSIGN_OR_RETURN(step.peers, StringList(*peers, where + ".peers", kMaxStepPeers, ValidatePeerId));
    if (auto per = s.find("peer_args"); per != s.end()) {
      if (!per->is_object()) {
        return InvalidArgumentError("transaction record: " + where + ".peer_args: expected object");
      }
      for (const auto& [peer, peer_args] : per->items()) {
        GD2_RETURN_IF_ERROR(
            ValidatePeerId(peer).WithContext("transaction record: " + where + ".peer_args"));
        std::string at = "transaction record: " + where + ".peer_args[" + peer + "]";
        if (std::find(step.peers.begin(), step.peers.end(), peer) == step.peers.end()) {
          return InvalidArgumentError(at + ": not a peer of the step");
        }
        if (!peer_args.is_object()) return InvalidArgumentError(at + ": expected object");
        step.peer_args.emplace(peer, peer_args);
      }
    }
    out.steps.push_back(std::move(step));
  }
  out.started = out.steps.size();
  if (auto st = r.find("started"); st != r.end()) {
    if (!st->is_number_unsigned() || st->get<uint64_t>() > out.steps.size()) {
      return InvalidArgumentError("transaction record: started: expected a count of at most the steps");
    }
    out.started = static_cast<size_t>(st->get<uint64_t>());
  }
  if (auto c = r.find("committed"); c != r.end()) {
    if (!c->is_boolean())
      return InvalidArgumentError("transaction record: committed: expected boolean");
    out.committed = c->get<bool>();
  }
  // A committed record's steps are all to run; the undo's fields have no meaning there, nor
  // the finish's in a record that did not commit.
  if (out.committed && out.started != out.steps.size()) {
    return InvalidArgumentError(
        "transaction record: started: a committed record runs all its steps");
  }
  if (r.contains("undo_peers")) {
    if (out.committed)
      return InvalidArgumentError("transaction record: undo_peers: the record is committed");
    GD2_ASSIGN_OR_RETURN(out.undo_peers,
                         StringList(r["undo_peers"], "undo_peers", kMaxStepPeers, ValidatePeerId));
  }
  if (r.contains("finish_peers")) {
    if (!out.committed)
      return InvalidArgumentError("transaction record: finish_peers: the record is not committed");
    GD2_ASSIGN_OR_RETURN(out.finish_peers, StringList(r["finish_peers"], "finish_peers",
                                                      kMaxStepPeers, ValidatePeerId));
  }
  return out;
}

std::string SerializeRecord(const Record& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    nlohmann::json step{{"name", s.name}, {"args", s.args}, {"peers", s.peers}};
    if (!s.peer_args.empty()) step["peer_args"] = s.peer_args;
    steps.push_back(std::move(step));
  }
  nlohmann::json j{{"id", r.id},       {"initiator", r.initiator}, {"description", r.description},
                   {"locks", r.locks}, {"steps", steps},           {"started", r.started}};
  if (!r.undo_peers.empty()) j["undo_peers"] = r.undo_peers;
  if (r.committed) j["committed"] = true;
  if (!r.finish_peers.empty()) j["finish_peers"] = r.finish_peers;
  return j.dump();
}

}  // namespace gd2::txn
