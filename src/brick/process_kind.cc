#include "brick/process_kind.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "sunrpc/volfile_id.h"

namespace gd2::brick {
namespace {

// Any unique, short name works for the -S socket (sun_path holds 108 bytes); glusterd hashes a
// path with XXH64, we use FNV-1a 64 of a path naming the process.
std::string SocketFile(const std::string& run_dir, const std::string& unique) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : unique) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return run_dir + "/" + hex + ".socket";
}

Status ValidateBrickSpec(const BrickSpec& s) {
  if (s.volume.empty()) return InvalidArgumentError("brick spec: empty volume name");
  if (s.brick_path.empty() || s.brick_path[0] != '/') {
    return InvalidArgumentError("brick spec: brick path not absolute: path=" + s.brick_path);
  }
  if (s.host.empty()) return InvalidArgumentError("brick spec: empty host: path=" + s.brick_path);
  if (s.port <= 0 || s.port > 65535) {
    return InvalidArgumentError("brick spec: invalid port " + std::to_string(s.port) +
                                ": path=" + s.brick_path);
  }
  if (s.local_volfile.empty() && s.volfile_over_tcp && s.volfile_server_host.empty()) {
    return InvalidArgumentError("brick spec: no volfile server: path=" + s.brick_path);
  }
  if (!s.volfile_id.empty()) {
    auto id = sunrpc::ParseVolfileId(s.volfile_id);
    if (!id.ok() || (id->kind != sunrpc::VolfileKind::kBrick &&
                     id->kind != sunrpc::VolfileKind::kSnapshotBrick)) {
      return InvalidArgumentError("brick spec: not a brick volfile id: path=" + s.brick_path);
    }
  }
  return OkStatus();
}

Status ValidateShdSpec(const BrickSpec& s) {
  if (s.volume.empty()) return InvalidArgumentError("shd spec: empty volume name");
  if (s.local_volfile.empty() && s.volfile_over_tcp && s.volfile_server_host.empty()) {
    return InvalidArgumentError("shd spec: no volfile server: volume=" + s.volume);
  }
  return OkStatus();
}

void AddVolfileSource(const BrickSpec& s, const ProcessFiles& f, const std::string& volfile_id,
                      std::vector<std::string>& argv) {
  if (!s.local_volfile.empty()) {
    argv.insert(argv.end(), {"-f", s.local_volfile});
    return;
  }
  if (s.volfile_over_tcp) {
    argv.insert(argv.end(), {"-s", s.volfile_server_host, "--volfile-server-port",
                             std::to_string(s.volfile_server_port), "--volfile-id", volfile_id});
    return;
  }
  argv.insert(argv.end(), {"-s", f.volfile_socket, "--volfile-server-transport", "unix",
                           "--volfile-id", volfile_id});
}

bool HasArgPair(const std::vector<std::string>& args, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == a && args[i + 1] == b) return true;
  }
  return false;
}

// Processes started before the daemon served bricks on its local socket fetched their volfile
// over TCP, where they may no longer sign in: they are replaced.
bool UsesCurrentVolfileServer(const BrickSpec& s, const ProcessFiles& f,
                              const std::vector<std::string>& args) {
  if (!s.local_volfile.empty() || s.volfile_over_tcp) return true;
  return HasArgPair(args, "-s", f.volfile_socket) &&
         HasArgPair(args, "--volfile-server-transport", "unix");
}

}  // namespace

std::string DashedPath(const std::string& path) {
  std::string out = path;
  if (!out.empty() && out[0] == '/') out.erase(0, 1);
  for (char& c : out) {
    if (c == '/') c = '-';
  }
  return out;
}

