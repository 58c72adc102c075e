#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "sunrpc/record.h"
#include "sunrpc/xdr.h"

namespace gd2::sunrpc::testing {

std::string Hex(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') continue;
    digits.push_back(c);
  }
  GD2_CHECK(digits.size() % 2 == 0);
  std::string out;
  for (size_t i = 0; i < digits.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(' ');
    auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void RegisterForEveryKind(VolfileRegistry& registry, VolfileProvider& provider) {
  for (VolfileKind kind : {VolfileKind::kClient, VolfileKind::kBrick, VolfileKind::kSnapshotClient,
                           VolfileKind::kSnapshotBrick}) {
    GD2_CHECK(registry.Add({kind, ""}, provider).ok());
  }
  for (std::string_view daemon : kVolfileDaemons) {
    GD2_CHECK(registry.Add(VolfileProviderKey::Daemon(std::string(daemon)), provider).ok());
  }
}

void MapVolfileProvider::Set(const std::string& id, std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  specs_[id] = std::move(text);
}

StatusOr<std::string> MapVolfileProvider::GetVolfile(std::string_view volfile_id,
                                                     const Dict& xdata) {
  std::lock_guard<std::mutex> lock(mu_);
  last_xdata_ = xdata;
  ++calls_;
  cv_.notify_all();
  std::string_view key = volfile_id;
  if (!key.empty() && key.front() == '/') key.remove_prefix(1);
  auto it = specs_.find(key);
  if (it == specs_.end()) return NotFoundError("no volfile: id=" + std::string(volfile_id));
  return it->second;
}

Dict MapVolfileProvider::GetVolfileReplyXdata(std::string_view volfile_id) {
  Dict d;
  if (volfile_id.starts_with("shd/")) {
    std::string vol(volfile_id.substr(4));
    d.SetString("pidfile", "/var/run/gluster/shd/" + vol + "/" + vol + "-shd.pid");
  }
  return d;
}

int MapVolfileProvider::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

bool MapVolfileProvider::WaitCalls(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return calls_ >= n; });
}

Dict MapVolfileProvider::last_xdata() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_xdata_;
}

TestRpcClient::~TestRpcClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status TestRpcClient::Connect(const std::string& host, int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return ErrnoError("socket", errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    return InvalidArgumentError("bad host: " + host);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    return ErrnoError("connect", errno);
  }
  return OkStatus();
}

Status TestRpcClient::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("send", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

StatusOr<std::string> TestRpcClient::ReadRecord(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  RecordReader reader(64 << 20);
  std::vector<std::string> records;
  // Parse what is buffered byte by byte so bytes of the next record stay in buf_.
  while (true) {
    while (!buf_.empty() && records.empty()) {
      GD2_RETURN_IF_ERROR(reader.Feed(std::string_view(buf_).substr(0, 1), records));
      buf_.erase(0, 1);
    }
    if (!records.empty()) return records.front();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return DeadlineExceededError("no record");
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return ErrnoError("poll", errno);
    if (r <= 0) continue;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n == 0) return UnavailableError("connection closed");
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("recv", errno);
    }
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

StatusOr<std::pair<ReplyHeader, std::string>> TestRpcClient::Call(
    uint32_t program, uint32_t version, uint32_t procedure, std::string_view args,
    std::chrono::milliseconds timeout) {
  CallHeader h;
  h.xid = ++xid_;
  h.program = program;
  h.version = version;
  h.procedure = procedure;
  h.cred_flavor = kAuthGlusterfsV2;
  h.cred_body = GlusterfsV2CredBody();
  XdrWriter w;
  EncodeCallHeader(h, w);
  GD2_RETURN_IF_ERROR(SendRaw(EncodeRecord(w.data() + std::string(args))));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    GD2_ASSIGN_OR_RETURN(std::string rec, ReadRecord(left));
    XdrReader r(rec);
    GD2_ASSIGN_OR_RETURN(MessageStart start, DecodeMessageStart(r));
    if (start.msg_type == static_cast<uint32_t>(MsgType::kCall)) {
      GD2_ASSIGN_OR_RETURN(CallHeader cb, DecodeCallRest(r, start.xid));
      pending_callbacks_.push_back(cb);
      continue;
    }
    if (start.xid != h.xid) continue;
    GD2_ASSIGN_OR_RETURN(ReplyHeader reply, DecodeReplyRest(r, start.xid));
    return std::make_pair(reply, std::string(r.rest()));
  }
}

StatusOr<CallHeader> TestRpcClient::WaitCallback(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_callbacks_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    GD2_ASSIGN_OR_RETURN(std::string rec, ReadRecord(left));
    XdrReader r(rec);
    GD2_ASSIGN_OR_RETURN(MessageStart start, DecodeMessageStart(r));
    if (start.msg_type != static_cast<uint32_t>(MsgType::kCall)) continue;
    GD2_ASSIGN_OR_RETURN(CallHeader cb, DecodeCallRest(r, start.xid));
    pending_callbacks_.push_back(cb);
  }
  CallHeader cb = pending_callbacks_.front();
  pending_callbacks_.erase(pending_callbacks_.begin());
  return cb;
}

bool TestRpcClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto rec = ReadRecord(left);
    if (!rec.ok()) return rec.status().code() != StatusCode::kDeadlineExceeded;
  }
  return false;
}

}  // namespace gd2::sunrpc::testing
