// Settings tables: an object whose numeric attributes are listed in an
// X-macro table (IPVS_DEST_SETTINGS in destination.h, IPVS_SVC_SETTINGS in
// service.h) moves each of them through templates: the attribute rule's kind
// from the C type, onto the wire and back in host or network order (attr.h,
// which the decoders share without N-API), and here the value from
// JavaScript checked against that type's range. A new attribute of that kind
// is then one row of its object's table.
#pragma once

#include <napi.h>

#include <cstdint>
#include <limits>

#include "attr.h"
#include "convert.h"

namespace ipvs {

// Reading a setting from JavaScript, checked against its C type's range.
template <typename T>
T SettingFrom(const Napi::Object& obj, const char* name) {
  return static_cast<T>(IntField(obj, name, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

}  // namespace ipvs
