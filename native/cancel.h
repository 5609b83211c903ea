// Cancellation from JavaScript: a Canceller handle (made by canceller()) is
// passed to a long call, and its cancel() stops that call's native work with
// ECANCELED. The facade calls cancel() when the caller's AbortSignal aborts.
#pragma once

#include <napi.h>

#include "stop.h"

namespace ipvs {

class Canceller : public Napi::ObjectWrap<Canceller> {
 public:
  static void Define(Napi::Env env);
  // The stop behind `value`: a Canceller's, or a new one for undefined/null.
  static StopPtr From(const Napi::Value& value);

  explicit Canceller(const Napi::CallbackInfo& info);

 private:
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  StopPtr stop_;
};

// canceller(): a new Canceller.
Napi::Value NewCanceller(const Napi::CallbackInfo& info);

}  // namespace ipvs
