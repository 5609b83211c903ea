#include "destination.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>

#include <cstring>
#include <vector>

#include "attr.h"
#include "convert.h"
#include "service.h"
#include "socket.h"
#include "stats.h"
#include "task.h"

namespace ipvs {

namespace {

const AttrRule kDestRules[IPVS_DEST_ATTR_MAX + 1] = {
    {},
    {"IPVS_DEST_ATTR_ADDR", AttrKind::kAddr},
    {"IPVS_DEST_ATTR_PORT", AttrKind::kU16},
    {"IPVS_DEST_ATTR_FWD_METHOD", AttrKind::kU32},
    {"IPVS_DEST_ATTR_WEIGHT", AttrKind::kU32},
    {"IPVS_DEST_ATTR_U_THRESH", AttrKind::kU32},
    {"IPVS_DEST_ATTR_L_THRESH", AttrKind::kU32},
    {"IPVS_DEST_ATTR_ACTIVE_CONNS", AttrKind::kU32},
    {"IPVS_DEST_ATTR_INACT_CONNS", AttrKind::kU32},
    {"IPVS_DEST_ATTR_PERSIST_CONNS", AttrKind::kU32},
    {"IPVS_DEST_ATTR_STATS", AttrKind::kNested},
    {"IPVS_DEST_ATTR_ADDR_FAMILY", AttrKind::kU16},
    {"IPVS_DEST_ATTR_STATS64", AttrKind::kNested},
    {"IPVS_DEST_ATTR_TUN_TYPE", AttrKind::kU8},
    {"IPVS_DEST_ATTR_TUN_PORT", AttrKind::kU16},
    {"IPVS_DEST_ATTR_TUN_FLAGS", AttrKind::kU16},
};

}  // namespace

DestSpec DestSpecFrom(const Napi::Object& obj, bool keyOnly) {
  DestSpec d;
  d.af = U16Field(obj, "af");
  AddrField(obj, "addr", d.addr);
  d.port = U16Field(obj, "port");
  if (keyOnly) return d;
  d.fwdMethod = U32Field(obj, "fwdMethod");
  d.weight = I32Field(obj, "weight");
  d.uThreshold = U32Field(obj, "uThreshold");
  d.lThreshold = U32Field(obj, "lThreshold");
  d.tunType = U8Field(obj, "tunType");
  d.tunPort = U16Field(obj, "tunPort");
  d.tunFlags = U16Field(obj, "tunFlags");
  return d;
}

namespace {

void PutDest(nl_msg* msg, const DestSpec& d, bool keyOnly) {
  nlattr* nest = NestStart(msg, IPVS_CMD_ATTR_DEST);
  Check(nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, d.af));
  Check(nla_put(msg, IPVS_DEST_ATTR_ADDR, 16, d.addr));
  Check(nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(d.port)));
  if (!keyOnly) {
    Check(nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, d.fwdMethod));
    Check(nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, static_cast<uint32_t>(d.weight)));
    Check(nla_put_u8(msg, IPVS_DEST_ATTR_TUN_TYPE, d.tunType));
    Check(nla_put_u16(msg, IPVS_DEST_ATTR_TUN_PORT, htons(d.tunPort)));
    Check(nla_put_u16(msg, IPVS_DEST_ATTR_TUN_FLAGS, d.tunFlags));
    Check(nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, d.uThreshold));
    Check(nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, d.lThreshold));
  }
  nla_nest_end(msg, nest);
}

}  // namespace

DestEntry DecodeDest(const nlmsghdr* hdr, uint16_t serviceAf) {
  nlattr* top[IPVS_CMD_ATTR_MAX + 1];
  ParseGenl(top, IPVS_CMD_ATTR_MAX, kCmdRules, hdr);
  nlattr* tb[IPVS_DEST_ATTR_MAX + 1];
  ParseNested(tb, IPVS_DEST_ATTR_MAX, kDestRules, Require(top, IPVS_CMD_ATTR_DEST, kCmdRules));

  DestEntry e;
  DestSpec& d = e.spec;
  d.af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] != nullptr ? U16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]) : serviceAf;
  memcpy(d.addr, AttrData(Require(tb, IPVS_DEST_ATTR_ADDR, kDestRules)), 16);
  d.port = ntohs(U16(Require(tb, IPVS_DEST_ATTR_PORT, kDestRules)));
  d.fwdMethod = U32(Require(tb, IPVS_DEST_ATTR_FWD_METHOD, kDestRules));
  d.weight = static_cast<int32_t>(U32(Require(tb, IPVS_DEST_ATTR_WEIGHT, kDestRules)));
  d.uThreshold = U32(Require(tb, IPVS_DEST_ATTR_U_THRESH, kDestRules));
  d.lThreshold = U32(Require(tb, IPVS_DEST_ATTR_L_THRESH, kDestRules));
  if (tb[IPVS_DEST_ATTR_TUN_TYPE] != nullptr) d.tunType = U8(tb[IPVS_DEST_ATTR_TUN_TYPE]);
  if (tb[IPVS_DEST_ATTR_TUN_PORT] != nullptr) d.tunPort = ntohs(U16(tb[IPVS_DEST_ATTR_TUN_PORT]));
  if (tb[IPVS_DEST_ATTR_TUN_FLAGS] != nullptr) d.tunFlags = U16(tb[IPVS_DEST_ATTR_TUN_FLAGS]);
  e.activeConns = U32(Require(tb, IPVS_DEST_ATTR_ACTIVE_CONNS, kDestRules));
  e.inactConns = U32(Require(tb, IPVS_DEST_ATTR_INACT_CONNS, kDestRules));
  e.persistConns = U32(Require(tb, IPVS_DEST_ATTR_PERSIST_CONNS, kDestRules));
  e.stats = DecodeStats(tb[IPVS_DEST_ATTR_STATS], tb[IPVS_DEST_ATTR_STATS64]);
  return e;
}

Napi::Object DestToJs(Napi::Env env, const DestEntry& e) {
  const DestSpec& d = e.spec;
  Napi::Object o = Napi::Object::New(env);
  o.Set("af", d.af);
  o.Set("addr", AddrValue(env, d.addr));
  o.Set("port", d.port);
  o.Set("fwdMethod", Napi::Number::New(env, d.fwdMethod));
  o.Set("weight", Napi::Number::New(env, d.weight));
  o.Set("uThreshold", Napi::Number::New(env, d.uThreshold));
  o.Set("lThreshold", Napi::Number::New(env, d.lThreshold));
  o.Set("tunType", d.tunType);
  o.Set("tunPort", d.tunPort);
  o.Set("tunFlags", d.tunFlags);
  o.Set("activeConns", Napi::Number::New(env, e.activeConns));
  o.Set("inactConns", Napi::Number::New(env, e.inactConns));
  o.Set("persistConns", Napi::Number::New(env, e.persistConns));
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
