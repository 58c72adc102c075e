// The ReST server on the client address. One TCP port serves HTTP, HTTPS and the Gluster RPC
// service: the first byte of a connection tells them apart (a TLS handshake starts with 0x16,
// an RPC record marker has its top bit set, anything else is HTTP). Every request gets a
// request id, is authenticated (JWT, see common/jwt.h), routed, logged once and counted.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "rest/router.h"

namespace gd2::rest {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 24007;  // 0 picks a free port (see Server::port())
  std::string cert_file;  // both set: HTTPS only (plain HTTP connections are refused)
  std::string key_file;
  bool auth = true;
  std::string secret;  // JWT key when auth is on
  std::string peer_id;
  std::string cluster_id;
  size_t max_body_bytes = 1 << 20;
  int threads = 16;
  int read_timeout_sec = 10;
  int write_timeout_sec = 60;
  // Takes ownership of connections that start with an RPC record marker. Null: closed.
  std::function<void(int fd, std::string peer)> rpc_handler;
};

class Server {
 public:
  // `router` must outlive the server and not change once Start() was called.
  Server(ServerOptions opts, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a background thread. kUnavailable if the address is in use,
  // kInvalidArgument for a bad TLS cert/key.
  Status Start();
  // Stops accepting, lets in-flight requests finish, joins. Idempotent.
  void Stop();
  int port() const { return port_; }
  // The cluster id reported in X-Gluster-Cluster-Id (changes when a peer joins a cluster).
  void SetClusterId(std::string id);

  // httplib's server with our connection handling and request pipeline (server.cc).
  class Impl;

 private:
  ServerOptions opts_;
  const Router& router_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace gd2::rest
