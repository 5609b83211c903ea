// Fault injection for tests: an LD_PRELOAD library that makes chosen calls
// fail on chosen occurrences, so that tests can prove what the library does
// when the system misbehaves. Built by test/helpers/faults.ts; never shipped.
//
// The faults are read from the environment variable IPVS_FAULT at each
// intercepted call (Node's process.env writes the real environment), as
// `CALL:SKIP:COUNT:ACTION` items separated by `;`: of the calls to CALL made
// since the variable last changed, the first SKIP pass and the next COUNT
// fail with ACTION. ACTION is an errno name (EINTR, EIO, EAGAIN, ENOBUFS,
// EMFILE, ENOMEM, ...), or:
// - `short` for read, write, sendto, sendmsg, recvmsg and recvmmsg: a short
//   transfer (read and write move half of what was asked, at least a byte;
//   sendto and sendmsg send nothing and say they sent half; recvmsg receives
//   into half of the buffer, so that a datagram larger than that is
//   truncated; recvmmsg receives one datagram so);
// - `drop` for recvmsg: the datagram is read and lost (a reply that never
//   comes);
// - `corrupt` for recvmsg and recvmmsg: the first attribute of the first
//   message (of the first datagram) is cut to nothing (a reply that does not
//   decode);
// - `stall` for any call: it waits 300 ms, then goes ahead (a slow kernel).
// With IPVS_FAULT_TRACE set, each injected fault prints its stack to stderr.
//
// - `drop` for recvmmsg: the first datagram it would return is read and lost.
//
// Only the addon's own traffic is touched: recvmsg (libnl's, which resolves
// the IPVS family), recvmmsg (the replies of every exchange and the answers to
// pipelined changes), sendto and sendmsg on netlink sockets (libnl sends with sendmsg, the addon with sendto); read and
// write on descriptors of /proc files; openat of /proc paths; socket for
// netlink and raw sockets (the legacy back-end's). Unit tests, on a host
// without IPVS, read files of their own in place of the connection table:
// paths under $IPVS_FAULT_DIR count as /proc paths for read, write and
// openat. pthread_create is touched whoever calls it, so tests arm it briefly.
//
// Allocations: `new` is C++'s operator new (plain and array, throwing and
// nothrow) and `malloc` is malloc, calloc and realloc, each counted and failed
// only when called from the addon's own code or from libnl, which only the
// addon uses: the caller is the return address of the intercepted call, and
// the executable segments of ipvs.node, libnl-3 and libnl-genl-3 are looked up
// when a library is loaded (dlopen, intercepted too). Node and V8 allocate
// through the same functions from their own code and are never failed, so an
// armed fault hits only work done on the addon's behalf. A failed operator new
// throws std::bad_alloc (libstdc++'s own __throw_bad_alloc, so it unwinds
// through this C frame: built with -fexceptions); the nothrow forms and malloc
// return NULL. What libstdc++ allocates inside its own out-of-line functions
// (std::string's buffers) has libstdc++ as its caller and is not counted.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kRecvmsg, kSendto, kRead, kOpenat, kPthreadCreate, kSocket, kWrite, kSendmsg, kNew, kMalloc, kRecvmmsg, kCalls };
static const char* const kNames[kCalls] = {"recvmsg", "sendto",  "read", "openat", "pthread_create", "socket",
                                           "write",   "sendmsg", "new",  "malloc", "recvmmsg"};
