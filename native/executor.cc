#include "executor.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "netlink.h"

namespace ipvs {

Executor::Executor() {
  // IPVS_THREAD_IDLE_MS: how long an idle thread waits; 0 ends each thread
  // with its job (a thread per call). Anything else keeps the default.
  if (const char* text = getenv("IPVS_THREAD_IDLE_MS")) {
    char* end = nullptr;
    errno = 0;
    const unsigned long ms = strtoul(text, &end, 10);
    if (errno == 0 && end != text && *end == '\0' && text[0] != '-' && ms <= 24UL * 3600 * 1000) idleMs_ = ms;
  }
}

Executor& Executor::Shared() {
  static Executor* const shared = new Executor();  // never destroyed: see the header
  return *shared;
}

void Executor::Post(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  jobs_.push_back(std::move(job));
  // Each idle thread takes one job: a new thread when the queue outgrows them.
  if (jobs_.size() <= idle_) {
    wake_.notify_one();
    return;
  }
  try {
    std::thread([this] { Loop(); }).detach();
  } catch (...) {
    // No thread took it (none was idle, and a busy one takes nothing while
    // this lock is held): it is still the last; take it back, so that it never runs.
    jobs_.pop_back();
    throw;
  }
}

void Executor::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (idleMs_ == 0) break;
      // Its name says it is waiting (tests count the threads that are not).
      NameThread("ipvs-idle");
      idle_++;
      const bool got = wake_.wait_for(lock, std::chrono::milliseconds(idleMs_), [&] { return !jobs_.empty(); });
      idle_--;
      if (!got) break;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (...) {
      // Jobs catch what they throw; nothing may end this thread's loop.
    }
    job = nullptr;  // its captures are freed here, on this thread
    lock.lock();
  }
}

}  // namespace ipvs
