// Which mount holds a brick: a bounded parser of /proc/<pid>/mountinfo (proc(5)) and the lookup
// of the mount containing a path. Brick status reports the device and options from it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gd2::brick {

// Limits on what ParseMountInfo accepts (a host with containers can have thousands of mounts).
inline constexpr size_t kMaxMountInfoBytes = size_t{8} << 20;
inline constexpr size_t kMaxMountInfoLines = 100000;
inline constexpr size_t kMaxMountInfoLineBytes = 16384;

// One line of mountinfo:
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// Paths and the source are unescaped (the kernel writes space, tab, newline and backslash as
// \040, \011, \012 and \134).
struct MountEntry {
  int mount_id = 0;
  int parent_id = 0;
  std::string device_number;  // "major:minor"
  std::string root;           // root of the mount within its filesystem
  std::string mount_point;
  std::string mount_options;                 // per-mount: "rw,noatime"
  std::vector<std::string> optional_fields;  // "shared:1", "master:1", ...
  std::string fs_type;                       // "xfs", "fuse.glusterfs"
  std::string source;                        // "/dev/loop3", or what the filesystem puts there
  std::string super_options;                 // per-superblock: "rw,attr2,inode64"
};

// Parses one line (without its newline). kInvalidArgument names what is wrong: fewer fields
// than the format has, no "-" separator, ids that are not numbers, relative mount points, a
// line over kMaxMountInfoLineBytes. Pure function.
StatusOr<MountEntry> ParseMountInfoLine(std::string_view line);

// Parses mountinfo text; lines that do not parse are skipped (a newer kernel may add fields).
// kResourceExhausted if the text is over kMaxMountInfoBytes or kMaxMountInfoLines. Pure function.
StatusOr<std::vector<MountEntry>> ParseMountInfo(std::string_view text);

// "\040" -> " " and so on for every backslash and three octal digits; other bytes as they are.
std::string UnescapeMountField(std::string_view field);

// The mount that holds `path` (absolute, normalised): the entry with the longest mount point
// that is `path` or one of its parent directories; of equal ones the last (it is mounted over
// the others). nullopt if none does (no "/" entry). Pure function.
std::optional<MountEntry> MountContaining(const std::vector<MountEntry>& mounts,
                                          std::string_view path);

// Options as /proc/mounts shows them: the per-mount options followed by the superblock options
// not already among them ("rw,relatime" + "rw,attr2" -> "rw,relatime,attr2").
std::string CombinedMountOptions(const MountEntry& mount);

// MountContaining(ParseMountInfo(/proc/self/mountinfo), path). kNotFound if no mount holds
// `path`, kUnavailable if mountinfo cannot be read, and ParseMountInfo's errors. Thread-safe.
StatusOr<MountEntry> MountOfPath(const std::string& path);

}  // namespace gd2::brick