enum { kMaxSpec = 1024 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char armed[kMaxSpec];  // the value of IPVS_FAULT the counters belong to
static long counted[kCalls];  // calls seen since it was set

// What the call `which` must do now: 0 to go ahead, else the action (an
// errno, or one of the negative codes below).
enum { kDrop = -1, kCorrupt = -2, kStall = -3, kShort = -4 };

static int ErrnoNamed(const char* name) {
  static const struct {
    const char* name;
    int value;
  } table[] = {
      {"EINTR", EINTR},   {"EIO", EIO},       {"EAGAIN", EAGAIN}, {"ENOBUFS", ENOBUFS}, {"EMFILE", EMFILE},
      {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM}, {"EPERM", EPERM},   {"EBUSY", EBUSY},     {"ECONNRESET", ECONNRESET}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0) return table[i].value;
  if (strcmp(name, "drop") == 0) return kDrop;
  if (strcmp(name, "corrupt") == 0) return kCorrupt;
  if (strcmp(name, "stall") == 0) return kStall;
  if (strcmp(name, "short") == 0) return kShort;
  return 0;
}

// Whether any fault is armed: the intercepted calls look no further when not.
static int Armed(void) {
  const char* spec = getenv("IPVS_FAULT");
  return spec != NULL && *spec != '\0';
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
    char* fields[4];
    char* rest = NULL;
    int k = 0;
    for (char* f = strtok_r(item, ":", &rest); f != NULL && k < 4; f = strtok_r(NULL, ":", &rest)) fields[k++] = f;
    if (k != 4 || strcmp(fields[0], kNames[which]) != 0) continue;
    long skip = strtol(fields[1], NULL, 10), count = strtol(fields[2], NULL, 10);
    if (n >= skip && n < skip + count) action = ErrnoNamed(fields[3]);
  }
  pthread_mutex_unlock(&mu);
  if (action != 0 && getenv("IPVS_FAULT_TRACE") != NULL) {
    // For finding where a fault struck: the stack of each injected one.
    void* frames[32];
    fprintf(stderr, "faults: %s #%ld: %s\n", kNames[which], n, spec);
    backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
  }
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

// /proc paths, and the test's own stand-ins under $IPVS_FAULT_DIR.
static int IsTargetPath(const char* path) {
  if (strncmp(path, "/proc/", 6) == 0) return 1;
  const char* dir = getenv("IPVS_FAULT_DIR");
  return dir != NULL && *dir != '\0' && strncmp(path, dir, strlen(dir)) == 0;
}

static int IsTargetFd(int fd) {
  char link[64], target[512];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  // /proc/<pid>/net/... and /proc/sys/...: what readlink shows of /proc files.
  return IsTargetPath(target);
}

// --- the addon's code, for allocations ---------------------------------------

enum { kMaxRanges = 64 };
static struct { uintptr_t start, end; } ranges[kMaxRanges];
static int rangeCount;  // entries below it are complete and never change
static pthread_mutex_t rangesMu = PTHREAD_MUTEX_INITIALIZER;

static int AddRanges(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  (void)data;
  const char* name = info->dlpi_name;
  if (name == NULL || (strstr(name, "ipvs.node") == NULL && strstr(name, "libnl-3.so") == NULL &&
                       strstr(name, "libnl-genl-3.so") == NULL))
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
    int n = __atomic_load_n(&rangeCount, __ATOMIC_ACQUIRE), known = 0;
    for (int j = 0; j < n; j++) known |= ranges[j].start == start;
    if (known || n == kMaxRanges) continue;
    ranges[n].start = start;
    ranges[n].end = end;
    __atomic_store_n(&rangeCount, n + 1, __ATOMIC_RELEASE);
  }
  return 0;
}

// Looks the addon and libnl up again: after each dlopen (node loads the addon
// with it, and libnl with the addon). Ranges of a library unloaded later stay:
// the addon is never unloaded.
static void FindTargets(void) {
  pthread_mutex_lock(&rangesMu);
  dl_iterate_phdr(AddRanges, NULL);
  pthread_mutex_unlock(&rangesMu);
}

static int FromTarget(const void* caller) {
  int n = __atomic_load_n(&rangeCount, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    if ((uintptr_t)caller >= ranges[i].start && (uintptr_t)caller < ranges[i].end) return 1;
  return 0;
}

// Whether an allocation by `caller` fails now.
static int AllocationFails(int which, const void* caller) {
  return __atomic_load_n(&rangeCount, __ATOMIC_ACQUIRE) > 0 && FromTarget(caller) && Armed() && Decide(which) != 0;
}

void* dlopen(const char* file, int mode) {
  static void* (*real)(const char*, int);
  if (real == NULL) real = (void* (*)(const char*, int))dlsym(RTLD_NEXT, "dlopen");
  void* handle = real(file, mode);
  if (handle != NULL) FindTargets();
  return handle;
}

// --- operator new and malloc -------------------------------------------------

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);

// libstdc++'s operators, found on first use (libstdc++'s own start-up
// allocates before any constructor of ours could run).
static void* (*LibstdcxxNew(int array))(size_t) {
  static void* (*real[2])(size_t);
  void* (*f)(size_t) = __atomic_load_n(&real[array], __ATOMIC_ACQUIRE);
  if (f == NULL) {
    f = (void* (*)(size_t))dlsym(RTLD_NEXT, array ? "_Znam" : "_Znwm");
    __atomic_store_n(&real[array], f, __ATOMIC_RELEASE);
  }
  return f;
}

__attribute__((noreturn)) static void ThrowBadAlloc(void) {
  void (*thrower)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
  if (thrower != NULL) thrower();
  abort();  // no libstdc++: no C++ caller either
}

void* _Znwm(size_t n) {
  if (AllocationFails(kNew, __builtin_return_address(0))) ThrowBadAlloc();
  return LibstdcxxNew(0)(n);
}

void* _Znam(size_t n) {
  if (AllocationFails(kNew, __builtin_return_address(0))) ThrowBadAlloc();
  return LibstdcxxNew(1)(n);
}

