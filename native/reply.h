// What a netlink reply says, apart from the socket that received it: the
// transport (netlink.cc) only sends and receives, and hands each datagram to
// a ReplyReader, a pure function of the bytes and the request they answer
// (libmnl's mnl_cb_run is the model). Canned replies test every branch of it
// without a kernel (test/native/reply_test.cc), and a fuzz target feeds it
// arbitrary bytes.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "error.h"

namespace ipvs {

// Where an exchange stands after a datagram.
enum class ReplyStep {
  kMore,         // the reply goes on in a later datagram
  kDone,         // the reply is complete: an ACK ends a doit, NLMSG_DONE a dump
  kInterrupted,  // a dump ended that the kernel marked NLM_F_DUMP_INTR: send it again
};

// The state of one reply across its datagrams.
class ReplyReader {
 public:
  using OnData = std::function<void(const nlmsghdr*)>;

  // `seq` and `portid` are the request's: a message with another sequence
  // number or port is not part of this reply (left over from an abandoned
  // exchange) and is skipped; a portid of 0 (never bound) checks no port.
  // `dump`: the reply is a dump, ended by NLMSG_DONE, not by an ACK.
  ReplyReader(uint32_t seq, uint32_t portid, bool dump) : seq_(seq), portid_(portid), dump_(dump) {}

  // Interprets one datagram of `len` bytes that came from netlink port
  // `sender` (0: the kernel; a datagram from anyone else is ignored), calling
  // onData for each data message of the reply, in order. After a message
  // marked NLM_F_DUMP_INTR, or once onData has thrown, data messages are read
  // and dropped until the end, so the socket is left clean. Throws:
  //  - KernelError fromKernel with the kernel's errno and extended-ack text
  //    for an NLMSG_ERROR that is not an ACK;
  //  - KernelError EBADMSG for bytes that are not netlink messages (a cut
  //    header or payload, a cut nlmsgerr); malformed() is then true, and the
  //    rest of the reply may still be on its way: the socket is out of step;
  //  - what onData threw first, once the reply has ended (by DONE, an ACK or
  //    an error).
  ReplyStep Feed(const void* buf, size_t len, uint32_t sender, const OnData& onData);

  bool malformed() const { return malformed_; }

 private:
  ReplyStep Finish(ReplyStep step);
  [[noreturn]] void Malformed(const char* what);

  uint32_t seq_, portid_;
  bool dump_;
  bool interrupted_ = false;
  bool malformed_ = false;
  std::exception_ptr abandoned_;  // what onData threw
};

// The acknowledgements of pipelined requests: requests sent together, each
// with its own sequence number (first, first + 1, ...) and NLM_F_ACK, each
// answered by one NLMSG_ERROR (error 0: done). A pure function of the
// datagrams, as ReplyReader.
class AckReader {
 public:
  // Called once per request answered: its index (seq - first), its errno (0:
  // done; positive: the kernel's refusal) and the extended-ack text ("").
  using OnAck = std::function<void(size_t index, int errnum, std::string message)>;

  AckReader(uint32_t first, size_t count, uint32_t portid) : first_(first), count_(count), portid_(portid) {}

  // Interprets one datagram from netlink port `sender` (0: the kernel;
  // anyone else's is ignored). A message with a sequence number outside the
  // batch, or a second answer to a request, is skipped (left over from an
  // abandoned exchange); data messages are skipped (a change has none).
  // Throws KernelError EBADMSG for bytes that are not netlink messages, or an
  // error that is not an errno.
  void Feed(const void* buf, size_t len, uint32_t sender, const OnAck& onAck);

  // How many requests have been answered.
  size_t answered() const { return answered_; }

 private:
  uint32_t first_;
  size_t count_;
  uint32_t portid_;
  size_t answered_ = 0;
  std::vector<bool> seen_;
};

// The NLMSGERR_ATTR_MSG text after the nlmsgerr of an NLMSG_ERROR message
// (whose nlmsg_len the caller has checked to cover the nlmsgerr), or "".
std::string ExtAckMessage(const nlmsghdr* hdr);

}  // namespace ipvs
