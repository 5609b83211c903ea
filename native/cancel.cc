#include "cancel.h"

#include <cerrno>

namespace ipvs {

void Canceller::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Canceller", {InstanceMethod<&Canceller::Cancel>("cancel")});
  env.GetInstanceData<Napi::ObjectReference>()->Set("Canceller", ctor);
}

Canceller::Canceller(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Canceller>(info), stop_(std::make_shared<Stop>()) {}

StopPtr Canceller::From(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return std::make_shared<Stop>();
  Napi::Env env = value.Env();
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("Canceller").As<Napi::Function>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor))
    throw Napi::TypeError::New(env, "expected a canceller made by canceller(), or null");
  return Unwrap(value.As<Napi::Object>())->stop_;
}

Napi::Value Canceller::Cancel(const Napi::CallbackInfo& info) {
  stop_->Request(ECANCELED);
  return info.Env().Undefined();
}

Napi::Value NewCanceller(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return env.GetInstanceData<Napi::ObjectReference>()->Get("Canceller").As<Napi::Function>().New({});
}

}  // namespace ipvs
