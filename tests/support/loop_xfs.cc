#include "support/loop_xfs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <vector>

#include "common/subprocess.h"

namespace gd2::testing {
namespace {

constexpr std::chrono::seconds kToolTimeout(60);

bool ToolExists(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Runs a tool and turns a non-zero exit into an error carrying its output.
Status Run(const std::vector<std::string>& argv, std::string* output = nullptr) {
  GD2_ASSIGN_OR_RETURN(RunResult r, RunCommand(argv, kToolTimeout));
  if (r.exit.code != 0) {
    return InternalError(argv[0] + " failed: " + r.exit.ToString() + ": " + r.output);
  }
  if (output != nullptr) *output = r.output;
  return OkStatus();
}

}  // namespace

std::string LoopXfs::UnavailableReason() {
  if (::geteuid() != 0) return "tests need root for loop devices and mount";
  for (const char* tool : {"losetup", "mkfs.xfs", "mount", "umount"}) {
    if (!ToolExists(tool)) return std::string(tool) + " is not installed";
  }
  if (::access("/dev/loop-control", F_OK) != 0) return "/dev/loop-control does not exist";
  return "";
}

StatusOr<std::unique_ptr<LoopXfs>> LoopXfs::Create(uint64_t size_bytes) {
  std::string reason = UnavailableReason();
  if (!reason.empty()) return FailedPreconditionError("loop xfs unavailable: " + reason);

  std::unique_ptr<LoopXfs> fs(new LoopXfs());
  std::string tmpl = (std::filesystem::temp_directory_path() / "gd2loop.XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return ErrnoError("mkdtemp " + tmpl, errno);
  fs->dir_ = buf.data();
  fs->image_ = fs->dir_ + "/disk.img";
  fs->mount_point_ = fs->dir_ + "/mnt";

  int fd = ::open(fs->image_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create " + fs->image_, errno);
  int rc = ::ftruncate(fd, static_cast<off_t>(size_bytes));
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("truncate " + fs->image_, err);

  std::string out;
  GD2_RETURN_IF_ERROR(Run({"losetup", "-f", "--show", fs->image_}, &out));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (out.rfind("/dev/", 0) != 0) return InternalError("losetup printed no device: " + out);
  fs->device_ = out;

  GD2_RETURN_IF_ERROR(Run({"mkfs.xfs", "-q", "-f", "-i", "size=512", fs->device_}));
  if (::mkdir(fs->mount_point_.c_str(), 0755) != 0) {
    return ErrnoError("mkdir " + fs->mount_point_, errno);
  }
  GD2_RETURN_IF_ERROR(Run({"mount", "-t", "xfs", fs->device_, fs->mount_point_}));
  fs->mounted_ = true;
  return fs;
}

LoopXfs::~LoopXfs() { Cleanup(); }

void LoopXfs::Cleanup() {
  if (mounted_) {
    // A process still using the filesystem makes a plain unmount fail; detach it lazily then
    // so the loop device can still go.
    if (!Run({"umount", mount_point_}).ok()) Run({"umount", "-l", mount_point_}).IgnoreError();
    mounted_ = false;
  }
  if (!device_.empty()) {
    Run({"losetup", "-d", device_}).IgnoreError();
    device_.clear();
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace gd2::testing
