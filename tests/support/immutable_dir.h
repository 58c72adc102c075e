// A directory the filesystem refuses to change (FS_IMMUTABLE_FL, as chattr +i sets it): for
// tests of a cleanup that fails halfway and is tried again. The flag is cleared at destruction.
#pragma once

#include <string>

namespace gd2::testing {

class ImmutableDir {
 public:
  explicit ImmutableDir(std::string path) : path_(std::move(path)) {}
  ~ImmutableDir() { Set(false); }
  ImmutableDir(const ImmutableDir&) = delete;
  ImmutableDir& operator=(const ImmutableDir&) = delete;

  // Sets or clears the flag; false if the filesystem or the process may not (needs root).
  bool Set(bool on) const;

 private:
  std::string path_;
};

}  // namespace gd2::testing
