#include "brick/prepare.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "common/files.h"
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
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto b = static_cast<uint8_t>(raw[i]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Returns the xattr's value, std::nullopt if absent, or an error.
StatusOr<std::optional<std::string>> GetXattr(const std::string& path, const char* name) {
  std::string buf(64, '\0');
  while (true) {
    ssize_t n = ::lgetxattr(path.c_str(), name, buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return std::optional<std::string>(buf);
    }
    if (errno == ENODATA) return std::optional<std::string>();
    if (errno != ERANGE) return ErrnoError(std::string("getxattr ") + name + " " + path, errno);
    buf.resize(buf.size() * 4);
  }
}

StatusOr<std::vector<std::string>> ListXattrs(const std::string& path) {
  std::string buf(1024, '\0');
  while (true) {
    ssize_t n = ::llistxattr(path.c_str(), buf.data(), buf.size());
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
    if (errno != ERANGE) return ErrnoError("listxattr " + path, errno);
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

std::string Parent(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool IsMountPoint(const std::string& path, const struct stat& st) {
  struct stat parent_st {};
  if (::stat(Parent(path).c_str(), &parent_st) == 0 && parent_st.st_dev != st.st_dev) return true;
  // A bind mount of a directory of the same file system keeps st_dev; mountinfo shows it.
  for (const auto& mp : MountPoints()) {
    if (mp == path) return true;
  }
  return false;
}

// glusterd refuses a path below a directory that already is (part of) a brick.
Status CheckParentsNotInUse(const std::string& path) {
  std::string dir = path;
  while (dir != "/") {
    dir = Parent(dir);
    for (const char* name : {kVolumeIdXattr, kGfidXattr}) {
      auto value = GetXattr(dir, name);
      if (value.ok() && value->has_value()) {
        return AlreadyExistsError("a parent directory is already part of a volume (" +
                                  std::string(name) + " on " + dir + "): path=" + path);
      }
    }
  }
  return OkStatus();
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

}  // namespace

Status ValidateBrickPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgumentError("brick path is not absolute: path=" + path);
  }
  if (path == "/") return InvalidArgumentError("brick path is the root directory: path=/");
  if (path.back() == '/') return InvalidArgumentError("brick path ends in '/': path=" + path);
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgumentError("brick path is not normalised: path=" + path);
    }
    start = end + 1;
  }
  return OkStatus();
}

