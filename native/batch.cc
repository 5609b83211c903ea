#include "batch.h"

#include <linux/ip_vs.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
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

// The batch's rows, copied off the JavaScript heap on the main thread (a
// memcpy); read on the batch's thread, where checking and reading 55,000 of
// them no longer holds the event loop (it took 7-28 ms of the main thread for
// 11,000 under emulation).
struct Rows {
  std::vector<uint32_t> data;
  std::vector<std::string> strings;
  size_t count() const { return data.size() / kBatchInts; }
  const uint32_t* row(size_t i) const { return data.data() + i * kBatchInts; }
};

// Checks every number of every row against its field's C type, before
// anything is sent: a bad row fails the call (EINVAL, naming the row and the
// field) with nothing changed.
void CheckRows(const Rows& rows) {
  for (size_t i = 0; i < rows.count(); i++) {
    const uint32_t* row = rows.row(i);
    auto check = [&](BatchColumn c, uint64_t max) {
      if (row[c] > max)
        throw KernelError(EINVAL, "batch row " + std::to_string(i) + ": field " + kBatchNames[c] +
                                      " must be an integer from 0 to " + std::to_string(max) + ", got " +
                                      std::to_string(row[c]));
    };
    const uint32_t cmd = row[k_cmd];
    if (!IsServiceCommand(cmd) && !IsDestCommand(cmd))
      throw KernelError(EINVAL, "batch row " + std::to_string(i) + ": field cmd " + std::to_string(cmd) +
                                    " is not a service or destination command");
    check(k_svcAf, UINT16_MAX);
    check(k_protocol, UINT16_MAX);
    check(k_svcPort, UINT16_MAX);
    check(k_scheduler, rows.strings.size() - 1);
    check(k_pe, rows.strings.size() - 1);
    check(k_destAf, UINT16_MAX);
    check(k_destPort, UINT16_MAX);
    check(k_weight, std::numeric_limits<int32_t>::max());
    check(k_tunType, UINT8_MAX);
    check(k_tunPort, UINT16_MAX);
    check(k_tunFlags, UINT16_MAX);
  }
}

// Row `i` (checked) as a change, into `ch`: one change reused for every
// request, whose strings keep their room.
void ChangeAt(const Rows& rows, size_t i, Change& ch) {
  const uint32_t* row = rows.row(i);
  ch.cmd = static_cast<uint8_t>(row[k_cmd]);
  ServiceKey& k = ch.service.key;
  k.af = static_cast<uint16_t>(row[k_svcAf]);
  k.protocol = static_cast<uint16_t>(row[k_protocol]);
  k.port = static_cast<uint16_t>(row[k_svcPort]);
  k.fwmark = row[k_fwmark];
  memcpy(k.addr, row + k_svcAddr0, 16);
  if (ch.cmd == IPVS_CMD_NEW_SERVICE || ch.cmd == IPVS_CMD_SET_SERVICE) {
    ch.service.scheduler = rows.strings[row[k_scheduler]];
    ch.service.pe = rows.strings[row[k_pe]];
    ch.service.flags = row[k_flags];
    ch.service.timeout = row[k_timeout];
    ch.service.netmask = row[k_netmask];
  }
  DestSpec& d = ch.dest;
  d.af = static_cast<uint16_t>(row[k_destAf]);
  memcpy(d.addr, row + k_destAddr0, 16);
  d.port = static_cast<uint16_t>(row[k_destPort]);
  d.fwdMethod = row[k_fwdMethod];
  d.weight = static_cast<int32_t>(row[k_weight]);
  d.uThreshold = row[k_uThreshold];
  d.lThreshold = row[k_lThreshold];
  d.tunType = static_cast<uint8_t>(row[k_tunType]);
  d.tunPort = static_cast<uint16_t>(row[k_tunPort]);
  d.tunFlags = static_cast<uint16_t>(row[k_tunFlags]);
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
  Napi::Uint32Array array = info[1].As<Napi::Uint32Array>();
  if (array.ElementLength() % kBatchInts != 0)
    throw Napi::RangeError::New(env, "batch rows must be " + std::to_string(kBatchInts) + " numbers each");
  auto rows = std::make_shared<Rows>();
  rows->data.assign(array.Data(), array.Data() + array.ElementLength());
  rows->strings = std::move(strings);
  StopPtr stop = Canceller::From(info.Length() > 4 ? info[4] : env.Undefined());
  sock->Track(stop);
  return ThreadTask<Outcome>::Run(
      env, "batch", stop,
      [sock, rows, stopOnError, window](Outcome& o, Stop& stop) {
        CheckRows(*rows);  // a bad row rejects the call, with nothing sent
        o.status.assign(rows->count(), -1);
        Change change;
        o.failure = Failure::Of([&] {
          sock->Pipeline(
              rows->count(), window,
              [&](size_t i, RequestWriter& w) {
                ChangeAt(*rows, i, change);
                Request(w, change);
              },
              stopOnError, stop, o.status.data(), [&](size_t i, std::string text) { o.messages[i] = std::move(text); });
        });
        // A stop request is not a failure of the batch: it ends early, and says so.
        if (o.failure.errnum != 0 && stop.requested()) o.failure = {};
        o.stopped = stop.reason();
      },
      OutcomeToJs);
}

}  // namespace ipvs
