// Small file helpers returning Status: whole-file reads and crash-safe writes.
#pragma once

#include <string>

#include "common/status.h"

namespace gd2 {

// Returns the file's contents; kNotFound if it does not exist.
StatusOr<std::string> ReadFile(const std::string& path);
// Writes `data` to `path` atomically (temp file, fsync, rename, fsync dir) with `mode`.
Status WriteFileAtomic(const std::string& path, const std::string& data, unsigned mode = 0644);
// mkdir -p with `mode` for created directories.
Status MakeDirs(const std::string& path, unsigned mode = 0755);

}  // namespace gd2
