// Canned IPVS messages as the kernel sends them (IPVS_CMD_NEW_SERVICE for a
// service of a dump, and so on), for the native tests and the seed corpus.
#pragma once

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "netlink_build.h"

namespace ipvs::test {

constexpr uint32_t kSeq = 7, kPort = 4242;

inline void StatsNest(Datagram& d, uint16_t type, bool wide, uint64_t base) {
  d.Nest(type);
  for (uint16_t a = IPVS_STATS_ATTR_CONNS; a <= IPVS_STATS_ATTR_OUTBPS; a++) {
    bool u64 = wide || a == IPVS_STATS_ATTR_INBYTES || a == IPVS_STATS_ATTR_OUTBYTES;
    if (u64)
      d.U64(a, base + a);
    else
      d.U32(a, static_cast<uint32_t>(base + a));
  }
  d.EndNest();
}

// A TCP service 192.0.2.10:80, scheduler `sched`; `extra` adds attributes
// inside the service nest before it closes.
template <typename Extra>
void ServiceMsg(Datagram& d, const std::string& sched, Extra&& extra, uint32_t seq = kSeq,
                uint16_t flags = NLM_F_MULTI) {
  d.Begin(0x10 /* the family's id */, flags, seq, kPort, IPVS_CMD_NEW_SERVICE);
  d.Nest(IPVS_CMD_ATTR_SERVICE);
  d.U16(IPVS_SVC_ATTR_AF, AF_INET);
  d.U16(IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
  uint8_t addr[16] = {192, 0, 2, 10};
  d.Attr(IPVS_SVC_ATTR_ADDR, addr, 16);
  d.U16(IPVS_SVC_ATTR_PORT, htons(80));
  d.Str(IPVS_SVC_ATTR_SCHED_NAME, sched);
  ip_vs_flags f{IP_VS_SVC_F_PERSISTENT, ~0u};
  d.Attr(IPVS_SVC_ATTR_FLAGS, &f, sizeof f);
  d.U32(IPVS_SVC_ATTR_TIMEOUT, 300);
  d.U32(IPVS_SVC_ATTR_NETMASK, htonl(0xffffff00));
  StatsNest(d, IPVS_SVC_ATTR_STATS, false, 100);
  StatsNest(d, IPVS_SVC_ATTR_STATS64, true, 1000);
  extra(d);
  d.EndNest();
  d.End();
}
inline void ServiceMsg(Datagram& d, const std::string& sched = "wlc", uint32_t seq = kSeq) {
  ServiceMsg(
      d, sched, [](Datagram&) {}, seq);
}

// A destination 198.51.100.<last>:8080, masquerading, weight `weight`.
template <typename Extra>
void DestMsg(Datagram& d, uint8_t last, int32_t weight, Extra&& extra, uint32_t seq = kSeq) {
  d.Begin(0x10, NLM_F_MULTI, seq, kPort, IPVS_CMD_NEW_DEST);
  d.Nest(IPVS_CMD_ATTR_DEST);
  uint8_t addr[16] = {198, 51, 100, last};
  d.Attr(IPVS_DEST_ATTR_ADDR, addr, 16);
  d.U16(IPVS_DEST_ATTR_PORT, htons(8080));
  d.U32(IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_MASQ);
  d.U32(IPVS_DEST_ATTR_WEIGHT, static_cast<uint32_t>(weight));
  d.U32(IPVS_DEST_ATTR_U_THRESH, 10);
  d.U32(IPVS_DEST_ATTR_L_THRESH, 5);
  d.U32(IPVS_DEST_ATTR_ACTIVE_CONNS, 3);
  d.U32(IPVS_DEST_ATTR_INACT_CONNS, 4);
  d.U32(IPVS_DEST_ATTR_PERSIST_CONNS, 5);
  StatsNest(d, IPVS_DEST_ATTR_STATS64, true, 2000);
  d.U16(IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
  d.U8(IPVS_DEST_ATTR_TUN_TYPE, 0);
  d.U16(IPVS_DEST_ATTR_TUN_PORT, htons(0));
  d.U16(IPVS_DEST_ATTR_TUN_FLAGS, 0);
  extra(d);
  d.EndNest();
  d.End();
}
inline void DestMsg(Datagram& d, uint8_t last = 1, int32_t weight = 1, uint32_t seq = kSeq) {
  DestMsg(
      d, last, weight, [](Datagram&) {}, seq);
}

// A backup daemon on eth0, sync id 3, with an IPv4 group.
inline void DaemonMsg(Datagram& d, uint32_t seq = kSeq) {
  d.Begin(0x10, NLM_F_MULTI, seq, kPort, IPVS_CMD_NEW_DAEMON);
  d.Nest(IPVS_CMD_ATTR_DAEMON);
  d.U32(IPVS_DAEMON_ATTR_STATE, IP_VS_STATE_BACKUP);
  d.Str(IPVS_DAEMON_ATTR_MCAST_IFN, "eth0");
  d.U32(IPVS_DAEMON_ATTR_SYNC_ID, 3);
  d.U16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, 1472);
  uint8_t group[4] = {224, 0, 0, 81};
  d.Attr(IPVS_DAEMON_ATTR_MCAST_GROUP, group, 4);
  d.U16(IPVS_DAEMON_ATTR_MCAST_PORT, 8848);
  d.U8(IPVS_DAEMON_ATTR_MCAST_TTL, 1);
  d.EndNest();
  d.End();
}

inline void InfoMsg(Datagram& d, uint32_t seq = kSeq) {
  d.Begin(0x10, 0, seq, kPort, IPVS_CMD_SET_INFO);
  d.U32(IPVS_INFO_ATTR_VERSION, 0x010201);
  d.U32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096);
  d.End();
}

inline void TimeoutsMsg(Datagram& d, uint32_t seq = kSeq) {
  d.Begin(0x10, 0, seq, kPort, IPVS_CMD_SET_CONFIG);
  d.U32(IPVS_CMD_ATTR_TIMEOUT_TCP, 900);
  d.U32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, 120);
  d.U32(IPVS_CMD_ATTR_TIMEOUT_UDP, 300);
  d.End();
}

}  // namespace ipvs::test
