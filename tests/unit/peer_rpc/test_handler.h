// A scriptable peer_rpc::Handler for the peer RPC tests: records every call and answers with
// whatever the test installs.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "peer_rpc/server.h"

namespace gd2::peer_rpc {

class TestHandler : public Handler {
 public:
  Status RunStep(const StepCall& call) override {
    ++step_calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_step = call;
    }
    return on_step ? on_step(call) : OkStatus();
  }
  StatusOr<JoinResult> Join(const JoinCall& call) override {
    ++join_calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_join = call;
    }
    if (on_join) return on_join(call);
    return JoinResult{"peer-b", "node-b", {"127.0.0.2:24008"}, {"127.0.0.2:24007"}};
  }
  Status Leave(const LeaveCall& call) override {
    ++leave_calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_leave = call;
    }
    return on_leave ? on_leave(call) : OkStatus();
  }
  PeerIdentity Identity() override { return {"peer-b", "cluster-1"}; }

  StepCall LastStep() {
    std::lock_guard<std::mutex> lock(mu);
    return last_step;
  }
  JoinCall LastJoin() {
    std::lock_guard<std::mutex> lock(mu);
    return last_join;
  }
  LeaveCall LastLeave() {
    std::lock_guard<std::mutex> lock(mu);
    return last_leave;
  }

  // Set before the server starts.
  std::function<Status(const StepCall&)> on_step;
  std::function<StatusOr<JoinResult>(const JoinCall&)> on_join;
  std::function<Status(const LeaveCall&)> on_leave;

  std::atomic<int> step_calls{0};
  std::atomic<int> join_calls{0};
  std::atomic<int> leave_calls{0};

 private:
  std::mutex mu;
  StepCall last_step;
  JoinCall last_join;
  LeaveCall last_leave;
};

}  // namespace gd2::peer_rpc
