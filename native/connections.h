// The connection table: /proc/net/ip_vs_conn parsed into columnar batches.
//
// IPVS has no netlink command for its connections; the kernel prints them
// into a seq_file, one line each (format in ipvsadm-spec.md §4.3). Reading it
// costs time quadratic in the number of entries: every read() restarts the
// kernel's walk of its hash table from the first entry and returns at most
// one page. So the table is read in slices, each by a thread of its own with
// its own descriptor, parsed while read, and never by the event loop's thread.
#pragma once

#include <napi.h>

namespace ipvs {

// Registers the class of reader handles; called once by the module entry.
void DefineConnectionReader(Napi::Env env);

// connectionBatches(socket | null, options): a reader handle whose next()
// resolves to the next batch in file order, or null at the end.
Napi::Value ConnectionBatches(const Napi::CallbackInfo& info);

// connectionStats(socket | null, options): Promise<{ entries, counts }>, the
// matching entries counted by state, destination or service.
Napi::Value ConnectionStats(const Napi::CallbackInfo& info);

// parseConnections(text, filter | null): one batch, synchronously. For tests
// and small texts: it runs on the calling thread.
Napi::Value ParseConnections(const Napi::CallbackInfo& info);

}  // namespace ipvs
