// The floor for stats snapshots: the same 1 + N generic netlink dumps as
// ipvs.packedSnapshot() (every service, then each service's destinations), on
// one socket with one receive buffer, decoding nothing beyond what the next
// request needs (the service nest is sent back as it came). Prints the
// elapsed nanoseconds of each of `runs` rounds, one per line.
//
//   floor-stats RUNS
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

static char buf[65536];
static char req[4096];
static unsigned seq;
static int fd;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Sends the request in `req` and calls `each` for every data message until DONE or the ACK.
static void exchange(int dump, void (*each)(struct nlmsghdr*)) {
  struct nlmsghdr* r = (struct nlmsghdr*)req;
  r->nlmsg_seq = ++seq;
  if (send(fd, req, r->nlmsg_len, 0) < 0) die("send");
  for (;;) {
    int n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) die("recv");
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr* e = NLMSG_DATA(h);
        if (e->error) {
          errno = -e->error;
          die("kernel");
        }
        if (!dump) return;
        continue;
      }
      each(h);
    }
  }
}

static struct nlmsghdr* start(int type, int cmd, int flags) {
  memset(req, 0, sizeof req);
  struct nlmsghdr* r = (struct nlmsghdr*)req;
  r->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
  r->nlmsg_type = type;
  r->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  struct genlmsghdr* g = NLMSG_DATA(r);
  g->cmd = cmd;
  g->version = 1;
  return r;
}

static void put(struct nlmsghdr* r, int type, const void* data, int len) {
  struct nlattr* a = (struct nlattr*)(req + NLMSG_ALIGN(r->nlmsg_len));
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy((char*)a + NLA_HDRLEN, data, len);
  r->nlmsg_len = NLMSG_ALIGN(r->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static int family;
static void on_family(struct nlmsghdr* h) {
  struct nlattr* a = (struct nlattr*)((char*)NLMSG_DATA(h) + GENL_HDRLEN);
  int len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
  for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len), a = (struct nlattr*)((char*)a + NLA_ALIGN(a->nla_len)))
    if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) family = *(unsigned short*)((char*)a + NLA_HDRLEN);
}

// The service nests of the last dump, back to back.
static char* nests;
static size_t nests_len, nests_cap, services, dests;
static void on_service(struct nlmsghdr* h) {
  struct nlattr* a = (struct nlattr*)((char*)NLMSG_DATA(h) + GENL_HDRLEN);
  size_t len = NLA_ALIGN(a->nla_len);
  if (nests_len + len > nests_cap) nests = realloc(nests, nests_cap = (nests_len + len) * 2);
  memcpy(nests + nests_len, a, len);
  nests_len += len;
  services++;
}
static void on_dest(struct nlmsghdr* h) {
  (void)h;
  dests++;
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 1;
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) die("socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0) die("connect");
  struct nlmsghdr* r = start(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  put(r, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
  exchange(0, on_family);
  if (!family) die("IPVS family");
  for (int run = 0; run < runs; run++) {
    long long t0 = now();
    nests_len = services = dests = 0;
    start(family, IPVS_CMD_GET_SERVICE, NLM_F_DUMP);
    exchange(1, on_service);
    for (size_t off = 0; off < nests_len;) {
      struct nlattr* nest = (struct nlattr*)(nests + off);
      r = start(family, IPVS_CMD_GET_DEST, NLM_F_DUMP);
      put(r, IPVS_CMD_ATTR_SERVICE, (char*)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN);
      exchange(1, on_dest);
      off += NLA_ALIGN(nest->nla_len);
    }
    printf("%lld %zu %zu\n", now() - t0, services, dests);
  }
  return 0;
}
