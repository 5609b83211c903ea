#include "info.h"

#include <linux/ip_vs.h>

#include "socket.h"
#include "task.h"

namespace ipvs {

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<InfoReply>::Run(
      info.Env(), "info",
      [sock](InfoReply& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_INFO);
        bool got = false;
        sock->Exchange(msg.get(), [&](const nlmsghdr* hdr) {
          out = DecodeInfo(hdr);
          got = true;
        });
        if (!got) throw KernelError(EBADMSG, "the kernel acknowledged IPVS_CMD_GET_INFO without a reply");
      },
      [](Napi::Env env, InfoReply& out) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("version", Napi::Number::New(env, out.version));
        o.Set("connTabSize", Napi::Number::New(env, out.connTabSize));
        return o;
      });
}

}  // namespace ipvs
