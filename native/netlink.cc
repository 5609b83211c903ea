#include "netlink.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

extern char** environ;

namespace ipvs {

namespace {

// Netlink dumps are sent in skbs of up to 32 KiB; twice that leaves room.
constexpr size_t kReceiveBuffer = 64 * 1024;
// Room for the largest request (a full service or destination nest).
constexpr size_t kRequestSize = 512;
// How often a dump interrupted by a concurrent change is started again.
constexpr int kDumpRetries = 8;

std::string Strerror(int errnum) {
  char buf[128];
  // GNU strerror_r returns the message, which may not be `buf`.
  return strerror_r(errnum, buf, sizeof buf);
}

// Runs `modprobe -q -- ip_vs` and waits for it, as ipvsadm does when the IPVS
// family is missing. The outcome does not matter: the family is resolved again.
void ModprobeIpvs() {
  const char* path = access("/sbin/modprobe", X_OK) == 0 ? "/sbin/modprobe" : "modprobe";
  char arg0[] = "modprobe", quiet[] = "-q", dashes[] = "--", name[] = "ip_vs";
  char* argv[] = {arg0, quiet, dashes, name, nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, path, nullptr, nullptr, argv, environ) != 0) return;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

int ResolveFamily(nl_sock* sock) {
  int family = genl_ctrl_resolve(sock, IPVS_GENL_NAME);
  if (family >= 0) return family;
  ModprobeIpvs();
  family = genl_ctrl_resolve(sock, IPVS_GENL_NAME);
  if (family >= 0) return family;
  throw KernelError(ENOPROTOOPT,
                    "IPVS is not available in this kernel: the generic netlink family \"IPVS\" "
                    "does not exist and `modprobe ip_vs` did not load it. Load the ip_vs module "
                    "or run a kernel built with CONFIG_IP_VS");
}

// The part of Open that must run in the target network namespace: a socket
// belongs to the namespace of the thread that created it, for its lifetime.
void Connect(nl_sock** out, int* family) {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) ThrowErrno(ENOMEM, "nl_socket_alloc");
  int err = genl_connect(sock);
  if (err < 0) {
    int errnum = errno != 0 ? errno : EINVAL;
    nl_socket_free(sock);
    ThrowErrno(errnum, "opening a generic netlink socket");
  }
  try {
    *family = ResolveFamily(sock);
  } catch (...) {
    nl_socket_free(sock);
    throw;
  }
  int one = 1;
  // Best effort: kernels before 4.12 lack extended ACKs, before 4.3 CAP_ACK.
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  *out = sock;
}

// Reads NLMSGERR_ATTR_MSG from the TLVs that follow an nlmsgerr.
std::string ExtAckMessage(const nlmsghdr* hdr) {
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  // Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs.
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  if (offset >= hdr->nlmsg_len) return "";
  auto* head = reinterpret_cast<nlattr*>(const_cast<char*>(reinterpret_cast<const char*>(hdr)) +
                                         NLMSG_ALIGN(offset));
  int len = static_cast<int>(hdr->nlmsg_len) - static_cast<int>(NLMSG_ALIGN(offset));
  nlattr* attr;
  int rem;
  nla_for_each_attr(attr, head, len, rem) {
    if (nla_type(attr) == NLMSGERR_ATTR_MSG && nla_len(attr) > 0)
      return std::string(static_cast<const char*>(nla_data(attr)), strnlen(static_cast<const char*>(nla_data(attr)), nla_len(attr)));
  }
  return "";
}

}  // namespace

void ThrowVerdict(int errnum, const std::string& kernelMessage) {
  throw KernelError(errnum, Strerror(errnum), kernelMessage, true);
}

void ThrowErrno(int errnum, const std::string& what) {
  throw KernelError(errnum, what + ": " + Strerror(errnum));
}

std::shared_ptr<GenlSocket> GenlSocket::OpenWith(const std::string& netnsPath, void (*connect)(GenlSocket&)) {
  std::shared_ptr<GenlSocket> s(new GenlSocket());
  if (netnsPath.empty()) {
    connect(*s);
    return s;
  }
  int nsfd = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) ThrowErrno(errno, "opening network namespace " + netnsPath);
  // A short-lived thread enters the namespace, so neither the calling thread
  // nor any other client moves.
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      if (setns(nsfd, CLONE_NEWNET) != 0) ThrowErrno(errno, "entering network namespace " + netnsPath);
      connect(*s);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) {
    close(nsfd);
    std::rethrow_exception(failure);
  }
  s->netnsFd_ = nsfd;
  return s;
}

std::shared_ptr<GenlSocket> GenlSocket::Open(const std::string& netnsPath) {
  return OpenWith(netnsPath, [](GenlSocket& s) {
    s.buf_.resize(kReceiveBuffer);
    Connect(&s.sock_, &s.family_);
  });
}

