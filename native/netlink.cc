#include "netlink.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>

#include "reply.h"
#include "request.h"
#include "stop.h"

namespace ipvs {

namespace {

// The receive buffer: a page, or 8 KiB where pages are larger. The kernel
// sizes each dump's skbs by the largest receive a socket has made (up to
// 32 KiB), and clears their pages (init_on_alloc): with a 64 KiB buffer, two
// 32 KiB skbs per dump, even of ten destinations, cost the kernel more than
// the dump itself (half of a snapshot's time in the lab was clear_page).
// With receives of this size its skbs are its smallest, NLMSG_GOODSIZE (a
// page less the skb's overhead, or 8 KiB less it), and every reply fits:
// IPVS's own replies are sized NLMSG_DEFAULT_SIZE, below that.
size_t ReceiveBufferSize() {
  static const size_t size = std::min<size_t>(static_cast<size_t>(sysconf(_SC_PAGESIZE)), 8192);
  return size;
}
// Datagrams taken by one receive of an exchange (GenlSocket::ExchangeOnce).
constexpr size_t kReceiveSlots = 4;
// Room for the largest request (a full service or destination nest).
constexpr size_t kRequestSize = 512;
// How often a dump interrupted by a concurrent change is started again.
constexpr int kDumpRetries = 8;

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Runs `modprobe -q -- ip_vs` and waits for it, as ipvsadm does when the IPVS
// family is missing. Only the system's own modprobe, with a fixed PATH and no
// other variable of the caller's environment. The outcome does not matter:
// the family is resolved again.
void ModprobeIpvs() {
  const char* path = nullptr;
  for (const char* candidate : {"/sbin/modprobe", "/usr/sbin/modprobe"}) {
    if (access(candidate, X_OK) == 0) {
      path = candidate;
      break;
    }
  }
  if (path == nullptr) return;
  char arg0[] = "modprobe", quiet[] = "-q", dashes[] = "--", name[] = "ip_vs";
  char* argv[] = {arg0, quiet, dashes, name, nullptr};
  char env0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {env0, nullptr};
  pid_t pid;
  if (posix_spawn(&pid, path, nullptr, nullptr, argv, envp) != 0) return;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The errno behind one of libnl's codes, for the few a connect can return.
int ErrnoOfNl(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    case NLE_PROTO_MISMATCH:
      return EPROTONOSUPPORT;
    case NLE_BAD_SOCK:
      return EBADF;
    case NLE_AGAIN:
      return EAGAIN;
    default:
      return EIO;
  }
}

// IPVS's family id, or -1 when the kernel has no such family. Any other
// failure of the exchange with the controller throws its own errno: a socket
// that fails (EIO, ENOBUFS) or memory that runs out is not a kernel without
// IPVS. libnl's resolve says NLE_OBJ_NOTFOUND for all of them alike; errno
// tells them apart (the kernel's own "no such family" leaves it alone, and
// libnl retries EINTR itself).
int ResolveOnce(nl_sock* sock, int timeoutMs) {
  errno = 0;
  int family = genl_ctrl_resolve(sock, IPVS_GENL_NAME);
  if (family >= 0) return family;
  int e = errno;
  if (e == 0 || e == EINTR) {
    if (family == -NLE_OBJ_NOTFOUND) return -1;
    e = ErrnoOfNl(family);
  }
  // libnl's receive waits for at most the client's timeout (SO_RCVTIMEO).
  if (e == EAGAIN || e == EWOULDBLOCK)
    throw KernelError(ETIMEDOUT, "the kernel did not answer within " + std::to_string(timeoutMs) +
                                     " ms (the client's timeout) while resolving the IPVS family");
  ThrowErrno(e, "resolving the generic netlink family IPVS");
}

int ResolveFamily(nl_sock* sock, bool modprobe, int timeoutMs) {
  int family = ResolveOnce(sock, timeoutMs);
  if (family >= 0) return family;
  if (modprobe) {
    ModprobeIpvs();
    family = ResolveOnce(sock, timeoutMs);
    if (family >= 0) return family;
  }
  throw KernelError(ENOPROTOOPT,
                    std::string("IPVS is not available in this kernel: the generic netlink family \"IPVS\" does not "
                                "exist") +
                        (modprobe ? " and `modprobe ip_vs` did not load it" : "") +
                        ". Load the ip_vs module or run a kernel built with CONFIG_IP_VS");
}

// A socket belongs to the namespace of the thread that created it, for its
// lifetime: this runs in the client's namespace (InNetns). A `*family` of 0
// is resolved (a round trip to the controller); a known one is kept.
nl_sock* ConnectSocket(int* family, bool modprobe, int timeoutMs) {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) ThrowErrno(ENOMEM, "nl_socket_alloc");
  errno = 0;
  int err = genl_connect(sock);
  if (err < 0) {
    int errnum = errno != 0 ? errno : ErrnoOfNl(err);
    nl_socket_free(sock);
    ThrowErrno(errnum, "opening a generic netlink socket");
  }
  // libnl's own receive (resolving the family) blocks: the client's deadline
  // bounds it too. Our exchanges poll, and are not affected.
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  setsockopt(nl_socket_get_fd(sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // libnl receives 16 KiB at a time by default, and the kernel would size
  // this socket's dump skbs by that for good (see ReceiveBufferSize): it
  // receives what ours do, peeking first, so that a larger reply still comes.
  nl_socket_set_msg_buf_size(sock, ReceiveBufferSize());
  nl_socket_enable_msg_peek(sock);
  try {
    if (*family == 0) *family = ResolveFamily(sock, modprobe, timeoutMs);
  } catch (...) {
    nl_socket_free(sock);
    throw;
  }
  int one = 1;
  // Best effort: kernels before 4.12 lack extended ACKs, before 4.3 CAP_ACK.
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return sock;
}

}  // namespace

void Stop::ThrowStopped(int errnum) {
  if (errnum == EBADF) throw KernelError(EBADF, "this IPVS client is closed");
  if (errnum == ECANCELED) throw KernelError(ECANCELED, "the operation was aborted");
  ThrowErrno(errnum, "stopped");
}

KernelError ThreadStartError(const std::system_error& e, const char* what) {
  return KernelError(e.code().value() != 0 ? e.code().value() : EAGAIN,
                     std::string("starting ") + what + ": " + e.what());
}

void NameThread(const char* name) { pthread_setname_np(pthread_self(), name); }

Netns::~Netns() {
  if (fd >= 0) close(fd);
}

NetnsPtr OpenNetns(const std::string& path) {
  if (path.empty()) return std::make_shared<const Netns>();
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    ThrowErrno(e, "opening network namespace " + path);
  }
  NetnsPtr ns;
  try {
    ns = std::make_shared<const Netns>(fd);
  } catch (...) {
    close(fd);  // no owner yet
    throw;
  }
  if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    throw KernelError(EINVAL, path +
                                  " is not a network namespace (expected a file such as /run/netns/NAME or "
                                  "/proc/PID/ns/net)");
  return ns;
}

void InNetns(const Netns& ns, const std::function<void()>& f) {
  if (ns.fd < 0) return f();
  std::exception_ptr failure;
  try {
    std::thread worker([&] {
      NameThread("ipvs-netns");
      try {
        if (setns(ns.fd, CLONE_NEWNET) != 0) {
          int e = errno;
          ThrowErrno(e, "entering the client's network namespace");
        }
        f();
      } catch (...) {
        failure = std::current_exception();
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    throw ThreadStartError(e, "a thread to enter the network namespace");
  }  // std::bad_alloc for the thread's state goes on as it is (ENOMEM)
  if (failure) std::rethrow_exception(failure);
}

std::shared_ptr<GenlSocket> GenlSocket::OpenIn(NetnsPtr ns, const SocketOptions& options) {
  std::shared_ptr<GenlSocket> s(new GenlSocket());
  s->netns_ = std::move(ns);
  s->timeoutMs_ = options.timeoutMs;
  s->wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->wakeFd_ < 0) {
    int e = errno;
    ThrowErrno(e, "eventfd");
  }
  s->buf_.resize(kReceiveSlots * ReceiveBufferSize());
  std::lock_guard<std::mutex> lock(s->mu_);
  s->Connect(options.modprobe);
  return s;
}

std::shared_ptr<GenlSocket> GenlSocket::Open(const SocketOptions& options) {
  return OpenIn(OpenNetns(options.netns), options);
}

void GenlSocket::Connect(bool modprobe) {
  if (sock_ != nullptr) nl_socket_free(sock_);
  sock_ = nullptr;
  nl_sock* sock = nullptr;
  int family = 0;  // resolved again: a replaced socket may follow a reload of ip_vs
  InNetns(*netns_, [&] { sock = ConnectSocket(&family, modprobe, timeoutMs_); });
  sock_ = sock;
  family_ = family;
  broken_ = false;
}

std::vector<std::shared_ptr<GenlSocket>> GenlSocket::Pool(size_t n) {
  if (n == 0) n = 1;
  ThrowIfClosed();
  std::lock_guard<std::mutex> lock(poolMu_);
  if (pool_.size() + 1 < n && !closed_) {
    // The siblings take this socket's family (no round trip to the
    // controller each) and are opened together: in another namespace, by
    // one thread that enters it.
    const size_t missing = n - 1 - pool_.size();
    std::vector<std::shared_ptr<GenlSocket>> opened;
    NetnsPtr ns = Namespace();
    InNetns(*ns, [&] {
      for (size_t i = 0; i < missing && !closed_; i++) {
        std::shared_ptr<GenlSocket> s(new GenlSocket());
        s->netns_ = ns;
        s->timeoutMs_ = timeoutMs_;
        s->buf_.resize(kReceiveSlots * ReceiveBufferSize());
        s->wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->wakeFd_ < 0) {
          int e = errno;
          ThrowErrno(e, "eventfd");
        }
        int family = family_;
        s->sock_ = ConnectSocket(&family, false, timeoutMs_);
        s->family_ = family;
        opened.push_back(std::move(s));
      }
    });
    pool_.insert(pool_.end(), opened.begin(), opened.end());
  }
  // Close() does not wait for this lock: if it came meanwhile, the siblings
  // opened here are closed here.
  if (closed_) {
    for (auto& sibling : pool_) sibling->Close();
    pool_.clear();
    Stop::ThrowStopped(EBADF);
  }
  std::vector<std::shared_ptr<GenlSocket>> out{shared_from_this()};
  out.insert(out.end(), pool_.begin(), pool_.begin() + (n - 1));
  return out;
}

std::shared_ptr<GenlSocket> GenlSocket::OpenLegacy(const SocketOptions& options) {
  std::shared_ptr<GenlSocket> s(new GenlSocket());
  s->netns_ = OpenNetns(options.netns);
  int fd = -1;
  InNetns(*s->netns_, [&] {
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd >= 0) return;
    int e = errno;
    // Without CAP_NET_RAW this is where a non-root caller is refused, as in ipvsadm.
    if (e == EPERM || e == EACCES) ThrowVerdict(EPERM);
    ThrowErrno(e, "opening a raw socket for IPVS socket options");
  });
  s->legacyFd_ = fd;
  return s;
}

GenlSocket::~GenlSocket() {
  if (sock_ != nullptr) nl_socket_free(sock_);
  if (legacyFd_ >= 0) close(legacyFd_);
  if (wakeFd_ >= 0) close(wakeFd_);
}

NetnsPtr GenlSocket::Namespace() const {
  NetnsPtr ns = std::atomic_load(&netns_);
  if (!ns || closed_) Stop::ThrowStopped(EBADF);
  return ns;
}

void GenlSocket::ThrowIfClosed() const {
  if (closed_) Stop::ThrowStopped(EBADF);
}

void GenlSocket::Track(const std::shared_ptr<Stop>& stop) {
  {
    std::lock_guard<std::mutex> lock(trackMu_);
    if (!closed_) {
      tracked_.erase(
          std::remove_if(tracked_.begin(), tracked_.end(), [](const std::weak_ptr<Stop>& w) { return w.expired(); }),
          tracked_.end());
      tracked_.push_back(stop);
      return;
    }
  }
  stop->Request(EBADF);
}

void GenlSocket::Close() {
  if (closed_.exchange(true)) return;
  std::vector<std::shared_ptr<GenlSocket>> siblings;
  std::vector<std::weak_ptr<Stop>> tracked;
  {
    std::lock_guard<std::mutex> lock(trackMu_);
    tracked.swap(tracked_);
  }
  {
    // Pool() may hold this lock while it opens a sibling: it then closes
    // what it opened itself (it sees closed_).
    std::unique_lock<std::mutex> lock(poolMu_, std::try_to_lock);
    if (lock.owns_lock()) siblings.swap(pool_);
  }
  for (auto& w : tracked)
    if (auto stop = w.lock()) stop->Request(EBADF);
  for (auto& sibling : siblings) sibling->Close();
  // Readers that still hold the namespace keep it until they stop.
  std::atomic_store(&netns_, NetnsPtr());
  {
    // Wakes an exchange waiting for the kernel; it then sees closed_.
    std::lock_guard<std::mutex> lock(wakeMu_);
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wakeFd_, &one, sizeof one);
    }
  }
  // Free the descriptors now, unless an exchange holds the socket: it frees
  // them itself on its way out (ReleaseIfClosed), within moments.
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (lock.owns_lock()) ReleaseLocked();
}

