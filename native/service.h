// Virtual services: packing requests, decoding the kernel's replies, and the
// commands IPVS_CMD_{NEW,SET,DEL,GET}_SERVICE and IPVS_CMD_FLUSH.
#pragma once

#include <netlink/msg.h>

#include <cstdint>
#include <string>
#include <vector>

#include "napi_fwd.h"
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

// A service's numeric settings that travel as they are, the one table that
// service.cc turns into the struct member, the attribute rule, the reading
// from JavaScript, the request, the decoding and the value handed back (see
// settings.h): X(member, C type, IPVS_SVC_ATTR_*, byte order, in replies).
// The others below have rules of their own: the key (a fwmark or protocol,
// address and port), names (strings), the flag word (a value and a mask) and
// the netmask (network order for IPv4 only).
// clang-format off: one row per attribute, as a table
#define IPVS_SVC_SETTINGS(X) X(timeout, uint32_t, IPVS_SVC_ATTR_TIMEOUT, Host, Required)
// clang-format on

// What is asked of a service; every field is sent (edit replaces them all).
struct ServiceSpec {
  ServiceKey key;
  std::string scheduler;
  std::string pe;  // empty: no persistence engine
  uint32_t flags = 0;
  // IPv4: the mask as a host-order number (0xffffff00), sent in network order.
  // IPv6: the prefix length.
  uint32_t netmask = 0;
#define IPVS_SVC_MEMBER(member, type, attr, order, presence) type member = 0;
  IPVS_SVC_SETTINGS(IPVS_SVC_MEMBER)
#undef IPVS_SVC_MEMBER
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
// A whole service nest: key, scheduler, engine, flags (all of them), timeout, netmask.
void PutService(nl_msg* msg, const ServiceSpec& spec);
// Decodes one IPVS_CMD_NEW_SERVICE message of a dump or doit reply.
ServiceEntry DecodeService(const nlmsghdr* hdr);
Napi::Object ServiceToJs(Napi::Env env, const ServiceEntry& e);

class GenlSocket;

// The IPVS_CMD_GET_SERVICE dump into `out`, each service once. The kernel
// walks one table shared by every namespace and resumes a dump by position:
// services added or removed in another namespace between two parts of a dump
// can repeat one of ours (ipvsadm then lists it twice) or skip one.
void DumpServices(GenlSocket& sock, std::vector<ServiceEntry>& out);

Napi::Value ListServices(const Napi::CallbackInfo& info);
Napi::Value GetService(const Napi::CallbackInfo& info);
Napi::Value AddService(const Napi::CallbackInfo& info);
Napi::Value EditService(const Napi::CallbackInfo& info);
Napi::Value DeleteService(const Napi::CallbackInfo& info);
Napi::Value Clear(const Napi::CallbackInfo& info);

}  // namespace ipvs
