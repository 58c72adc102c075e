#include "brick/prepare.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "api/volume.h"
#include "common/hex.h"
#include "common/uuid.h"

namespace gd2::brick {
namespace {

using UuidBytes = std::array<uint8_t, 16>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Caller has checked IsUuid().
UuidBytes UuidToBytes(const std::string& uuid) {
  UuidBytes out{};
  size_t n = 0;
  for (size_t i = 0; i + 1 < uuid.size() && n < out.size(); ++i) {
    if (uuid[i] == '-') continue;
    out[n++] = static_cast<uint8_t>(HexValue(uuid[i]) * 16 + HexValue(uuid[i + 1]));
    ++i;
  }
  return out;
}

std::string BytesToUuid(const std::string& raw) {
  std::string hex = HexBytes(raw);
  // 8-4-4-4-12 digits.
  for (size_t at : {20, 16, 12, 8}) {
    if (hex.size() > at) hex.insert(at, 1, '-');
  }
  return hex;
}

// An open file descriptor, closed when the object dies.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Errors the request's path causes are 4xx; only the unexpected stays kInternal.
Status PathError(const std::string& what, const std::string& path, int err) {
  switch (err) {
    case ENAMETOOLONG:
      return InvalidArgumentError(what + ": name too long: path=" + path);
    case EROFS:
      return FailedPreconditionError(what + ": read-only filesystem: path=" + path);
    case ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP:
#endif
      return FailedPreconditionError(what +
                                     ": operation not supported by the filesystem: path=" + path);
    default:
      return ErrnoError(what + " " + path, err);
  }
}

// Returns the xattr's value, std::nullopt if absent, or an error.
StatusOr<std::optional<std::string>> GetXattr(int fd, const std::string& path, const char* name) {
  std::string buf(64, '\0');
  while (true) {
    ssize_t n = ::fgetxattr(fd, name, buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return std::optional<std::string>(buf);
    }
    if (errno == ENODATA) return std::optional<std::string>();
    if (errno != ERANGE) return PathError(std::string("getxattr ") + name, path, errno);
    if (buf.size() > (1u << 16)) return InternalError("xattr too large: " + std::string(name));
    buf.resize(buf.size() * 4);
  }
}

StatusOr<std::vector<std::string>> ListXattrs(int fd, const std::string& path) {
  std::string buf(1024, '\0');
  while (true) {
    ssize_t n = ::flistxattr(fd, buf.data(), buf.size());
    if (n >= 0) {
      std::vector<std::string> names;
      size_t start = 0;
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        if (buf[i] == '\0') {
          if (i > start) names.emplace_back(buf.substr(start, i - start));
          start = i + 1;
        }
      }
      return names;
    }
    if (errno != ERANGE) return PathError("listxattr", path, errno);
    if (buf.size() > (1u << 20)) return InternalError("xattr list too large: path=" + path);
    buf.resize(buf.size() * 4);
  }
}

// Directories where some file system is mounted, from /proc/self/mountinfo (octal escapes
// such as \040 decoded).
std::vector<std::string> MountPoints() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (!(fields >> id >> parent >> devno >> root >> mount_point)) continue;
    std::string decoded;
    for (size_t i = 0; i < mount_point.size(); ++i) {
      if (mount_point[i] == '\\' && i + 3 < mount_point.size()) {
        decoded += static_cast<char>((mount_point[i + 1] - '0') * 64 +
                                     (mount_point[i + 2] - '0') * 8 + (mount_point[i + 3] - '0'));
        i += 3;
      } else {
        decoded += mount_point[i];
      }
    }
    out.push_back(decoded);
  }
  return out;
}

bool IsMountPoint(const std::string& path, int fd, int parent_fd) {
  struct stat st = {};
  struct stat parent_st = {};
  if (::fstat(fd, &st) == 0 && ::fstat(parent_fd, &parent_st) == 0 &&
      parent_st.st_dev != st.st_dev) {
    return true;
  }
  // A bind mount of a directory of the same file system keeps st_dev; mountinfo shows it.
  for (const auto& mp : MountPoints()) {
    if (mp == path) return true;
  }
  return false;
}

