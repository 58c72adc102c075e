// WorkerPool: a fixed number of threads running queued tasks, with a bounded queue. Network
// servers hand it work that may block (etcd calls) once a request has fully arrived, so their
// I/O threads never wait on a handler.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace gd2 {

// Thread-safe. Tasks run in FIFO order on any of the threads.
class WorkerPool {
 public:
  // `threads` >= 1 threads start at once; at most `max_queued` tasks wait for a thread.
  WorkerPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    if (threads == 0) threads = 1;
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Returns false (and drops it) when the queue is full or the pool stopped.
  bool TryPost(std::function<void()> task) GD2_EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      if (stopped_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(task));
    }
    cv_.NotifyOne();
    return true;
  }

  // Lets running tasks finish, drops queued ones and joins the threads. Idempotent; must not be
  // called from a task.
  void Stop() GD2_EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      stopped_ = true;
      queue_.clear();
    }
    cv_.NotifyAll();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Tasks waiting for a thread.
  size_t Queued() const GD2_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return queue_.size();
  }

 private:
  void Run() GD2_EXCLUDES(mu_) {
    while (true) {
      std::function<void()> task;
      {
        MutexLock lock(mu_);
        while (!stopped_ && queue_.empty()) cv_.Wait(mu_);
        if (stopped_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar cv_;
  bool stopped_ GD2_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ GD2_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace gd2
