// PluginHost runs the plugins' lifecycle in the daemon: registration, Start in list order,
// OnServing, the store session's renewals, and Stop in reverse order. A renewal arrives on the
// session thread at any time; the host never lets it reach a plugin that is stopping or
// stopped: Stop() first refuses new renewals and waits for the one in progress.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "plugins/plugin.h"

namespace gd2::daemon {

class PluginHost {
 public:
  explicit PluginHost(std::vector<std::unique_ptr<plugins::Plugin>> plugins);
  // Stop().
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Calls each plugin's Register with `r` set to its name. Once, before Start().
  void Register(plugins::Registrar& r);
  // Starts the plugins in order. On a failure returns it as "plugin <name>: ..." and leaves
  // the plugins started before it to Stop(). Once; from the thread that calls Stop().
  Status Start() GD2_EXCLUDES(mu_);
  // Tells every started plugin that the daemon serves; from then on renewals are delivered.
  void OnServing() GD2_EXCLUDES(mu_);
  // Tells every started plugin that the store session has a new lease, unless the host does
  // not serve yet or Stop() has begun (then nothing happens). Any thread.
  void OnSessionRenewed() GD2_EXCLUDES(mu_);
  // Refuses further renewals, waits for one in progress to return, then stops the started
  // plugins in reverse order. Idempotent.
  void Stop() GD2_EXCLUDES(mu_);

  // True once Stop() has begun.
  bool stopping() const GD2_EXCLUDES(mu_);

 private:
  const std::vector<std::unique_ptr<plugins::Plugin>> plugins_;
  mutable Mutex mu_;
  CondVar renewals_done_;
  size_t started_ GD2_GUARDED_BY(mu_) = 0;  // plugins_[0, started_) have started
  bool serving_ GD2_GUARDED_BY(mu_) = false;
  bool stopping_ GD2_GUARDED_BY(mu_) = false;
  int renewing_ GD2_GUARDED_BY(mu_) = 0;  // OnSessionRenewed calls in progress
};

}  // namespace gd2::daemon
