// A throw-away XFS filesystem on a loop device for tests that need a real brick filesystem
// (trusted.* xattrs, a mount point of its own, not the root filesystem). Needs root.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace gd2::testing {

// Owns a sparse image file, the loop device attached to it and the mount of the XFS on it.
// The destructor unmounts (lazily if a plain unmount fails), detaches the loop device and
// removes the image and directories; it runs on every exit from a test, failed or not.
// Not copyable or movable. Thread-compatible.
class LoopXfs {
 public:
  // mkfs.xfs refuses filesystems below 300 MB; the image is sparse, so the size costs nothing.
  static constexpr uint64_t kDefaultSize = uint64_t{512} << 20;

  // Returns an empty string if loop XFS filesystems can be made here, else why not
  // (not root, losetup or mkfs.xfs missing, no /dev/loop-control).
  static std::string UnavailableReason();

  // Creates image, loop device, filesystem (`mkfs.xfs -i size=512`) and mount under a new
  // temporary directory. On failure everything made so far is removed again.
  static StatusOr<std::unique_ptr<LoopXfs>> Create(uint64_t size_bytes = kDefaultSize);

  ~LoopXfs();
  LoopXfs(const LoopXfs&) = delete;
  LoopXfs& operator=(const LoopXfs&) = delete;

  // Directory where the filesystem is mounted, e.g. /tmp/gd2loop.AbC123/mnt.
  const std::string& mount_point() const { return mount_point_; }
  // Loop device, e.g. /dev/loop3.
  const std::string& device() const { return device_; }
  const std::string& image() const { return image_; }

 private:
  LoopXfs() = default;
  void Cleanup();

  std::string dir_;
  std::string image_;
  std::string device_;
  std::string mount_point_;
  bool mounted_ = false;
};

}  // namespace gd2::testing

// Skips the current test (GTEST_SKIP) with the reason when loop XFS filesystems are unavailable.
#define GD2_SKIP_UNLESS_LOOP_XFS()                                                               \
  do {                                                                                           \
    std::string gd2_loop_reason_ = ::gd2::testing::LoopXfs::UnavailableReason();                 \
    if (!gd2_loop_reason_.empty()) GTEST_SKIP() << "loop XFS unavailable: " << gd2_loop_reason_; \
  } while (0)
