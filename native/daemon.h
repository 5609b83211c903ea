// The connection synchronisation daemons: IPVS_CMD_{NEW,DEL,GET}_DAEMON.
#pragma once

#include <napi.h>

namespace ipvs {

Napi::Value ListDaemons(const Napi::CallbackInfo& info);
Napi::Value StartDaemon(const Napi::CallbackInfo& info);
Napi::Value StopDaemon(const Napi::CallbackInfo& info);

}  // namespace ipvs
