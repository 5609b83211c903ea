// The legacy back-end: IPVS's IP_VS_SO_* socket options on a raw IPv4 socket,
// as ipvsadm uses where generic netlink is missing. IPv4 only: it cannot name
// an IPv6 service or destination, a persistence engine, a tunnel type other
// than ipip, or a daemon's group, port, TTL or message length; asking for any
// of them fails before a syscall. Counters other than bytes are 32-bit.
//
// Exports the same operations as the netlink back-end, with the same names,
// shapes and `op`s, in an object of their own.
#pragma once

#include <napi.h>

namespace ipvs {

// openSockopt(netnsPath: string | null): Promise<Socket>
Napi::Value OpenSockopt(const Napi::CallbackInfo& info);
Napi::Object SockoptExports(Napi::Env env);

}  // namespace ipvs