bool HasGlusterPrefix(const std::string& name) {
  for (const char* prefix : {"trusted.glusterfs.", "trusted.afr.", "trusted.ec."}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return name == kGfidXattr;
}

Status CheckIds(const std::string& path, const std::string& volume_id) {
  GD2_RETURN_IF_ERROR(ValidateBrickPath(path));
  if (!IsUuid(volume_id)) {
    return InvalidArgumentError("volume id is not a uuid: volume_id=" + volume_id +
                                " path=" + path);
  }
  return OkStatus();
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A brick path opened one component at a time from "/" without following any symlink, so what
// the path names cannot change under us: every later check and change goes through these
// descriptors, never through the path again.
struct OpenedPath {
  std::vector<Fd> dirs;            // "/" first, then one per component reached
  std::vector<std::string> names;  // names[i] is the component dirs[i + 1] was opened as
  std::vector<size_t> created;     // indexes into `dirs` of directories this walk made
  int leaf() const { return dirs.back().get(); }
  int parent() const { return dirs[dirs.size() - 2].get(); }
};

enum class WalkStop { kOpened, kMissing, kSymlink, kNotDirectory };

struct WalkResult {
  WalkStop stop = WalkStop::kOpened;
  std::string at;  // the prefix of the path where the walk stopped
};

struct WalkOptions {
  // Make missing directories (mode 0755); `before_create` may refuse first, given the deepest
  // existing directory.
  bool create = false;
  std::function<Status(int existing_dir)> before_create;
  // Called with each directory above the brick, "/" included, before descending from it.
  std::function<Status(int dir, const std::string& dir_path)> on_ancestor;
};

// Opens `path` (already validated) into `out`. Stops at the first component that is missing
// (unless created), a symlink or not a directory, and says where in the result.
StatusOr<WalkResult> WalkBrickPath(const std::string& path, const WalkOptions& options,
                                   OpenedPath& out) {
  out.dirs.emplace_back(::open("/", kDirFlags));
  if (out.dirs.back().get() < 0) return ErrnoError("open /", errno);
  std::vector<std::string> parts = Components(path);
  std::string reached;
  for (size_t i = 0; i < parts.size(); ++i) {
    const int cur = out.dirs.back().get();
    if (options.on_ancestor) {
      GD2_RETURN_IF_ERROR(options.on_ancestor(cur, reached.empty() ? "/" : reached));
    }
    reached += "/" + parts[i];
    int fd = ::openat(cur, parts[i].c_str(), kDirFlags);
    bool made = false;
    if (fd < 0 && errno == ENOENT && options.create) {
      if (options.before_create) GD2_RETURN_IF_ERROR(options.before_create(cur));
      if (::mkdirat(cur, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        if (errno == ENOENT) return WalkResult{WalkStop::kMissing, reached};
        return PathError("create brick directory", reached, errno);
      }
      made = errno != EEXIST;
      fd = ::openat(cur, parts[i].c_str(), kDirFlags);
    }
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT) return WalkResult{WalkStop::kMissing, reached};
      if (err == ELOOP || err == ENOTDIR) {
        struct stat st {};
        if (::fstatat(cur, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
          return WalkResult{WalkStop::kSymlink, reached};
        }
        return WalkResult{WalkStop::kNotDirectory, reached};
      }
      return PathError("open", reached, err);
    }
    out.dirs.emplace_back(fd);
    out.names.push_back(parts[i]);
    if (made) out.created.push_back(out.dirs.size() - 1);
  }
  return WalkResult{};
}

// Removes what this walk created, deepest first, if still empty.
void RemoveCreated(OpenedPath& opened) {
  for (auto it = opened.created.rbegin(); it != opened.created.rend(); ++it) {
    ::unlinkat(opened.dirs[*it - 1].get(), opened.names[*it - 1].c_str(), AT_REMOVEDIR);
  }
}

}  // namespace

Status CleanupMayGoOn(const UnprepareOptions& options, const std::string& what) {
  if (std::chrono::steady_clock::now() >= options.deadline) {
    return DeadlineExceededError(
        "brick cleanup stopped at its deadline; the next cleanup resumes it: " + what);
  }
  if (options.cancel.stop_requested()) {
    return Status(StatusCode::kCancelled,
                  "brick cleanup stopped: its transaction gave up on it; the next cleanup "
                  "resumes it: " +
                      what);
  }
  return OkStatus();
}

namespace {

// Removes `name` in `dir_fd` and everything below it without following symlinks (a link inside
// is removed, not its target). Before each entry of a listed directory it asks CleanupMayGoOn:
// past the deadline or once cancelled, it stops, and what is left stays for the next call.
Status RemoveTreeAt(int dir_fd, const std::string& name, const std::string& shown, int depth,
                    const UnprepareOptions& options) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return OkStatus();
  if (errno != EISDIR) return PathError("remove", shown, errno);
  // An empty directory, as most of .glusterfs is (its 256 fan-out directories), goes in one
  // call: opening and listing it cost more than its removal (a listing also writes its atime).
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return OkStatus();
  if (errno != ENOTEMPTY && errno != EEXIST) return PathError("rmdir", shown, errno);
  if (depth > 64) return InternalError("directory tree too deep to remove: path=" + shown);
  // O_NOATIME: the listing writes no atime to a directory about to go (root may always ask).
  int fd = ::openat(dir_fd, name.c_str(), kDirFlags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name.c_str(), kDirFlags);
  if (fd < 0) return PathError("open", shown, errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return PathError("opendir", shown, err);
  }
  Status result;
  while (dirent* e = ::readdir(dir)) {
    std::string child = e->d_name;
    if (child == "." || child == "..") continue;
    result = CleanupMayGoOn(options, "entries left in path=" + shown);
    if (!result.ok()) break;
    result = RemoveTreeAt(::dirfd(dir), child, shown + "/" + child, depth + 1, options);
    if (!result.ok()) break;
  }
  ::closedir(dir);
  GD2_RETURN_IF_ERROR(result);
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return PathError("rmdir", shown, errno);
  }
  return OkStatus();
}

