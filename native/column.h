// Columns handed to JavaScript as typed arrays: a connection batch's, a
// snapshot's.
#pragma once

#include <napi.h>

#include <cstring>
#include <vector>

namespace ipvs {

// A column handed to JavaScript without a copy: the typed array's buffer is
// the vector's memory, freed when the array is collected. A vector with much
// unused capacity (a batch's last, part-filled) is copied instead, so that
// JavaScript holds no more memory than the column needs.
template <typename T>
Napi::TypedArrayOf<T> Column(Napi::Env env, std::vector<T>&& v) {
  if (v.empty() || v.capacity() > v.size() + v.size() / 8) {
    auto arr = Napi::TypedArrayOf<T>::New(env, v.size());
    if (!v.empty()) memcpy(arr.Data(), v.data(), v.size() * sizeof(T));
    return arr;
  }
  auto* owned = new std::vector<T>(std::move(v));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owned->data(), owned->size() * sizeof(T), [](Napi::Env, void*, std::vector<T>* hint) { delete hint; },
      owned);
  return Napi::TypedArrayOf<T>::New(env, owned->size(), buffer, 0);
}

}  // namespace ipvs
