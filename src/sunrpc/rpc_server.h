// RpcServer: the GlusterFS management RPC service ("volfile server"). Stock glusterfs clients,
// bricks and the self-heal daemon call it for GETSPEC, DUMP/PING and the portmap (PORTBYBRICK,
// SIGNIN, SIGNOUT); it pushes FETCHSPEC callbacks on their connections when a volume's volfiles
// change. Two ways in:
//   - the daemon's TCP port (shared with HTTP): the daemon accepts, sees a record marker and
//     hands the socket over with Adopt(). Such peers are PeerTrust::kRemote: client volfiles,
//     PORTBYBRICK and DUMP/PING only.
//   - a unix socket in the daemon's rundir (ListenLocal()), mode 0600, on which only processes
//     of the daemon's own user (or root) are accepted (SO_PEERCRED): the bricks and self-heal
//     daemons it starts with `--volfile-server <socket> --volfile-server-transport unix`. Those
//     are PeerTrust::kLocalProcess and may also SIGNIN/SIGNOUT and fetch brick and daemon
//     volfiles (which carry the bricks' auth passwords).
//
// Connections are driven by an event loop (Boost.Asio) on one I/O thread; RpcSession::Consume
// (which may call the provider, and so etcd) runs on a small worker pool, one call at a time
// per connection. No thread belongs to a connection, so idle connections cost only memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sunrpc/portmap.h"
#include "sunrpc/rpc_session.h"
#include "sunrpc/volfile_provider.h"

namespace gd2::sunrpc {

struct RpcServerOptions {
  SessionLimits limits;
  // Adopted (TCP) connections open at once, in total and from one source address; beyond them
  // Adopt() closes the new connection. Local connections have their own total.
  size_t max_connections = 8192;
  size_t max_connections_per_address = 512;
  size_t max_local_connections = 8192;
  // A peer that does not read its replies for this long is disconnected.
  std::chrono::milliseconds send_timeout{10000};
  // A new connection must complete its first call within this time, and a record that was
  // started must be complete within record_timeout (slow senders).
  std::chrono::milliseconds first_call_timeout{10000};
  std::chrono::milliseconds record_timeout{10000};
  // A connection that has not subscribed to FETCHSPEC (fetched no volfile, signed in no brick)
  // is closed after this long without a call (PORTBYBRICK/DUMP callers). Subscribed ones (mounted
  // clients, bricks, daemons) stay: stock glusterfs 10.3 sends nothing on an idle management
  // connection (no PING: measured silent for minutes), so an idle timeout would cut live
  // clients; TCP keepalive finds the dead ones instead.
  std::chrono::milliseconds idle_timeout{60000};
  // TCP keepalive on subscribed connections: first probe after `keepalive_idle`, then every
  // `keepalive_interval`, dropped after `keepalive_count` unanswered probes.
  std::chrono::seconds keepalive_idle{60};
  std::chrono::seconds keepalive_interval{10};
  int keepalive_count = 6;
  // Threads that run RpcSession::Consume (GETSPEC may wait on etcd), and calls that may wait
  // for one (beyond that the connection is closed).
  int workers = 8;
  size_t max_queued_calls = 4096;
};

// What RpcServer knows about one open connection (for status and tests).
struct RpcConnectionInfo {
  std::string peer;
  PeerTrust trust = PeerTrust::kRemote;
  std::vector<std::string> volfile_ids;  // fetched with GETSPEC
  std::vector<std::string> bricks;       // signed in over this connection
};

// Public methods are thread-safe. `volfiles` and `portmap` must outlive the server.
class RpcServer {
 public:
  RpcServer(const VolfileRegistry& volfiles, PortMap& portmap, RpcServerOptions options = {});
  ~RpcServer();  // Stop()
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Starts the event loop and allows Adopt(). kFailedPrecondition if already started/stopped.
  Status Start();
  // Serves kLocalProcess connections on a unix socket at `path` (replacing a stale socket file
  // there; the file is made mode 0600 before it accepts). Call after Start(). kUnavailable if it
  // cannot be bound, kInvalidArgument if the path is too long for a unix socket.
  Status ListenLocal(const std::string& path);
  // Refuses new connections, closes all open ones and joins the threads. Idempotent.
  void Stop();

  // Takes ownership of the connected socket `fd` (whose unread bytes start with a Sun-RPC record
  // marker) and serves it until the peer closes it, a deadline passes or Stop(). `initial_bytes`
  // are bytes the caller already read from the socket; they are processed first. `peer_addr`
  // ("host:port") appears in logs; its host is the source address the limits count. If the
  // server is not running or a limit is reached, fd is closed. Never blocks.
  void Adopt(int fd, std::string peer_addr, std::string initial_bytes = {},
             PeerTrust trust = PeerTrust::kRemote);

  // Sends a FETCHSPEC callback on every open connection that fetched a volfile of `volume`
  // (see VolfileGroupOf in volfile_id.h for how ids map to volumes; "snaps/<snap>" names a
  // snapshot's volfiles): clients, bricks and daemons of the volume then re-run GETSPEC. Does
  // not wait for the sends. A connection whose calls are being answered when this is called
  // (its GETSPEC for `volume` may have read the volume before the change) gets the callback
  // after its replies if they made it fetch a volfile of `volume`. Returns the number of
  // connections notified (those counted now).
  size_t NotifyVolfileChanged(std::string_view volume);
  // Sends FETCHSPEC on every open connection (what glusterd does). Returns the count.
  size_t NotifyAll();

  // The open connections.
  std::vector<RpcConnectionInfo> Connections() const;
  size_t ConnectionCount() const;

  // The event loop and connections (rpc_server.cc).
  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gd2::sunrpc
