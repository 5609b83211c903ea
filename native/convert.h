// Reading the plain values that TypeScript hands across the boundary. The
// facade has already validated them; the raw layer (ipvs.raw) has not, so
// these checks stand between any caller and the kernel: a value that does not
// fit its field is refused before anything is sent.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ipvs {

inline Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsObject())
    throw Napi::TypeError::New(info.Env(), std::string("expected ") + what + " object");
  return info[i].As<Napi::Object>();
}

// The JavaScript type of a value, for messages ("got a string").
inline const char* TypeName(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "a boolean";
    case napi_number:
      return "a number";
    case napi_string:
      return "a string";
    case napi_symbol:
      return "a symbol";
    case napi_bigint:
      return "a bigint";
    case napi_function:
      return "a function";
    default:
      return "an object";
  }
}

// An integer in [min, max], the range of the field as the kernel takes it (an
// attribute's or a struct member's u8, u16, u32, or an int). Anything else is
// refused, never wrapped (Uint32Value() sent port 65616 as 80 and NaN as 0):
// TypeError for a non-number, RangeError for NaN, fractions and values out of
// range, each naming the field and its range. Values in range reach the
// kernel, whose own bounds (thresholds up to INT_MAX, say) give its verdict.
inline int64_t IntField(const Napi::Object& obj, const char* name, int64_t min, int64_t max) {
  Napi::Value v = obj.Get(name);
  auto message = [&](const std::string& got) {
    return std::string("field ") + name + " must be an integer from " + std::to_string(min) + " to " +
           std::to_string(max) + ", got " + got;
  };
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), message(TypeName(v)));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != std::trunc(d)) {
    // As JavaScript prints it: NaN, Infinity, 65616, 80.5.
    char got[32];
    if (std::isnan(d))
      snprintf(got, sizeof got, "NaN");
    else if (std::isinf(d))
      snprintf(got, sizeof got, "%sInfinity", d < 0 ? "-" : "");
    else
      snprintf(got, sizeof got, "%.17g", d);
    throw Napi::RangeError::New(obj.Env(), message(got));
  }
  return static_cast<int64_t>(d);
}

inline uint8_t U8Field(const Napi::Object& obj, const char* name) {
  return static_cast<uint8_t>(IntField(obj, name, 0, UINT8_MAX));
}

inline uint16_t U16Field(const Napi::Object& obj, const char* name) {
  return static_cast<uint16_t>(IntField(obj, name, 0, UINT16_MAX));
}

inline uint32_t U32Field(const Napi::Object& obj, const char* name) {
  return static_cast<uint32_t>(IntField(obj, name, 0, UINT32_MAX));
}

// For what the kernel keeps in an int (weights, timeouts, daemon state and
// sync id): negative values reach it, and it gives its own verdict on them.
inline int32_t I32Field(const Napi::Object& obj, const char* name) {
  return static_cast<int32_t>(IntField(obj, name, INT32_MIN, INT32_MAX));
}

// A string the kernel gets as a C string: a NUL would cut it short there.
inline std::string StringField(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsString())
    throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be a string, got " + TypeName(v));
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos)
    throw Napi::RangeError::New(obj.Env(), std::string("field ") + name + " must not contain a NUL character");
  return s;
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
