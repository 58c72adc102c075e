#include "daemon/plugin_host.h"

#include <string>
#include <utility>

namespace gd2::daemon {

PluginHost::PluginHost(std::vector<std::unique_ptr<plugins::Plugin>> plugins)
    : plugins_(std::move(plugins)) {}

PluginHost::~PluginHost() { Stop(); }

void PluginHost::Register(plugins::Registrar& r) {
  for (const auto& p : plugins_) {
    r.SetPlugin(p->Name());
    p->Register(r);
  }
}

Status PluginHost::Start() {
  for (size_t i = 0; i < plugins_.size(); ++i) {
    Status s = plugins_[i]->Start();
    if (!s.ok()) return s.WithContext("plugin " + std::string(plugins_[i]->Name()));
    MutexLock lock(mu_);
    started_ = i + 1;
  }
  return OkStatus();
}

void PluginHost::OnServing() {
  size_t started;
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    started = started_;
  }
  for (size_t i = 0; i < started; ++i) plugins_[i]->OnServing();
  MutexLock lock(mu_);
  serving_ = true;
}

void PluginHost::OnSessionRenewed() {
  size_t started;
  {
    MutexLock lock(mu_);
    if (!serving_ || stopping_) return;
    ++renewing_;
    started = started_;
  }
  for (size_t i = 0; i < started; ++i) plugins_[i]->OnSessionRenewed();
  {
    MutexLock lock(mu_);
    --renewing_;
  }
  renewals_done_.NotifyAll();
}

void PluginHost::Stop() {
  size_t started;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    while (renewing_ > 0) renewals_done_.Wait(mu_);
    started = started_;
    started_ = 0;
  }
  while (started > 0) plugins_[--started]->Stop();
}

bool PluginHost::stopping() const {
  MutexLock lock(mu_);
  return stopping_;
}

}  // namespace gd2::daemon
