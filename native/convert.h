// Reading the plain values that TypeScript hands across the boundary. The
// facade has already validated them; these checks only catch a broken caller.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ipvs {

inline Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsObject())
    throw Napi::TypeError::New(info.Env(), std::string("expected ") + what + " object");
  return info[i].As<Napi::Object>();
}

inline uint32_t U32Field(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be a number");
  return v.As<Napi::Number>().Uint32Value();
}

inline std::string StringField(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// A 16-byte address (nf_inet_addr: IPv4 in the first four bytes).
inline void AddrField(const Napi::Object& obj, const char* name, uint8_t out[16]) {
  Napi::Value v = obj.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      v.As<Napi::Uint8Array>().ByteLength() != 16)
    throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be a 16-byte Uint8Array");
  memcpy(out, v.As<Napi::Uint8Array>().Data(), 16);
}

// A JavaScript array of `items`, each converted by `toJs(env, item)`.
template <typename T, typename F>
Napi::Array ArrayToJs(Napi::Env env, const std::vector<T>& items, F toJs) {
  Napi::Array arr = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) arr.Set(i, toJs(env, items[i]));
  return arr;
}

inline Napi::Value AddrValue(Napi::Env env, const uint8_t addr[16]) {
  return Napi::Buffer<uint8_t>::Copy(env, addr, 16);
}

}  // namespace ipvs
