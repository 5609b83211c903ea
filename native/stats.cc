#include "stats.h"

#include <linux/ip_vs.h>

#include "convert.h"
#include "service.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

Napi::Object StatsToJs(Napi::Env env, const Stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("conns", Napi::BigInt::New(env, s.conns));
  o.Set("inpkts", Napi::BigInt::New(env, s.inpkts));
  o.Set("outpkts", Napi::BigInt::New(env, s.outpkts));
  o.Set("inbytes", Napi::BigInt::New(env, s.inbytes));
  o.Set("outbytes", Napi::BigInt::New(env, s.outbytes));
  o.Set("cps", Napi::BigInt::New(env, s.cps));
  o.Set("inpps", Napi::BigInt::New(env, s.inpps));
  o.Set("outpps", Napi::BigInt::New(env, s.outpps));
  o.Set("inbps", Napi::BigInt::New(env, s.inbps));
  o.Set("outbps", Napi::BigInt::New(env, s.outbps));
  return o;
}

Napi::Value Zero(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  bool all = info.Length() < 2 || info[1].IsNull() || info[1].IsUndefined();
  ServiceKey key{};
  if (!all) key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  return Task<Nothing>::Run(
      info.Env(), "zero",
      [sock, all, key](Nothing&) {
        Message msg = sock->NewRequest(IPVS_CMD_ZERO);
        if (!all) PutServiceKey(msg.get(), key);
        sock->Exchange(msg.get(), [](const nlmsghdr*) {});
      },
      Undefined);
}

}  // namespace ipvs
