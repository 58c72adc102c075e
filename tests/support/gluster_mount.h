// A stock GlusterFS FUSE mount (`mount -t glusterfs`) of a volume for tests; unmounted (lazily if
// busy) and its directory removed when the object dies.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "support/temp_dir.h"

namespace gd2::testing {

class GlusterMount {
 public:
  // Mounts host:/volume fetching the volfile from `port`. The client process runs in cgroup v2
  // directory `cgroup` if given (see NetPartition), so that it is on that peer's side of a cut.
  static StatusOr<std::unique_ptr<GlusterMount>> Mount(const std::string& host, int port,
                                                       const std::string& volume,
                                                       const std::string& cgroup = "");
  ~GlusterMount();
  const std::string& path() const { return path_; }
  // The client's own log file.
  const std::string& log_path() const { return log_; }

 private:
  GlusterMount() = default;
  std::unique_ptr<TempDir> dir_;
  std::string path_;
  std::string log_;
  bool mounted_ = false;
};

}  // namespace gd2::testing
