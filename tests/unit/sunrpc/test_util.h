// Helpers shared by the sunrpc tests: hex parsing of captured bytes, a provider serving fixed
// volfiles, and a small blocking Sun-RPC client over TCP.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sunrpc/dict.h"
#include "sunrpc/rpc_msg.h"
#include "sunrpc/volfile_provider.h"

namespace gd2::sunrpc::testing {

// "00000002 0000000a ..." (whitespace ignored) -> bytes. Aborts on bad input.
std::string Hex(std::string_view text);
std::string ToHex(std::string_view bytes);

// Serves volfiles from a map; ids are looked up as sent and with one leading "/" removed.
class MapVolfileProvider : public VolfileProvider {
 public:
  void Set(const std::string& id, std::string text);
  StatusOr<std::string> GetVolfile(std::string_view volfile_id, const Dict& xdata) override;
  Dict GetVolfileReplyXdata(std::string_view volfile_id) override;
  // The last request dict seen.
  Dict last_xdata() const;
  // Number of GetVolfile calls so far; WaitCalls blocks until there were at least `n`.
  int calls() const;
  bool WaitCalls(int n, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  int calls_ = 0;
  std::map<std::string, std::string, std::less<>> specs_;
  Dict last_xdata_;
};

// Registers `provider` for every volfile kind and daemon.
void RegisterForEveryKind(VolfileRegistry& registry, VolfileProvider& provider);

// A registry in which one provider answers every kind.
class EveryKindRegistry : public VolfileRegistry {
 public:
  explicit EveryKindRegistry(VolfileProvider& provider) { RegisterForEveryKind(*this, provider); }
};

// A blocking RPC client on one TCP connection, as a gluster process would open it.
class TestRpcClient {
 public:
  TestRpcClient() = default;
  ~TestRpcClient();
  TestRpcClient(const TestRpcClient&) = delete;
  TestRpcClient& operator=(const TestRpcClient&) = delete;

  Status Connect(const std::string& host, int port);
  // Sends a CALL with AUTH_GLUSTERFS_v2 credentials and waits for its reply. Callback CALLs that
  // arrive meanwhile are counted in callbacks(). Returns the reply header and the results.
  StatusOr<std::pair<ReplyHeader, std::string>> Call(
      uint32_t program, uint32_t version, uint32_t procedure, std::string_view args,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends raw bytes.
  Status SendRaw(std::string_view bytes);
  // Reads one record. kDeadlineExceeded on timeout, kUnavailable on EOF.
  StatusOr<std::string> ReadRecord(std::chrono::milliseconds timeout);
  // Waits until a callback CALL (program, procedure) arrives; returns its header.
  StatusOr<CallHeader> WaitCallback(std::chrono::milliseconds timeout);
  // True if the server closed the connection within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout);
  int callbacks() const { return static_cast<int>(pending_callbacks_.size()); }

 private:
  int fd_ = -1;
  uint32_t xid_ = 1;
  std::string buf_;
  std::vector<CallHeader> pending_callbacks_;
};

}  // namespace gd2::sunrpc::testing
