// Statistics snapshots: every service with its destinations and their 64-bit
// counters in one call, for monitors that poll many times a second. The
// packed columns and their decoders are here, without N-API: the native tests
// and the fuzz targets decode canned dumps into them.
#pragma once

#include <cstdint>
#include <iterator>
#include <vector>

#include "destination.h"
#include "napi_fwd.h"
#include "packed.h"
#include "stats.h"

namespace ipvs {

// The packed columns (packed.h), as the snapshot fills them.
#define IPVS_COLUMN_NAME(name, value) #name,
#define IPVS_COLUMN_VALUE(name, value) value,
inline constexpr const char* kCounterNames[] = {IPVS_COUNTER_COLUMNS(IPVS_COLUMN_NAME)};
inline constexpr const char* kServiceNames[] = {IPVS_SERVICE_COLUMNS(IPVS_COLUMN_NAME)};
inline constexpr const char* kDestNames[] = {IPVS_DEST_COLUMNS(IPVS_COLUMN_NAME)};
inline constexpr size_t kCounters = std::size(kCounterNames);
inline constexpr size_t kServiceInts = std::size(kServiceNames);
inline constexpr size_t kDestInts = std::size(kDestNames);

// Where one thread's destinations go: the snapshot's own columns, or (the
// pool's other threads) columns of its own, appended in service order after.
struct DestColumns {
  std::vector<uint64_t>& counters;
  std::vector<uint32_t>& dests;
  std::vector<uint8_t>& destAddrs;

  void Reserve(size_t n) {
    counters.reserve(counters.size() + n * kCounters);
    dests.reserve(dests.size() + n * kDestInts);
    destAddrs.reserve(destAddrs.size() + n * 16);
  }
};

inline void PutStats(std::vector<uint64_t>& out, const Stats& s) {
  const uint64_t v[kCounters] = {IPVS_COUNTER_COLUMNS(IPVS_COLUMN_VALUE)};
  out.insert(out.end(), v, v + kCounters);
}

// Decodes one destination message into `out`.
inline void PutDest(const nlmsghdr* hdr, uint16_t serviceAf, DestColumns& out) {
  const DestEntry e = DecodeDest(hdr, serviceAf);
  const DestSpec& x = e.spec;
  PutStats(out.counters, e.stats);
  const uint32_t row[kDestInts] = {IPVS_DEST_COLUMNS(IPVS_COLUMN_VALUE)};
  out.dests.insert(out.dests.end(), row, row + kDestInts);
  out.destAddrs.insert(out.destAddrs.end(), x.addr, x.addr + 16);
}

// snapshot(socket, poolSize): Promise<RawSnapshot>. One IPVS_CMD_GET_SERVICE
// dump, then one IPVS_CMD_GET_DEST dump per service (the kernel has no combined
// dump), all on the worker thread. With poolSize > 1 and enough services the
// destination dumps are spread over that many sockets, one thread each.
// The result is packed into typed arrays: no object per service or destination.
Napi::Value Snapshot(const Napi::CallbackInfo& info);

// The names of the packed columns, in order: { counters, services, dests }.
Napi::Object SnapshotColumns(Napi::Env env);

}  // namespace ipvs
