// Building IPVS requests: the service and destination nests, written either
// through libnl (a message of its own, for a single exchange) or straight
// into a buffer that holds a whole window of pipelined requests
// (RequestWriter). One template per nest writes both, so the two cannot
// drift apart; test/native/request_test.cc holds their bytes equal.
#pragma once

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "attr.h"
#include "destination.h"
#include "service.h"

namespace ipvs {

// Requests written one after another into one buffer, as the kernel reads a
// datagram of them: what libnl's genlmsg_put and nla_put write, without a
// message allocated, filled and copied per request (a batch of 55,000
// requests spent a third of its thread's time there).
class RequestWriter {
 public:
  // Appends to `out`; each request takes the next number of `seq`.
  RequestWriter(std::vector<uint8_t>& out, uint16_t family, uint32_t portid, uint32_t& seq)
      : out_(out), family_(family), portid_(portid), seq_(seq) {}

  // Starts the next request: generic netlink command `cmd` of the IPVS
  // family, NLM_F_REQUEST | NLM_F_ACK, the next sequence number.
  void Begin(uint8_t cmd) {
    start_ = out_.size();
    // Room for the whole request at once, zeroed (the headers' and the
    // attributes' padding): one resize per request, not one per attribute
    // (a batch writes hundreds of thousands of attributes). End() trims it.
    out_.resize(start_ + kRoom);
    end_ = start_ + NLMSG_HDRLEN + GENL_HDRLEN;
    nlmsghdr h{};
    h.nlmsg_type = family_;
    h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    h.nlmsg_seq = ++seq_;
    h.nlmsg_pid = portid_;
    memcpy(out_.data() + start_, &h, sizeof h);
    genlmsghdr g{};
    g.cmd = cmd;
    g.version = IPVS_GENL_VERSION;
    memcpy(out_.data() + start_ + NLMSG_HDRLEN, &g, sizeof g);
  }

  void Put(int type, size_t len, const void* data) {
    const size_t at = end_;
    end_ = at + NLA_ALIGN(NLA_HDRLEN + len);
    if (end_ > out_.size()) out_.resize(end_ + kRoom);  // a request larger than kRoom: zeroed too
    nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), static_cast<uint16_t>(type)};
    memcpy(out_.data() + at, &a, sizeof a);
    if (len > 0) memcpy(out_.data() + at + NLA_HDRLEN, data, len);
  }

  // A nest's start, as libnl marks it (NLA_F_NESTED); NestEnd sets its length.
  size_t NestStart(int type) {
    const size_t at = end_;
    Put(type | NLA_F_NESTED, 0, nullptr);
    return at;
  }
  void NestEnd(size_t at) {
    const uint16_t len = static_cast<uint16_t>(end_ - at);
    memcpy(out_.data() + at + offsetof(nlattr, nla_len), &len, sizeof len);
  }

  // Ends the request begun last: its length in its header, and `out` ends
  // where it does.
  void End() {
    const uint32_t len = static_cast<uint32_t>(end_ - start_);
    memcpy(out_.data() + start_ + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
    out_.resize(end_);
  }

 private:
  // More than any IPVS request takes (the largest, a service with every
  // attribute, is under 200 bytes).
  static constexpr size_t kRoom = 512;

  std::vector<uint8_t>& out_;
  uint16_t family_;
  uint32_t portid_;
  uint32_t& seq_;
  size_t start_ = 0;
  size_t end_ = 0;
};

// The two ways to write an attribute and a nest, for the templates below.
inline void PutAttr(nl_msg* msg, int type, size_t len, const void* data) {
  Check(nla_put(msg, type, static_cast<int>(len), data));
}
inline void PutAttr(RequestWriter* w, int type, size_t len, const void* data) { w->Put(type, len, data); }
inline void NestEnd(nl_msg* msg, nlattr* nest) { nla_nest_end(msg, nest); }
inline size_t NestStart(RequestWriter* w, int type) { return w->NestStart(type); }
inline void NestEnd(RequestWriter* w, size_t at) { w->NestEnd(at); }

template <typename M, typename T>
void PutInt(M m, int type, T v) {
  PutAttr(m, type, sizeof v, &v);
}
template <typename M>
void PutString(M m, int type, const std::string& s) {
  PutAttr(m, type, s.size() + 1, s.c_str());  // with its NUL, as nla_put_string
}
template <typename T, typename M>
void PutSetting(M m, int attr, T value, bool net) {
  PutInt(m, attr, static_cast<std::make_unsigned_t<T>>(Order(value, net)));
}

// The attributes that name a service: a fwmark, or protocol, address, port.
template <typename M>
void PutKeyAttrs(M m, const ServiceKey& key) {
  PutInt<M, uint16_t>(m, IPVS_SVC_ATTR_AF, key.af);
  if (key.fwmark != 0) {
    PutInt<M, uint32_t>(m, IPVS_SVC_ATTR_FWMARK, key.fwmark);
  } else {
    PutInt<M, uint16_t>(m, IPVS_SVC_ATTR_PROTOCOL, key.protocol);
    PutAttr(m, IPVS_SVC_ATTR_ADDR, 16, key.addr);
    PutInt<M, uint16_t>(m, IPVS_SVC_ATTR_PORT, htons(key.port));
  }
}

// IPVS_CMD_ATTR_SERVICE holding only the identifying attributes.
template <typename M>
void PutServiceKeyNest(M m, const ServiceKey& key) {
  auto nest = NestStart(m, IPVS_CMD_ATTR_SERVICE);
  PutKeyAttrs(m, key);
  NestEnd(m, nest);
}

// A whole service nest: key, scheduler, engine, flags (all of them), timeout, netmask.
template <typename M>
void PutServiceNest(M m, const ServiceSpec& spec) {
  auto nest = NestStart(m, IPVS_CMD_ATTR_SERVICE);
  PutKeyAttrs(m, spec.key);
  PutString(m, IPVS_SVC_ATTR_SCHED_NAME, spec.scheduler);
  if (!spec.pe.empty()) PutString(m, IPVS_SVC_ATTR_PE_NAME, spec.pe);
  // The mask says which flag bits to set: all of them, so the kernel's flags
  // become exactly ours.
  ip_vs_flags flags{spec.flags, ~0u};
  PutAttr(m, IPVS_SVC_ATTR_FLAGS, sizeof flags, &flags);
#define IPVS_SVC_PUT(member, type, attr, order, presence) PutSetting<type>(m, attr, spec.member, order);
  IPVS_SVC_SETTINGS(IPVS_SVC_PUT)
#undef IPVS_SVC_PUT
  PutInt<M, uint32_t>(m, IPVS_SVC_ATTR_NETMASK, spec.key.af == AF_INET ? htonl(spec.netmask) : spec.netmask);
  NestEnd(m, nest);
}

// A destination nest: its key, and its settings unless keyOnly.
template <typename M>
void PutDestNest(M m, const DestSpec& d, bool keyOnly) {
  auto nest = NestStart(m, IPVS_CMD_ATTR_DEST);
  PutInt<M, uint16_t>(m, IPVS_DEST_ATTR_ADDR_FAMILY, d.af);
  PutAttr(m, IPVS_DEST_ATTR_ADDR, 16, d.addr);
  PutInt<M, uint16_t>(m, IPVS_DEST_ATTR_PORT, htons(d.port));
  if (!keyOnly) {
#define IPVS_DEST_PUT(member, type, attr, order, presence) PutSetting<type>(m, attr, d.member, order);
    IPVS_DEST_SETTINGS(IPVS_DEST_PUT)
#undef IPVS_DEST_PUT
  }
  NestEnd(m, nest);
}

}  // namespace ipvs
