// The one template that carries every kernel command to a worker thread.
//
// Arguments are copied out of JavaScript values into a plain C++ struct on the
// main thread; Execute() runs the kernel exchange on a libuv worker and never
// touches a JavaScript value; OnOK() builds the result. Failures become a
// rejected promise with an Error carrying errno, op and the kernel's message.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "netlink.h"

namespace ipvs {

template <typename Result>
class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void(Result&)>;
  using Build = std::function<Napi::Value(Napi::Env, Result&)>;

  // Queues `work` and returns its promise. `op` names the export, for errors.
  static Napi::Promise Run(Napi::Env env, const char* op, Work work, Build build) {
    auto* task = new Task(env, op, std::move(work), std::move(build));
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      work_(result_);
    } catch (const KernelError& e) {
      errnum_ = e.errnum;
      kernelMessage_ = e.kernelMessage;
      fromKernel_ = e.fromKernel;
      SetError(e.what());
    } catch (const std::exception& e) {
      errnum_ = EIO;
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(build_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& error) override {
    Napi::Object err = error.Value();
    err.Set("errno", Napi::Number::New(Env(), errnum_));
    err.Set("op", Napi::String::New(Env(), op_));
    err.Set("fromKernel", Napi::Boolean::New(Env(), fromKernel_));
    if (!kernelMessage_.empty()) err.Set("kernelMessage", Napi::String::New(Env(), kernelMessage_));
    deferred_.Reject(err);
  }

 private:
  Task(Napi::Env env, const char* op, Work work, Build build)
      : Napi::AsyncWorker(env, op), deferred_(Napi::Promise::Deferred::New(env)), op_(op),
        work_(std::move(work)), build_(std::move(build)) {}

  Napi::Promise::Deferred deferred_;
  std::string op_;
  Work work_;
  Build build_;
  Result result_{};
  int errnum_ = 0;
  std::string kernelMessage_;
  bool fromKernel_ = false;
};

// For commands whose promise resolves to undefined.
struct Nothing {};
inline Napi::Value Undefined(Napi::Env env, Nothing&) { return env.Undefined(); }

}  // namespace ipvs