std::vector<std::shared_ptr<GenlSocket>> GenlSocket::Pool(size_t n) {
  if (n == 0) n = 1;
  std::lock_guard<std::mutex> lock(poolMu_);
  while (pool_.size() + 1 < n) {
    std::string path;
    // The siblings enter this socket's namespace through its descriptor.
    if (netnsFd_ >= 0) path = "/proc/self/fd/" + std::to_string(netnsFd_);
    pool_.push_back(Open(path));
  }
  std::vector<std::shared_ptr<GenlSocket>> out{shared_from_this()};
  out.insert(out.end(), pool_.begin(), pool_.begin() + (n - 1));
  return out;
}

std::shared_ptr<GenlSocket> GenlSocket::OpenLegacy(const std::string& netnsPath) {
  return OpenWith(netnsPath, [](GenlSocket& s) {
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    // Without CAP_NET_RAW this is where a non-root caller is refused, as in ipvsadm.
    if (fd < 0) {
      if (errno == EPERM || errno == EACCES) ThrowVerdict(EPERM);
      ThrowErrno(errno, "opening a raw socket for IPVS socket options");
    }
    s.legacyFd_ = fd;
  });
}

GenlSocket::~GenlSocket() {
  if (sock_ != nullptr) nl_socket_free(sock_);
  if (legacyFd_ >= 0) close(legacyFd_);
  if (netnsFd_ >= 0) close(netnsFd_);
}

void GenlSocket::Close() {
  {
    std::lock_guard<std::mutex> lock(poolMu_);
    for (auto& sibling : pool_) sibling->Close();
    pool_.clear();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (sock_ != nullptr) nl_socket_free(sock_);
  sock_ = nullptr;
  if (legacyFd_ >= 0) close(legacyFd_);
  legacyFd_ = -1;
}

bool GenlSocket::closed() {
  std::lock_guard<std::mutex> lock(mu_);
  return sock_ == nullptr && legacyFd_ < 0;
}

Message GenlSocket::NewRequest(uint8_t cmd, int flags) const {
  // IPVS requests are a few hundred bytes at most: libnl's default is a
  // zeroed page per message, which showed in profiles of snapshots.
  Message msg(nlmsg_alloc_size(kRequestSize), nlmsg_free);
  if (!msg) ThrowErrno(ENOMEM, "nlmsg_alloc");
  if (genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0, flags, cmd, IPVS_GENL_VERSION) == nullptr)
    ThrowErrno(ENOMEM, "genlmsg_put");
  return msg;
}

void GenlSocket::Exchange(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply,
                          const std::function<void()>& onRestart) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sock_ == nullptr) throw KernelError(EBADF, "the IPVS client is closed");
  for (int attempt = 0;; attempt++) {
    if (!ExchangeOnce(request, onReply)) return;
    if (attempt == kDumpRetries)
      throw KernelError(EAGAIN, "the IPVS table kept changing during a dump; try again");
    if (onRestart) onRestart();
  }
}

bool GenlSocket::ExchangeOnce(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply) {
  nlmsghdr* req = nlmsg_hdr(request);
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req->nlmsg_seq = ++seq_;
  req->nlmsg_pid = nl_socket_get_local_port(sock_);
  const int fd = nl_socket_get_fd(sock_);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) ThrowErrno(errno, "sending to the kernel");

  bool interrupted = false;
  for (;;) {
    iovec iov{buf_.data(), buf_.size()};
    sockaddr_nl from{};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(errno, "receiving from the kernel");
    }
    if (mh.msg_flags & MSG_TRUNC) throw KernelError(EMSGSIZE, "a netlink reply did not fit the receive buffer");
    if (from.nl_pid != 0) continue;  // not from the kernel

    int len = static_cast<int>(n);
    for (auto* hdr = reinterpret_cast<nlmsghdr*>(buf_.data()); NLMSG_OK(hdr, len); hdr = NLMSG_NEXT(hdr, len)) {
      if (hdr->nlmsg_seq != req->nlmsg_seq) continue;  // left over from an abandoned exchange
      if (hdr->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      switch (hdr->nlmsg_type) {
        case NLMSG_NOOP:
          continue;
        case NLMSG_DONE:
          if (dump) return interrupted;
          continue;
        case NLMSG_ERROR: {
          if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
            throw KernelError(EBADMSG, "a truncated netlink error message");
          const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
          if (err->error == 0) {
            if (!dump) return false;  // the ACK that ends a doit
            continue;
          }
          ThrowVerdict(-err->error, ExtAckMessage(hdr));
        }
        default:
          if (!interrupted) onReply(hdr);
      }
    }
  }
}

}  // namespace ipvs