Status WalkRefusal(const WalkResult& r, const std::string& path) {
  switch (r.stop) {
    case WalkStop::kOpened:
      return OkStatus();
    case WalkStop::kSymlink:
      return InvalidArgumentError("brick path is or passes through a symlink (" + r.at +
                                  "); use the real directory: path=" + path);
    case WalkStop::kNotDirectory:
      return FailedPreconditionError(
          (r.at == path ? std::string("brick path is not a directory")
                        : "a component of the brick path is not a directory (" + r.at + ")") +
          ": path=" + path);
    case WalkStop::kMissing:
      return FailedPreconditionError(
          (r.at == path ? std::string("brick directory does not exist")
                        : "a parent of the brick directory does not exist (" + r.at + ")") +
          ": path=" + path);
  }
  return InternalError("unknown walk result");
}

}  // namespace

Status ValidateBrickPath(const std::string& path) { return api::ValidateBrickPath(path); }

Status PrepareBrick(const std::string& path, const std::string& volume_id,
                    const PrepareOptions& options) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));
  struct stat root_st {};
  if (::stat("/", &root_st) != 0) return ErrnoError("stat /", errno);
  auto on_root_fs = [&](int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_dev == root_st.st_dev;
  };

  WalkOptions wo;
  wo.create = options.create_dir;
  // For a directory still to be created, its nearest existing ancestor decides.
  wo.before_create = [&](int existing) {
    if (!options.allow_root_dir && on_root_fs(existing)) {
      return FailedPreconditionError(
          "brick is on the root filesystem (use a separate filesystem or force): path=" + path);
    }
    return OkStatus();
  };
  // glusterd refuses a path below a directory that already is (part of) a brick. Filesystems
  // without xattrs (procfs) answer "not supported": nothing is in use there.
  wo.on_ancestor = [&](int dir, const std::string& dir_path) {
    for (const char* name : {kVolumeIdXattr, kGfidXattr}) {
      auto value = GetXattr(dir, dir_path, name);
      if (value.ok() && value->has_value()) {
        return AlreadyExistsError("a parent directory is already part of a volume (" +
                                  std::string(name) + " on " + dir_path + "): path=" + path +
                                  " (bricks do not nest: use a path outside " + dir_path + ")");
      }
    }
    return OkStatus();
  };
  OpenedPath opened;
  StatusOr<WalkResult> walked = WalkBrickPath(path, wo, opened);
  // From here on, a failure removes the directories this call made (only if empty).
  auto fail = [&](Status s) {
    RemoveCreated(opened);
    return s;
  };
  if (!walked.ok()) return fail(walked.status());
  if (walked->stop != WalkStop::kOpened) return fail(WalkRefusal(*walked, path));
  const bool existed = opened.created.empty() || opened.created.back() != opened.dirs.size() - 1;
  const int leaf = opened.leaf();

  if (existed) {
    if (!options.allow_root_dir && on_root_fs(leaf)) {
      return FailedPreconditionError(
          "brick is on the root filesystem (use a separate filesystem or force): path=" + path);
    }
    if (!options.allow_mount_as_brick && IsMountPoint(path, leaf, opened.parent())) {
      return FailedPreconditionError(
          "brick path is a mount point; use a directory below it or force: path=" + path);
    }
  }

  auto current = GetXattr(leaf, path, kVolumeIdXattr);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kFailedPrecondition) {
      return fail(FailedPreconditionError("filesystem does not support trusted.* xattrs (" +
                                          current.status().message() + ")"));
    }
    return fail(current.status());
  }
  UuidBytes want = UuidToBytes(volume_id);
  std::string want_raw(want.begin(), want.end());
  if (current->has_value() && **current != want_raw) {
    std::string other = (*current)->size() == 16 ? BytesToUuid(**current) : "(malformed)";
    // What to do depends on whose id it is, which the caller may know better (its store); the
    // message says how to tell and how to free the path by hand.
    return fail(AlreadyExistsError(
        "brick path already belongs to another volume: volume_id=" + other + " path=" + path +
        " (a volume of this cluster; a deleted one whose cleanup here has not finished, which "
        "is retried every 30 s; a create whose outcome was not known, rolled back within "
        "seconds of etcd answering: retry shortly; or a volume of another cluster: use another "
        "path, or once nothing uses it remove " +
        path + "/" + kInternalDir + " and the " + kVolumeIdXattr + " and " + kGfidXattr +
        " xattrs of " + path + ")"));
  }
  if (!current->has_value()) {
    GD2_ASSIGN_OR_RETURN(std::optional<std::string> gfid, GetXattr(leaf, path, kGfidXattr));
    if (gfid.has_value() && !options.reuse) {
      return AlreadyExistsError(
          "brick path holds data of an earlier gluster volume (trusted.gfid is set); pass reuse "
          "to take it over: path=" +
          path);
    }
    if (::fsetxattr(leaf, kTestXattr, "working", 7, 0) != 0) {
      int err = errno;
      return fail(FailedPreconditionError("filesystem does not support trusted.* xattrs (" +
                                          ErrnoError("setxattr", err).message() +
                                          "): path=" + path));
    }
    ::fremovexattr(leaf, kTestXattr);
    if (::fsetxattr(leaf, kVolumeIdXattr, want.data(), want.size(), 0) != 0) {
      return fail(PathError("set volume-id xattr", path, errno));
    }
  }

  const std::string internal = path + "/" + kInternalDir;
  if (::mkdirat(leaf, kInternalDir, 0600) != 0 && errno != EEXIST) {
    return PathError("mkdir", internal, errno);
  }
  // mkdir honours the umask; glusterd's mode is exactly 0600. An existing entry must be a real
  // directory: the brick process writes below it.
  Fd internal_fd(::openat(leaf, kInternalDir, kDirFlags));
  if (internal_fd.get() < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return FailedPreconditionError("brick internal directory is not a directory: path=" +
                                     internal);
    }
    return PathError("open", internal, errno);
  }
  ::fchmod(internal_fd.get(), 0600);
  return OkStatus();
}

