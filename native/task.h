// The two templates that carry native work off the JavaScript thread.
//
// Arguments are copied out of JavaScript values into a plain C++ struct on the
// main thread; the work runs elsewhere and never touches a JavaScript value;
// the result is built on the main thread. Failures become a rejected promise
// with an Error carrying errno, op and the kernel's message. Nothing that
// goes wrong (an exception while building the result, a thread that cannot
// start) escapes: it rejects the call and the process goes on.
//
// - Task runs on a libuv worker: only for short, bounded work (one netlink
//   exchange, which has a deadline; a small /proc file).
// - ThreadTask runs on a thread of the addon's own (native/executor.h: kept
//   for the next call), so that long work (a snapshot's 1 + N dumps, a count
//   over the connection table) never holds one of the four threads that the
//   host's fs, dns and crypto calls share.
//
// A program that owns its process and waits for each call anyway (the `ipvs`
// command) may ask for both to run inline instead (RunsInline): the work runs
// on the calling thread and the promise is settled before Run returns, which
// spares a short-lived process the start of libuv's pool and a thread hop per
// call. The promise and its errors are the same.
#pragma once

#include <napi.h>

#include <cerrno>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "executor.h"
#include "netlink.h"
#include "stop.h"

namespace ipvs {

// Why native work failed, captured on the thread that ran it.
struct Failure {
  int errnum = 0;  // 0: no failure
  std::string message;
  std::string kernelMessage;
  bool fromKernel = false;

  // Runs `work`, capturing what it throws.
  template <typename F>
  static Failure Of(F&& work) {
    try {
      work();
      return {};
    } catch (...) {
      return Current();
    }
  }

  // The exception being handled; call only inside a catch block. Never
  // throws: when copying its text needs memory that is not there either, the
  // failure is ENOMEM, whose message needs none.
  static Failure Current() noexcept {
    try {
      throw;
    } catch (const KernelError& e) {
      return Described(e.errnum, e.what(), e.kernelMessage.c_str(), e.fromKernel);
    } catch (const std::bad_alloc&) {
      return OutOfMemory();
    } catch (const std::system_error& e) {
      return Described(e.code().value() != 0 ? e.code().value() : EIO, e.what());
    } catch (const std::exception& e) {
      return Described(EIO, e.what());
    } catch (...) {
      return Described(EIO, "an unknown failure in the ipvs addon");
    }
  }

  // ENOMEM, with an empty message (ToJs says what it is): built without memory.
  static Failure OutOfMemory() noexcept {
    Failure f;
    f.errnum = ENOMEM;
    return f;
  }

 private:
  static Failure Described(int errnum, const char* message, const char* kernelMessage = "",
                           bool fromKernel = false) noexcept {
    try {
      return {errnum, message, kernelMessage, fromKernel};
    } catch (...) {
      return OutOfMemory();
    }
  }

 public:
  // The Error a call rejects with (NativeError in src/native.ts).
  Napi::Value ToJs(Napi::Env env, const std::string& op) const {
    Napi::Object err =
        Napi::Error::New(env, message.empty() && errnum == ENOMEM ? "out of memory in the ipvs addon" : message.c_str())
            .Value();
    err.Set("errno", Napi::Number::New(env, errnum));
    err.Set("op", Napi::String::New(env, op));
    err.Set("fromKernel", Napi::Boolean::New(env, fromKernel));
    if (!kernelMessage.empty()) err.Set("kernelMessage", Napi::String::New(env, kernelMessage));
    return err;
  }
};

// Why a thread could not start, inside the catch block of its constructor:
// EAGAIN (std::system_error) saying what was starting, or the exception
// itself (std::bad_alloc for the thread's state: ENOMEM). Never throws, so
// that threads started before it are still joined.
inline std::exception_ptr ThreadStartException(const char* what) noexcept {
  try {
    try {
      throw;
    } catch (const std::system_error& e) {
      return std::make_exception_ptr(ThreadStartError(e, what));
    }
  } catch (...) {
    return std::current_exception();
  }
}

// Whether this environment asked for its tasks to run inline (setInline).
bool RunsInline(Napi::Env env);

// Runs the body of an export or a method on the main thread: its C++
// failures (an allocation that fails while arguments are copied or a task is
// set up) throw the same coded Error a failed task rejects with, naming `op`,
// instead of escaping into Node, which would abort the process. JavaScript
// errors (TypeError, RangeError) pass through as they are, but for one: what
// node-addon-api's own catch-all (NODE_ADDON_API_CPP_EXCEPTIONS_ALL, in
// binding.gyp) made of a std::bad_alloc thrown where no code of ours could
// catch it (the allocation of an ObjectWrap instance, in a constructor called
// from here) is an ENOMEM too.
template <typename F>
Napi::Value Coded(Napi::Env env, const char* op, F&& body) {
  try {
    return body();
  } catch (const Napi::Error& e) {
    if (e.Message() == std::bad_alloc().what())
      throw Napi::Error(env, Failure{ENOMEM, "out of memory in the ipvs addon"}.ToJs(env, op));
    throw;
  } catch (...) {
    throw Napi::Error(env, Failure::Current().ToJs(env, op));
  }
}

// An export, as a function whose failures are coded (Coded).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Function Export(Napi::Env env, const char* op) {
  return Napi::Function::New(
      env, [op](const Napi::CallbackInfo& info) { return Coded(info.Env(), op, [&] { return F(info); }); }, op);
}

