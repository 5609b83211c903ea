// Connections in columns: what a read of the connection table hands to
// JavaScript (RawConnectionBatch in src/native.ts), and counts by key.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "column.h"
#include "conn_parse.h"
#include "netlink.h"

namespace ipvs {

// Names stored once per batch, each entry holding an index.
class Interner {
 public:
  // With `none`, index 0 is the empty string and stands for "no value".
  explicit Interner(bool none) {
    if (none) Intern("");
  }

  uint32_t Intern(std::string_view s) {
    // Neighbouring entries mostly share their names: try the last one first.
    if (last_ < names_.size() && names_[last_] == s) return last_;
    auto [it, fresh] = index_.try_emplace(std::string(s), static_cast<uint32_t>(names_.size()));
    if (fresh) names_.emplace_back(s);
    return last_ = it->second;
  }

  const std::string& operator[](uint32_t i) const { return names_[i]; }

  Napi::Array ToJs(Napi::Env env) const {
    Napi::Array arr = Napi::Array::New(env, names_.size());
    for (size_t i = 0; i < names_.size(); i++) arr.Set(i, Napi::String::New(env, names_[i]));
    return arr;
  }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> index_;
  uint32_t last_ = 0;
};

// Entries in columns; the shape is RawConnectionBatch in src/native.ts.
class Batch {
 public:
  Batch() = default;
  // Room for `n` entries of IPv4 addresses, so that a full batch's columns
  // have no unused capacity (up to kReserveMax entries: larger batches grow).
  explicit Batch(size_t n) {
    n = std::min(n, kReserveMax);
    for (auto* v : {&protocolIndex_, &stateIndex_, &peNameIndex_, &clientPort_, &virtualPort_, &destinationPort_})
      v->reserve(n);
    for (auto* v : {&peDataIndex_, &expires_}) v->reserve(n);
    for (auto* v : {&af_, &destinationAf_}) v->reserve(n);
    for (auto* v : {&client_, &virtual_, &destination_}) v->reserve(4 * n);
  }

  size_t length() const { return expires_.size(); }

  void Add(const Entry& e) {
    protocolIndex_.push_back(Small(protocols_.Intern(e.protocol)));
    stateIndex_.push_back(Small(states_.Intern(e.state)));
    peNameIndex_.push_back(e.hasPe ? Small(peNames_.Intern(e.peName)) : 0);
    peDataIndex_.push_back(e.hasPe ? peData_.Intern(e.peData) : 0);
    af_.push_back(e.af);
    destinationAf_.push_back(e.destinationAf);
    if (e.af != AF_INET && width_ == 4) {
      Widen(client_);
      Widen(virtual_);
      width_ = 16;
    }
    if (e.destinationAf != AF_INET && destinationWidth_ == 4) {
      Widen(destination_);
      destinationWidth_ = 16;
    }
    client_.insert(client_.end(), e.client, e.client + width_);
    virtual_.insert(virtual_.end(), e.virt, e.virt + width_);
    destination_.insert(destination_.end(), e.destination, e.destination + destinationWidth_);
    clientPort_.push_back(e.clientPort);
    virtualPort_.push_back(e.virtualPort);
    destinationPort_.push_back(e.destinationPort);
    expires_.push_back(e.expires);
  }

  // Entry i again; its views point into this batch.
  Entry At(size_t i) const {
    Entry e;
    e.protocol = protocols_[protocolIndex_[i]];
    e.state = states_[stateIndex_[i]];
    e.hasPe = peNameIndex_[i] != 0;
    e.peName = peNames_[peNameIndex_[i]];
    e.peData = peData_[peDataIndex_[i]];
    e.af = af_[i];
    e.destinationAf = destinationAf_[i];
    memset(e.client, 0, 16);
    memset(e.virt, 0, 16);
    memset(e.destination, 0, 16);
    memcpy(e.client, &client_[i * width_], width_);
    memcpy(e.virt, &virtual_[i * width_], width_);
    memcpy(e.destination, &destination_[i * destinationWidth_], destinationWidth_);
    e.clientPort = clientPort_[i];
    e.virtualPort = virtualPort_[i];
    e.destinationPort = destinationPort_[i];
    e.expires = expires_[i];
    return e;
  }

