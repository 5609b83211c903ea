#include "stats.h"

#include <linux/ip_vs.h>

#include "attr.h"
#include "convert.h"
#include "service.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

const AttrRule kStats32[IPVS_STATS_ATTR_MAX + 1] = {
    {},
    {"IPVS_STATS_ATTR_CONNS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INPKTS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTPKTS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_CPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INPPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTPPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INBPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTBPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_PAD", AttrKind::kIgnored},
};

const AttrRule kStats64[IPVS_STATS_ATTR_MAX + 1] = {
    {},
    {"IPVS_STATS_ATTR_CONNS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INPKTS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTPKTS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_CPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INPPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTPPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INBPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_PAD", AttrKind::kIgnored},
};

// The member each IPVS_STATS_ATTR_* fills.
uint64_t Stats::*const kStatsFields[IPVS_STATS_ATTR_MAX + 1] = {
    nullptr,     &Stats::conns, &Stats::inpkts, &Stats::outpkts, &Stats::inbytes, &Stats::outbytes,
    &Stats::cps, &Stats::inpps, &Stats::outpps, &Stats::inbps,   &Stats::outbps,  nullptr,
};

}  // namespace

// One pass over the nest: this runs for every service and destination of a snapshot.
Stats DecodeStats(nlattr* stats, nlattr* stats64) {
  Stats s;
  nlattr* nest = stats64 != nullptr ? stats64 : stats;
  if (nest == nullptr) return s;
  ForEachAttr(IPVS_STATS_ATTR_MAX, stats64 != nullptr ? kStats64 : kStats32, static_cast<nlattr*>(AttrData(nest)),
              AttrLen(nest), [&s](int type, nlattr* attr) {
                if (kStatsFields[type] != nullptr) s.*kStatsFields[type] = AttrLen(attr) == 8 ? U64(attr) : U32(attr);
              });
  return s;
}

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
