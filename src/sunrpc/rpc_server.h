// RpcServer: the GlusterFS management RPC service ("volfile server") on the daemon's TCP port.
// Stock glusterfs clients, bricks and the self-heal daemon call it for GETSPEC, DUMP/PING and the
// portmap (PORTBYBRICK, SIGNIN, SIGNOUT); it pushes FETCHSPEC callbacks on their connections when
// a volume's volfiles change. The daemon accepts the TCP connections (the port is shared with
// HTTP) and hands each RPC one over with Adopt().
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
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
  // Adopt() closes connections beyond this many at once.
  size_t max_connections = 1024;
  // A peer that does not read its replies for this long is disconnected.
  std::chrono::milliseconds send_timeout{10000};
};

// What RpcServer knows about one open connection (for status and tests).
struct RpcConnectionInfo {
  std::string peer;
  std::vector<std::string> volfile_ids;  // fetched with GETSPEC
  std::vector<std::string> bricks;       // signed in over this connection
};

// Each adopted connection is served by its own thread, so a slow peer or a slow provider call
// delays only that connection; writes to one connection are serialized by its thread. Public
// methods are thread-safe. `provider` and `portmap` must outlive the server.
class RpcServer {
 public:
  RpcServer(VolfileProvider& provider, PortMap& portmap, RpcServerOptions options = {});
  ~RpcServer();  // Stop()
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Allows Adopt(). Returns kFailedPrecondition if already started or stopped.
  Status Start();
  // Refuses new connections, closes all open ones and joins their threads. Idempotent.
  void Stop();

  // Takes ownership of the connected socket `fd` (whose unread bytes start with a Sun-RPC record
  // marker) and serves it until the peer closes it or Stop(). `initial_bytes` are bytes the
  // caller already read from the socket; they are processed first. `peer_addr` ("host:port")
  // appears in logs. If the server is not running or at max_connections, fd is closed.
  void Adopt(int fd, std::string peer_addr, std::string initial_bytes = {});

  // Sends a FETCHSPEC callback on every open connection that fetched a volfile of `volume`
  // (see volfile_id.h for how ids map to volumes): clients, bricks and daemons of the volume
  // then re-run GETSPEC. Does not wait for the sends. Returns the number of connections notified.
  size_t NotifyVolfileChanged(std::string_view volume);
  // Sends FETCHSPEC on every open connection (what glusterd does). Returns the count.
  size_t NotifyAll();

  // The open connections.
  std::vector<RpcConnectionInfo> Connections() const;
  size_t ConnectionCount() const;

 private:
  struct Connection;
  void Serve(Connection& c);
  void ReapFinishedLocked();
  size_t Notify(const std::string* volume);

  VolfileProvider& provider_;
  PortMap& portmap_;
  RpcServerOptions options_;
  log::Logger log_;
  mutable std::mutex mu_;
  bool started_ = false;                                // guarded by mu_
  bool stopped_ = false;                                // guarded by mu_
  std::list<std::unique_ptr<Connection>> connections_;  // guarded by mu_
};

}  // namespace gd2::sunrpc
