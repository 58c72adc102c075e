// Plain C++ types for the peer RPC (src/peer_rpc): what a call carries and what it returns,
// shared by peer_rpc::Client, peer_rpc::Server and the daemon's Handler. No gRPC in here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gd2::peer_rpc {

// Absolute deadline of a call. Deadline::max() means none.
using Deadline = std::chrono::steady_clock::time_point;

// The standard peer port (GlusterD2's defaultpeerport).
inline constexpr int kDefaultPort = 24008;

// PEM files for optional TLS on the peer port. All empty: plaintext.
//   Server: cert_file + key_file enable TLS; ca_file additionally requires client certificates
//           signed by that CA (mutual TLS).
//   Client: ca_file enables TLS and verifies the server; cert_file + key_file present a client
//           certificate. server_name overrides the name checked against the server's certificate
//           (default: the host part of the address).
struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string server_name;
};

// One transaction step to run (or undo) on a peer.
struct StepCall {
  std::string txn_id;
  std::string step;  // registered step name, "volume.start-bricks"
  nlohmann::json args;
  bool undo = false;
  std::string initiator;  // peer id of the transaction's initiator
  std::string req_id;     // ReST request id, may be empty
  // When the caller stops waiting: the client sends it as the gRPC deadline and the server
  // fills it in from there. RunLocalStep hands it to the step as txn::StepContext::deadline.
  Deadline deadline = Deadline::max();
  // Client side: once stopped (another peer of the step failed), the call is cancelled and
  // returns kCancelled. Server side: stopped when gRPC reports the call cancelled, that is
  // when the caller cancelled it, its deadline passed or its connection went (it died);
  // RunLocalStep hands it to the step as txn::StepContext::cancel. The engine sends the undo
  // once the call returned, while the do may still run on the peer: the peer's StepRegistry
  // runs the undo only after the do ended.
  std::stop_token cancel;
};

// Asks a fresh daemon to join the initiator's cluster. Everything here except initiator and
// req_id travels only inside the sealed grant (peer_rpc/join_auth.h).
struct JoinCall {
  std::string cluster_id;
  std::vector<std::string> etcd_endpoints;
  std::string auth_secret;  // the cluster secret; the joining peer adopts it
  std::string initiator;    // peer id of the node that handles POST /v1/peers
  std::string zone;
  std::map<std::string, std::string> metadata;
  // etcd members the cluster keeps among its peers; 0: external etcd, peers are only clients.
  int etcd_members = 0;
  uint64_t etcd_cluster_id = 0;  // 0: unknown (the first answer's)
  // The cluster CA (tls::CertAndKey as PEM) of the embedded etcd; the joining peer adopts it.
  // Empty with external etcd.
  std::string store_ca_cert;
  std::string store_ca_key;
  std::string req_id;  // travels as metadata, for logs
  Deadline deadline = Deadline::max();  // filled in by the server
};

// What the joined peer reports about itself.
struct JoinResult {
  std::string peer_id;
  std::string peer_name;
  std::vector<std::string> peer_addresses;
  std::vector<std::string> client_addresses;
};

// Tells a peer it has been removed from `cluster_id`.
struct LeaveCall {
  std::string cluster_id;
  std::string initiator;
  std::string req_id;  // travels as metadata, for logs
  Deadline deadline = Deadline::max();  // filled in by the server
};

// The answer to Ping.
struct PeerIdentity {
  std::string peer_id;
  std::string cluster_id;
};

// A query to a peer about its own state (peer_rpc/query.h): the query's name and its arguments
// as JSON text.
struct QueryCall {
  std::string name;
  std::string args_json;
  std::string req_id;                   // ReST request id, may be empty
  Deadline deadline = Deadline::max();  // filled in by the server
};

}  // namespace gd2::peer_rpc
