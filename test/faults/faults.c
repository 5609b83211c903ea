// Fault injection for tests: an LD_PRELOAD library that makes chosen calls
// fail on chosen occurrences, so that tests can prove what the library does
// when the system misbehaves. Built by test/helpers/faults.ts; never shipped.
//
// The faults are read from the environment variable IPVS_FAULT at each
// intercepted call (Node's process.env writes the real environment), as
// `CALL:SKIP:COUNT:ACTION` items separated by `;`: of the calls to CALL made
// since the variable last changed, the first SKIP pass and the next COUNT
// fail with ACTION. ACTION is an errno name (EINTR, EIO, EAGAIN, ENOBUFS,
// EMFILE, ENOMEM), or for recvmsg `drop` (the datagram is read and lost:
// a reply that never comes) and `corrupt` (the first attribute of the first
// message is cut to nothing: a reply that does not decode), and for any call
// `stall` (it waits 300 ms, then goes ahead: a slow kernel).
//
// Only the addon's own traffic is touched: recvmsg and sendto on netlink
// sockets, read on descriptors of /proc files, openat of /proc paths;
// pthread_create is touched whoever calls it, so tests arm it briefly.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kCalls = 6, kMaxSpec = 1024 };
static const char* const kNames[kCalls] = {"recvmsg", "sendto", "read", "openat", "pthread_create", "socket"};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char armed[kMaxSpec];  // the value of IPVS_FAULT the counters belong to
static long counted[kCalls];  // calls seen since it was set

// What the call `which` must do now: 0 to go ahead, else the action (an
// errno, or one of the negative codes below).
enum { kDrop = -1, kCorrupt = -2, kStall = -3 };

static int ErrnoNamed(const char* name) {
  static const struct {
    const char* name;
    int value;
  } table[] = {{"EINTR", EINTR},   {"EIO", EIO},       {"EAGAIN", EAGAIN}, {"ENOBUFS", ENOBUFS},
               {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM}, {"EPERM", EPERM},   {"ECONNRESET", ECONNRESET}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0) return table[i].value;
  if (strcmp(name, "drop") == 0) return kDrop;
  if (strcmp(name, "corrupt") == 0) return kCorrupt;
  if (strcmp(name, "stall") == 0) return kStall;
  return 0;
}

static int Decide(int which) {
  const char* spec = getenv("IPVS_FAULT");
  if (spec == NULL) spec = "";
  int action = 0;
  pthread_mutex_lock(&mu);
  if (*spec == '\0') {
    // Disarmed: the same faults armed again later count afresh.
    armed[0] = '\0';
    pthread_mutex_unlock(&mu);
    return 0;
  }
  if (strncmp(spec, armed, sizeof armed) != 0) {
    snprintf(armed, sizeof armed, "%s", spec);
    memset(counted, 0, sizeof counted);
  }
  long n = counted[which]++;
  char copy[kMaxSpec];
  snprintf(copy, sizeof copy, "%s", armed);
  char* save = NULL;
  for (char* item = strtok_r(copy, ";", &save); item != NULL; item = strtok_r(NULL, ";", &save)) {
    char name[32], what[32];
    long skip, count;
    if (sscanf(item, "%31[^:]:%ld:%ld:%31s", name, &skip, &count, what) != 4) continue;
    if (strcmp(name, kNames[which]) != 0) continue;
    if (n >= skip && n < skip + count) action = ErrnoNamed(what);
  }
  pthread_mutex_unlock(&mu);
  if (action == kStall) {
    usleep(300 * 1000);
    action = 0;
  }
  return action;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

static int IsNetlink(int fd) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  return getsockname(fd, (struct sockaddr*)&addr, &len) == 0 && addr.ss_family == AF_NETLINK;
}

static int IsProc(int fd) {
  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  // /proc/<pid>/net/... and /proc/sys/...: what readlink shows of /proc files.
  return strncmp(target, "/proc/", 6) == 0;
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  int action = IsNetlink(fd) ? Decide(0) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  ssize_t n = REAL(recvmsg)(fd, msg, flags);
  if (n <= 0 || action == 0) return n;
  if (action == kDrop) {
    errno = EAGAIN;
    return -1;
  }
  // kCorrupt: the first message's first attribute (after the genl header)
  // becomes an empty one of the same type.
  struct nlmsghdr* hdr = msg->msg_iov[0].iov_base;
  if ((size_t)n >= NLMSG_HDRLEN + 4 + 4 && hdr->nlmsg_type >= NLMSG_MIN_TYPE) {
    struct nlattr* attr = (struct nlattr*)((char*)hdr + NLMSG_HDRLEN + 4);
    attr->nla_len = 4;
  }
  return n;
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr, socklen_t addrlen) {
  int action = IsNetlink(fd) ? Decide(1) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  return REAL(sendto)(fd, buf, len, flags, addr, addrlen);
}

ssize_t read(int fd, void* buf, size_t count) {
  int action = getenv("IPVS_FAULT") != NULL && IsProc(fd) ? Decide(2) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  return REAL(read)(fd, buf, count);
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  int action = strncmp(path, "/proc/", 6) == 0 ? Decide(3) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  return REAL(openat)(dirfd, path, flags, mode);
}

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return openat(AT_FDCWD, path, flags, mode);
}

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  int action = Decide(4);
  if (action > 0) return action;
  return REAL(pthread_create)(thread, attr, start, arg);
}

int socket(int domain, int type, int protocol) {
  int action = domain == AF_NETLINK ? Decide(5) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  return REAL(socket)(domain, type, protocol);
}

// The other names the C library gives the same calls.
int open64(const char* path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char* path, int flags, ...) __attribute__((alias("openat")));
int __open_2(const char* path, int flags) { return openat(AT_FDCWD, path, flags); }
int __open64_2(const char* path, int flags) { return openat(AT_FDCWD, path, flags); }
ssize_t __read_chk(int fd, void* buf, size_t count, size_t size) {
  (void)size;
  return read(fd, buf, count);
}
