// SIGPIPE as the calling thread sees it, for tests of code that must never let one through:
// whether it is blocked or pending, and its default action (which ends the process) put in
// force for a test and the previous action put back after it.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace gd2::testing {

inline bool SigpipeBlocked() {
  sigset_t now;
  sigemptyset(&now);
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, SIGPIPE) == 1;
}

inline bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

class DefaultSigpipeAction {
 public:
  DefaultSigpipeAction() {
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ok_ = ::sigaction(SIGPIPE, &dfl, &old_) == 0;
  }
  ~DefaultSigpipeAction() {
    if (ok_) ::sigaction(SIGPIPE, &old_, nullptr);
  }
  DefaultSigpipeAction(const DefaultSigpipeAction&) = delete;
  DefaultSigpipeAction& operator=(const DefaultSigpipeAction&) = delete;
  bool ok() const { return ok_; }

 private:
  struct sigaction old_ = {};
  bool ok_ = false;
};

}  // namespace gd2::testing
