#include "executor.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
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
  auto owned = std::make_unique<Job>();
  owned->run = std::move(job);
  Job* j = owned.get();
  std::unique_lock<std::mutex> lock(mu_);
  if (tail_ != nullptr)
    tail_->next = j;
  else
    head_ = j;
  tail_ = j;
  queued_++;
  owned.release();
  // Each idle thread takes one job: a new thread when the queue outgrows them.
  if (queued_ <= idle_) {
    wake_.notify_one();
    return;
  }
  try {
    std::thread([this] { Loop(); }).detach();
  } catch (...) {
    // No thread took it (none was idle, and a busy one takes nothing while
    // this lock is held): take it back, so that it never runs.
    Job* prev = nullptr;
    for (Job* k = head_; k != nullptr; prev = k, k = k->next) {
      if (k != j) continue;
      if (prev != nullptr)
        prev->next = k->next;
      else
        head_ = k->next;
      if (tail_ == k) tail_ = prev;
      queued_--;
      delete k;
      break;
    }
    throw;
  }
}

void Executor::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (head_ == nullptr) {
      if (idleMs_ == 0) break;
      // Its name says it is waiting (tests count the threads that are not).
      NameThread("ipvs-idle");
      idle_++;
      const bool got = wake_.wait_for(lock, std::chrono::milliseconds(idleMs_), [&] { return head_ != nullptr; });
      idle_--;
      if (!got) break;
    }
    std::unique_ptr<Job> job(head_);
    head_ = job->next;
    if (head_ == nullptr) tail_ = nullptr;
    queued_--;
    lock.unlock();
    try {
      job->run();
    } catch (...) {
      // Jobs catch what they throw; nothing may end this thread's loop.
    }
    job.reset();  // its captures are freed here, on this thread
    lock.lock();
  }
}

}  // namespace ipvs
