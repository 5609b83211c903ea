#include "decode.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include "attr.h"

namespace ipvs {

namespace {

const AttrRule kStats32[IPVS_STATS_ATTR_MAX + 1] = {
    {},
    {"IPVS_STATS_ATTR_CONNS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INPKTS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTPKTS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_CPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INPPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTPPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_INBPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_OUTBPS", AttrKind::kU32},
    {"IPVS_STATS_ATTR_PAD", AttrKind::kIgnored},
};

const AttrRule kStats64[IPVS_STATS_ATTR_MAX + 1] = {
    {},
    {"IPVS_STATS_ATTR_CONNS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INPKTS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTPKTS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBYTES", AttrKind::kU64},
    {"IPVS_STATS_ATTR_CPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INPPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTPPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_INBPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_OUTBPS", AttrKind::kU64},
    {"IPVS_STATS_ATTR_PAD", AttrKind::kIgnored},
};

// The member each IPVS_STATS_ATTR_* fills.
uint64_t Stats::*const kStatsFields[IPVS_STATS_ATTR_MAX + 1] = {
    nullptr,     &Stats::conns, &Stats::inpkts, &Stats::outpkts, &Stats::inbytes, &Stats::outbytes,
    &Stats::cps, &Stats::inpps, &Stats::outpps, &Stats::inbps,   &Stats::outbps,  nullptr,
};

std::array<AttrRule, IPVS_SVC_ATTR_MAX + 1> MakeServiceRules() {
  std::array<AttrRule, IPVS_SVC_ATTR_MAX + 1> r{};
  r[IPVS_SVC_ATTR_AF] = {"IPVS_SVC_ATTR_AF", AttrKind::kU16};
  r[IPVS_SVC_ATTR_PROTOCOL] = {"IPVS_SVC_ATTR_PROTOCOL", AttrKind::kU16};
  r[IPVS_SVC_ATTR_ADDR] = {"IPVS_SVC_ATTR_ADDR", AttrKind::kAddr};
  r[IPVS_SVC_ATTR_PORT] = {"IPVS_SVC_ATTR_PORT", AttrKind::kU16};
  r[IPVS_SVC_ATTR_FWMARK] = {"IPVS_SVC_ATTR_FWMARK", AttrKind::kU32};
  r[IPVS_SVC_ATTR_SCHED_NAME] = {"IPVS_SVC_ATTR_SCHED_NAME", AttrKind::kString, IP_VS_SCHEDNAME_MAXLEN};
  r[IPVS_SVC_ATTR_FLAGS] = {"IPVS_SVC_ATTR_FLAGS", AttrKind::kFlags};
  r[IPVS_SVC_ATTR_NETMASK] = {"IPVS_SVC_ATTR_NETMASK", AttrKind::kU32};
  r[IPVS_SVC_ATTR_STATS] = {"IPVS_SVC_ATTR_STATS", AttrKind::kNested};
  r[IPVS_SVC_ATTR_PE_NAME] = {"IPVS_SVC_ATTR_PE_NAME", AttrKind::kString, IP_VS_PENAME_MAXLEN};
  r[IPVS_SVC_ATTR_STATS64] = {"IPVS_SVC_ATTR_STATS64", AttrKind::kNested};
#define IPVS_SVC_RULE(member, type, attr, order, presence) r[attr] = {#attr, KindOf<type>()};
  IPVS_SVC_SETTINGS(IPVS_SVC_RULE)
#undef IPVS_SVC_RULE
  return r;
}

const std::array<AttrRule, IPVS_SVC_ATTR_MAX + 1> kServiceRulesTable = MakeServiceRules();
const AttrRule* const kServiceRules = kServiceRulesTable.data();

// The attribute rules, indexed by attribute type: the key's, then the table's.
std::array<AttrRule, IPVS_DEST_ATTR_MAX + 1> MakeDestRules() {
  std::array<AttrRule, IPVS_DEST_ATTR_MAX + 1> r{};
  r[IPVS_DEST_ATTR_ADDR] = {"IPVS_DEST_ATTR_ADDR", AttrKind::kAddr};
  r[IPVS_DEST_ATTR_PORT] = {"IPVS_DEST_ATTR_PORT", AttrKind::kU16};
  r[IPVS_DEST_ATTR_ADDR_FAMILY] = {"IPVS_DEST_ATTR_ADDR_FAMILY", AttrKind::kU16};
  r[IPVS_DEST_ATTR_STATS] = {"IPVS_DEST_ATTR_STATS", AttrKind::kNested};
  r[IPVS_DEST_ATTR_STATS64] = {"IPVS_DEST_ATTR_STATS64", AttrKind::kNested};
#define IPVS_DEST_RULE(member, type, attr, order, presence) r[attr] = {#attr, KindOf<type>()};
  IPVS_DEST_SETTINGS(IPVS_DEST_RULE)
#undef IPVS_DEST_RULE
#define IPVS_DEST_COUNT_RULE(member, attr) r[attr] = {#attr, AttrKind::kU32};
  IPVS_DEST_COUNTS(IPVS_DEST_COUNT_RULE)
#undef IPVS_DEST_COUNT_RULE
  return r;
}

const std::array<AttrRule, IPVS_DEST_ATTR_MAX + 1> kDestRules = MakeDestRules();

const AttrRule kDaemonRules[IPVS_DAEMON_ATTR_MAX + 1] = {
    {},
    {"IPVS_DAEMON_ATTR_STATE", AttrKind::kU32},
    {"IPVS_DAEMON_ATTR_MCAST_IFN", AttrKind::kString, IP_VS_IFNAME_MAXLEN},
    {"IPVS_DAEMON_ATTR_SYNC_ID", AttrKind::kU32},
    {"IPVS_DAEMON_ATTR_SYNC_MAXLEN", AttrKind::kU16},
    {"IPVS_DAEMON_ATTR_MCAST_GROUP", AttrKind::kU32},
    {"IPVS_DAEMON_ATTR_MCAST_GROUP6", AttrKind::kAddr},
    {"IPVS_DAEMON_ATTR_MCAST_PORT", AttrKind::kU16},
    {"IPVS_DAEMON_ATTR_MCAST_TTL", AttrKind::kU8},
};

const AttrRule kInfoRules[IPVS_INFO_ATTR_MAX + 1] = {
    {},
    {"IPVS_INFO_ATTR_VERSION", AttrKind::kU32},
    {"IPVS_INFO_ATTR_CONN_TAB_SIZE", AttrKind::kU32},
};

struct InfoResult {
  uint32_t version = 0;
  uint32_t connTabSize = 0;
};

}  // namespace

// One pass over the nest: this runs for every service and destination of a snapshot.
Stats DecodeStats(nlattr* stats, nlattr* stats64) {
  Stats s;
  nlattr* nest = stats64 != nullptr ? stats64 : stats;
  if (nest == nullptr) return s;
  ForEachAttr(IPVS_STATS_ATTR_MAX, stats64 != nullptr ? kStats64 : kStats32, static_cast<nlattr*>(AttrData(nest)),
              AttrLen(nest), [&s](int type, nlattr* attr) {
                if (kStatsFields[type] != nullptr) s.*kStatsFields[type] = AttrLen(attr) == 8 ? U64(attr) : U32(attr);
              });
  return s;
}

ServiceEntry DecodeService(const nlmsghdr* hdr) {
  nlattr* top[IPVS_CMD_ATTR_MAX + 1];
  ParseGenl(top, IPVS_CMD_ATTR_MAX, kCmdRules, hdr);
  nlattr* tb[IPVS_SVC_ATTR_MAX + 1];
  ParseNested(tb, IPVS_SVC_ATTR_MAX, kServiceRules, Require(top, IPVS_CMD_ATTR_SERVICE, kCmdRules));

  ServiceEntry e;
  ServiceKey& k = e.spec.key;
  k.af = U16(Require(tb, IPVS_SVC_ATTR_AF, kServiceRules));
  if (tb[IPVS_SVC_ATTR_FWMARK] != nullptr) {
    k.fwmark = U32(tb[IPVS_SVC_ATTR_FWMARK]);
  } else {
    k.protocol = U16(Require(tb, IPVS_SVC_ATTR_PROTOCOL, kServiceRules));
    memcpy(k.addr, AttrData(Require(tb, IPVS_SVC_ATTR_ADDR, kServiceRules)), 16);
    k.port = ntohs(U16(Require(tb, IPVS_SVC_ATTR_PORT, kServiceRules)));
  }
  e.spec.scheduler = GetString(Require(tb, IPVS_SVC_ATTR_SCHED_NAME, kServiceRules));
  if (tb[IPVS_SVC_ATTR_PE_NAME] != nullptr) e.spec.pe = GetString(tb[IPVS_SVC_ATTR_PE_NAME]);
  ip_vs_flags flags;
  memcpy(&flags, AttrData(Require(tb, IPVS_SVC_ATTR_FLAGS, kServiceRules)), sizeof flags);
  e.spec.flags = flags.flags & flags.mask;
#define IPVS_SVC_DECODE(member, type, attr, order, presence) \
  e.spec.member = DecodeSetting<type>(tb, attr, kServiceRules, order, presence);
  IPVS_SVC_SETTINGS(IPVS_SVC_DECODE)
#undef IPVS_SVC_DECODE
  uint32_t mask = U32(Require(tb, IPVS_SVC_ATTR_NETMASK, kServiceRules));
  e.spec.netmask = k.af == AF_INET ? ntohl(mask) : mask;
  e.stats = DecodeStats(tb[IPVS_SVC_ATTR_STATS], tb[IPVS_SVC_ATTR_STATS64]);
  return e;
}

DestEntry DecodeDest(const nlmsghdr* hdr, uint16_t serviceAf) {
  nlattr* top[IPVS_CMD_ATTR_MAX + 1];
  ParseGenl(top, IPVS_CMD_ATTR_MAX, kCmdRules, hdr);
  nlattr* tb[IPVS_DEST_ATTR_MAX + 1];
  ParseNested(tb, IPVS_DEST_ATTR_MAX, kDestRules.data(), Require(top, IPVS_CMD_ATTR_DEST, kCmdRules));

  DestEntry e;
  DestSpec& d = e.spec;
  d.af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] != nullptr ? U16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]) : serviceAf;
  memcpy(d.addr, AttrData(Require(tb, IPVS_DEST_ATTR_ADDR, kDestRules.data())), 16);
  d.port = ntohs(U16(Require(tb, IPVS_DEST_ATTR_PORT, kDestRules.data())));
