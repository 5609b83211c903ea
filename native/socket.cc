#include "socket.h"

#include "task.h"

namespace ipvs {

Napi::Function Socket::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Socket", {});
  // The addon's instance data (set up in addon.cc) keeps the constructor.
  env.GetInstanceData<Napi::ObjectReference>()->Set("Socket", ctor);
  return ctor;
}

Socket::Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "Socket handles are made by open()");
  sock_ = *info[0].As<Napi::External<std::shared_ptr<GenlSocket>>>().Data();
}

Napi::Object Socket::Wrap(Napi::Env env, std::shared_ptr<GenlSocket> sock) {
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("Socket").As<Napi::Function>();
  std::shared_ptr<GenlSocket> copy = std::move(sock);
  return ctor.New({Napi::External<std::shared_ptr<GenlSocket>>::New(env, &copy)});
}

std::shared_ptr<GenlSocket> Socket::From(const Napi::Value& value) {
  Napi::Env env = value.Env();
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("Socket").As<Napi::Function>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor))
    throw Napi::TypeError::New(env, "expected a socket handle made by open()");
  return Unwrap(value.As<Napi::Object>())->sock_;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path;
  if (info.Length() > 0 && info[0].IsString()) path = info[0].As<Napi::String>().Utf8Value();
  struct Opened {
    std::shared_ptr<GenlSocket> sock;
  };
  return Task<Opened>::Run(
      info.Env(), "open", [path](Opened& out) { out.sock = GenlSocket::Open(path); },
      [](Napi::Env env, Opened& out) -> Napi::Value { return Socket::Wrap(env, out.sock); });
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Socket::From(info[0])->Close();
  return info.Env().Undefined();
}

}  // namespace ipvs
