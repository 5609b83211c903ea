// The floor for apply: the same requests as the library's apply() of a table
// of SERVICES TCP services with DESTS masquerading destinations each (the
// table bench/measure.mjs's buildServices makes: 203.0.113.0/24 and up, ports
// from 1000; destinations 198.51.100.1.. with weights 1..), every service
// added, then every destination, sent pipelined as native/batch.cc sends
// them: 64 requests per datagram, each with its own sequence number and
// NLM_F_ACK, the answers read with recvmmsg. Nothing is decoded beyond the
// errno of each answer. Prints the elapsed nanoseconds from the first send
// to the last answer (the socket and the family are ready before).
//
//   floor-apply SERVICES DESTS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 64
#define ANSWER 1024

static void die(const char* what) {
  perror(what);
  exit(1);
}

static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char out[WINDOW * 512];
static size_t out_len;
static unsigned seq;

static struct nlmsghdr* start(int type, int cmd) {
  struct nlmsghdr* r = (struct nlmsghdr*)(out + out_len);
  memset(r, 0, NLMSG_LENGTH(GENL_HDRLEN));
  r->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
  r->nlmsg_type = type;
  r->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  r->nlmsg_seq = ++seq;
  struct genlmsghdr* g = NLMSG_DATA(r);
  g->cmd = cmd;
  g->version = IPVS_GENL_VERSION;
  return r;
}

static struct nlattr* put(struct nlmsghdr* r, int type, const void* data, int len) {
  struct nlattr* a = (struct nlattr*)((char*)r + NLMSG_ALIGN(r->nlmsg_len));
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  if (len) memcpy((char*)a + NLA_HDRLEN, data, len);
  memset((char*)a + NLA_HDRLEN + len, 0, NLA_ALIGN(a->nla_len) - a->nla_len);
  r->nlmsg_len = NLMSG_ALIGN(r->nlmsg_len) + NLA_ALIGN(a->nla_len);
  return a;
}

static void end_nest(struct nlmsghdr* r, struct nlattr* nest) { nest->nla_len = (char*)r + r->nlmsg_len - (char*)nest; }

static void put16(struct nlmsghdr* r, int type, unsigned short v) { put(r, type, &v, 2); }
static void put32(struct nlmsghdr* r, int type, unsigned v) { put(r, type, &v, 4); }

static void service_key(struct nlmsghdr* r, long i) {
  unsigned char addr[16] = {203, 0, (unsigned char)(113 + (i >> 16)), (unsigned char)((i >> 8) & 255)};
  put16(r, IPVS_SVC_ATTR_AF, AF_INET);
  put16(r, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
  put(r, IPVS_SVC_ATTR_ADDR, addr, 16);
  put16(r, IPVS_SVC_ATTR_PORT, htons(1000 + (i & 255)));
}

static void add_service(int family, long i) {
  struct nlmsghdr* r = start(family, IPVS_CMD_NEW_SERVICE);
  struct nlattr* nest = put(r, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, NULL, 0);
  service_key(r, i);
  put(r, IPVS_SVC_ATTR_SCHED_NAME, "rr", 3);
  struct ip_vs_flags flags = {0, ~0u};
  put(r, IPVS_SVC_ATTR_FLAGS, &flags, sizeof flags);
  put32(r, IPVS_SVC_ATTR_TIMEOUT, 0);
  put32(r, IPVS_SVC_ATTR_NETMASK, 0xffffffff);
  end_nest(r, nest);
  out_len += NLMSG_ALIGN(r->nlmsg_len);
}

static void add_dest(int family, long i, int j) {
  struct nlmsghdr* r = start(family, IPVS_CMD_NEW_DEST);
  struct nlattr* nest = put(r, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, NULL, 0);
  service_key(r, i);
  end_nest(r, nest);
  nest = put(r, IPVS_CMD_ATTR_DEST | NLA_F_NESTED, NULL, 0);
  unsigned char addr[16] = {198, 51, 100, (unsigned char)j};
  put16(r, IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
  put(r, IPVS_DEST_ATTR_ADDR, addr, 16);
  put16(r, IPVS_DEST_ATTR_PORT, htons(80));
  put32(r, IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_MASQ);
  put32(r, IPVS_DEST_ATTR_WEIGHT, j);
  put32(r, IPVS_DEST_ATTR_U_THRESH, 0);
  put32(r, IPVS_DEST_ATTR_L_THRESH, 0);
  end_nest(r, nest);
  out_len += NLMSG_ALIGN(r->nlmsg_len);
}

static int fd;
static char in[WINDOW * ANSWER];

// Sends the window in `out` and reads one answer per request.
static void flush(int requests) {
  if (requests == 0) return;
  if (send(fd, out, out_len, 0) != (ssize_t)out_len) die("send");
  out_len = 0;
  struct iovec iov[WINDOW];
  struct mmsghdr msgs[WINDOW];
  int answered = 0;
  while (answered < requests) {
    int slots = requests - answered;
    for (int k = 0; k < slots; k++) {
      iov[k].iov_base = in + k * ANSWER;
      iov[k].iov_len = ANSWER;
      memset(&msgs[k], 0, sizeof msgs[k]);
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, slots, 0, NULL);
    if (n < 0) die("recvmmsg");
    for (int k = 0; k < n; k++) {
      struct nlmsghdr* h = (struct nlmsghdr*)(in + k * ANSWER);
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      struct nlmsgerr* e = NLMSG_DATA(h);
      if (e->error) {
        errno = -e->error;
        die("kernel");
      }
      answered++;
    }
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: floor-apply SERVICES DESTS\n");
    return 2;
  }
  long services = atol(argv[1]);
  int dests = atoi(argv[2]);
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) die("socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0) die("connect");
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

  // The family, asked of the controller.
  struct nlmsghdr* r = start(GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
  put(r, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
  if (send(fd, out, r->nlmsg_len, 0) < 0) die("send");
  int family = 0;
  int n = recv(fd, in, sizeof in, 0);
  for (struct nlmsghdr* h = (struct nlmsghdr*)in; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
    if (h->nlmsg_type != GENL_ID_CTRL) continue;
    struct nlattr* a = (struct nlattr*)((char*)NLMSG_DATA(h) + GENL_HDRLEN);
    int len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
    for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len), a = (struct nlattr*)((char*)a + NLA_ALIGN(a->nla_len)))
      if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) family = *(unsigned short*)((char*)a + NLA_HDRLEN);
  }
  if (!family) die("IPVS family");
  while (recv(fd, in, sizeof in, MSG_DONTWAIT) > 0) {
  }  // the ACK
  out_len = 0;

  long long t0 = now();
  int pending = 0;
  for (long i = 0; i < services; i++) {
    add_service(family, i);
    if (++pending == WINDOW) flush(pending), pending = 0;
  }
  for (long i = 0; i < services; i++)
    for (int j = 1; j <= dests; j++) {
      add_dest(family, i, j);
      if (++pending == WINDOW) flush(pending), pending = 0;
    }
  flush(pending);
  printf("%lld\n", now() - t0);
  return 0;
}
