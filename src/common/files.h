// Small file helpers returning Status: whole-file reads and crash-safe writes. Every file the
// daemon writes is opened without following a symlink in its last component, so a link planted
// in a directory others could write cannot redirect the write; the directories themselves are
// checked at start (CheckPrivateDir).
#pragma once

#include <string>

#include "common/status.h"

namespace gd2 {

// Returns the file's contents; kNotFound if it does not exist.
StatusOr<std::string> ReadFile(const std::string& path);
// Writes `data` to `path` atomically (temp file, fsync, rename, fsync dir) with `mode`. The temp
// file has an unpredictable name and is created exclusively; rename replaces a symlink at `path`
// itself rather than writing through it.
Status WriteFileAtomic(const std::string& path, const std::string& data, unsigned mode = 0644);
// open(2) with O_NOFOLLOW|O_CLOEXEC added to `flags`: a symlink as the last component fails with
// a message saying so (ELOOP). Returns the fd, which the caller closes.
StatusOr<int> OpenNoFollow(const std::string& path, int flags, unsigned mode = 0644);
// Refuses (kFailedPrecondition, naming the directory, its owner and mode and how to fix it) a
// directory the daemon keeps state, pid files or logs in that is not owned by the daemon's
// effective user or that group or others may write, or that is not a directory. `what` names the
// option in messages ("workdir").
Status CheckPrivateDir(const std::string& what, const std::string& path);
// mkdir -p; a newly created `path` gets `mode` (an existing one keeps its own).
Status MakeDirs(const std::string& path, unsigned mode = 0755);

}  // namespace gd2
