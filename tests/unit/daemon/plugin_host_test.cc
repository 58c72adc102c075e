#include "daemon/plugin_host.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"
#include "support/status_matchers.h"

namespace gd2::daemon {
namespace {

// What the plugins saw, in order, as "<plugin>.<call>".
class Journal {
 public:
  void Add(std::string event) GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() const GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return events_;
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> events_ GD2_GUARDED_BY(mu_);
};

// A renewal that a test holds inside the plugin until it lets it go.
class Gate {
 public:
  void Enter() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    entered_ = true;
    cv_.NotifyAll();
    while (!open_) cv_.Wait(mu_);
  }
  void WaitEntered() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!entered_) cv_.Wait(mu_);
  }
  void Open() GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    open_ = true;
    cv_.NotifyAll();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool entered_ GD2_GUARDED_BY(mu_) = false;
  bool open_ GD2_GUARDED_BY(mu_) = false;
};

class FakePlugin : public plugins::Plugin {
 public:
  FakePlugin(std::string name, Journal& journal, Status start = OkStatus(),
             Gate* renew_gate = nullptr)
      : name_(std::move(name)),
        journal_(journal),
        start_(std::move(start)),
        renew_gate_(renew_gate) {}
  std::string_view Name() const override { return name_; }
  void Register(plugins::Registrar&) override { journal_.Add(name_ + ".register"); }
  Status Start() override {
    journal_.Add(name_ + ".start");
    return start_;
  }
  void OnServing() override { journal_.Add(name_ + ".serving"); }
  void OnSessionRenewed() override {
    journal_.Add(name_ + ".renew-begin");
    if (renew_gate_ != nullptr) renew_gate_->Enter();
    journal_.Add(name_ + ".renew-end");
  }
  void Stop() override { journal_.Add(name_ + ".stop"); }

 private:
  std::string name_;
  Journal& journal_;
  Status start_;
  Gate* renew_gate_;
};

using Events = std::vector<std::string>;

std::vector<std::unique_ptr<plugins::Plugin>> Plugins(
    std::vector<std::unique_ptr<FakePlugin>> fakes) {
  std::vector<std::unique_ptr<plugins::Plugin>> out;
  for (auto& f : fakes) out.push_back(std::move(f));
  return out;
}

TEST(PluginHostTest, RunsTheLifecycleInOrderAndStopsInReverse) {
  Journal j;
  std::vector<std::unique_ptr<FakePlugin>> fakes;
  fakes.push_back(std::make_unique<FakePlugin>("a", j));
  fakes.push_back(std::make_unique<FakePlugin>("b", j));
  PluginHost host(Plugins(std::move(fakes)));
  host.OnSessionRenewed();  // not serving yet: nothing
  EXPECT_OK(host.Start());
  host.OnSessionRenewed();  // still not serving
  host.OnServing();
  host.OnSessionRenewed();
  host.Stop();
  host.Stop();
  host.OnSessionRenewed();  // stopped: nothing
  EXPECT_EQ(j.events(),
            (Events{"a.start", "b.start", "a.serving", "b.serving", "a.renew-begin", "a.renew-end",
                    "b.renew-begin", "b.renew-end", "b.stop", "a.stop"}));
}

TEST(PluginHostTest, FailedStartNamesThePluginAndStopsOnlyThoseStarted) {
  Journal j;
  std::vector<std::unique_ptr<FakePlugin>> fakes;
  fakes.push_back(std::make_unique<FakePlugin>("a", j));
  fakes.push_back(std::make_unique<FakePlugin>("b", j, UnavailableError("no disk")));
  fakes.push_back(std::make_unique<FakePlugin>("c", j));
  PluginHost host(Plugins(std::move(fakes)));
  Status s = host.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "plugin b: no disk");
  host.Stop();
  EXPECT_EQ(j.events(), (Events{"a.start", "b.start", "a.stop"}));
}

// The session thread renews while the daemon stops: Stop() waits for the renewal to leave every
// plugin before it stops one, and no renewal starts once Stop() has begun.
TEST(PluginHostTest, StopWaitsForARenewalInProgressAndRefusesNewOnes) {
  Journal j;
  Gate gate;
  std::vector<std::unique_ptr<FakePlugin>> fakes;
  fakes.push_back(std::make_unique<FakePlugin>("a", j, OkStatus(), &gate));
  fakes.push_back(std::make_unique<FakePlugin>("b", j));
  PluginHost host(Plugins(std::move(fakes)));
  ASSERT_OK(host.Start());
  host.OnServing();

  std::thread session([&host] { host.OnSessionRenewed(); });
  gate.WaitEntered();
  std::thread stopper([&host] { host.Stop(); });
  // Stop() has begun (and now waits for the renewal held in plugin a).
  while (!host.stopping()) std::this_thread::yield();
  host.OnSessionRenewed();  // a second renewal after Stop() began: refused
  gate.Open();
  session.join();
  stopper.join();

  EXPECT_EQ(j.events(),
            (Events{"a.start", "b.start", "a.serving", "b.serving", "a.renew-begin", "a.renew-end",
                    "b.renew-begin", "b.renew-end", "b.stop", "a.stop"}));
}

}  // namespace
}  // namespace gd2::daemon
