// IPVS_CMD_GET_INFO: the IPVS version and the connection table size.
#pragma once

#include <napi.h>

namespace ipvs {

Napi::Value Info(const Napi::CallbackInfo& info);

}  // namespace ipvs
