// Growing the etcd cluster by one member without risking quorum: the new member is added as a
// learner (it does not vote, so a member that never starts cannot block writes), started with
// the returned --initial-cluster, and promoted to a voting member once it has caught up.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace gd2::store {

// What a peer needs to start its etcd as a new member of a running cluster.
struct JoinPlan {
  uint64_t member_id = 0;  // etcd's id of the new (learner) member
  // For --initial-cluster: every member as "name=peer_url", comma-separated, the new member
  // under the name given to PrepareMemberJoin ("gd2-a=http://10.0.0.1:2380,gd2-b=...").
  std::string initial_cluster;
  // Client URLs of the voting members that existed before, for the new peer's Store (a learner
  // serves no client requests, so the new member's own URL is not among them).
  std::vector<std::string> client_urls;
};

// Builds the --initial-cluster value for member `new_id` called `name` from `members` (as
// MemberAdd or MemberList return them). Members that have not started yet have no name; they
// appear as "unstarted-<hex id>" (etcd matches members by peer URL, not by name).
// kInvalidArgument if `new_id` is not among `members`, or a member has no peer URL.
StatusOr<std::string> InitialClusterFor(const std::vector<Member>& members, uint64_t new_id,
                                        std::string_view name);

// Adds a learner with `peer_url` through `store` and returns how to start it. `name` becomes
// its etcd member name (etcd's --name; the peer id); it must not contain ',' or '='.
// etcd refuses every member add ("unhealthy cluster", kUnavailable) unless each voting member
// has been connected for the last 5 s, so right after a join, or while a member is down, this
// retries until `timeout` has passed.
// Errors: kInvalidArgument (bad name or peer URL), kAlreadyExists (a member already has this
// name or peer URL: a leftover of an earlier attempt, to be removed with MemberRemove first),
// kFailedPrecondition (etcd 3.4 allows one learner at a time: another join is in progress),
// kUnavailable (still unhealthy at the timeout), and the errors of Store::MemberAdd.
// Thread-safe as Store is; blocks the calling thread.
StatusOr<JoinPlan> PrepareMemberJoin(Store& store, std::string_view name, std::string_view peer_url,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Promotes learner `member_id` to a voting member, retrying while etcd says it is not in sync
// (or etcd is briefly unavailable) until `timeout` has passed. OK also if it already votes.
// On timeout removes the learner again (the caller should stop the etcd it started for it) and
// returns kDeadlineExceeded. kNotFound if there is no such member. Other errors from etcd also
// remove the learner and are returned as they are. Blocks the calling thread.
Status PromoteWhenReady(Store& store, uint64_t member_id, std::chrono::milliseconds timeout);

// Removes the member named `name` (a peer id), retrying while etcd refuses membership changes
// (it does so until every voter has been connected for 5 s). OK if no member has that name.
// Returns once the member list read through `store` no longer names it (or, the removal done,
// at `timeout`), so that a list read next (PublishMembers) leaves it out.
Status RemoveMemberNamed(Store& store, std::string_view name, std::chrono::milliseconds timeout);

// Makes the member named `name` (a peer id) advertise exactly `peer_url`: a member whose data
// was written while it served plain http keeps advertising its http:// peer URL, which joining
// members would dial. Returns true if it changed the URL; false (and nothing done) if the
// member advertises `peer_url` already or no member has that name. Errors of MemberList and
// MemberUpdate.
StatusOr<bool> AdvertisePeerUrl(Store& store, std::string_view name, const std::string& peer_url);

// The client URLs of the voting members, in membership order.
std::vector<std::string> VotingClientUrls(const std::vector<Member>& members);

// Writes VotingClientUrls of the current membership to `key` (KeySpace::EtcdMembers) as a JSON
// array. Call after every membership change: peers watch the key and move their store to the
// new members before a removed member's address can serve a cluster of its own.
Status PublishMembers(Store& store, const std::string& key);

}  // namespace gd2::store
