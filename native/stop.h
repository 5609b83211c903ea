// A request to stop native work early, shared between the thread that does
// the work and whoever may end it: an AbortSignal (ECANCELED) or the client's
// close() (EBADF). The first reason given wins; work checks it between steps.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "netlink.h"

namespace ipvs {

class Stop {
 public:
  // Asks the work to stop with `errnum`; a later reason does not replace it.
  // Calls the waker (from this thread), so that work waiting on a condition
  // variable sees the request at once.
  void Request(int errnum) {
    int none = 0;
    if (!reason_.compare_exchange_strong(none, errnum)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (waker_) waker_();
  }

  // Sets what Request() calls; null to stop calling it.
  void SetWaker(std::function<void()> waker) {
    std::lock_guard<std::mutex> lock(mu_);
    waker_ = std::move(waker);
  }
  bool requested() const { return reason_.load(std::memory_order_relaxed) != 0; }
  int reason() const { return reason_.load(std::memory_order_relaxed); }

  // Throws the KernelError that a stopped call rejects with.
  void ThrowIfRequested() const {
    if (int r = reason()) ThrowStopped(r);
  }

  [[noreturn]] static void ThrowStopped(int errnum);

 private:
  std::atomic<int> reason_{0};
  std::mutex mu_;
  std::function<void()> waker_;
};

using StopPtr = std::shared_ptr<Stop>;

}  // namespace ipvs