void GenlSocket::ReleaseLocked() {
  if (sock_ != nullptr) nl_socket_free(sock_);
  sock_ = nullptr;
  if (legacyFd_ >= 0) close(legacyFd_);
  legacyFd_ = -1;
  std::lock_guard<std::mutex> lock(wakeMu_);
  if (wakeFd_ >= 0) close(wakeFd_);
  wakeFd_ = -1;
}

Message GenlSocket::NewRequest(uint8_t cmd, int flags) const {
  // IPVS requests are a few hundred bytes at most: libnl's default is a
  // zeroed page per message, which showed in profiles of snapshots.
  Message msg(nlmsg_alloc_size(512), nlmsg_free);
  if (!msg) ThrowErrno(ENOMEM, "nlmsg_alloc");
  if (genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0, flags, cmd, IPVS_GENL_VERSION) == nullptr)
    ThrowErrno(ENOMEM, "genlmsg_put");
  return msg;
}

void GenlSocket::Exchange(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply,
                          const std::function<void()>& onRestart) {
  // How often a dump interrupted by a concurrent change is started again.
  constexpr int kDumpRetries = 8;
  std::lock_guard<std::mutex> lock(mu_);
  // Whatever happens below, a socket closed meanwhile is freed on the way out.
  ReleaseIfClosed release{*this};
  ThrowIfClosed();
  if (broken_) Connect(false);
  for (int attempt = 0;; attempt++) {
    if (!ExchangeOnce(request, onReply)) return;
    if (attempt == kDumpRetries) throw KernelError(EAGAIN, "the IPVS table kept changing during a dump; try again");
    if (onRestart) onRestart();
  }
}

