// A temporary directory removed (recursively) when the object dies.
#pragma once

#include <string>

namespace gd2::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "gd2test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace gd2::testing
