#include "store/membership.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/hex.h"

namespace gd2::store {
namespace {

// A learner that starts catches up within a few raft heartbeats; etcd's own client retries
// promotion at about this pace too.
constexpr std::chrono::milliseconds kPromoteRetryInterval{200};
// etcd accepts a member add again once every voting member has been connected for 5 s.
constexpr std::chrono::milliseconds kAddRetryInterval{500};

const Member* FindMember(const std::vector<Member>& members, uint64_t id) {
  for (const Member& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const Member* FindByPeerUrl(const std::vector<Member>& members, std::string_view url) {
  for (const Member& m : members) {
    for (const std::string& u : m.peer_urls) {
      if (u == url) return &m;
    }
  }
  return nullptr;
}

bool IsHttpUrl(std::string_view url) {
  return (url.starts_with("http://") && url.size() > 7) ||
         (url.starts_with("https://") && url.size() > 8);
}

// Whether `id` is a voting member now: true/false, or std::nullopt if etcd could not say.
// kNotFound if it is no member at all.
StatusOr<std::optional<bool>> IsVoting(Store& store, uint64_t id) {
  StatusOr<std::vector<Member>> members = store.MemberList();
  if (!members.ok()) return std::optional<bool>();
  const Member* m = FindMember(*members, id);
  if (m == nullptr) return NotFoundError("etcd member not found: member_id=" + HexUint(id));
  return std::optional<bool>(!m->is_learner);
}

bool Retryable(const Status& s) {
  // kFailedPrecondition: not in sync yet, or too few started members for the new quorum.
  // kUnavailable/kDeadlineExceeded: leader election or a slow apply.
  return s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kUnavailable ||
         s.code() == StatusCode::kDeadlineExceeded;
}

// Removes learner `id` after a failed promotion, unless it turns out to vote already (a
// promote whose answer was lost). Returns OK if it votes, else `failure` with the outcome of
// the removal appended.
Status RollBack(Store& store, uint64_t id, Status failure) {
  StatusOr<std::optional<bool>> voting = IsVoting(store, id);
  if (voting.ok() && voting->value_or(false)) return OkStatus();
  Status removed = store.MemberRemove(id);
  std::string msg = failure.message();
  if (removed.ok() || removed.code() == StatusCode::kNotFound) {
    msg += "; learner removed";
  } else {
    msg += "; removing the learner failed too: " + removed.message();
  }
  return Status(failure.code(), std::move(msg));
}

}  // namespace

StatusOr<std::string> InitialClusterFor(const std::vector<Member>& members, uint64_t new_id,
                                        std::string_view name) {
  if (FindMember(members, new_id) == nullptr) {
    return InvalidArgumentError("new etcd member missing from member list: member_id=" +
                                HexUint(new_id));
  }
  std::string out;
  for (const Member& m : members) {
    std::string member_name;
    if (m.id == new_id) {
      member_name = std::string(name);
    } else if (!m.name.empty()) {
      member_name = m.name;
    } else {
      member_name = "unstarted-" + HexUint(m.id);
    }
    if (m.peer_urls.empty()) {
      return InvalidArgumentError("etcd member has no peer url: member_id=" + HexUint(m.id));
    }
    // A member with several peer URLs is listed once per URL under the same name.
    for (const std::string& url : m.peer_urls) {
      if (!out.empty()) out += ',';
      out += member_name + "=" + url;
    }
  }
  return out;
}

StatusOr<JoinPlan> PrepareMemberJoin(Store& store, std::string_view name, std::string_view peer_url,
                                     std::chrono::milliseconds timeout) {
  if (name.empty() || name.find_first_of(",=") != std::string_view::npos) {
    return InvalidArgumentError("bad etcd member name: name=" + std::string(name));
  }
  if (!IsHttpUrl(peer_url) || peer_url.find_first_of(",=") != std::string_view::npos) {
    return InvalidArgumentError("bad etcd peer url: url=" + std::string(peer_url));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // etcd itself rejects a duplicate peer URL (kFailedPrecondition, without saying which
  // member) and does not check names at all; say which member is in the way.
  GD2_ASSIGN_OR_RETURN(std::vector<Member> before, store.MemberList());
  const Member* in_the_way = FindByPeerUrl(before, peer_url);
  for (const Member& m : before) {
    if (m.name == name) in_the_way = &m;
  }
  if (in_the_way != nullptr) {
    return AlreadyExistsError("etcd member exists: name=" + std::string(name) + " peer_url=" +
                              std::string(peer_url) + " member_id=" + HexUint(in_the_way->id));
  }
  uint64_t id = 0;
  std::vector<Member> members;
  while (true) {
    StatusOr<MemberAddResult> added = store.MemberAdd({std::string(peer_url)}, true);
    if (added.ok()) {
      id = added->id;
      members = std::move(added->members);
      break;
    }
    Status failed = added.status();
    if (failed.code() != StatusCode::kUnavailable &&
        failed.code() != StatusCode::kDeadlineExceeded) {
      return failed;
    }
    // The add may have taken effect with its answer lost; then the member with our URL is
    // the one this call added.
    StatusOr<std::vector<Member>> now = store.MemberList();
    if (now.ok()) {
      if (const Member* m = FindByPeerUrl(*now, peer_url)) {
        id = m->id;
        members = *std::move(now);
        break;
      }
    }
    if (std::chrono::steady_clock::now() + kAddRetryInterval >= deadline) return failed;
    std::this_thread::sleep_for(kAddRetryInterval);
  }
  JoinPlan plan;
  plan.member_id = id;
  StatusOr<std::string> initial = InitialClusterFor(members, id, name);
  if (!initial.ok()) {
    // Only a malformed answer from etcd gets here; do not leave the learner behind.
    store.MemberRemove(id).IgnoreError();
    return initial.status();
  }
  plan.initial_cluster = *std::move(initial);
  for (const Member& m : members) {
    if (m.id == id || m.is_learner) continue;
    plan.client_urls.insert(plan.client_urls.end(), m.client_urls.begin(), m.client_urls.end());
  }
  return plan;
}

Status PromoteWhenReady(Store& store, uint64_t member_id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last;
  while (true) {
    last = store.MemberPromote(member_id);
    if (last.ok() || last.code() == StatusCode::kNotFound) return last;
    if (!Retryable(last)) return RollBack(store, member_id, std::move(last));
    if (last.code() == StatusCode::kFailedPrecondition) {
      // Also etcd's answer for a member that votes already, e.g. when an earlier promote took
      // effect but its reply was lost.
      GD2_ASSIGN_OR_RETURN(std::optional<bool> voting, IsVoting(store, member_id));
      if (voting.value_or(false)) return OkStatus();
    }
    if (std::chrono::steady_clock::now() + kPromoteRetryInterval >= deadline) break;
    std::this_thread::sleep_for(kPromoteRetryInterval);
  }
  return RollBack(
      store, member_id,
      DeadlineExceededError("etcd learner not promoted in time: member_id=" + HexUint(member_id) +
                            " timeout_ms=" + std::to_string(timeout.count()) +
                            ": last error: " + last.message()));
}

Status RemoveMemberNamed(Store& store, std::string_view name, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool removed = false;
  while (true) {
    GD2_ASSIGN_OR_RETURN(std::vector<Member> members, store.MemberList());
    uint64_t id = 0;
    for (const auto& m : members) {
      if (m.name == name) id = m.id;
    }
    if (id == 0) return OkStatus();
    if (removed) {
      // The member answering still lists it: etcd 3.4's member list is that member's own view,
      // which applies the removal a moment after the leader. Waited for, so that what is read
      // next through `store` (the list PublishMembers publishes) does not name it.
      if (std::chrono::steady_clock::now() >= deadline) return OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    Status s = store.MemberRemove(id);
    if (s.ok() || s.code() == StatusCode::kNotFound) {
      removed = true;
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

StatusOr<bool> AdvertisePeerUrl(Store& store, std::string_view name, const std::string& peer_url) {
  GD2_ASSIGN_OR_RETURN(std::vector<Member> members, store.MemberList());
  for (const Member& m : members) {
    if (m.name != name) continue;
    if (m.peer_urls == std::vector<std::string>{peer_url}) return false;
    GD2_RETURN_IF_ERROR(store.MemberUpdate(m.id, {peer_url}));
    return true;
  }
  return false;
}

std::vector<std::string> VotingClientUrls(const std::vector<Member>& members) {
  std::vector<std::string> urls;
  for (const auto& m : members) {
    if (m.is_learner) continue;
    for (const auto& u : m.client_urls) {
      if (std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
    }
  }
  return urls;
}

Status PublishMembers(Store& store, const std::string& key) {
  GD2_ASSIGN_OR_RETURN(std::vector<Member> members, store.MemberList());
  std::vector<std::string> urls = VotingClientUrls(members);
  if (urls.empty()) return FailedPreconditionError("etcd lists no voting member with a client URL");
  return store.Put(key, nlohmann::json(urls).dump()).status();
}

}  // namespace gd2::store