void GenlSocket::WaitReadable(int fd, int64_t deadline) {
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    int64_t left = deadline - NowMs();
    if (left <= 0) {
      broken_ = true;
      throw KernelError(ETIMEDOUT, "the kernel did not answer within " + std::to_string(timeoutMs_) +
                                       " ms (the client's timeout); the socket is replaced for the next call");
    }
    int n = poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 60000)));
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      broken_ = true;
      ThrowErrno(e, "waiting for the kernel");
    }
    // An answer that came is read even once closed: the call completes.
    if (fds[0].revents != 0) return;
    if (closed_) Stop::ThrowStopped(EBADF);
  }
}

int GenlSocket::Receive(int fd, uint8_t* base, size_t size, size_t count, iovec* iovs, mmsghdr* msgs, sockaddr_nl* from,
                        int64_t& deadline) {
  for (;;) {
    for (size_t k = 0; k < count; k++) {
      iovs[k] = {base + k * size, size};
      msgs[k] = {};
      from[k] = {};
      msgs[k].msg_hdr.msg_name = &from[k];
      msgs[k].msg_hdr.msg_namelen = sizeof from[k];
      msgs[k].msg_hdr.msg_iov = &iovs[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
    if (n >= 0) return n;
    const int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN) {
      if (deadline < 0) deadline = NowMs() + timeoutMs_;
      WaitReadable(fd, deadline);
      continue;
    }
    broken_ = true;
    ThrowErrno(e, "receiving from the kernel");
  }
}

bool GenlSocket::ExchangeOnce(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply) {
  nlmsghdr* req = nlmsg_hdr(request);
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req->nlmsg_seq = ++seq_;
  req->nlmsg_pid = nl_socket_get_local_port(sock_);
  const int fd = nl_socket_get_fd(sock_);
  // Taken at the first wait for the kernel (most replies are there at once):
  // where the clock cannot be read in user space (some virtual machines),
  // each reading is a system call.
  int64_t deadline = -1;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    int e = errno;
    broken_ = true;
    ThrowErrno(e, "sending to the kernel");
  }
  // A netlink datagram goes whole or not at all: anything else leaves the
  // kernel with a part of a request, so the socket is replaced.
  if (static_cast<size_t>(sent) != req->nlmsg_len) {
    broken_ = true;
    throw KernelError(EIO, "sending to the kernel: " + std::to_string(sent) + " of " + std::to_string(req->nlmsg_len) +
                               " bytes sent");
  }

  ReplyReader reader(req->nlmsg_seq, req->nlmsg_pid, dump);
  // Several datagrams per system call: a reply's next part is made while the
  // one before is received (a dump goes on as its reader drains the socket;
  // a doit's ACK follows its answer), so one recvmmsg takes a dump of a few
  // parts and its NLMSG_DONE, or an answer and its ACK, where recvmsg took
  // one each. Each slot is a page, the size every receive asks for.
  const size_t slot = ReceiveBufferSize();
  iovec iovs[kReceiveSlots];
  mmsghdr msgs[kReceiveSlots];
  sockaddr_nl from[kReceiveSlots];
  for (;;) {
    const int n = Receive(fd, buf_.data(), slot, kReceiveSlots, iovs, msgs, from, deadline);
    for (int k = 0; k < n; k++) {
      if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
        broken_ = true;
        throw KernelError(EMSGSIZE, "a netlink reply did not fit the receive buffer");
      }
      ReplyStep step;
      try {
        step = reader.Feed(iovs[k].iov_base, msgs[k].msg_len, from[k].nl_pid, onReply);
      } catch (...) {
        // The rest of a reply that does not parse may still come: start afresh.
        if (reader.malformed()) broken_ = true;
        throw;
      }
      // The reply is whole: nothing after it answers this request.
      if (step != ReplyStep::kMore) return step == ReplyStep::kInterrupted;
    }
  }
}