#define IPVS_DEST_DECODE(member, type, attr, order, presence) \
  d.member = DecodeSetting<type>(tb, attr, kDestRules.data(), order, presence);
  IPVS_DEST_SETTINGS(IPVS_DEST_DECODE)
#undef IPVS_DEST_DECODE
#define IPVS_DEST_COUNT_DECODE(member, attr) e.member = U32(Require(tb, attr, kDestRules.data()));
  IPVS_DEST_COUNTS(IPVS_DEST_COUNT_DECODE)
#undef IPVS_DEST_COUNT_DECODE
  e.stats = DecodeStats(tb[IPVS_DEST_ATTR_STATS], tb[IPVS_DEST_ATTR_STATS64]);
  return e;
}

Daemon DecodeDaemon(const nlmsghdr* hdr) {
  nlattr* top[IPVS_CMD_ATTR_MAX + 1];
  ParseGenl(top, IPVS_CMD_ATTR_MAX, kCmdRules, hdr);
  nlattr* tb[IPVS_DAEMON_ATTR_MAX + 1];
  ParseNested(tb, IPVS_DAEMON_ATTR_MAX, kDaemonRules, Require(top, IPVS_CMD_ATTR_DAEMON, kCmdRules));
  Daemon d;
  d.state = static_cast<int32_t>(U32(Require(tb, IPVS_DAEMON_ATTR_STATE, kDaemonRules)));
  d.ifname = GetString(Require(tb, IPVS_DAEMON_ATTR_MCAST_IFN, kDaemonRules));
  d.syncId = static_cast<int32_t>(U32(Require(tb, IPVS_DAEMON_ATTR_SYNC_ID, kDaemonRules)));
  if (tb[IPVS_DAEMON_ATTR_SYNC_MAXLEN]) d.maxLen = U16(tb[IPVS_DAEMON_ATTR_SYNC_MAXLEN]);
  if (tb[IPVS_DAEMON_ATTR_MCAST_GROUP6]) {
    d.groupAf = AF_INET6;
    memcpy(d.group, AttrData(tb[IPVS_DAEMON_ATTR_MCAST_GROUP6]), 16);
  } else if (tb[IPVS_DAEMON_ATTR_MCAST_GROUP]) {
    d.groupAf = AF_INET;
    memcpy(d.group, AttrData(tb[IPVS_DAEMON_ATTR_MCAST_GROUP]), 4);
  }
  if (tb[IPVS_DAEMON_ATTR_MCAST_PORT]) d.port = U16(tb[IPVS_DAEMON_ATTR_MCAST_PORT]);
  if (tb[IPVS_DAEMON_ATTR_MCAST_TTL]) d.ttl = U8(tb[IPVS_DAEMON_ATTR_MCAST_TTL]);
  return d;
}

