// The packed snapshot's columns, in their order: the one home of the layout,
// shared by the snapshot that fills them (snapshot.cc) and the listings that
// read them (listing.cc).
#pragma once

namespace ipvs {

// The addon exports their names (snapshotColumns) and test/snapshot.test.ts holds
// src/snapshot.ts's lists to them. X(name, value): `value` is read from the
// Stats `s` (counters), the ServiceEntry `s` with key `k` (services), or the
// DestEntry `e` with spec `x` (destinations).
// clang-format off: one row per column, as a table
#define IPVS_COUNTER_COLUMNS(X) \
  X(conns, s.conns)             \
  X(inpkts, s.inpkts)           \
  X(outpkts, s.outpkts)         \
  X(inbytes, s.inbytes)         \
  X(outbytes, s.outbytes)       \
  X(cps, s.cps)                 \
  X(inpps, s.inpps)             \
  X(outpps, s.outpps)           \
  X(inbps, s.inbps)             \
  X(outbps, s.outbps)
// clang-format on
// clang-format off: one row per column, as a table
#define IPVS_SERVICE_COLUMNS(X)                      \
  X(af, k.af)                                        \
  X(protocol, k.protocol)                            \
  X(port, k.port)                                    \
  X(fwmark, k.fwmark)                                \
  X(flags, s.spec.flags)                             \
  X(timeout, s.spec.timeout)                         \
  X(netmask, s.spec.netmask)                         \
  X(scheduler, Intern(schedulers, s.spec.scheduler)) \
  X(pe, Intern(engines, s.spec.pe))
// clang-format on
// clang-format off: one row per column, as a table
#define IPVS_DEST_COLUMNS(X)                 \
  X(af, x.af)                                \
  X(port, x.port)                            \
  X(fwdMethod, x.fwdMethod)                  \
  X(weight, static_cast<uint32_t>(x.weight)) \
  X(uThreshold, x.uThreshold)                \
  X(lThreshold, x.lThreshold)                \
  X(activeConns, e.activeConns)              \
  X(inactConns, e.inactConns)                \
  X(persistConns, e.persistConns)            \
  X(tunType, x.tunType)                      \
  X(tunPort, x.tunPort)                      \
  X(tunFlags, x.tunFlags)
// clang-format on

// Column indices by name: scol::af, dcol::weight, ccol::inbytes.
#define IPVS_COLUMN_ENUM(name, value) name,
namespace scol {
enum : int { IPVS_SERVICE_COLUMNS(IPVS_COLUMN_ENUM) kCount };
}
namespace dcol {
enum : int { IPVS_DEST_COLUMNS(IPVS_COLUMN_ENUM) kCount };
}
namespace ccol {
enum : int { IPVS_COUNTER_COLUMNS(IPVS_COLUMN_ENUM) kCount };
}
#undef IPVS_COLUMN_ENUM

}  // namespace ipvs
