// RecordingPeer: a gRPC listener that speaks the peer service (proto/peer/peer.proto) as a
// stranger would, without any secret, and records everything callers send it: each request's
// method, its metadata and its serialized bytes. Tests point `peer add` at it and check that
// nothing secret arrived. JoinHello is answered with a random nonce and a proof made with a
// secret of its own (so it looks like a real peer with another secret); every other call is
// answered with an error.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gd2::testing {

class RecordingPeer {
 public:
  struct Received {
    std::string method;    // "JoinHello", "Join", "RunStep", ...
    std::string metadata;  // every client metadata "key: value\n"
    std::string bytes;     // the serialized request
  };

  // Listens on host:port (port 0: any free port). Check ok() after construction.
  explicit RecordingPeer(const std::string& host = "127.0.0.1", int port = 0);
  ~RecordingPeer();
  RecordingPeer(const RecordingPeer&) = delete;
  RecordingPeer& operator=(const RecordingPeer&) = delete;

  bool ok() const;
  // "host:port" to give to peer add.
  std::string address() const;
  std::vector<Received> received() const;
  // Every method, metadata and byte received, concatenated (for substring searches).
  std::string AllBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gd2::testing
