// Connection timeouts: IPVS_CMD_GET_CONFIG and IPVS_CMD_SET_CONFIG.
#pragma once

#include <cstdint>

#include "napi_fwd.h"

struct nlmsghdr;

namespace ipvs {

// Seconds, as IPVS_CMD_GET_CONFIG and IP_VS_SO_GET_TIMEOUT report them: ints
// in the kernel (struct ip_vs_timeout_user), carried by netlink as u32 bits.
struct Timeouts {
  int32_t tcp = 0, tcpFin = 0, udp = 0;
};

Timeouts TimeoutsFrom(const Napi::Object& obj);
Napi::Object TimeoutsToJs(Napi::Env env, const Timeouts& t);
// Decodes the IPVS_CMD_SET_CONFIG message that answers IPVS_CMD_GET_CONFIG;
// a timeout it lacks reads as 0.
Timeouts DecodeTimeouts(const nlmsghdr* hdr);

Napi::Value GetTimeouts(const Napi::CallbackInfo& info);
Napi::Value SetTimeouts(const Napi::CallbackInfo& info);

}  // namespace ipvs
