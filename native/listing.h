// The command line's numeric listings of the table (-Ln in every mode, -Sn,
// -L --json) and of the connection table (-Lnc), written straight from a
// packed snapshot's columns or a connection batch's.
//
// The one place where the addon writes text: a listing of 50,000 lines is a
// short process's whole work, and under emulation JavaScript that has not yet
// been optimised formats it several times slower than ipvsadm's printf. The
// TypeScript formatters (src/cli/format.ts, json.ts, connections.ts) stay the
// reference and print every listing with names; test/listing.test.ts holds the two to the
// same bytes.
#pragma once

#include <napi.h>

namespace ipvs {

// listingOrder(snapshot, sort): Uint32Array of the service indices in
// ipvsadm's order (its sort: glibc's merge sort with its comparators), or as
// dumped.
Napi::Value ListingOrder(const Napi::CallbackInfo& info);

// listingText(snapshot, order, from, to, mode, flags): Buffer with the text
// of the services order[from, to), each with its destinations (sorted when
// flags has 2). mode: 0 table, 1 --stats, 2 --rate, 3 --thresholds,
// 4 --persistent-conn, 5 --tun-info, 6 -S rules, 7 --json (each service
// after its separator in the "services" array); flags: 1 --exact, 2 sort.
// listingText(…, into): the text copied into the Uint8Array `into` and its
// length returned when it fits (a caller that writes it out at once reuses
// one buffer for every chunk), a new Buffer otherwise.
Napi::Value ListingText(const Napi::CallbackInfo& info);

// connectionText(batch, protocols, withPe): Buffer with the -Lnc lines of a
// connection batch (src/connections.ts); `protocols` are the texts its
// protocols print as; withPe: --persistent-conn's engine columns.
// connectionText(…, into): as listingText(…, into).
Napi::Value ConnectionText(const Napi::CallbackInfo& info);

}  // namespace ipvs
