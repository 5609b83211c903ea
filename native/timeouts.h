// Connection timeouts: IPVS_CMD_GET_CONFIG and IPVS_CMD_SET_CONFIG.
#pragma once

#include <napi.h>

#include <cstdint>

namespace ipvs {

// Seconds, as IPVS_CMD_GET_CONFIG and IP_VS_SO_GET_TIMEOUT report them.
struct Timeouts {
  uint32_t tcp = 0, tcpFin = 0, udp = 0;
};

Napi::Object TimeoutsToJs(Napi::Env env, const Timeouts& t);

Napi::Value GetTimeouts(const Napi::CallbackInfo& info);
Napi::Value SetTimeouts(const Napi::CallbackInfo& info);

}  // namespace ipvs