Status UnprepareBrick(const std::string& path, const std::string& volume_id,
                      const UnprepareOptions& options) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));
  OpenedPath opened;
  GD2_ASSIGN_OR_RETURN(WalkResult walked, WalkBrickPath(path, WalkOptions{}, opened));
  // Gone, or no longer a directory reached without symlinks: nothing of the brick is left that
  // can be touched safely, so there is nothing to undo (a link is never followed).
  if (walked.stop != WalkStop::kOpened) return OkStatus();
  const int leaf = opened.leaf();
  GD2_ASSIGN_OR_RETURN(std::optional<std::string> current, GetXattr(leaf, path, kVolumeIdXattr));
  UuidBytes want = UuidToBytes(volume_id);
  if (current.has_value()) {
    if (*current != std::string(want.begin(), want.end())) {
      if (options.leave_other_volume) return OkStatus();
      std::string other = current->size() == 16 ? BytesToUuid(*current) : "(malformed)";
      return FailedPreconditionError("brick path belongs to another volume: volume_id=" + other +
                                     " path=" + path);
    }
    if (options.remove_internal_dir) {
      GD2_RETURN_IF_ERROR(RemoveTreeAt(leaf, kInternalDir, path + "/" + kInternalDir, 0, options));
      GD2_ASSIGN_OR_RETURN(std::vector<std::string> names, ListXattrs(leaf, path));
      for (const auto& name : names) {
        if (name == kVolumeIdXattr || !HasGlusterPrefix(name)) continue;
        if (::fremovexattr(leaf, name.c_str()) != 0 && errno != ENODATA) {
          return PathError("removexattr " + name, path, errno);
        }
      }
    }
    // The volume-id goes last, so a removal that fails halfway is retried by the next call.
    if (::fremovexattr(leaf, kVolumeIdXattr) != 0 && errno != ENODATA) {
      return PathError("removexattr " + std::string(kVolumeIdXattr), path, errno);
    }
  }
  if (options.remove_dir_if_empty &&
      ::unlinkat(opened.parent(), opened.names.back().c_str(), AT_REMOVEDIR) != 0 &&
      errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
    return PathError("rmdir", path, errno);
  }
  return OkStatus();
}

