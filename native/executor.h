// Threads that outlive one call. Starting a thread costs about 0.6 ms under
// emulation (and tens of microseconds on hardware): a pooled snapshot started
// three per call (its task and two dump workers), a monitor that polls paid
// that on every poll. Work is handed to an idle thread, or to a new one when
// none is idle, so a job never waits for another job to finish (a snapshot's
// task waits for its dump workers: a fixed number of threads could deadlock).
// A thread idle for kIdleMs ends. The threads are the process's, shared
// by every environment (Node's worker threads); they touch no JavaScript.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace ipvs {

class Executor {
 public:
  // How long a thread waits for work before it ends, unless
  // IPVS_THREAD_IDLE_MS says otherwise (0: a thread per job, none kept).
  static constexpr unsigned long kIdleMs = 30000;

  // The process's executor: made once, never destroyed (threads may still
  // wait on it while the process exits).
  static Executor& Shared();

  // Runs `job` on an idle thread or a new one. `job` must not throw. When no
  // thread is idle and none can start, throws what starting one threw
  // (std::system_error with EAGAIN, std::bad_alloc) and `job` never runs.
  void Post(std::function<void()> job);

 private:
  Executor();

  void Loop();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // not yet taken, oldest first
  size_t idle_ = 0;
  unsigned long idleMs_ = kIdleMs;
};

// Counts jobs down to zero; Wait() returns when every job counted has ended.
// For work split over several posted jobs that all use the caller's stack.
class Latch {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    pending_++;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) done_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  size_t pending_ = 0;
};

}  // namespace ipvs
