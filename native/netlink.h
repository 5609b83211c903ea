// The generic netlink transport shared by every IPVS command.
//
// libnl-3 builds requests and resolves the family; the exchange itself (send,
// receive into one reused buffer, ACK and NLMSG_ERROR handling) is done here,
// because libnl's receive path allocates per datagram and folds the kernel's
// errno into its own codes (NLE_OBJ_NOTFOUND stands for both ESRCH and ENOENT,
// which IPVS uses for different things).
#pragma once

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "error.h"

namespace ipvs {

class Stop;
class RequestWriter;

// An owned nl_msg, freed on scope exit.
using Message = std::unique_ptr<nl_msg, void (*)(nl_msg*)>;

// A descriptor of a network namespace, closed when the last holder lets go;
// fd -1 stands for the process's own namespace.
struct Netns {
  int fd = -1;
  Netns() = default;
  explicit Netns(int fd) : fd(fd) {}
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
};
using NetnsPtr = std::shared_ptr<const Netns>;

// Opens `path` as a network namespace: refuses, without blocking, anything
// else (a FIFO, a regular file, another kind of namespace). Throws KernelError.
NetnsPtr OpenNetns(const std::string& path);

// What a thread that could not start (std::thread threw `e`) fails with:
// EAGAIN (or the error's own errno), saying what was starting.
KernelError ThreadStartError(const std::system_error& e, const char* what);

// Names the calling thread (as `top -H` and /proc/self/task/*/comm show it):
// every thread the addon starts is called "ipvs-<what>".
void NameThread(const char* name);

// Runs f() on a short-lived thread that has entered the namespace (fd -1: on
// this thread), so that no other thread ever moves. Throws what f throws, or
// KernelError for setns or a thread that cannot start.
void InNetns(const Netns& ns, const std::function<void()>& f);

// How a client is opened (OpenOptions in src/client.ts).
struct SocketOptions {
  std::string netns;     // empty: the caller's namespace
  int timeoutMs = 5000;  // the deadline of each exchange
  bool modprobe = true;  // run `/sbin/modprobe ip_vs` once when IPVS is missing
};

// One NETLINK_GENERIC socket bound to the IPVS family, opened once per client
// and reused for every request. Exchanges are serialised by a mutex, so two
// threads can never interleave their replies on the socket. Close() never
// waits for that mutex: it wakes an exchange in progress, which gives up.
class GenlSocket : public std::enable_shared_from_this<GenlSocket> {
 public:
  // Opens the socket in the network namespace of `options` (empty: the
  // caller's), resolves "IPVS" (running `modprobe ip_vs` once if the family
  // is missing and allowed) and enables extended ACKs. Throws KernelError.
  static std::shared_ptr<GenlSocket> Open(const SocketOptions& options);
  // The legacy back-end instead: a raw IPv4 socket (root only) whose
  // IP_VS_SO_* socket options reach IPVS in that namespace; no netlink.
  static std::shared_ptr<GenlSocket> OpenLegacy(const SocketOptions& options);
  ~GenlSocket();

  GenlSocket(const GenlSocket&) = delete;
  GenlSocket& operator=(const GenlSocket&) = delete;

  // A request for IPVS command `cmd` with the genl header filled in.
  Message NewRequest(uint8_t cmd, int flags = 0) const;

  // Sends `request` and calls `onReply` for each data message of the reply.
  // A doit ends with the kernel's ACK; a dump (NLM_F_DUMP) ends with
  // NLMSG_DONE. If the kernel marks a dump NLM_F_DUMP_INTR (the table changed
  // under it), `onRestart` is called and the whole dump is sent again, a
  // bounded number of times. If onReply throws, the rest of the reply is
  // read and dropped, then the exception goes on: the socket stays usable.
  // Throws KernelError: the kernel's errno; ETIMEDOUT when no answer came
  // within the deadline (the socket is then replaced before the next
  // exchange); EBADF once closed.
  void Exchange(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply,
                const std::function<void()>& onRestart = nullptr);