// The nothrow forms (the second argument is a std::nothrow_t reference).
void* _ZnwmRKSt9nothrow_t(size_t n, const void* tag) {
  (void)tag;
  if (AllocationFails(kNew, __builtin_return_address(0))) return NULL;
  return __libc_malloc(n != 0 ? n : 1);
}

void* _ZnamRKSt9nothrow_t(size_t n, const void* tag) {
  (void)tag;
  if (AllocationFails(kNew, __builtin_return_address(0))) return NULL;
  return __libc_malloc(n != 0 ? n : 1);
}

void* malloc(size_t n) {
  if (AllocationFails(kMalloc, __builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_malloc(n);
}

void* calloc(size_t n, size_t size) {
  if (AllocationFails(kMalloc, __builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_calloc(n, size);
}

void* realloc(void* p, size_t n) {
  if (n != 0 && AllocationFails(kMalloc, __builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_realloc(p, n);
}

// --- system calls ------------------------------------------------------------

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  int action = Armed() && IsNetlink(fd) ? Decide(kRecvmsg) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kShort && msg->msg_iovlen > 0 && msg->msg_iov[0].iov_len > 1) {
    size_t len = msg->msg_iov[0].iov_len;
    msg->msg_iov[0].iov_len = len / 2;
    ssize_t n = REAL(recvmsg)(fd, msg, flags);
    msg->msg_iov[0].iov_len = len;
    return n;
  }
  ssize_t n = REAL(recvmsg)(fd, msg, flags);
  if (n <= 0 || action == 0 || action == kShort) return n;
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

int recvmmsg(int fd, struct mmsghdr* msgs, unsigned int vlen, int flags, struct timespec* timeout) {
  int action = Armed() && IsNetlink(fd) ? Decide(kRecvmmsg) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kDrop && vlen > 0) {
    // One datagram is read and lost (an answer that never comes).
    int n = REAL(recvmmsg)(fd, msgs, 1, flags, timeout);
    if (n <= 0) return n;
    errno = EAGAIN;
    return -1;
  }
  if (action == kShort && vlen > 0 && msgs[0].msg_hdr.msg_iovlen > 0 && msgs[0].msg_hdr.msg_iov[0].iov_len > 1) {
    // The first datagram into half of its buffer (truncated when larger), alone.
    size_t len = msgs[0].msg_hdr.msg_iov[0].iov_len;
    msgs[0].msg_hdr.msg_iov[0].iov_len = len / 2;
    int n = REAL(recvmmsg)(fd, msgs, 1, flags, timeout);
    msgs[0].msg_hdr.msg_iov[0].iov_len = len;
    return n;
  }
  int n = REAL(recvmmsg)(fd, msgs, vlen, flags, timeout);
  if (n > 0 && action == kCorrupt) {
    // As for recvmsg: the first message of the first datagram.
    struct nlmsghdr* hdr = msgs[0].msg_hdr.msg_iov[0].iov_base;
    if (msgs[0].msg_len >= NLMSG_HDRLEN + 4 + 4 && hdr->nlmsg_type >= NLMSG_MIN_TYPE) {
      struct nlattr* attr = (struct nlattr*)((char*)hdr + NLMSG_HDRLEN + 4);
      attr->nla_len = 4;
    }
  }
  return n;
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr, socklen_t addrlen) {
  int action = Armed() && IsNetlink(fd) ? Decide(kSendto) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kShort) return (ssize_t)(len / 2);  // nothing reaches the kernel
  return REAL(sendto)(fd, buf, len, flags, addr, addrlen);
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  int action = Armed() && IsNetlink(fd) ? Decide(kSendmsg) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kShort) {
    size_t len = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) len += msg->msg_iov[i].iov_len;
    return (ssize_t)(len / 2);
  }
  return REAL(sendmsg)(fd, msg, flags);
}

ssize_t read(int fd, void* buf, size_t count) {
  int action = Armed() && IsTargetFd(fd) ? Decide(kRead) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kShort && count > 1) count /= 2;
  return REAL(read)(fd, buf, count);
}

ssize_t write(int fd, const void* buf, size_t count) {
  int action = Armed() && IsTargetFd(fd) ? Decide(kWrite) : 0;
  if (action > 0) {
    errno = action;
    return -1;
  }
  if (action == kShort && count > 1) count /= 2;
  return REAL(write)(fd, buf, count);
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  int action = Armed() && IsTargetPath(path) ? Decide(kOpenat) : 0;
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
  int action = Armed() ? Decide(kPthreadCreate) : 0;
  if (action > 0) return action;
  return REAL(pthread_create)(thread, attr, start, arg);
}

int socket(int domain, int type, int protocol) {
  int action = Armed() && (domain == AF_NETLINK || (type & 0xf) == SOCK_RAW) ? Decide(kSocket) : 0;
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

// Libraries loaded before this one's first dlopen (none, when node loads the addon).
__attribute__((constructor)) static void Start(void) { FindTargets(); }
