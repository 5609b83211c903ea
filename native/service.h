// Virtual services: packing requests, decoding the kernel's replies, and the
// commands IPVS_CMD_{NEW,SET,DEL,GET}_SERVICE and IPVS_CMD_FLUSH.
#pragma once

#include <napi.h>
#include <netlink/msg.h>

#include <cstdint>
#include <string>

#include "stats.h"

namespace ipvs {

// What names a service: a fwmark (when non-zero), or protocol, address, port.
struct ServiceKey {
  uint16_t af = 0;
  uint16_t protocol = 0;
  uint8_t addr[16] = {};
  uint16_t port = 0;  // host order; network order on the wire
  uint32_t fwmark = 0;
};

// What is asked of a service; every field is sent (edit replaces them all).
struct ServiceSpec {
  ServiceKey key;
  std::string scheduler;
  std::string pe;  // empty: no persistence engine
  uint32_t flags = 0;
  uint32_t timeout = 0;
  // IPv4: the mask as a host-order number (0xffffff00), sent in network order.
  // IPv6: the prefix length.
  uint32_t netmask = 0;
};

// A service as the kernel reports it.
struct ServiceEntry {
  ServiceSpec spec;
  Stats stats;
};

ServiceKey ServiceKeyFrom(const Napi::Object& obj);
ServiceSpec ServiceSpecFrom(const Napi::Object& obj);
// Adds IPVS_CMD_ATTR_SERVICE holding only the identifying attributes.
void PutServiceKey(nl_msg* msg, const ServiceKey& key);
// Decodes one IPVS_CMD_NEW_SERVICE message of a dump or doit reply.
ServiceEntry DecodeService(const nlmsghdr* hdr);
Napi::Object ServiceToJs(Napi::Env env, const ServiceEntry& e);

Napi::Value ListServices(const Napi::CallbackInfo& info);
Napi::Value GetService(const Napi::CallbackInfo& info);
Napi::Value AddService(const Napi::CallbackInfo& info);
Napi::Value EditService(const Napi::CallbackInfo& info);
Napi::Value DeleteService(const Napi::CallbackInfo& info);
Napi::Value Clear(const Napi::CallbackInfo& info);

}  // namespace ipvs
