#include "timeouts.h"

#include <linux/ip_vs.h>

#include "attr.h"
#include "convert.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

Timeouts TimeoutsFrom(const Napi::Object& obj) {
  return {I32Field(obj, "tcp"), I32Field(obj, "tcpFin"), I32Field(obj, "udp")};
}

Napi::Object TimeoutsToJs(Napi::Env env, const Timeouts& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tcp", Napi::Number::New(env, t.tcp));
  o.Set("tcpFin", Napi::Number::New(env, t.tcpFin));
  o.Set("udp", Napi::Number::New(env, t.udp));
  return o;
}

// IPVS_CMD_GET_CONFIG: seconds for TCP established, TCP FIN_WAIT and UDP.
Napi::Value GetTimeouts(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<Timeouts>::Run(
      info.Env(), "getTimeouts",
      [sock](Timeouts& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_CONFIG);
        sock->Exchange(msg.get(), [&out](const nlmsghdr* hdr) { out = DecodeTimeouts(hdr); });
      },
      [](Napi::Env env, Timeouts& out) -> Napi::Value { return TimeoutsToJs(env, out); });
}

// IPVS_CMD_SET_CONFIG. A value of 0 leaves that timeout as it is (the kernel's
// rule). EINVAL: a negative value or one above INT_MAX/HZ.
Napi::Value SetTimeouts(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  Napi::Object arg = ObjectArg(info, 1, "timeouts");
  Timeouts t = TimeoutsFrom(arg);
  return Task<Nothing>::Run(
      info.Env(), "setTimeouts",
      [sock, t](Nothing&) {
        Message msg = sock->NewRequest(IPVS_CMD_SET_CONFIG);
        Check(nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP, static_cast<uint32_t>(t.tcp)));
        Check(nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, static_cast<uint32_t>(t.tcpFin)));
        Check(nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_UDP, static_cast<uint32_t>(t.udp)));
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace ipvs