  // The batch's columns move into JavaScript: the batch is empty after.
  Napi::Object ToJs(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("length", Napi::Number::New(env, static_cast<double>(length())));
    o.Set("protocols", protocols_.ToJs(env));
    o.Set("protocolIndex", Column(env, std::move(protocolIndex_)));
    o.Set("states", states_.ToJs(env));
    o.Set("stateIndex", Column(env, std::move(stateIndex_)));
    o.Set("family", Column(env, std::move(af_)));
    o.Set("addressLength", Napi::Number::New(env, width_));
    o.Set("destinationAddressLength", Napi::Number::New(env, destinationWidth_));
    o.Set("client", Column(env, std::move(client_)));
    o.Set("clientPort", Column(env, std::move(clientPort_)));
    o.Set("virtual", Column(env, std::move(virtual_)));
    o.Set("virtualPort", Column(env, std::move(virtualPort_)));
    o.Set("destinationFamily", Column(env, std::move(destinationAf_)));
    o.Set("destination", Column(env, std::move(destination_)));
    o.Set("destinationPort", Column(env, std::move(destinationPort_)));
    o.Set("expires", Column(env, std::move(expires_)));
    o.Set("persistenceEngines", peNames_.ToJs(env));
    o.Set("persistenceEngineIndex", Column(env, std::move(peNameIndex_)));
    o.Set("persistenceData", peData_.ToJs(env));
    o.Set("persistenceDataIndex", Column(env, std::move(peDataIndex_)));
    return o;
  }

  // About the bytes this batch holds (for the bound on what a read buffers).
  size_t bytes() const {
    return length() * (3 * sizeof(uint16_t) + 2 * sizeof(uint32_t) + 2 + 3 * sizeof(uint16_t)) + client_.size() +
           virtual_.size() + destination_.size();
  }

 private:
  static constexpr size_t kReserveMax = 16384;

  // Protocol, state and engine names are few (the kernel has a fixed set of
  // each); more than 65536 in one batch is not a connection table.
  static uint16_t Small(uint32_t index) {
    if (index > 0xffff) throw KernelError(EBADMSG, "more than 65536 distinct names in one batch of connections");
    return static_cast<uint16_t>(index);
  }

  // Rewrites 4-byte addresses as 16-byte ones (IPv4 in the first 4 bytes).
  static void Widen(std::vector<uint8_t>& column) {
    size_t n = column.size() / 4;
    column.resize(n * 16);
    for (size_t i = n; i-- > 0;) {
      memmove(&column[i * 16], &column[i * 4], 4);
      memset(&column[i * 16 + 4], 0, 12);
    }
  }

  // Bytes per address in client_ and virtual_ (one family), and in
  // destination_: 4 while every entry so far is IPv4, 16 from the first
  // IPv6 one on. IPv4-only tables, the common case, take a quarter of the space.
  size_t width_ = 4, destinationWidth_ = 4;
  Interner protocols_{false}, states_{false}, peNames_{true}, peData_{true};
  std::vector<uint16_t> protocolIndex_, stateIndex_, peNameIndex_;
  std::vector<uint32_t> peDataIndex_;
  std::vector<uint8_t> af_, destinationAf_, client_, virtual_, destination_;
  std::vector<uint16_t> clientPort_, virtualPort_, destinationPort_;
  std::vector<uint32_t> expires_;
};

// Counts of entries by one key, in the order keys first appear, each with
// the first entry that had it.
class Tally {
 public:
  enum class By { kState, kDestination, kService };
  explicit Tally(By by) : by_(by) {}

  void Add(const Entry& e, uint32_t n = 1) {
    auto [it, fresh] = index_.try_emplace(Key(e), counts_.size());
    if (fresh) {
      firsts_.Add(e);
      counts_.push_back(0);
    }
    counts_[it->second] += n;
  }

  void Merge(const Tally& other) {
    for (size_t i = 0; i < other.counts_.size(); i++) Add(other.firsts_.At(i), other.counts_[i]);
  }

  // Moves the first entries' columns into JavaScript.
  Napi::Object ToJs(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("entries", firsts_.ToJs(env));
    o.Set("counts", Column(env, std::move(counts_)));
    return o;
  }

 private:
  std::string Key(const Entry& e) const {
    std::string key;
    switch (by_) {
      case By::kState:
        key.assign(e.state);
        break;
      case By::kDestination:
        key.push_back(static_cast<char>(e.destinationAf));
        key.append(reinterpret_cast<const char*>(e.destination), 16);
        key.append(reinterpret_cast<const char*>(&e.destinationPort), 2);
        break;
      case By::kService:
        key.push_back(static_cast<char>(e.af));
        key.append(reinterpret_cast<const char*>(e.virt), 16);
        key.append(reinterpret_cast<const char*>(&e.virtualPort), 2);
        key.append(e.protocol);
        break;
    }
    return key;
  }

  By by_;
  std::unordered_map<std::string, size_t> index_;
  Batch firsts_;
  std::vector<uint32_t> counts_;
};

}  // namespace ipvs
