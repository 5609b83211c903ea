// Every reply decoder: one IPVS message in, plain structs out (their types
// and declarations live with their objects: service.h, destination.h,
// stats.h, daemon.h, info.h, timeouts.h). No socket and no N-API here, so
// that the native tests and the fuzz targets link the decoders alone; the
// commands and their conversions to JavaScript stay in each object's file.
#pragma once

#include "daemon.h"
#include "destination.h"
#include "info.h"
#include "service.h"
#include "stats.h"
#include "timeouts.h"