Status VerifyBrickVolumeId(const std::string& path, const std::string& volume_id) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));
  OpenedPath opened;
  auto walked = WalkBrickPath(path, WalkOptions{}, opened);
  if (!walked.ok()) {
    return FailedPreconditionError("cannot open brick: " + walked.status().message());
  }
  if (walked->stop != WalkStop::kOpened) {
    Status refused = WalkRefusal(*walked, path);
    return FailedPreconditionError("brick cannot start: " + refused.message());
  }
  auto current = GetXattr(opened.leaf(), path, kVolumeIdXattr);
  if (!current.ok()) {
    return FailedPreconditionError("cannot read brick volume-id: " + current.status().message());
  }
  if (!current->has_value()) {
    return FailedPreconditionError("brick has no volume-id xattr: path=" + path);
  }
  UuidBytes want = UuidToBytes(volume_id);
  if (**current != std::string(want.begin(), want.end())) {
    return FailedPreconditionError("brick volume-id does not match: volume_id=" +
                                   BytesToUuid(**current) + " want=" + volume_id + " path=" + path);
  }
  return OkStatus();
}

RootOwner BrickRootOwner(const std::string& path, const std::string& volume_id) {
  if (!CheckIds(path, volume_id).ok()) return RootOwner::kUnknown;
  OpenedPath opened;
  auto walked = WalkBrickPath(path, WalkOptions{}, opened);
  if (!walked.ok() || walked->stop != WalkStop::kOpened) return RootOwner::kUnknown;
  auto current = GetXattr(opened.leaf(), path, kVolumeIdXattr);
  if (!current.ok()) return RootOwner::kUnknown;
  if (!current->has_value()) return RootOwner::kNoVolume;
  UuidBytes want = UuidToBytes(volume_id);
  return **current == std::string(want.begin(), want.end()) ? RootOwner::kThisVolume
                                                            : RootOwner::kOtherVolume;
}

}  // namespace gd2::brick
