// RpcSession: the protocol logic of one management connection, without sockets. It consumes
// bytes received from a peer (record marking, RPC call headers, dispatch of the GF-DUMP,
// handshake and portmap programs) and produces the bytes to send back. RpcServer runs one per
// TCP connection; the fuzz target drives it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/status.h"
#include "sunrpc/portmap.h"
#include "sunrpc/record.h"
#include "sunrpc/rpc_msg.h"
#include "sunrpc/volfile_provider.h"
#include "sunrpc/xdr.h"

namespace gd2::sunrpc {

struct SessionLimits {
  // Largest inbound record (all fragments). Management calls are a few hundred bytes.
  size_t max_record_size = 128 * 1024;
  // Most fragments in one inbound record.
  size_t max_fragments = 64;
  // Most distinct volfile ids remembered for FETCHSPEC per connection.
  size_t max_fetched_ids = 256;
};

// The programs this service offers, as listed in its DUMP reply.
struct ServedProgram {
  std::string_view name;
  uint32_t number;
  uint32_t version;
};
inline constexpr ServedProgram kServedPrograms[] = {
    {"GF-DUMP", kDumpProgram, kDumpVersion},
    {"Gluster Portmap", kPortmapProgram, kPortmapVersion},
    {"Gluster Handshake", kHandshakeProgram, kHandshakeVersion},
};

// Who is at the other end of a connection, as the server that accepted it knows.
enum class PeerTrust {
  // Anyone who reached the TCP port: DUMP/PING, PORTBYBRICK and client volfiles.
  kRemote,
  // A process of the daemon's own user (or root) on the daemon's local socket: the bricks and
  // daemons it runs. Also SIGNIN/SIGNOUT and the brick and daemon volfiles (which carry the
  // bricks' auth passwords).
  kLocalProcess,
};

// Not thread-safe: one thread drives a session. `volfiles` and `portmap` must outlive it.
class RpcSession {
 public:
  // A kRemote session answers SIGNIN, SIGNOUT and GETSPEC of volfiles of any kind other than the
  // client kinds (IsClientVolfileKind) with an AUTH_ERROR (AUTH_TOOWEAK) denial and leaves the
  // port map and providers alone. GETSPEC of a kind no provider answers fails with ENOENT.
  RpcSession(const VolfileRegistry& volfiles, PortMap& portmap, std::string peer,
             SessionLimits limits = {}, PeerTrust trust = PeerTrust::kRemote);

  // Consumes bytes from the peer and appends framed replies to `out`. Calls are answered in
  // order; replies from the peer (to our callbacks) are ignored. Malformed calls get RPC error
  // replies (PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, RPC_MISMATCH, AUTH_ERROR).
  // Returns non-OK when the connection must be closed: a record over the limits
  // (kResourceExhausted), a message too short to carry a header or of unknown type
  // (kInvalidArgument). `out` then still holds the replies to earlier calls. After an error
  // every later call returns the same error.
  Status Consume(std::string_view data, std::string& out);

  // Returns a framed FETCHSPEC CALL (callback program, AUTH_NULL) with the next callback xid.
  // No reply is expected.
  std::string MakeFetchspecCall();

  // Volfile ids the peer fetched successfully, and their volumes (VolfileGroupOf).
  const std::set<std::string>& fetched_volfile_ids() const { return fetched_ids_; }
  const std::set<std::string>& fetched_volumes() const { return fetched_volumes_; }
  // Bricks the peer signed in (and did not sign out) on this connection.
  const std::set<std::string>& signed_in_bricks() const { return bricks_; }
  const std::string& peer() const { return peer_; }
  PeerTrust trust() const { return trust_; }
  // True when bytes of an unfinished record are buffered.
  bool InRecord() const { return !records_.AtRecordBoundary(); }

 private:
  Status HandleRecord(std::string_view record, std::string& out);
  std::string Dispatch(const CallHeader& call, XdrReader& args);
  // The denial for a call a kRemote peer may not make, logged once per connection and call.
  std::string Refuse(uint32_t xid, std::string_view what, std::string_view detail);
  std::string HandleDump(uint32_t xid, uint32_t proc, XdrReader& args);
  std::string HandleHandshake(uint32_t xid, uint32_t proc, XdrReader& args);
  std::string HandlePortmap(uint32_t xid, uint32_t proc, XdrReader& args);

  const VolfileRegistry& volfiles_;
  PortMap& portmap_;
  std::string peer_;
  SessionLimits limits_;
  PeerTrust trust_;
  log::Logger log_;
  RecordReader records_;
  Status failed_;
  uint32_t callback_xid_ = 0;
  std::set<std::string> fetched_ids_;
  std::set<std::string> fetched_volumes_;
  std::set<std::string> bricks_;
  std::set<std::string> refusals_logged_;  // call names already logged as refused
};

}  // namespace gd2::sunrpc
