// Settings tables: an object whose numeric attributes are listed in an
// X-macro table (IPVS_DEST_SETTINGS in destination.h, IPVS_SVC_SETTINGS in
// service.h) moves each of them through these templates: the attribute
// rule's kind from the C type, the value from JavaScript checked against that
// type's range, onto the wire and back in host or network order. A new
// attribute of that kind is then one row of its object's table.
#pragma once

#include <arpa/inet.h>
#include <napi.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "attr.h"
#include "convert.h"

namespace ipvs {

// The kind of attribute a C type travels as.
template <typename T>
constexpr AttrKind KindOf() {
  return sizeof(T) == 1 ? AttrKind::kU8 : sizeof(T) == 2 ? AttrKind::kU16 : AttrKind::kU32;
}

// Reading a setting from JavaScript, checked against its C type's range.
template <typename T>
T SettingFrom(const Napi::Object& obj, const char* name) {
  return static_cast<T>(IntField(obj, name, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

// Host and network order on the wire.
template <typename T>
T Order(T v, bool net) {
  if (!net || sizeof(T) == 1) return v;
  return sizeof(T) == 2 ? static_cast<T>(htons(static_cast<uint16_t>(v)))
                        : static_cast<T>(htonl(static_cast<uint32_t>(v)));
}
constexpr bool Host = false, Net = true;

template <typename T>
void PutSetting(nl_msg* msg, int attr, T value, bool net) {
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(Order(value, net));
  Check(nla_put(msg, attr, sizeof v, &v));
}

template <typename T>
T DecodeSetting(nlattr** tb, int attr, const AttrRule* rules, bool net, bool required) {
  nlattr* a = required ? Require(tb, attr, rules) : tb[attr];
  if (a == nullptr) return 0;
  return Order(static_cast<T>(AttrGet<std::make_unsigned_t<T>>(a)), net);
}
constexpr bool Required = true, Optional = false;

}  // namespace ipvs
