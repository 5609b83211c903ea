#pragma once

#include <napi.h>

namespace ipvs {

Napi::Object Constants(Napi::Env env);

}  // namespace ipvs
