#include "info.h"

#include <linux/ip_vs.h>

#include "attr.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

const AttrRule kInfoRules[IPVS_INFO_ATTR_MAX + 1] = {
    {},
    {"IPVS_INFO_ATTR_VERSION", AttrKind::kU32},
    {"IPVS_INFO_ATTR_CONN_TAB_SIZE", AttrKind::kU32},
};

struct InfoResult {
  uint32_t version = 0;
  uint32_t connTabSize = 0;
};

}  // namespace

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<InfoResult>::Run(
      info.Env(), "info",
      [sock](InfoResult& out) {
        Message msg = sock->NewRequest(IPVS_CMD_GET_INFO);
        bool got = false;
        sock->Exchange(msg.get(), [&](const nlmsghdr* hdr) {
          nlattr* tb[IPVS_INFO_ATTR_MAX + 1];
          ParseGenl(tb, IPVS_INFO_ATTR_MAX, kInfoRules, hdr);
          out.version = U32(Require(tb, IPVS_INFO_ATTR_VERSION, kInfoRules));
          out.connTabSize = U32(Require(tb, IPVS_INFO_ATTR_CONN_TAB_SIZE, kInfoRules));
          got = true;
        });
        if (!got) throw KernelError(EBADMSG, "the kernel acknowledged IPVS_CMD_GET_INFO without a reply");
      },
      [](Napi::Env env, InfoResult& out) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("version", Napi::Number::New(env, out.version));
        o.Set("connTabSize", Napi::Number::New(env, out.connTabSize));
        return o;
      });
}

}  // namespace ipvs
