// The ReST server on the client address. One TCP port serves HTTP, HTTPS and the Gluster RPC
// service: the first byte of a connection tells them apart (a TLS handshake starts with 0x16,
// an RPC record marker has its top bit set, anything else is HTTP). Every request gets a
// request id, is authenticated (JWT, see common/jwt.h), routed, logged once and counted.
//
// Connections are served by an event loop (Boost.Asio) on a few I/O threads, which only move
// bytes: a request is read with deadlines for its first byte, its header and its body; the
// token is checked from the header before any body byte is accepted; and only a request that
// has fully arrived is handed to a bounded pool of handler threads (handlers block on etcd).
// Connections are limited in total and per source address. Each answer names the store revision
// of the writes made for it (X-Gd2-Revision), and a request may name the revision its answer must
// reflect (X-Gd2-Min-Revision, handed to the handler); see rest/router.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "rest/router.h"

namespace gd2::rest {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 24007;       // 0 picks a free port (see Server::port())
  std::string cert_file;  // both set: HTTPS only (plain HTTP connections are refused)
  std::string key_file;
  bool auth = true;
  std::string secret;  // JWT key when auth is on
  std::string peer_id;
  std::string cluster_id;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;
  // Handler threads, and requests that may wait for one (beyond that: 503 and close).
  int threads = 16;
  size_t max_queued_requests = 512;
  // Threads running the event loop (reads, writes, TLS handshakes, token checks).
  int io_threads = 2;
  // A new connection must send its first byte within this time (it decides HTTP/TLS/RPC).
  std::chrono::milliseconds first_byte_timeout{10000};
  // A request's header (and a TLS handshake) must complete this long after its first byte.
  std::chrono::milliseconds header_timeout{10000};
  // A request's body must complete this long after its header.
  std::chrono::milliseconds body_timeout{30000};
  // An idle keep-alive connection is closed after this long without a new request.
  std::chrono::milliseconds keep_alive_timeout{5000};
  // A response must be taken by the peer within this time.
  std::chrono::milliseconds write_timeout{60000};
  // Open connections at once (HTTP and those not yet demultiplexed), in total and from one
  // source address. Beyond them a new connection is closed at once.
  size_t max_connections = 8192;
  size_t max_connections_per_address = 512;
  // Takes ownership of connections that start with an RPC record marker (nothing of them has
  // been read). Null: closed. Called on an I/O thread: must not block.
  std::function<void(int fd, std::string peer)> rpc_handler;
  // Read-your-writes on this peer: called on the handler thread after a handler that wrote to
  // the store, with the highest revision it wrote (store::WriteRevisionScope), before the answer
  // (which carries that revision in X-Gd2-Revision) is sent; waits, bounded, until this peer's
  // reads reflect it. Null: the answer is sent at once.
  std::function<void(int64_t revision)> await_revision;
};

// What a connection's first byte, peeked without being consumed, says it is. `n` and `err` are
// recv(MSG_PEEK)'s result and errno (EINTR already retried); `tls_only` when the port serves
// HTTPS only. A wait for readability may end before anything can be read: kWaitAgain, under the
// same first-byte deadline, not a close.
enum class FirstByte {
  kWaitAgain,  // nothing to read yet
  kClose,      // closed or failed before a byte arrived, or plain HTTP on an HTTPS-only port
  kRpc,        // a Gluster RPC record marker (top bit set)
  kTls,        // a TLS handshake record (0x16) on an HTTPS port
  kHttp,
};
FirstByte ClassifyFirstByte(long n, int err, unsigned char first, bool tls_only);

class Server {
 public:
  // `router` must outlive the server and not change once Start() was called.
  Server(ServerOptions opts, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (listen backlog SOMAXCONN) and starts serving on background threads. kUnavailable
  // if the address is in use, kInvalidArgument for a bad TLS cert/key.
  Status Start();
  // Stops accepting, lets in-flight requests finish (for a few seconds at most), closes every
  // connection and joins. Idempotent.
  void Stop();
  int port() const { return port_; }
  // The cluster id reported in X-Gluster-Cluster-Id (changes when a peer joins a cluster).
  void SetClusterId(std::string id);
  // Open connections (HTTP and not yet demultiplexed), for tests and metrics.
  size_t ConnectionCount() const;

  // The event loop, connections and request pipeline (server.cc).
  class Impl;

 private:
  ServerOptions opts_;
  const Router& router_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace gd2::rest
