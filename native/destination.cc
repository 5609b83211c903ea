#include "destination.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>

#include <array>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "attr.h"
#include "convert.h"
#include "request.h"
#include "service.h"
#include "settings.h"
#include "socket.h"
#include "stats.h"
#include "task.h"

namespace ipvs {

DestSpec DestSpecFrom(const Napi::Object& obj, bool keyOnly) {
  DestSpec d;
  d.af = U16Field(obj, "af");
  AddrField(obj, "addr", d.addr);
  d.port = U16Field(obj, "port");
  if (keyOnly) return d;
#define IPVS_DEST_READ(member, type, attr, order, presence) d.member = SettingFrom<type>(obj, #member);
  IPVS_DEST_SETTINGS(IPVS_DEST_READ)
#undef IPVS_DEST_READ
  return d;
}

void PutDest(nl_msg* msg, const DestSpec& d, bool keyOnly) { PutDestNest(msg, d, keyOnly); }

Napi::Object DestToJs(Napi::Env env, const DestEntry& e) {
  const DestSpec& d = e.spec;
  Napi::Object o = Napi::Object::New(env);
  o.Set("af", d.af);
  o.Set("addr", AddrValue(env, d.addr));
  o.Set("port", d.port);
#define IPVS_DEST_TO_JS(member, type, attr, order, presence) o.Set(#member, Napi::Number::New(env, d.member));
  IPVS_DEST_SETTINGS(IPVS_DEST_TO_JS)
#undef IPVS_DEST_TO_JS
#define IPVS_DEST_COUNT_TO_JS(member, attr) o.Set(#member, Napi::Number::New(env, e.member));
  IPVS_DEST_COUNTS(IPVS_DEST_COUNT_TO_JS)
#undef IPVS_DEST_COUNT_TO_JS
  o.Set("stats", StatsToJs(env, e.stats));
  return o;
}

namespace {

Napi::Value DestCommand(const Napi::CallbackInfo& info, const char* op, uint8_t cmd, bool keyOnly) {
  auto sock = Socket::From(info[0]);
  ServiceKey service = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  DestSpec dest = DestSpecFrom(ObjectArg(info, 2, "a destination"), keyOnly);
  return Task<Nothing>::Run(
      info.Env(), op,
      [sock, service, dest, cmd, keyOnly](Nothing&) {
        Message msg = sock->NewRequest(cmd);
        PutServiceKey(msg.get(), service);
        PutDest(msg.get(), dest, keyOnly);
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace

// IPVS_CMD_GET_DEST dump. A service that does not exist gives an empty list:
// the kernel reports no error for it.
Napi::Value ListDestinations(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  ServiceKey service = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  using Entries = std::vector<DestEntry>;
  return Task<Entries>::Run(
      info.Env(), "listDestinations",
      [sock, service](Entries& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_DEST, NLM_F_DUMP);
        PutServiceKey(msg.get(), service);
        sock->Exchange(
            msg.get(), [&out, &service](const nlmsghdr* hdr) { out.push_back(DecodeDest(hdr, service.af)); },
            [&out] { out.clear(); });
      },
      [](Napi::Env env, Entries& out) -> Napi::Value { return ArrayToJs(env, out, DestToJs); });
}

// IPVS_CMD_NEW_DEST. ESRCH: no such service; EEXIST: destination exists;
// ERANGE: negative weight or lower threshold above the upper one.
Napi::Value AddDestination(const Napi::CallbackInfo& info) {
  return DestCommand(info, "addDestination", IPVS_CMD_NEW_DEST, false);
}

// IPVS_CMD_SET_DEST, replacing every setting. ENOENT: no such destination.
Napi::Value EditDestination(const Napi::CallbackInfo& info) {
  return DestCommand(info, "editDestination", IPVS_CMD_SET_DEST, false);
}

// IPVS_CMD_DEL_DEST. ESRCH: no such service; ENOENT: no such destination.
Napi::Value DeleteDestination(const Napi::CallbackInfo& info) {
  return DestCommand(info, "deleteDestination", IPVS_CMD_DEL_DEST, true);
}

}  // namespace ipvs