ProcessKind BrickKind(std::string binary) {
  ProcessKind k;
  k.name = "brick";
  k.binary = std::move(binary);
  k.key = [](const BrickSpec& s) { return s.brick_path; };
  k.validate = &ValidateBrickSpec;
  k.files = [](const BrickSpec& s, const std::string& run_dir, const std::string& log_dir) {
    std::string base = s.host + "-" + DashedPath(s.brick_path);
    ProcessFiles f;
    f.volfile_socket = run_dir + "/" + kVolfileSocketName;
    f.pid_file = run_dir + "/vols/" + s.volume + "/" + base + ".pid";
    f.socket_file = SocketFile(run_dir, run_dir + "/vols/" + s.volume + "/run/" + base);
    f.log_file = log_dir + "/bricks/" + DashedPath(s.brick_path) + ".log";
    return f;
  };
  std::string bin = k.binary;
  k.argv = [bin](const BrickSpec& s, const ProcessFiles& f) {
    std::vector<std::string> argv = {bin};
    AddVolfileSource(s, f,
                     s.volfile_id.empty() ? s.volume + "." + s.host + "." + DashedPath(s.brick_path)
                                          : s.volfile_id,
                     argv);
    argv.insert(argv.end(), {"-p", f.pid_file, "-S", f.socket_file, "--brick-name", s.brick_path,
                             "-l", f.log_file});
    if (!s.peer_id.empty()) {
      argv.insert(argv.end(), {"--xlator-option", "*-posix.glusterd-uuid=" + s.peer_id});
    }
    std::string port = std::to_string(s.port);
    argv.insert(argv.end(), {"--process-name", "brick", "--brick-port", port, "--xlator-option",
                             s.volume + "-server.listen-port=" + port, "-N"});
    argv.insert(argv.end(), s.extra_args.begin(), s.extra_args.end());
    return argv;
  };
  k.identity = [](const BrickSpec& s) {
    return std::vector<std::pair<std::string, std::string>>{{"--brick-name", s.brick_path}};
  };
  k.current = &UsesCurrentVolfileServer;
  k.default_ready = [](const BrickSpec& s) {
    return CanConnect(s.host, s.port, std::chrono::milliseconds(200));
  };
  return k;
}

ProcessKind ShdKind(std::string binary) {
  ProcessKind k;
  k.name = "glustershd";
  k.binary = std::move(binary);
  k.stop_signal = SIGKILL;
  k.key = [](const BrickSpec& s) { return "shd/" + s.volume; };
  k.validate = &ValidateShdSpec;
  k.files = [](const BrickSpec& s, const std::string& run_dir, const std::string& log_dir) {
    ProcessFiles f;
    f.volfile_socket = run_dir + "/" + kVolfileSocketName;
    f.pid_file = run_dir + "/shd/" + s.volume + "/" + s.volume + "-shd.pid";
    f.socket_file = SocketFile(run_dir, run_dir + "/shd/" + s.volume);
    f.log_file = log_dir + "/glustershd/" + s.volume + ".log";
    return f;
  };
  std::string bin = k.binary;
  k.argv = [bin](const BrickSpec& s, const ProcessFiles& f) {
    std::vector<std::string> argv = {bin};
    AddVolfileSource(s, f, "shd/" + s.volume, argv);
    argv.insert(argv.end(), {"-p", f.pid_file, "-l", f.log_file, "-S", f.socket_file});
    if (!s.peer_id.empty()) {
      argv.insert(argv.end(), {"--xlator-option", "*replicate*.node-uuid=" + s.peer_id});
    }
    argv.insert(argv.end(), {"--process-name", "glustershd", "--client-pid=-6", "-N"});
    argv.insert(argv.end(), s.extra_args.begin(), s.extra_args.end());
    return argv;
  };
  k.identity = [](const BrickSpec&) { return std::vector<std::pair<std::string, std::string>>{}; };
  k.current = &UsesCurrentVolfileServer;
  k.default_ready = [](const BrickSpec&) { return true; };
  return k;
}

bool CanConnect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (addrinfo* ai = res; ai != nullptr && !ok; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return ok;
}

}  // namespace gd2::brick
