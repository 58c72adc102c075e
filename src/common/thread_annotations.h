// Locking that the compiler checks: gd2::Mutex, its scoped MutexLock and gd2::CondVar, plus the
// annotations that say which mutex guards which data and which functions need it held. clang's
// -Wthread-safety (on in every clang build, see cmake/Gd2.cmake) turns a guarded member read or
// written without its mutex, or a lock taken twice, into a build error; gcc ignores them.
//
//   Mutex mu_;
//   std::deque<Task> queue_ GD2_GUARDED_BY(mu_);
//   void Drain() GD2_REQUIRES(mu_);   // caller holds mu_
//   void Post() GD2_EXCLUDES(mu_);    // takes mu_ itself
//
// A wait on a condition is a loop in the caller, so the analysis sees the guarded reads:
//   MutexLock lock(mu_);
//   while (!stopped_ && queue_.empty()) cv_.Wait(mu_);
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define GD2_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define GD2_THREAD_ANNOTATION_(x)
#endif

// On a class: objects of it are capabilities (locks) of the given kind ("mutex").
#define GD2_CAPABILITY(kind) GD2_THREAD_ANNOTATION_(capability(kind))
// On a class: an RAII object that holds a capability for its lifetime (MutexLock).
#define GD2_SCOPED_CAPABILITY GD2_THREAD_ANNOTATION_(scoped_lockable)
// On a data member: read or written only with `mu` held.
#define GD2_GUARDED_BY(mu) GD2_THREAD_ANNOTATION_(guarded_by(mu))
// On a pointer member: the pointee is read or written only with `mu` held.
#define GD2_PT_GUARDED_BY(mu) GD2_THREAD_ANNOTATION_(pt_guarded_by(mu))
// On a function: the caller holds these capabilities (and still holds them on return).
#define GD2_REQUIRES(...) GD2_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
// On a function: the caller does not hold these (the function takes them itself).
#define GD2_EXCLUDES(...) GD2_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// On a function: it acquires / releases these capabilities (no argument: `this`).
#define GD2_ACQUIRE(...) GD2_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define GD2_RELEASE(...) GD2_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
// On a function: acquires the capability if it returns `result`.
#define GD2_TRY_ACQUIRE(...) GD2_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// On a function: it aborts (or is a no-op in release terms) unless the capability is held;
// the analysis assumes it held afterwards.
#define GD2_ASSERT_CAPABILITY(x) GD2_THREAD_ANNOTATION_(assert_capability(x))
// On a function: not analysed. For code whose locking the analysis cannot follow; say why
// next to each use.
#define GD2_NO_THREAD_SAFETY_ANALYSIS GD2_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace gd2 {

class CondVar;

// A non-recursive mutex (std::mutex) the analysis knows. Lock it through MutexLock.
class GD2_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() GD2_ACQUIRE() { mu_.lock(); }
  void Unlock() GD2_RELEASE() { mu_.unlock(); }
  bool TryLock() GD2_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction. Unlock() and Lock() release and take it again
// in between (for a call that must not run under the lock); the destructor releases it only if
// held.
class GD2_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) GD2_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() GD2_RELEASE() {
    if (held_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() GD2_RELEASE() {
    mu_.Unlock();
    held_ = false;
  }
  void Lock() GD2_ACQUIRE() {
    mu_.Lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A condition variable for gd2::Mutex (std::condition_variable on the mutex inside). Every wait
// needs `mu` held, releases it while blocked and holds it again on return; wakeups may be
// spurious, so callers wait in a loop on their condition.
class CondVar {
 public:
  using Clock = std::chrono::steady_clock;

  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex& mu) GD2_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Returns false if `deadline` passed (true on a notification or a spurious wakeup).
  bool WaitUntil(Mutex& mu, Clock::time_point deadline) GD2_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  // As WaitUntil(mu, now + timeout).
  bool WaitFor(Mutex& mu, Clock::duration timeout) GD2_REQUIRES(mu) {
    return WaitUntil(mu, Clock::now() + timeout);
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace gd2
