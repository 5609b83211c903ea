// The connection synchronisation daemons: IPVS_CMD_{NEW,DEL,GET}_DAEMON.
#pragma once

#include <cstdint>
#include <string>

#include "napi_fwd.h"

struct nlmsghdr;

namespace ipvs {

// Zero means "not given" for the optional fields: the kernel then applies
// its defaults (maxlen from the MTU, group 224.0.0.81, port 8848, ttl 1).
// State and sync id are ints in the kernel (netlink carries their bits in a u32).
struct Daemon {
  int32_t state = 0;
  std::string ifname;
  int32_t syncId = 0;
  uint16_t maxLen = 0;
  uint16_t groupAf = 0;  // 0: no group
  uint8_t group[16] = {};
  uint16_t port = 0;  // host order, on the wire too
  uint8_t ttl = 0;
};

// stop: read only the state (what stopping needs).
Daemon DaemonFrom(const Napi::Object& obj, bool stop);
Napi::Object DaemonToJs(Napi::Env env, const Daemon& d);
// Decodes one IPVS_CMD_NEW_DAEMON message of a dump.
Daemon DecodeDaemon(const nlmsghdr* hdr);

Napi::Value ListDaemons(const Napi::CallbackInfo& info);
Napi::Value StartDaemon(const Napi::CallbackInfo& info);
Napi::Value StopDaemon(const Napi::CallbackInfo& info);

}  // namespace ipvs
