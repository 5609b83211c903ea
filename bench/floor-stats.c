// The floor for stats snapshots: the same 1 + N generic netlink dumps as
// ipvs.packedSnapshot() (every service, then each service's destinations),
// decoding nothing beyond what the next request needs (the service nest is
// sent back as it came). With SOCKETS > 1 the destination dumps are spread as
// the library's pool spreads them (native/snapshot.cc): the sockets are opened
// once, the services are dumped on the first, and each round starts one thread
// per socket, each dumping a contiguous slice of the services on its own
// socket with its own buffer. Every receive asks for a page (8 KiB at most),
// as the library's do: the kernel sizes a dump's buffers by the largest
// receive the socket made, and clears them, so a larger receive costs the
// kernel more than the dump (native/netlink.cc), and one system call takes
// several of them, as the library's do. Prints one line per round:
// the elapsed nanoseconds, the services and the destinations seen.
//
//   floor-stats RUNS [SOCKETS]   (SOCKETS: default 1)
#define _GNU_SOURCE
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 16

// One socket with its own buffers, owned by one thread at a time.
struct conn {
  int fd;
  unsigned seq;
  char buf[65536];
  char req[4096];
};

// A page, or 8 KiB where pages are larger.
static size_t recv_size(void) {
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 && page < 8192 ? (size_t)page : 8192;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static long long now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Datagrams per receive, as the library's exchanges take them (native/netlink.cc).
#ifndef SLOTS
#define SLOTS 4
#endif
_Static_assert(SLOTS >= 1 && SLOTS * 8192 <= sizeof(((struct conn*)0)->buf), "SLOTS pages must fit a conn's buffer");

// Sends the request in c->req and calls `each` for every data message until
// DONE or the ACK. Its datagrams are received SLOTS at a time, each slot a
// page: recvmmsg waits for the first and takes those that follow it.
static void exchange(struct conn* c, int dump, void (*each)(struct nlmsghdr*, void*), void* arg) {
  struct nlmsghdr* r = (struct nlmsghdr*)c->req;
  r->nlmsg_seq = ++c->seq;
  if (send(c->fd, c->req, r->nlmsg_len, 0) < 0) die("send");
  size_t slot = recv_size();
  struct iovec iov[SLOTS];
  struct mmsghdr msgs[SLOTS];
  for (;;) {
    for (int k = 0; k < SLOTS; k++) {
      iov[k] = (struct iovec){c->buf + k * slot, slot};
      msgs[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[k], .msg_iovlen = 1}};
    }
    int got = recvmmsg(c->fd, msgs, SLOTS, MSG_WAITFORONE, NULL);
    if (got < 0) die("recvmmsg");
    for (int k = 0; k < got; k++) {
      int n = (int)msgs[k].msg_len;
      for (struct nlmsghdr* h = iov[k].iov_base; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
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
        each(h, arg);
      }
    }
  }
}

static struct nlmsghdr* start(struct conn* c, int type, int cmd, int flags) {
  memset(c->req, 0, sizeof c->req);
  struct nlmsghdr* r = (struct nlmsghdr*)c->req;
  r->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
  r->nlmsg_type = type;
  r->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  struct genlmsghdr* g = NLMSG_DATA(r);
  g->cmd = cmd;
  g->version = 1;
  return r;
}

static void put(struct conn* c, int type, const void* data, int len) {
  struct nlmsghdr* r = (struct nlmsghdr*)c->req;
  struct nlattr* a = (struct nlattr*)(c->req + NLMSG_ALIGN(r->nlmsg_len));
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy((char*)a + NLA_HDRLEN, data, len);
  r->nlmsg_len = NLMSG_ALIGN(r->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void open_conn(struct conn* c) {
  c->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (c->fd < 0) die("socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (connect(c->fd, (struct sockaddr*)&sa, sizeof sa) < 0) die("connect");
}

static int family;
static void on_family(struct nlmsghdr* h, void* arg) {
  (void)arg;
  struct nlattr* a = (struct nlattr*)((char*)NLMSG_DATA(h) + GENL_HDRLEN);
  int len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
  for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len), a = (struct nlattr*)((char*)a + NLA_ALIGN(a->nla_len)))
    if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) family = *(unsigned short*)((char*)a + NLA_HDRLEN);
}

// The service nests of the last dump, back to back, and where each starts.
static char* nests;
static size_t nests_len, nests_cap;
static size_t* starts;
static size_t services, starts_cap;
static void on_service(struct nlmsghdr* h, void* arg) {
  (void)arg;
  struct nlattr* a = (struct nlattr*)((char*)NLMSG_DATA(h) + GENL_HDRLEN);
  size_t len = NLA_ALIGN(a->nla_len);
  if (nests_len + len > nests_cap) nests = realloc(nests, nests_cap = (nests_len + len) * 2);
  if (services == starts_cap) starts = realloc(starts, (starts_cap = starts_cap * 2 + 64) * sizeof *starts);
  if (!nests || !starts) die("realloc");
  memcpy(nests + nests_len, a, len);
  starts[services++] = nests_len;
  nests_len += len;
}
static void on_dest(struct nlmsghdr* h, void* arg) {
  (void)h;
  ++*(size_t*)arg;
}

// One slice of the services' destination dumps, on one socket.
struct slice {
  struct conn* conn;
  size_t from, to, dests;
  pthread_t thread;
};

static void* dump_slice(void* arg) {
  struct slice* s = arg;
  s->dests = 0;
  for (size_t i = s->from; i < s->to; i++) {
    struct nlattr* nest = (struct nlattr*)(nests + starts[i]);
    start(s->conn, family, IPVS_CMD_GET_DEST, NLM_F_DUMP);
    put(s->conn, IPVS_CMD_ATTR_SERVICE, (char*)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN);
    exchange(s->conn, 1, on_dest, &s->dests);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 1;
  int sockets = argc > 2 ? atoi(argv[2]) : 1;
  if (runs < 1 || sockets < 1 || sockets > MAX_SOCKETS) {
    fprintf(stderr, "usage: floor-stats RUNS [SOCKETS (1 to %d)]\n", MAX_SOCKETS);
    return 2;
  }
  static struct conn conns[MAX_SOCKETS];
  for (int k = 0; k < sockets; k++) open_conn(&conns[k]);
  start(&conns[0], GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  put(&conns[0], CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
  exchange(&conns[0], 0, on_family, NULL);
  if (!family) die("IPVS family");
  struct slice slices[MAX_SOCKETS];
  for (int run = 0; run < runs; run++) {
    long long t0 = now();
    nests_len = services = 0;
    start(&conns[0], family, IPVS_CMD_GET_SERVICE, NLM_F_DUMP);
    exchange(&conns[0], 1, on_service, NULL);
    size_t dests = 0;
    if (sockets == 1) {
      slices[0] = (struct slice){.conn = &conns[0], .from = 0, .to = services};
      dump_slice(&slices[0]);
      dests = slices[0].dests;
    } else {
      for (int k = 0; k < sockets; k++) {
        slices[k] =
            (struct slice){.conn = &conns[k], .from = k * services / sockets, .to = (k + 1) * services / sockets};
        errno = pthread_create(&slices[k].thread, NULL, dump_slice, &slices[k]);
        if (errno) die("pthread_create");
      }
      for (int k = 0; k < sockets; k++) {
        pthread_join(slices[k].thread, NULL);
        dests += slices[k].dests;
      }
    }
    printf("%lld %zu %zu\n", now() - t0, services, dests);
  }
  return 0;
}