// Settles `deferred` with build(env, result), or with the failure; an
// exception while building (out of memory) rejects instead of escaping.
template <typename Result, typename Build>
void Settle(Napi::Env env, Napi::Promise::Deferred& deferred, const std::string& op, const Failure& failure,
            Build& build, Result& result) {
  Napi::HandleScope scope(env);
  if (failure.errnum != 0) {
    deferred.Reject(failure.ToJs(env, op));
    return;
  }
  try {
    deferred.Resolve(build(env, result));
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());  // a JavaScript exception: a typed array that could not be allocated
  } catch (...) {
    deferred.Reject(Failure::Current().ToJs(env, op));
  }
}

// Runs `work` on this thread and returns its promise, already settled (RunsInline).
template <typename Result, typename Work, typename Build>
Napi::Promise RunInline(Napi::Env env, const char* op, Work&& work, Build& build) {
  auto deferred = Napi::Promise::Deferred::New(env);
  Result result{};
  Failure failure = Failure::Of([&] { work(result); });
  Settle(env, deferred, op, failure, build, result);
  return deferred.Promise();
}

template <typename Result>
class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void(Result&)>;
  using Build = std::function<Napi::Value(Napi::Env, Result&)>;

  // Queues `work` on the libuv pool and returns its promise. `op` names the
  // export, for errors.
  static Napi::Promise Run(Napi::Env env, const char* op, Work work, Build build) {
    if (RunsInline(env)) return RunInline<Result>(env, op, work, build);
    auto* task = new Task(env, op, std::move(work), std::move(build));
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    failure_ = Failure::Of([&] { work_(result_); });
  }

  void OnOK() override { Settle(Env(), deferred_, op_, failure_, build_, result_); }

  // Execute() captures what it throws, so this should not happen; but a
  // promise left unsettled would hang its caller: reject it, coded.
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    Napi::Object err = e.Value();
    err.Set("errno", Napi::Number::New(Env(), EIO));
    err.Set("op", Napi::String::New(Env(), op_));
    err.Set("fromKernel", Napi::Boolean::New(Env(), false));
    deferred_.Reject(err);
  }

 private:
  Task(Napi::Env env, const char* op, Work work, Build build)
      : Napi::AsyncWorker(env, op),
        deferred_(Napi::Promise::Deferred::New(env)),
        op_(op),
        work_(std::move(work)),
        build_(std::move(build)) {}

  Napi::Promise::Deferred deferred_;
  std::string op_;
  Work work_;
  Build build_;
  Result result_{};
  Failure failure_;
};

template <typename Result>
class ThreadTask {
 public:
  using Work = std::function<void(Result&, Stop&)>;
  using Build = std::function<Napi::Value(Napi::Env, Result&)>;

  // Runs `work` on a thread of the addon's and returns its promise. The
  // work checks `stop` between its steps (an AbortSignal, or close()). A
  // thread that cannot start rejects the promise (EAGAIN).
  static Napi::Promise Run(Napi::Env env, const char* op, StopPtr stop, Work work, Build build) {
    if (RunsInline(env)) {
      if (!stop) stop = std::make_shared<Stop>();
      return RunInline<Result>(
          env, op,
          [&](Result& result) {
            stop->ThrowIfRequested();
            work(result, *stop);
          },
          build);
    }
    auto* task = new ThreadTask(env, op, std::move(stop), std::move(work), std::move(build));
    Napi::Promise promise = task->deferred_.Promise();
    napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, op), 0, 1,
                                                         nullptr, nullptr, task, CallJs, &task->tsfn_);
    if (status != napi_ok) {
      task->deferred_.Reject(Failure{ENOMEM, "could not set up a thread-safe function"}.ToJs(env, op));
      delete task;
      return promise;
    }
    try {
      Executor::Shared().Post([task] {
        NameThread("ipvs-task");
        task->Execute();
      });
    } catch (...) {
      // EAGAIN (std::system_error), or ENOMEM for the thread's state.
      napi_release_threadsafe_function(task->tsfn_, napi_tsfn_abort);
      std::exception_ptr failure = ThreadStartException("a thread");
      task->deferred_.Reject(Failure::Of([&] { std::rethrow_exception(failure); }).ToJs(env, op));
      delete task;
    }
    return promise;
  }

 private:
  ThreadTask(Napi::Env env, const char* op, StopPtr stop, Work work, Build build)
      : deferred_(Napi::Promise::Deferred::New(env)),
        op_(op),
        stop_(std::move(stop)),
        work_(std::move(work)),
        build_(std::move(build)) {
    if (!stop_) stop_ = std::make_shared<Stop>();
  }

  void Execute() {
    failure_ = Failure::Of([&] {
      stop_->ThrowIfRequested();
      work_(result_, *stop_);
    });
    // Frees the work's resources here, on this thread, before the hand-over.
    work_ = nullptr;
    napi_threadsafe_function tsfn = tsfn_;
    if (napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_blocking) != napi_ok) delete this;
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  }

  // On the main thread (env null: the environment is going away).
  static void CallJs(napi_env env, napi_value, void* context, void*) {
    auto* task = static_cast<ThreadTask*>(context);
    if (env != nullptr) Settle(Napi::Env(env), task->deferred_, task->op_, task->failure_, task->build_, task->result_);
    delete task;
  }

  Napi::Promise::Deferred deferred_;
  std::string op_;
  StopPtr stop_;
  Work work_;
  Build build_;
  Result result_{};
  Failure failure_;
  napi_threadsafe_function tsfn_ = nullptr;
};

// For commands whose promise resolves to undefined.
struct Nothing {};
inline Napi::Value Undefined(Napi::Env env, Nothing&) { return env.Undefined(); }

}  // namespace ipvs
