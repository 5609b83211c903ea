// Statistics snapshots: every service with its destinations and their 64-bit
// counters in one call, for monitors that poll many times a second.
#pragma once

#include <napi.h>

namespace ipvs {

// snapshot(socket, poolSize): Promise<RawSnapshot>. One IPVS_CMD_GET_SERVICE
// dump, then one IPVS_CMD_GET_DEST dump per service (the kernel has no combined
// dump), all on the worker thread. With poolSize > 1 and enough services the
// destination dumps are spread over that many sockets, one thread each.
// The result is packed into typed arrays: no object per service or destination.
Napi::Value Snapshot(const Napi::CallbackInfo& info);

// The names of the packed columns, in order: { counters, services, dests }.
Napi::Object SnapshotColumns(Napi::Env env);

}  // namespace ipvs
