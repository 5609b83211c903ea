// The generic netlink transport shared by every IPVS command.
//
// libnl-3 builds requests and resolves the family; the exchange itself (send,
// receive into one reused buffer, ACK and NLMSG_ERROR handling) is done here,
// because libnl's receive path allocates per datagram and folds the kernel's
// errno into its own codes (NLE_OBJ_NOTFOUND stands for both ESRCH and ENOENT,
// which IPVS uses for different things).
#pragma once

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipvs {

// A failure to hand back to JavaScript: an errno (positive) and a message.
// `fromKernel` marks IPVS's own verdict on a request (an NLMSG_ERROR, or the
// errno of an IP_VS_SO_* socket option), for which the facade prints ipvsadm's
// text; any other failure (a syscall, a malformed reply) keeps its message.
struct KernelError : std::runtime_error {
  int errnum;
  std::string kernelMessage;  // empty unless the kernel sent NLMSGERR_ATTR_MSG
  bool fromKernel = false;
  KernelError(int errnum, const std::string& message, std::string kernelMessage = "", bool fromKernel = false)
      : std::runtime_error(message), errnum(errnum), kernelMessage(std::move(kernelMessage)), fromKernel(fromKernel) {}
};

// An error that is IPVS's verdict on a request, with the C library's text.
[[noreturn]] void ThrowVerdict(int errnum, const std::string& kernelMessage = "");

// Throws KernelError(errnum, "<what>: <strerror>").
[[noreturn]] void ThrowErrno(int errnum, const std::string& what);

// An owned nl_msg, freed on scope exit.
using Message = std::unique_ptr<nl_msg, void (*)(nl_msg*)>;

// One NETLINK_GENERIC socket bound to the IPVS family, opened once per client
// and reused for every request. Exchanges are serialised by a mutex, so two
// worker threads can never interleave their replies on the socket.
class GenlSocket : public std::enable_shared_from_this<GenlSocket> {
 public:
  // Opens the socket in the network namespace at `netnsPath` (empty: the
  // caller's), resolves "IPVS" (running `modprobe ip_vs` once if the family is
  // missing) and enables extended ACKs. Throws KernelError.
  static std::shared_ptr<GenlSocket> Open(const std::string& netnsPath);
  // The legacy back-end instead: a raw IPv4 socket (root only) whose
  // IP_VS_SO_* socket options reach IPVS in that namespace; no netlink.
  static std::shared_ptr<GenlSocket> OpenLegacy(const std::string& netnsPath);
  ~GenlSocket();

  GenlSocket(const GenlSocket&) = delete;
  GenlSocket& operator=(const GenlSocket&) = delete;

  // A request for IPVS command `cmd` with the genl header filled in.
  Message NewRequest(uint8_t cmd, int flags = 0) const;

  // Sends `request` and calls `onReply` for each data message of the reply.
  // A doit ends with the kernel's ACK; a dump (NLM_F_DUMP) ends with
  // NLMSG_DONE. If the kernel marks a dump NLM_F_DUMP_INTR (the table changed
  // under it), `onRestart` is called and the whole dump is sent again, a
  // bounded number of times. Throws KernelError with the kernel's errno.
  void Exchange(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply,
                const std::function<void()>& onRestart = nullptr);

  // Up to `n` netlink sockets for spreading work, this one first, the others
  // opened on first use in the same namespace and kept for later calls.
  std::vector<std::shared_ptr<GenlSocket>> Pool(size_t n);

  // Runs f(fd) on the legacy socket under the same lock as Exchange.
  template <typename F>
  void WithLegacy(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (legacyFd_ < 0) throw KernelError(EBADF, "the IPVS client is closed");
    f(legacyFd_);
  }

  // Closes the socket; later exchanges fail with EBADF. Waits for an
  // exchange in progress to finish.
  void Close();
  bool closed();

  // The client's network namespace: an O_RDONLY descriptor of the path given
  // to Open, kept open for the socket's lifetime, or -1 for the caller's own.
  // Readers of /proc/net files enter it (setns) on a thread of their own.
  int netnsFd() const { return netnsFd_; }

 private:
  GenlSocket() = default;
  // Runs `connect` in the namespace at netnsPath (on a thread of its own)
  // and keeps a descriptor of the namespace.
  static std::shared_ptr<GenlSocket> OpenWith(const std::string& netnsPath, void (*connect)(GenlSocket&));
  // Returns true when the dump was interrupted and must be redone.
  bool ExchangeOnce(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply);

  std::mutex mu_;
  nl_sock* sock_ = nullptr;
  int family_ = 0;
  int netnsFd_ = -1;
  int legacyFd_ = -1;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buf_;  // the receive buffer, reused by every exchange
  std::mutex poolMu_;
  std::vector<std::shared_ptr<GenlSocket>> pool_;  // siblings, without this one
};

}  // namespace ipvs
