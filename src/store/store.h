// store::Store is glusterd2's etcd v3 client: key/value reads and writes, transactions, leases
// and cluster status over one long-lived gRPC channel to all configured etcd endpoints. Session,
// Watcher and Lock (in their own headers) build on it. gRPC stays out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gd2::store {

struct Options {
  // "http://127.0.0.1:2379", "https://etcd1:2379" or "host:port" (plain). https:// means TLS;
  // all endpoints must use the same scheme.
  std::vector<std::string> endpoints;
  // PEM files for TLS: CA bundle to verify etcd, and an optional client certificate + key.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The same as PEM text, used instead of the file of each that is empty (a joining peer holds
  // the cluster's CA and its certificate from it only in memory until it has joined).
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // With TLS: verify every server's certificate against this name instead of the host it was
  // dialled at. The embedded etcd members all carry tls::kStoreServerName besides their own
  // addresses, so one channel can spread calls over them by address. Empty: the endpoint's
  // host (the first one's when several are dialled by name).
  std::string tls_server_name;
  // How long Connect waits for a first working connection.
  std::chrono::milliseconds dial_timeout{std::chrono::seconds(5)};
  // Deadline of every RPC.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};
  // The etcd cluster id every answer must carry; answers from another cluster (a removed
  // member's address reused by a cluster of its own) are refused and the call sent again.
  // 0: the id of the first answer.
  uint64_t cluster_id = 0;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 on creation, +1 on each put
  int64_t lease = 0;    // 0: not bound to a lease
};

// One condition of a transaction, on a single key. A missing key has version, create_revision,
// mod_revision and lease 0 and never compares equal on value.
struct Compare {
  enum class Target { kValue, kVersion, kCreateRevision, kModRevision, kLease };
  enum class Result { kEqual, kNotEqual, kGreater, kLess };

  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for every other target

  static Compare ValueEquals(std::string key, std::string value);
  static Compare VersionEquals(std::string key, int64_t version);
  static Compare CreateRevisionEquals(std::string key, int64_t revision);
  static Compare ModRevisionEquals(std::string key, int64_t revision);
  static Compare LeaseEquals(std::string key, int64_t lease);
  // version == 0 / version > 0.
  static Compare KeyMissing(std::string key);
  static Compare KeyExists(std::string key);
};

// One operation of a transaction.
struct Op {
  enum class Type { kPut, kDelete, kDeletePrefix, kGet, kGetPrefix };

  Type type = Type::kGet;
  std::string key;  // the key, or the prefix for the *Prefix types
  std::string value;
  int64_t lease = 0;

  static Op Put(std::string key, std::string value, int64_t lease = 0);
  static Op Delete(std::string key);
  static Op DeletePrefix(std::string prefix);
  static Op Get(std::string key);
  static Op GetPrefix(std::string prefix);
};

// The result of one executed Op: kvs for kGet/kGetPrefix (sorted by key), deleted for the
// delete types; empty for kPut.
struct OpResult {
  std::vector<KeyValue> kvs;
  int64_t deleted = 0;
};

struct TxnResult {
  bool succeeded = false;         // all compares held, so then_ops ran (else else_ops ran)
  int64_t revision = 0;           // store revision after the transaction
  std::vector<OpResult> results;  // one per op of the branch that ran, in order
};

struct Lease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // as granted by etcd (it may raise a too-small TTL)
};

struct Member {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// What MemberAdd returns: the id etcd gave the new member and every member afterwards (the new
// one included, with an empty name and no client URLs until it starts).
struct MemberAddResult {
  uint64_t id = 0;
  std::vector<Member> members;
};

struct EndpointStatus {
  std::string endpoint;
  std::string version;  // etcd server version, e.g. "3.4.23"
  uint64_t member_id = 0;
  uint64_t leader = 0;  // member id of the leader as this member sees it; 0: no leader
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  int64_t db_size = 0;              // bytes
  std::vector<std::string> errors;  // alarms, e.g. "NOSPACE"
};

// Returns the smallest key greater than every key starting with `prefix` ("\0" for "" or an
// all-0xff prefix, which etcd reads as "no upper bound").
std::string PrefixRangeEnd(std::string_view prefix);

class Watcher;

// Collects the store revision of the writes the current thread makes (through any Store) while
// the scope lives: the ReST server opens one per request, so that the answer names the revision
// of the writes made for it and the server can wait until its reads see them. A write is a Put,
// Delete, DeletePrefix, RevokeLease, or a Txn whose executed branch puts or deletes. Scopes nest;
// a closing scope passes its revision on to the enclosing one. Used on one thread only.
class WriteRevisionScope {
 public:
  WriteRevisionScope();
  ~WriteRevisionScope();
  WriteRevisionScope(const WriteRevisionScope&) = delete;
  WriteRevisionScope& operator=(const WriteRevisionScope&) = delete;

  // The highest store revision written on this thread since the scope opened; 0: none.
  int64_t revision() const { return revision_; }
  // Records a write at `revision` in this thread's innermost scope, if there is one.
  static void Record(int64_t revision);

