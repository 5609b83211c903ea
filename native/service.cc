#include "service.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "attr.h"
#include "convert.h"
#include "request.h"
#include "settings.h"
#include "socket.h"
#include "stats.h"
#include "task.h"

namespace ipvs {

void PutService(nl_msg* msg, const ServiceSpec& spec) { PutServiceNest(msg, spec); }

Napi::Object ServiceToJs(Napi::Env env, const ServiceEntry& e) {
  const ServiceSpec& s = e.spec;
  Napi::Object o = Napi::Object::New(env);
  o.Set("af", s.key.af);
  o.Set("protocol", s.key.protocol);
  o.Set("addr", AddrValue(env, s.key.addr));
  o.Set("port", s.key.port);
  o.Set("fwmark", Napi::Number::New(env, s.key.fwmark));
  o.Set("scheduler", s.scheduler);
  o.Set("pe", s.pe);
  o.Set("flags", Napi::Number::New(env, s.flags));
#define IPVS_SVC_TO_JS(member, type, attr, order, presence) o.Set(#member, Napi::Number::New(env, s.member));
  IPVS_SVC_SETTINGS(IPVS_SVC_TO_JS)
#undef IPVS_SVC_TO_JS
  o.Set("netmask", Napi::Number::New(env, s.netmask));
  o.Set("stats", StatsToJs(env, e.stats));
  return o;
}

namespace {

// Runs a command that sends one service nest and returns nothing.
Napi::Value ServiceCommand(const Napi::CallbackInfo& info, const char* op, uint8_t cmd, bool full) {
  auto sock = Socket::From(info[0]);
  ServiceSpec spec;
  if (full) {
    spec = ServiceSpecFrom(ObjectArg(info, 1, "a service spec"));
  } else {
    spec.key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  }
  return Task<Nothing>::Run(
      info.Env(), op,
      [sock, spec, cmd, full](Nothing&) {
        Message msg = sock->NewRequest(cmd);
        if (full) {
          PutService(msg.get(), spec);
        } else {
          PutServiceKey(msg.get(), spec.key);
        }
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace

ServiceKey ServiceKeyFrom(const Napi::Object& obj) {
  ServiceKey k;
  k.af = U16Field(obj, "af");
  k.protocol = U16Field(obj, "protocol");
  AddrField(obj, "addr", k.addr);
  k.port = U16Field(obj, "port");
  k.fwmark = U32Field(obj, "fwmark");
  return k;
}

ServiceSpec ServiceSpecFrom(const Napi::Object& obj) {
  ServiceSpec s;
  s.key = ServiceKeyFrom(obj);
  s.scheduler = StringField(obj, "scheduler");
  s.pe = StringField(obj, "pe");
  s.flags = U32Field(obj, "flags");
#define IPVS_SVC_READ(member, type, attr, order, presence) s.member = SettingFrom<type>(obj, #member);
  IPVS_SVC_SETTINGS(IPVS_SVC_READ)
#undef IPVS_SVC_READ
  s.netmask = U32Field(obj, "netmask");
  return s;
}

void PutServiceKey(nl_msg* msg, const ServiceKey& key) { PutServiceKeyNest(msg, key); }

namespace {

// The bytes of a key that name a service: the fwmark's, or the protocol's,
// address's and port's.
std::string KeyBytes(const ServiceKey& k) {
  std::string b(reinterpret_cast<const char*>(&k.af), sizeof k.af);
  if (k.fwmark != 0) return b.append(reinterpret_cast<const char*>(&k.fwmark), sizeof k.fwmark);
  b.append(reinterpret_cast<const char*>(&k.protocol), sizeof k.protocol);
  b.append(reinterpret_cast<const char*>(k.addr), sizeof k.addr);
  return b.append(reinterpret_cast<const char*>(&k.port), sizeof k.port);
}

}  // namespace

void DumpServices(GenlSocket& sock, std::vector<ServiceEntry>& out) {
  Message msg = sock.NewRequest(IPVS_CMD_GET_SERVICE, NLM_F_DUMP);
  sock.Exchange(
      msg.get(), [&out](const nlmsghdr* hdr) { out.push_back(DecodeService(hdr)); }, [&out] { out.clear(); });
  if (out.size() < 2) return;
  std::unordered_set<std::string> seen;
  seen.reserve(out.size());
  // The first of each key stays, in the kernel's order.
  auto end = std::remove_if(out.begin(), out.end(),
                            [&seen](const ServiceEntry& e) { return !seen.insert(KeyBytes(e.spec.key)).second; });
  out.erase(end, out.end());
}

// IPVS_CMD_GET_SERVICE dump: every service of the namespace, in hash order.
Napi::Value ListServices(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  using Entries = std::vector<ServiceEntry>;
  return Task<Entries>::Run(
      info.Env(), "listServices", [sock](Entries& out) { DumpServices(*sock, out); },
      [](Napi::Env env, Entries& out) -> Napi::Value { return ArrayToJs(env, out, ServiceToJs); });
}

// IPVS_CMD_GET_SERVICE doit. ESRCH: no such service.
Napi::Value GetService(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  ServiceKey key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  struct Found {
    bool found = false;
    ServiceEntry entry;
  };
  return Task<Found>::Run(
      info.Env(), "getService",
      [sock, key](Found& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_SERVICE);
        PutServiceKey(msg.get(), key);
        sock->Exchange(msg.get(), [&out](const nlmsghdr* hdr) {
          out.entry = DecodeService(hdr);
          out.found = true;
        });
        if (!out.found) throw KernelError(EBADMSG, "the kernel acknowledged IPVS_CMD_GET_SERVICE without a reply");
      },
      [](Napi::Env env, Found& out) -> Napi::Value { return ServiceToJs(env, out.entry); });
}

// IPVS_CMD_NEW_SERVICE. EEXIST: exists; ENOENT: unknown scheduler or engine.
Napi::Value AddService(const Napi::CallbackInfo& info) {
  return ServiceCommand(info, "addService", IPVS_CMD_NEW_SERVICE, true);
}

// IPVS_CMD_SET_SERVICE, replacing every setting. ESRCH: no such service.
Napi::Value EditService(const Napi::CallbackInfo& info) {
  return ServiceCommand(info, "editService", IPVS_CMD_SET_SERVICE, true);
}

// IPVS_CMD_DEL_SERVICE, with its destinations. ESRCH: no such service.
Napi::Value DeleteService(const Napi::CallbackInfo& info) {
  return ServiceCommand(info, "deleteService", IPVS_CMD_DEL_SERVICE, false);
}

// IPVS_CMD_FLUSH: removes every service and destination of the namespace.
Napi::Value Clear(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<Nothing>::Run(
      info.Env(), "clear",
      [sock](Nothing&) {
        Message msg = sock->NewRequest(IPVS_CMD_FLUSH);
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace ipvs
