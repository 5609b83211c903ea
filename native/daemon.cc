#include "daemon.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "attr.h"
#include "convert.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

Daemon DaemonFrom(const Napi::Object& obj, bool stop) {
  Daemon d;
  d.state = I32Field(obj, "state");
  if (stop) return d;
  d.ifname = StringField(obj, "ifname");
  d.syncId = I32Field(obj, "syncId");
  d.maxLen = U16Field(obj, "maxLen");
  // Not a kernel field but which group attribute to send: no other value means anything.
  d.groupAf = U16Field(obj, "groupAf");
  if (d.groupAf != 0 && d.groupAf != AF_INET && d.groupAf != AF_INET6)
    throw Napi::RangeError::New(
        obj.Env(), "field groupAf must be 0 (no group), AF_INET or AF_INET6, got " + std::to_string(d.groupAf));
  AddrField(obj, "group", d.group);
  d.port = U16Field(obj, "port");
  d.ttl = U8Field(obj, "ttl");
  return d;
}

Napi::Object DaemonToJs(Napi::Env env, const Daemon& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("state", Napi::Number::New(env, d.state));
  o.Set("ifname", d.ifname);
  o.Set("syncId", Napi::Number::New(env, d.syncId));
  o.Set("maxLen", d.maxLen);
  o.Set("groupAf", d.groupAf);
  o.Set("group", AddrValue(env, d.group));
  o.Set("port", d.port);
  o.Set("ttl", d.ttl);
  return o;
}

// IPVS_CMD_GET_DAEMON dump: the running daemons, master first.
Napi::Value ListDaemons(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  using Daemons = std::vector<Daemon>;
  return Task<Daemons>::Run(
      info.Env(), "listDaemons",
      [sock](Daemons& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_DAEMON, NLM_F_DUMP);
        sock->Exchange(
            msg.get(), [&out](const nlmsghdr* hdr) { out.push_back(DecodeDaemon(hdr)); }, [&out] { out.clear(); });
      },
      [](Napi::Env env, Daemons& out) -> Napi::Value { return ArrayToJs(env, out, DaemonToJs); });
}

// IPVS_CMD_NEW_DAEMON. EEXIST: that daemon runs; ENODEV: no such interface;
// EINVAL: a group that is not multicast.
Napi::Value StartDaemon(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  Daemon d = DaemonFrom(ObjectArg(info, 1, "a daemon"), false);
  return Task<Nothing>::Run(
      info.Env(), "startDaemon",
      [sock, d](Nothing&) {
        Message msg = sock->NewRequest(IPVS_CMD_NEW_DAEMON);
        nlattr* nest = NestStart(msg.get(), IPVS_CMD_ATTR_DAEMON);
        Check(nla_put_u32(msg.get(), IPVS_DAEMON_ATTR_STATE, static_cast<uint32_t>(d.state)));
        Check(nla_put_string(msg.get(), IPVS_DAEMON_ATTR_MCAST_IFN, d.ifname.c_str()));
        Check(nla_put_u32(msg.get(), IPVS_DAEMON_ATTR_SYNC_ID, static_cast<uint32_t>(d.syncId)));
        if (d.maxLen) Check(nla_put_u16(msg.get(), IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.maxLen));
        if (d.port) Check(nla_put_u16(msg.get(), IPVS_DAEMON_ATTR_MCAST_PORT, d.port));
        if (d.ttl) Check(nla_put_u8(msg.get(), IPVS_DAEMON_ATTR_MCAST_TTL, d.ttl));
        if (d.groupAf == AF_INET6) Check(nla_put(msg.get(), IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, d.group));
        if (d.groupAf == AF_INET) Check(nla_put(msg.get(), IPVS_DAEMON_ATTR_MCAST_GROUP, 4, d.group));
        nla_nest_end(msg.get(), nest);
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

// IPVS_CMD_DEL_DAEMON. ESRCH: that daemon is not running.
Napi::Value StopDaemon(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  Daemon d = DaemonFrom(ObjectArg(info, 1, "a daemon"), true);
  return Task<Nothing>::Run(
      info.Env(), "stopDaemon",
      [sock, d](Nothing&) {
        Message msg = sock->NewRequest(IPVS_CMD_DEL_DAEMON);
        nlattr* nest = NestStart(msg.get(), IPVS_CMD_ATTR_DAEMON);
        Check(nla_put_u32(msg.get(), IPVS_DAEMON_ATTR_STATE, static_cast<uint32_t>(d.state)));
        nla_nest_end(msg.get(), nest);
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace ipvs
