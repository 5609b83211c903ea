// Traffic counters and rates of a service, a destination, or the whole table.
#pragma once

#include <netlink/attr.h>

#include <cstdint>

#include "napi_fwd.h"

namespace ipvs {

struct Stats {
  uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
  uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

// Prefers the STATS64 nest (kernels >= 4.1) and falls back to STATS, whose
// counters other than bytes the kernel truncates to 32 bits.
Stats DecodeStats(nlattr* stats, nlattr* stats64);
Napi::Object StatsToJs(Napi::Env env, const Stats& s);

// zero(socket, key | null): Promise<void>. IPVS_CMD_ZERO; without a key the
// counters of every service and the totals. ESRCH: no such service.
Napi::Value Zero(const Napi::CallbackInfo& info);

}  // namespace ipvs