void GenlSocket::Pipeline(size_t count, size_t window, const std::function<void(size_t, RequestWriter&)>& build,
                          bool stopOnError, const Stop& stop, int32_t* status,
                          const std::function<void(size_t, std::string)>& onRefused) {
  // Room for one answer: an ACK with extended-ack TLVs is a few hundred bytes
  // (a kernel without NETLINK_CAP_ACK echoes the request, up to kRequestSize).
  constexpr size_t kAnswerSize = 1024;
  if (window == 0) window = 1;
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseIfClosed release{*this};
  ThrowIfClosed();
  if (broken_) Connect(false);
  const int fd = nl_socket_get_fd(sock_);
  const uint32_t portid = nl_socket_get_local_port(sock_);
  std::vector<uint8_t> out;
  std::vector<uint8_t> in(std::min(window, count) * kAnswerSize);
  std::vector<iovec> iovs(std::min(window, count));
  std::vector<mmsghdr> msgs(iovs.size());
  std::vector<sockaddr_nl> from(iovs.size());
  bool refused = false;
  for (size_t begin = 0; begin < count && !(refused && stopOnError) && !stop.requested(); begin += window) {
    const size_t end = std::min(count, begin + window);
    const uint32_t first = seq_ + 1;
    out.clear();
    RequestWriter writer(out, static_cast<uint16_t>(family_.load()), portid, seq_);
    for (size_t i = begin; i < end; i++) {
      build(i, writer);
      writer.End();
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      int e = errno;
      broken_ = true;
      ThrowErrno(e, "sending to the kernel");
    }
    for (size_t i = begin; i < end; i++) status[i] = -2;
    if (static_cast<size_t>(sent) != out.size()) {
      broken_ = true;
      throw KernelError(
          EIO, "sending to the kernel: " + std::to_string(sent) + " of " + std::to_string(out.size()) + " bytes sent");
    }
    AckReader reader(first, end - begin, portid);
    auto onAck = [&](size_t index, int errnum, std::string message) {
      status[begin + index] = errnum;
      if (errnum != 0) {
        refused = true;
        onRefused(begin + index, std::move(message));
      }
    };
    int64_t deadline = -1;
    while (reader.answered() < end - begin) {
      const size_t slots = std::min(iovs.size(), end - begin - reader.answered());
      // ENOBUFS, thrown from here: answers overflowed the receive queue and were dropped.
      const int n = Receive(fd, in.data(), kAnswerSize, slots, iovs.data(), msgs.data(), from.data(), deadline);
      for (int k = 0; k < n; k++) {
        if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
          broken_ = true;
          throw KernelError(EMSGSIZE, "a netlink reply did not fit the receive buffer");
        }
        try {
          reader.Feed(in.data() + k * kAnswerSize, msgs[k].msg_len, from[k].nl_pid, onAck);
        } catch (...) {
          broken_ = true;
          throw;
        }
      }
    }
  }
}

}  // namespace ipvs
