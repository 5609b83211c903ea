// Real servers (destinations) of a virtual service: IPVS_CMD_{NEW,SET,DEL}_DEST
// and the IPVS_CMD_GET_DEST dump.
#pragma once

#include <napi.h>

#include <cstdint>

#include "stats.h"

struct nlmsghdr;

namespace ipvs {

// What is asked of a destination; every field is sent (edit replaces them all).
struct DestSpec {
  uint16_t af = 0;
  uint8_t addr[16] = {};
  uint16_t port = 0;  // host order
  uint32_t fwdMethod = 0;
  int32_t weight = 0;
  uint32_t uThreshold = 0, lThreshold = 0;
  uint8_t tunType = 0;
  uint16_t tunPort = 0;  // host order
  uint16_t tunFlags = 0;
};

// A destination as the kernel reports it.
struct DestEntry {
  DestSpec spec;
  uint32_t activeConns = 0, inactConns = 0, persistConns = 0;
  Stats stats;
};

// keyOnly: read only af, addr and port (what delete needs).
DestSpec DestSpecFrom(const Napi::Object& obj, bool keyOnly);
Napi::Object DestToJs(Napi::Env env, const DestEntry& e);
// Decodes one IPVS_CMD_NEW_DEST message of a dump; `serviceAf` stands in for
// a missing IPVS_DEST_ATTR_ADDR_FAMILY (kernels before 4.3).
DestEntry DecodeDest(const nlmsghdr* hdr, uint16_t serviceAf);

Napi::Value ListDestinations(const Napi::CallbackInfo& info);
Napi::Value AddDestination(const Napi::CallbackInfo& info);
Napi::Value EditDestination(const Napi::CallbackInfo& info);
Napi::Value DeleteDestination(const Napi::CallbackInfo& info);

}  // namespace ipvs
