#include "batch.h"

#include <linux/ip_vs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "cancel.h"
#include "column.h"
#include "convert.h"
#include "destination.h"
#include "request.h"
#include "service.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

#define IPVS_BATCH_ENUM(name) k_##name,
enum BatchColumn { IPVS_BATCH_COLUMNS(IPVS_BATCH_ENUM) kBatchInts };
#undef IPVS_BATCH_ENUM
#define IPVS_BATCH_NAME(name) #name,
const char* const kBatchNames[] = {IPVS_BATCH_COLUMNS(IPVS_BATCH_NAME)};
#undef IPVS_BATCH_NAME

struct Change {
  uint8_t cmd = 0;
  ServiceSpec service;
  DestSpec dest;
};

struct Outcome {
  std::vector<int32_t> status;
  std::map<size_t, std::string> messages;
  int stopped = 0;
  Failure failure;
};

bool IsServiceCommand(uint32_t cmd) {
  return cmd == IPVS_CMD_NEW_SERVICE || cmd == IPVS_CMD_SET_SERVICE || cmd == IPVS_CMD_DEL_SERVICE;
}

bool IsDestCommand(uint32_t cmd) {
  return cmd == IPVS_CMD_NEW_DEST || cmd == IPVS_CMD_SET_DEST || cmd == IPVS_CMD_DEL_DEST;
}

// The rows as changes, each number checked against its field's C type.
std::vector<Change> ChangesFrom(Napi::Env env, const Napi::Uint32Array& rows, const std::vector<std::string>& strings) {
  if (rows.ElementLength() % kBatchInts != 0)
    throw Napi::RangeError::New(env, "batch rows must be " + std::to_string(kBatchInts) + " numbers each");
  const size_t n = rows.ElementLength() / kBatchInts;
  const uint32_t* data = rows.Data();
  std::vector<Change> out(n);
  for (size_t i = 0; i < n; i++) {
    const uint32_t* row = data + i * kBatchInts;
    auto field = [&](BatchColumn c, uint64_t max) {
      if (row[c] > max)
        throw Napi::RangeError::New(env, "batch row " + std::to_string(i) + ": field " + kBatchNames[c] +
                                             " must be an integer from 0 to " + std::to_string(max) + ", got " +
                                             std::to_string(row[c]));
      return row[c];
    };
    auto text = [&](BatchColumn c) -> const std::string& { return strings[field(c, strings.size() - 1)]; };
    Change& ch = out[i];
    const uint32_t cmd = row[k_cmd];
    if (!IsServiceCommand(cmd) && !IsDestCommand(cmd))
      throw Napi::RangeError::New(env, "batch row " + std::to_string(i) + ": field cmd " + std::to_string(cmd) +
                                           " is not a service or destination command");
    ch.cmd = static_cast<uint8_t>(cmd);
    ServiceKey& k = ch.service.key;
    k.af = static_cast<uint16_t>(field(k_svcAf, UINT16_MAX));
    k.protocol = static_cast<uint16_t>(field(k_protocol, UINT16_MAX));
    k.port = static_cast<uint16_t>(field(k_svcPort, UINT16_MAX));
    k.fwmark = row[k_fwmark];
    memcpy(k.addr, row + k_svcAddr0, 16);
    ch.service.scheduler = text(k_scheduler);
    ch.service.pe = text(k_pe);
    ch.service.flags = row[k_flags];
    ch.service.timeout = row[k_timeout];
    ch.service.netmask = row[k_netmask];
    DestSpec& d = ch.dest;
    d.af = static_cast<uint16_t>(field(k_destAf, UINT16_MAX));
    memcpy(d.addr, row + k_destAddr0, 16);
    d.port = static_cast<uint16_t>(field(k_destPort, UINT16_MAX));
    d.fwdMethod = row[k_fwdMethod];
    d.weight = static_cast<int32_t>(field(k_weight, std::numeric_limits<int32_t>::max()));
    d.uThreshold = row[k_uThreshold];
    d.lThreshold = row[k_lThreshold];
    d.tunType = static_cast<uint8_t>(field(k_tunType, UINT8_MAX));
    d.tunPort = static_cast<uint16_t>(field(k_tunPort, UINT16_MAX));
    d.tunFlags = static_cast<uint16_t>(field(k_tunFlags, UINT16_MAX));
  }
  return out;
}

// Writes the change's request into the window being built.
void Request(RequestWriter& w, const Change& ch) {
  w.Begin(ch.cmd);
  switch (ch.cmd) {
    case IPVS_CMD_NEW_SERVICE:
    case IPVS_CMD_SET_SERVICE:
      PutServiceNest(&w, ch.service);
      break;
    case IPVS_CMD_DEL_SERVICE:
      PutServiceKeyNest(&w, ch.service.key);
      break;
    default:
      PutServiceKeyNest(&w, ch.service.key);
      PutDestNest(&w, ch.dest, ch.cmd == IPVS_CMD_DEL_DEST);
  }
}

Napi::Value OutcomeToJs(Napi::Env env, Outcome& o) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", Column(env, std::move(o.status)));
  Napi::Object messages = Napi::Object::New(env);
  for (auto& [index, text] : o.messages) messages.Set(static_cast<uint32_t>(index), text);
  out.Set("messages", messages);
  out.Set("stopped", o.stopped);
  if (o.failure.errnum == 0) {
    out.Set("failure", env.Null());
  } else {
    Napi::Object f = Napi::Object::New(env);
    f.Set("errno", o.failure.errnum);
    f.Set("message", o.failure.message.empty() ? strerror(o.failure.errnum) : o.failure.message);
    out.Set("failure", f);
  }
  return out;
}

}  // namespace

Napi::Value BatchColumns(Napi::Env env) {
  Napi::Array arr = Napi::Array::New(env, kBatchInts);
  for (uint32_t i = 0; i < kBatchInts; i++) arr.Set(i, kBatchNames[i]);
  return arr;
}

Napi::Value Batch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto sock = Socket::From(info[0]);
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "batch rows must be a Uint32Array");
  if (info.Length() < 3 || !info[2].IsArray()) throw Napi::TypeError::New(env, "batch strings must be an array");
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<std::string> strings;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "batch strings must be strings");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) throw Napi::RangeError::New(env, "batch strings must not hold NUL");
    strings.push_back(std::move(s));
  }
  if (strings.empty()) strings.emplace_back();
  Napi::Object options = ObjectArg(info, 3, "batch options");
  const bool stopOnError = options.Get("stopOnError").ToBoolean().Value();
  const size_t window = static_cast<size_t>(IntField(options, "window", 1, 1024));
  std::vector<Change> changes = ChangesFrom(env, info[1].As<Napi::Uint32Array>(), strings);
  StopPtr stop = Canceller::From(info.Length() > 4 ? info[4] : env.Undefined());
  sock->Track(stop);
  return ThreadTask<Outcome>::Run(
      env, "batch", stop,
      [sock, changes = std::move(changes), stopOnError, window](Outcome& o, Stop& stop) {
        o.status.assign(changes.size(), -1);
        o.failure = Failure::Of([&] {
          sock->Pipeline(
              changes.size(), window, [&](size_t i, RequestWriter& w) { Request(w, changes[i]); }, stopOnError, stop,
              o.status.data(), [&](size_t i, std::string text) { o.messages[i] = std::move(text); });
        });
        // A stop request is not a failure of the batch: it ends early, and says so.
        if (o.failure.errnum != 0 && stop.requested()) o.failure = {};
        o.stopped = stop.reason();
      },
      OutcomeToJs);
}

}  // namespace ipvs
