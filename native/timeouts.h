// Connection timeouts: IPVS_CMD_GET_CONFIG and IPVS_CMD_SET_CONFIG.
#pragma once

#include <napi.h>

namespace ipvs {

Napi::Value GetTimeouts(const Napi::CallbackInfo& info);
Napi::Value SetTimeouts(const Napi::CallbackInfo& info);

}  // namespace ipvs