 private:
  WriteRevisionScope* outer_;
  int64_t revision_ = 0;
};

// Thread-safe. Error codes of every RPC: kUnavailable ("etcd unreachable: endpoints=..."),
// kDeadlineExceeded (no answer within request_timeout), kNotFound (e.g. unknown lease),
// kOutOfRange (revision compacted), kResourceExhausted (etcd out of space or rate limited),
// kInvalidArgument (etcd rejected the request), otherwise the code etcd sent. Each RPC records
// gd2_etcd_request_duration_seconds{op} and, on failure, gd2_etcd_request_errors_total{op}.
class Store {
 public:
  // Opens the channel and waits up to dial_timeout for a connection to any endpoint.
  // Errors: kInvalidArgument (no endpoints, bad endpoint, mixed schemes or address families),
  // kNotFound/kPermissionDenied (TLS files), kUnavailable naming the endpoints when none can be
  // reached within dial_timeout.
  static StatusOr<std::unique_ptr<Store>> Connect(Options options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const Options& options() const;

  // Returns the key, or std::nullopt if it does not exist.
  StatusOr<std::optional<KeyValue>> Get(std::string_view key);
  // Returns the keys starting with `prefix` sorted by key; at most `limit` (0: all).
  StatusOr<std::vector<KeyValue>> List(std::string_view prefix, int64_t limit = 0);
  // Writes the key (bound to `lease` unless 0). Returns the new store revision. kNotFound if
  // the lease does not exist.
  StatusOr<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Return how many keys were deleted (0 if none existed).
  StatusOr<int64_t> Delete(std::string_view key);
  StatusOr<int64_t> DeletePrefix(std::string_view prefix);
  // Runs then_ops if every compare holds, else else_ops, atomically. A key may be written at
  // most once per branch (kInvalidArgument otherwise). Without compares (and else_ops), one whose
  // ops are all reads is retried like Get, one of puts, deletes and reads like Put; any other
  // only when etcd refused it before proposing it (it may have been applied when it fails).
  StatusOr<TxnResult> Txn(std::vector<Compare> compares, std::vector<Op> then_ops,
                          std::vector<Op> else_ops = {});

  // Discards the history before `revision` (watches and reads at older revisions then fail with
  // kOutOfRange). Waits until etcd applied it physically.
  Status Compact(int64_t revision);

  // Grants a lease of `ttl_seconds`.
  StatusOr<Lease> GrantLease(int64_t ttl_seconds);
  // Revokes a lease and deletes its keys. kNotFound if it does not exist (or expired).
  Status RevokeLease(int64_t lease_id);
  // Refreshes a lease once. Returns its new TTL in seconds; kNotFound if it expired or never
  // existed.
  StatusOr<int64_t> KeepAliveOnce(int64_t lease_id);

  // Members of the etcd cluster.
  StatusOr<std::vector<Member>> MemberList();
  // The id of the etcd cluster this store talks to (asks for it if no answer came yet).
  StatusOr<uint64_t> ClusterId();
  // Talks to `endpoints` from now on (the cluster's members changed). Calls and watch streams
  // under way finish on the old connection; watches resume on the new one. Same checks as
  // Connect, but does not wait for a connection. OK and nothing done if they are the same.
  Status SetEndpoints(const std::vector<std::string>& endpoints);
  // The endpoints in use.
  std::vector<std::string> endpoints() const;
  // Adds a member that will advertise `peer_urls`; it takes part once an etcd started with
  // --initial-cluster-state=existing joins under these URLs. A learner does not vote (so adding
  // one never risks quorum) and serves no client requests until MemberPromote. etcd 3.4 allows
  // one learner at a time. Errors: kInvalidArgument (no or bad URLs), kFailedPrecondition (a
  // member already has one of the URLs, a learner already exists, or adding a voting member
  // would leave too few started members for quorum), kUnavailable (no quorum).
  StatusOr<MemberAddResult> MemberAdd(std::vector<std::string> peer_urls, bool learner);
  // Removes a member (learner or voting). kNotFound if there is no member `id`;
  // kFailedPrecondition if removing it would leave the started members without quorum.
  Status MemberRemove(uint64_t id);
  // Sets the peer URLs member `id` advertises (e.g. after its etcd moved from http to https).
  // Setting the URLs it has is OK. kInvalidArgument (no or bad URLs), kNotFound (no member
  // `id`), kFailedPrecondition (another member has one of the URLs).
  Status MemberUpdate(uint64_t id, std::vector<std::string> peer_urls);
  // Makes learner `id` a voting member. kFailedPrecondition while the learner has not caught up
  // with the leader (retry later) and when `id` is not a learner; kNotFound if there is no
  // member `id`.
  Status MemberPromote(uint64_t id);
  // Asks one endpoint (any form accepted by Options::endpoints, need not be one of them) for
  // its status over a short-lived connection; for health reporting.
  StatusOr<store::EndpointStatus> EndpointStatus(std::string_view endpoint);

 private:
  friend class Watcher;  // opens Watch streams on the channel
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gd2::store
