// The requests a pipelined batch writes straight into its datagram
// (RequestWriter) against the same requests built through libnl, as single
// exchanges send them: byte for byte equal, for every kind of service and
// destination nest. Built and run by scripts/native-test.
#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../../native/request.h"
#include "harness.h"

using namespace ipvs;
using namespace ipvs::test;

namespace {

constexpr uint16_t kFamily = 0x21;
constexpr uint32_t kPort = 4242;

// One request through libnl: a message of its own, as GenlSocket::NewRequest makes it.
std::vector<uint8_t> ThroughLibnl(uint8_t cmd, uint32_t seq, const std::function<void(nl_msg*)>& attrs) {
  nl_msg* msg = nlmsg_alloc_size(2048);
  CHECK(msg != nullptr);
  CHECK(genlmsg_put(msg, kPort, seq, kFamily, 0, NLM_F_REQUEST | NLM_F_ACK, cmd, IPVS_GENL_VERSION) != nullptr);
  attrs(msg);
  const nlmsghdr* h = nlmsg_hdr(msg);
  std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(h), reinterpret_cast<const uint8_t*>(h) + h->nlmsg_len);
  nlmsg_free(msg);
  return bytes;
}

// Checks that the writer's request `cmd` equals libnl's, for the same attributes.
void Same(uint8_t cmd, const std::function<void(nl_msg*)>& viaLibnl,
          const std::function<void(RequestWriter*)>& viaWriter) {
  std::vector<uint8_t> out = {0xee, 0xee, 0xee, 0xee};  // a request before it in the datagram
  uint32_t seq = 6;
  RequestWriter w(out, kFamily, kPort, seq);
  w.Begin(cmd);
  viaWriter(&w);
  w.End();
  CHECK_EQ(seq, 7u);
  std::vector<uint8_t> mine(out.begin() + 4, out.end());
  std::vector<uint8_t> theirs = ThroughLibnl(cmd, 7, viaLibnl);
  CHECK_EQ(mine.size(), theirs.size());
  CHECK_EQ(mine.size() % NLMSG_ALIGNTO, 0u);
  for (size_t i = 0; i < mine.size(); i++) {
    if (mine[i] != theirs[i])
      throw Failure{"byte " + std::to_string(i) + ": " + std::to_string(mine[i]) + ", libnl " +
                    std::to_string(theirs[i])};
  }
}

ServiceSpec Service(uint16_t af, uint32_t fwmark, const char* scheduler, const char* pe) {
  ServiceSpec s;
  s.key.af = af;
  s.key.protocol = IPPROTO_TCP;
  s.key.fwmark = fwmark;
  s.key.port = 8080;
  for (int i = 0; i < 16; i++) s.key.addr[i] = static_cast<uint8_t>(0x20 + i);
  s.scheduler = scheduler;
  s.pe = pe;
  s.flags = 0x1 | 0x8;
  s.timeout = 300;
  s.netmask = af == AF_INET ? 0xffffff00 : 64;
  return s;
}

DestSpec Dest(uint16_t af, uint32_t fwdMethod) {
  DestSpec d;
  d.af = af;
  for (int i = 0; i < 16; i++) d.addr[i] = static_cast<uint8_t>(0xc0 + i);
  d.port = 443;
  d.fwdMethod = fwdMethod;
  d.weight = 0x7fffffff;
  d.uThreshold = 1000;
  d.lThreshold = 10;
  d.tunType = IP_VS_CONN_F_TUNNEL_TYPE_GUE;
  d.tunPort = 6080;
  d.tunFlags = IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
  return d;
}

TEST(service_nests_equal_libnls) {
  // IPv4 and IPv6 (the netmask's byte order differs), fwmark keys, with and without an engine.
  const ServiceSpec specs[] = {Service(AF_INET, 0, "rr", ""), Service(AF_INET6, 0, "wlc", "sip"),
                               Service(AF_INET, 7, "mh", ""), Service(AF_INET6, 0xffffffff, "sed", "")};
  for (const ServiceSpec& s : specs) {
    for (uint8_t cmd : {IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE}) {
      Same(
          cmd, [&](nl_msg* m) { PutServiceNest(m, s); }, [&](RequestWriter* w) { PutServiceNest(w, s); });
    }
    Same(
        IPVS_CMD_DEL_SERVICE, [&](nl_msg* m) { PutServiceKeyNest(m, s.key); },
        [&](RequestWriter* w) { PutServiceKeyNest(w, s.key); });
  }
}

TEST(destination_nests_equal_libnls) {
  const ServiceSpec s = Service(AF_INET, 0, "rr", "");
  const DestSpec dests[] = {Dest(AF_INET, IP_VS_CONN_F_MASQ), Dest(AF_INET6, IP_VS_CONN_F_TUNNEL),
                            Dest(AF_INET, IP_VS_CONN_F_DROUTE)};
  for (const DestSpec& d : dests) {
    for (uint8_t cmd : {IPVS_CMD_NEW_DEST, IPVS_CMD_SET_DEST, IPVS_CMD_DEL_DEST}) {
      const bool keyOnly = cmd == IPVS_CMD_DEL_DEST;
      Same(
          cmd,
          [&](nl_msg* m) {
            PutServiceKeyNest(m, s.key);
            PutDestNest(m, d, keyOnly);
          },
          [&](RequestWriter* w) {
            PutServiceKeyNest(w, s.key);
            PutDestNest(w, d, keyOnly);
          });
    }
  }
}

TEST(requests_follow_one_another) {
  // A window: each request starts where the last ended, numbered in turn.
  std::vector<uint8_t> out;
  uint32_t seq = 0;
  RequestWriter w(out, kFamily, kPort, seq);
  const ServiceSpec s = Service(AF_INET, 0, "rr", "");
  for (int i = 0; i < 3; i++) {
    w.Begin(IPVS_CMD_NEW_SERVICE);
    PutServiceNest(&w, s);
    w.End();
  }
  size_t at = 0;
  for (uint32_t i = 1; i <= 3; i++) {
    nlmsghdr h;
    memcpy(&h, out.data() + at, sizeof h);
    CHECK_EQ(h.nlmsg_seq, i);
    CHECK_EQ(h.nlmsg_pid, kPort);
    CHECK_EQ(h.nlmsg_type, kFamily);
    CHECK_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  CHECK_EQ(at, out.size());
}

TEST(a_request_beyond_the_writers_room_equals_libnls) {
  // The writer makes room for a request at once; one that outgrows it (no
  // IPVS request does) still comes out whole, its padding zero. Odd lengths
  // leave padding after each attribute.
  std::vector<uint8_t> big(301, 0x5a);
  auto attrs = [&](auto put) {
    for (int type = 1; type <= 4; type++) put(type, big.size() - static_cast<size_t>(type), big.data());
  };
  Same(
      IPVS_CMD_NEW_SERVICE, [&](nl_msg* m) { attrs([&](int t, size_t n, const void* d) { PutAttr(m, t, n, d); }); },
      [&](RequestWriter* w) { attrs([&](int t, size_t n, const void* d) { PutAttr(w, t, n, d); }); });
}

}  // namespace

IPVS_NATIVE_TEST_MAIN
