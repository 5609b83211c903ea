// How a maker hands a C++ value to the constructor of a handle class that
// JavaScript must not construct itself (Socket, ConnectionReader).
#pragma once

#include <napi.h>

#include <utility>

namespace ipvs {

// Make(env, ctor, value) runs ctor.New() with `value` set aside for the
// constructor, which takes it with Take(); a constructor called any other way
// (new Socket() from JavaScript) finds nothing and throws. The value waits in
// a slot of this thread, for the one synchronous call, rather than in an
// External: that would be one more V8 object per handle, and a weak reference
// Node allocates for it that lives until a collection.
template <typename T>
class Handoff {
 public:
  static Napi::Object Make(Napi::Function ctor, T value) {
    T* outer = slot_;
    slot_ = &value;
    struct Restore {
      T* outer;
      ~Restore() { slot_ = outer; }
    } restore{outer};
    return ctor.New({});
  }

  // The value being handed over; throws `refusal` (a TypeError) when there is none.
  static T Take(Napi::Env env, const char* refusal) {
    if (slot_ == nullptr) throw Napi::TypeError::New(env, refusal);
    T value = std::move(*slot_);
    slot_ = nullptr;
    return value;
  }

 private:
  static inline thread_local T* slot_ = nullptr;
};

}  // namespace ipvs