Status PrepareBrick(const std::string& path, const std::string& volume_id,
                    const PrepareOptions& options) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));

  struct stat st {};
  bool existed = ::stat(path.c_str(), &st) == 0;
  if (!existed && errno != ENOENT) return ErrnoError("stat " + path, errno);
  if (existed && !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("brick path is not a directory: path=" + path);
  }
  if (!existed && !options.create_dir) {
    return FailedPreconditionError("brick directory does not exist: path=" + path);
  }

  if (!options.allow_root_dir) {
    // For a directory still to be created, its nearest existing ancestor decides.
    std::string probe = path;
    struct stat probe_st {};
    while (::stat(probe.c_str(), &probe_st) != 0 && probe != "/") probe = Parent(probe);
    struct stat root_st {};
    if (::stat("/", &root_st) == 0 && root_st.st_dev == probe_st.st_dev) {
      return FailedPreconditionError(
          "brick is on the root filesystem (use a separate filesystem or force): path=" + path);
    }
  }
  GD2_RETURN_IF_ERROR(CheckParentsNotInUse(path));

  if (!existed) {
    GD2_RETURN_IF_ERROR(MakeDirs(path, 0755).WithContext("create brick directory"));
  } else if (!options.allow_mount_as_brick && IsMountPoint(path, st)) {
    return FailedPreconditionError(
        "brick path is a mount point; use a directory below it or force: path=" + path);
  }
  // From here on, a failure removes a directory we made (only the leaf, only if empty).
  auto fail = [&](Status s) {
    if (!existed) ::rmdir(path.c_str());
    return s;
  };

  GD2_ASSIGN_OR_RETURN(std::optional<std::string> current, GetXattr(path, kVolumeIdXattr));
  UuidBytes want = UuidToBytes(volume_id);
  std::string want_raw(want.begin(), want.end());
  if (current.has_value() && *current != want_raw) {
    std::string other = current->size() == 16 ? BytesToUuid(*current) : "(malformed)";
    return AlreadyExistsError("brick path already belongs to another volume: volume_id=" + other +
                              " path=" + path);
  }
  if (!current.has_value()) {
    GD2_ASSIGN_OR_RETURN(std::optional<std::string> gfid, GetXattr(path, kGfidXattr));
    if (gfid.has_value() && !options.reuse) {
      return AlreadyExistsError(
          "brick path holds data of an earlier gluster volume (trusted.gfid is set); pass reuse "
          "to take it over: path=" +
          path);
    }
    if (::lsetxattr(path.c_str(), kTestXattr, "working", 7, 0) != 0) {
      int err = errno;
      return fail(FailedPreconditionError("filesystem does not support trusted.* xattrs (" +
                                          ErrnoError("setxattr", err).message() +
                                          "): path=" + path));
    }
    ::lremovexattr(path.c_str(), kTestXattr);
    if (::lsetxattr(path.c_str(), kVolumeIdXattr, want.data(), want.size(), 0) != 0) {
      return fail(ErrnoError("set volume-id xattr on " + path, errno));
    }
  }

  std::string internal = path + "/" + kInternalDir;
  if (::mkdir(internal.c_str(), 0600) == 0) {
    // mkdir honours the umask; glusterd's mode is exactly 0600.
    ::chmod(internal.c_str(), 0600);
  } else if (errno != EEXIST) {
    return ErrnoError("mkdir " + internal, errno);
  }
  return OkStatus();
}

Status UnprepareBrick(const std::string& path, const std::string& volume_id,
                      const UnprepareOptions& options) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return OkStatus();
    return ErrnoError("stat " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("brick path is not a directory: path=" + path);
  }
  GD2_ASSIGN_OR_RETURN(std::optional<std::string> current, GetXattr(path, kVolumeIdXattr));
  UuidBytes want = UuidToBytes(volume_id);
  if (current.has_value()) {
    if (*current != std::string(want.begin(), want.end())) {
      std::string other = current->size() == 16 ? BytesToUuid(*current) : "(malformed)";
      return FailedPreconditionError("brick path belongs to another volume: volume_id=" + other +
                                     " path=" + path);
    }
    if (options.remove_internal_dir) {
      std::error_code ec;
      std::filesystem::remove_all(path + "/" + kInternalDir, ec);
      if (ec) return InternalError("remove " + path + "/" + kInternalDir + ": " + ec.message());
      GD2_ASSIGN_OR_RETURN(std::vector<std::string> names, ListXattrs(path));
      for (const auto& name : names) {
        if (name == kVolumeIdXattr || !HasGlusterPrefix(name)) continue;
        if (::lremovexattr(path.c_str(), name.c_str()) != 0 && errno != ENODATA) {
          return ErrnoError("removexattr " + name + " " + path, errno);
        }
      }
    }
    // The volume-id goes last, so a removal that fails halfway is retried by the next call.
    if (::lremovexattr(path.c_str(), kVolumeIdXattr) != 0 && errno != ENODATA) {
      return ErrnoError("removexattr " + std::string(kVolumeIdXattr) + " " + path, errno);
    }
  }
  if (options.remove_dir_if_empty && ::rmdir(path.c_str()) != 0 && errno != ENOTEMPTY &&
      errno != EEXIST && errno != ENOENT) {
    return ErrnoError("rmdir " + path, errno);
  }
  return OkStatus();
}

Status VerifyBrickVolumeId(const std::string& path, const std::string& volume_id) {
  GD2_RETURN_IF_ERROR(CheckIds(path, volume_id));
  auto current = GetXattr(path, kVolumeIdXattr);
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

}  // namespace gd2::brick
