#include "support/gluster_mount.h"

#include <sys/stat.h>

#include "common/subprocess.h"

namespace gd2::testing {

StatusOr<std::unique_ptr<GlusterMount>> GlusterMount::Mount(const std::string& host, int port,
                                                           const std::string& volume,
                                                           const std::string& cgroup) {
  std::unique_ptr<GlusterMount> m(new GlusterMount());
  m->dir_ = std::make_unique<TempDir>("gd2mnt");
  m->path_ = m->dir_->path() + "/mnt";
  m->log_ = m->dir_->path() + "/client.log";
  ::mkdir(m->path_.c_str(), 0755);
  GD2_ASSIGN_OR_RETURN(RunResult r,
                       RunCommand({"mount", "-t", "glusterfs", "-o",
                                   "server-port=" + std::to_string(port) + ",log-file=" + m->log_,
                                   host + ":/" + volume, m->path_},
                                  std::chrono::seconds(60), cgroup));
  if (r.exit.code != 0) {
    return UnavailableError("mount of " + volume + " failed: " + r.output);
  }
  m->mounted_ = true;
  return m;
}

GlusterMount::~GlusterMount() {
  if (mounted_) {
    auto r = RunCommand({"umount", path_}, std::chrono::seconds(30));
    if (!r.ok() || r->exit.code != 0) RunCommand({"umount", "-l", path_}, std::chrono::seconds(30)).status().IgnoreError();
  }
}

}  // namespace gd2::testing
