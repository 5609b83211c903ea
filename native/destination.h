// Real servers (destinations) of a virtual service: IPVS_CMD_{NEW,SET,DEL}_DEST
// and the IPVS_CMD_GET_DEST dump.
#pragma once

#include <napi.h>

namespace ipvs {

Napi::Value ListDestinations(const Napi::CallbackInfo& info);
Napi::Value AddDestination(const Napi::CallbackInfo& info);
Napi::Value EditDestination(const Napi::CallbackInfo& info);
Napi::Value DeleteDestination(const Napi::CallbackInfo& info);

}  // namespace ipvs
