#include "socket.h"

#include "convert.h"
#include "handoff.h"
#include "task.h"

namespace ipvs {

Napi::Function Socket::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Socket", {});
  // The addon's instance data (set up in addon.cc) keeps the constructor.
  env.GetInstanceData<Napi::ObjectReference>()->Set("Socket", ctor);
  return ctor;
}

Socket::Socket(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Socket>(info),
      sock_(Handoff<std::shared_ptr<GenlSocket>>::Take(info.Env(), "Socket handles are made by open()")) {}

Napi::Object Socket::Wrap(Napi::Env env, std::shared_ptr<GenlSocket> sock) {
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("Socket").As<Napi::Function>();
  return Handoff<std::shared_ptr<GenlSocket>>::Make(ctor, std::move(sock));
}

std::shared_ptr<GenlSocket> Socket::From(const Napi::Value& value) {
  Napi::Env env = value.Env();
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("Socket").As<Napi::Function>();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor))
    throw Napi::TypeError::New(env, "expected a socket handle made by open()");
  return Unwrap(value.As<Napi::Object>())->sock_;
}

SocketOptions SocketOptionsFrom(const Napi::CallbackInfo& info) {
  Napi::Object o = ObjectArg(info, 0, "open options");
  SocketOptions options;
  Napi::Value netns = o.Get("netns");
  if (netns.IsString()) {
    options.netns = netns.As<Napi::String>().Utf8Value();
    if (options.netns.empty() || options.netns.find('\0') != std::string::npos)
      throw Napi::TypeError::New(info.Env(), "netns must be a path without NUL characters");
  } else if (!netns.IsNull()) {
    throw Napi::TypeError::New(info.Env(), "field netns must be a string or null");
  }
  Napi::Value timeout = o.Get("timeout");
  double ms = timeout.IsNumber() ? timeout.As<Napi::Number>().DoubleValue() : -1;
  if (!(ms >= 1 && ms <= 2147483647.0))
    throw Napi::RangeError::New(info.Env(), "field timeout must be 1 to 2147483647 ms");
  options.timeoutMs = static_cast<int>(ms);
  Napi::Value modprobe = o.Get("modprobe");
  if (!modprobe.IsBoolean()) throw Napi::TypeError::New(info.Env(), "field modprobe must be a boolean");
  options.modprobe = modprobe.As<Napi::Boolean>().Value();
  return options;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  SocketOptions options = SocketOptionsFrom(info);
  struct Opened {
    std::shared_ptr<GenlSocket> sock;
  };
  return Task<Opened>::Run(
      info.Env(), "open", [options](Opened& out) { out.sock = GenlSocket::Open(options); },
      [](Napi::Env env, Opened& out) -> Napi::Value { return Socket::Wrap(env, out.sock); });
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Socket::From(info[0])->Close();
  return info.Env().Undefined();
}

}  // namespace ipvs
