// Changes sent pipelined: many service and destination commands on one
// socket, in windows of one datagram each, every request with its own
// sequence number and answer (GenlSocket::Pipeline). TypeScript decides what
// to send and what to undo (src/batch.ts); this moves the rows to the kernel
// and reports each one's fate.
#pragma once

#include "napi_fwd.h"

namespace ipvs {

// One change per row of kBatchInts numbers; the addresses are the rows' raw
// bytes (16 each, IPv4 in the first 4); scheduler and pe index the strings.
#define IPVS_BATCH_COLUMNS(X) \
  X(cmd)                      \
  X(svcAf)                    \
  X(protocol)                 \
  X(svcPort)                  \
  X(fwmark)                   \
  X(svcAddr0)                 \
  X(svcAddr1)                 \
  X(svcAddr2)                 \
  X(svcAddr3)                 \
  X(scheduler)                \
  X(pe)                       \
  X(flags)                    \
  X(timeout)                  \
  X(netmask)                  \
  X(destAf)                   \
  X(destAddr0)                \
  X(destAddr1)                \
  X(destAddr2)                \
  X(destAddr3)                \
  X(destPort)                 \
  X(fwdMethod)                \
  X(weight)                   \
  X(uThreshold)               \
  X(lThreshold)               \
  X(tunType)                  \
  X(tunPort)                  \
  X(tunFlags)

// batchColumns: the names of a row's numbers, in order (src/batch.ts holds
// its layout to them).
Napi::Value BatchColumns(Napi::Env env);

// batch(socket, rows: Uint32Array, strings: string[], options: { stopOnError:
// boolean, window: number }, canceller?): Promise<{ status: Int32Array,
// messages: Record<number, string>, stopped: number, failure: null | {
// errno, message } }>. status[i]: 0 done, the kernel's errno, -1 not sent,
// -2 sent but its answer lost (`failure` says why). `stopped`: the errno of
// a stop request (ECANCELED, EBADF) that ended it early, or 0.
Napi::Value Batch(const Napi::CallbackInfo& info);

}  // namespace ipvs
