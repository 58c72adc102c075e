// SIGPIPE without changing the process's dispositions. A write to a connection the peer has
// closed raises SIGPIPE in the writing thread, whose default action ends the process, unless the
// write passes MSG_NOSIGNAL. cpp-httplib's plain sends and OpenSSL's socket writes (TLS records,
// alerts, the close_notify sent when a connection is dropped) do not. A library such as the ReST
// client must not ignore SIGPIPE for the whole process (glustercli keeps the default action, so
// that `glustercli ... | head` ends quietly), so it shields each call instead.
#pragma once

#include <signal.h>

namespace gd2 {

// While alive, SIGPIPE is blocked in this thread; a SIGPIPE raised meanwhile is discarded when it
// ends, and the thread's signal mask is restored. The write that raised it still fails with
// EPIPE. A SIGPIPE already pending before, or raised in a thread that blocked SIGPIPE itself (it
// handles SIGPIPE its own way), is left pending. Cheap: two pthread_sigmask and two sigpending.
class SigpipeShield {
 public:
  SigpipeShield();
  ~SigpipeShield();
  SigpipeShield(const SigpipeShield&) = delete;
  SigpipeShield& operator=(const SigpipeShield&) = delete;

 private:
  sigset_t old_mask_;
  bool discard_ = false;  // whether a SIGPIPE pending at the end is ours to discard
};

}  // namespace gd2