  // Sends `count` requests pipelined: `build(i, w)` writes request i (a
  // command without NLM_F_DUMP) into the window's datagram: w.Begin(cmd),
  // then its attributes (request.h); each window of `window` requests goes in one
  // datagram, each with its own sequence number and NLM_F_ACK, and the
  // kernel, which handles a datagram's requests in order before the send
  // returns, answers each one. status[i] (`count` long, -1 on entry) becomes
  // -2 once request i is sent, then its answer: 0 done, or the kernel's errno;
  // onRefused(i, text) gets each refusal's extended-ack text. No window is
  // sent after one with a refusal (when stopOnError) or once `stop` is
  // requested. Throws KernelError for a failure of the socket itself (the
  // statuses then say how far it got: -2 is a request whose answer was lost,
  // -1 one never sent); the socket is replaced before the next exchange.
  void Pipeline(size_t count, size_t window, const std::function<void(size_t, RequestWriter&)>& build, bool stopOnError,
                const Stop& stop, int32_t* status, const std::function<void(size_t, std::string)>& onRefused);

  // Up to `n` netlink sockets for spreading work, this one first, the others
  // opened on first use in the same namespace and kept for later calls.
  std::vector<std::shared_ptr<GenlSocket>> Pool(size_t n);

  // Runs f(fd) on the legacy socket under the same lock as Exchange.
  template <typename F>
  void WithLegacy(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    ReleaseIfClosed release{*this};
    ThrowIfClosed();
    f(legacyFd_);
  }

  // Closes the socket at once, from any thread, without waiting: an exchange
  // in progress is woken and fails with EBADF, work tracked with Track() is
  // stopped with EBADF, later exchanges fail with EBADF. Idempotent.
  void Close();

  // Stops `stop` with EBADF when the socket closes (at once if it is closed).
  void Track(const std::shared_ptr<Stop>& stop);

  // The client's network namespace; throws EBADF once closed, so that no
  // reader ever falls back to another namespace.
  NetnsPtr Namespace() const;

  // How many destinations the last snapshot of this socket had: the size its
  // next one reserves, so that its columns fit (snapshot.cc).
  std::atomic<size_t> snapshotDestsHint{0};

 private:
  // Frees the descriptors on scope exit if the socket was closed meanwhile
  // (Close() could not, while the lock was held); the holder of mu_ uses it.
  struct ReleaseIfClosed {
    GenlSocket& s;
    ~ReleaseIfClosed() {
      if (s.closed_) s.ReleaseLocked();
    }
  };

  GenlSocket() = default;
  static std::shared_ptr<GenlSocket> OpenIn(NetnsPtr ns, const SocketOptions& options);
  void ThrowIfClosed() const;
  // Opens sock_ (in the client's namespace); the caller holds mu_.
  void Connect(bool modprobe);
  // Frees the descriptors once closed; the caller holds mu_.
  void ReleaseLocked();
  // Returns true when the dump was interrupted and must be redone.
  bool ExchangeOnce(nl_msg* request, const std::function<void(const nlmsghdr*)>& onReply);
  // Waits until the socket is readable before `deadline` (CLOCK_MONOTONIC, ms).
  void WaitReadable(int fd, int64_t deadline);
  // Receives up to `count` datagrams in one recvmmsg, datagram k into the
  // `size` bytes at base + k * size (its length in msgs[k].msg_len, its
  // sender in from[k]); returns how many. Waits for the socket when nothing
  // is there, until `deadline` (taken at the first wait: -1 before). A
  // failure marks the socket broken and throws.
  int Receive(int fd, uint8_t* base, size_t size, size_t count, iovec* iovs, mmsghdr* msgs, sockaddr_nl* from,
              int64_t& deadline);

  std::mutex mu_;  // held for each exchange
  nl_sock* sock_ = nullptr;
  std::atomic<int> family_{0};  // read without mu_ by NewRequest and Pool
  int legacyFd_ = -1;
  int wakeFd_ = -1;      // an eventfd that Close() writes, to end a wait
  std::mutex wakeMu_;    // orders Close()'s write with the close of wakeFd_
  bool broken_ = false;  // a reply went missing: reconnect before the next exchange
  std::atomic<bool> closed_{false};
  uint32_t seq_ = 0;
  int timeoutMs_ = 5000;
  std::vector<uint8_t> buf_;                       // kReceiveSlots pages, reused by every exchange
  NetnsPtr netns_;                                 // read with std::atomic_load: Close() resets it
  std::mutex poolMu_;                              // guards pool_
  std::vector<std::shared_ptr<GenlSocket>> pool_;  // siblings, without this one
  std::mutex trackMu_;                             // guards tracked_
  std::vector<std::weak_ptr<Stop>> tracked_;
};

}  // namespace ipvs