InfoReply DecodeInfo(const nlmsghdr* hdr) {
  nlattr* tb[IPVS_INFO_ATTR_MAX + 1];
  ParseGenl(tb, IPVS_INFO_ATTR_MAX, kInfoRules, hdr);
  InfoReply out;
  out.version = U32(Require(tb, IPVS_INFO_ATTR_VERSION, kInfoRules));
  out.connTabSize = U32(Require(tb, IPVS_INFO_ATTR_CONN_TAB_SIZE, kInfoRules));
  return out;
}

Timeouts DecodeTimeouts(const nlmsghdr* hdr) {
  nlattr* tb[IPVS_CMD_ATTR_MAX + 1];
  ParseGenl(tb, IPVS_CMD_ATTR_MAX, kCmdRules, hdr);
  Timeouts out;
  if (tb[IPVS_CMD_ATTR_TIMEOUT_TCP]) out.tcp = static_cast<int32_t>(U32(tb[IPVS_CMD_ATTR_TIMEOUT_TCP]));
  if (tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]) out.tcpFin = static_cast<int32_t>(U32(tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]));
  if (tb[IPVS_CMD_ATTR_TIMEOUT_UDP]) out.udp = static_cast<int32_t>(U32(tb[IPVS_CMD_ATTR_TIMEOUT_UDP]));
  return out;
}

}  // namespace ipvs
