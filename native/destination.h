// Real servers (destinations) of a virtual service: IPVS_CMD_{NEW,SET,DEL}_DEST
// and the IPVS_CMD_GET_DEST dump.
#pragma once

#include <cstdint>

#include "napi_fwd.h"
#include "stats.h"

struct nlmsghdr;
struct nl_msg;

namespace ipvs {

// A destination's settings after its key (af, addr, port), the one table
// that destination.cc turns into the struct, the attribute rules, the reading
// from JavaScript, the request, the decoding and the value handed back:
// X(member, C type, IPVS_DEST_ATTR_*, byte order on the wire, in replies).
// `Net` fields are in network order on the wire; an `Optional` one may be
// missing from a reply (older kernels), and then reads as 0. A new attribute
// is one row here (and its column in snapshot.cc, if snapshots carry it).
// clang-format off: one row per column, as a table
#define IPVS_DEST_SETTINGS(X)                                       \
  X(fwdMethod, uint32_t, IPVS_DEST_ATTR_FWD_METHOD, Host, Required) \
  X(weight, int32_t, IPVS_DEST_ATTR_WEIGHT, Host, Required)         \
  X(uThreshold, uint32_t, IPVS_DEST_ATTR_U_THRESH, Host, Required)  \
  X(lThreshold, uint32_t, IPVS_DEST_ATTR_L_THRESH, Host, Required)  \
  X(tunType, uint8_t, IPVS_DEST_ATTR_TUN_TYPE, Host, Optional)      \
  X(tunPort, uint16_t, IPVS_DEST_ATTR_TUN_PORT, Net, Optional)      \
  X(tunFlags, uint16_t, IPVS_DEST_ATTR_TUN_FLAGS, Host, Optional)
// clang-format on

// What the kernel reports of a destination besides its settings and stats:
// X(member, IPVS_DEST_ATTR_*), each a u32 in every reply.
// clang-format off: one row per column, as a table
#define IPVS_DEST_COUNTS(X)                   \
  X(activeConns, IPVS_DEST_ATTR_ACTIVE_CONNS) \
  X(inactConns, IPVS_DEST_ATTR_INACT_CONNS)   \
  X(persistConns, IPVS_DEST_ATTR_PERSIST_CONNS)
// clang-format on

// What is asked of a destination; every field is sent (edit replaces them all).
struct DestSpec {
  uint16_t af = 0;
  uint8_t addr[16] = {};
  uint16_t port = 0;  // host order
#define IPVS_DEST_MEMBER(member, type, attr, order, presence) type member = 0;
  IPVS_DEST_SETTINGS(IPVS_DEST_MEMBER)
#undef IPVS_DEST_MEMBER
};

// A destination as the kernel reports it.
struct DestEntry {
  DestSpec spec;
#define IPVS_DEST_COUNT_MEMBER(member, attr) uint32_t member = 0;
  IPVS_DEST_COUNTS(IPVS_DEST_COUNT_MEMBER)
#undef IPVS_DEST_COUNT_MEMBER
  Stats stats;
};

// keyOnly: read only af, addr and port (what delete needs).
DestSpec DestSpecFrom(const Napi::Object& obj, bool keyOnly);
// A destination nest: its key, and its settings unless keyOnly.
void PutDest(nl_msg* msg, const DestSpec& d, bool keyOnly);
Napi::Object DestToJs(Napi::Env env, const DestEntry& e);
// Decodes one IPVS_CMD_NEW_DEST message of a dump; `serviceAf` stands in for
// a missing IPVS_DEST_ATTR_ADDR_FAMILY (kernels before 4.3).
DestEntry DecodeDest(const nlmsghdr* hdr, uint16_t serviceAf);

Napi::Value ListDestinations(const Napi::CallbackInfo& info);
Napi::Value AddDestination(const Napi::CallbackInfo& info);
Napi::Value EditDestination(const Napi::CallbackInfo& info);
Napi::Value DeleteDestination(const Napi::CallbackInfo& info);

}  // namespace ipvs
