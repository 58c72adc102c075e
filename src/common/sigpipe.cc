#include "common/sigpipe.h"

#include <pthread.h>

#include <ctime>

namespace gd2 {
namespace {

sigset_t OnlySigpipe() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  return s;
}

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

SigpipeShield::SigpipeShield() {
  sigemptyset(&old_mask_);
  bool was_pending = SigpipePending();
  sigset_t pipe = OnlySigpipe();
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask_);
  discard_ = !was_pending && sigismember(&old_mask_, SIGPIPE) == 0;
}

SigpipeShield::~SigpipeShield() {
  if (discard_ && SigpipePending()) {
    sigset_t pipe = OnlySigpipe();
    timespec now{};
    sigtimedwait(&pipe, nullptr, &now);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace gd2
