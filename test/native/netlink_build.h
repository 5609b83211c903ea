// Canned netlink replies, built by hand: the native tests feed them to the
// reply reader and the decoders, and test/fuzz/make-seeds writes them out as
// the fuzzers' seed corpus. Test code: no validation beyond what it needs.
#pragma once

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ipvs::test {

// One datagram: messages appended one after another.
class Datagram {
 public:
  // Starts a message; End() closes it. `genlCmd` >= 0 adds a genl header.
  Datagram& Begin(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, int genlCmd = -1) {
    start_ = buf_.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    Raw(&h, sizeof h);
    if (genlCmd >= 0) {
      genlmsghdr g{};
      g.cmd = static_cast<uint8_t>(genlCmd);
      g.version = 1;
      Raw(&g, sizeof g);
    }
    return *this;
  }
  Datagram& End() {
    uint32_t len = static_cast<uint32_t>(buf_.size() - start_);
    memcpy(&buf_[start_], &len, sizeof len);
    return *this;
  }

  Datagram& Attr(uint16_t type, const void* data, size_t len) {
    nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
    Raw(&a, sizeof a);
    Raw(data, len);
    Pad();
    return *this;
  }
  Datagram& U8(uint16_t type, uint8_t v) { return Attr(type, &v, sizeof v); }
  Datagram& U16(uint16_t type, uint16_t v) { return Attr(type, &v, sizeof v); }
  Datagram& U32(uint16_t type, uint32_t v) { return Attr(type, &v, sizeof v); }
  Datagram& U64(uint16_t type, uint64_t v) { return Attr(type, &v, sizeof v); }
  Datagram& Str(uint16_t type, const std::string& s) { return Attr(type, s.c_str(), s.size() + 1); }
  Datagram& Nest(uint16_t type) {
    nests_.push_back(buf_.size());
    nlattr a{NLA_HDRLEN, static_cast<uint16_t>(type | NLA_F_NESTED)};
    Raw(&a, sizeof a);
    return *this;
  }
  Datagram& EndNest() {
    size_t at = nests_.back();
    nests_.pop_back();
    uint16_t len = static_cast<uint16_t>(buf_.size() - at);
    memcpy(&buf_[at], &len, sizeof len);
    return *this;
  }

  // Whole messages of their own.
  Datagram& Done(uint32_t seq, uint32_t pid, uint16_t flags = NLM_F_MULTI) {
    Begin(NLMSG_DONE, flags, seq, pid);
    int32_t zero = 0;
    Raw(&zero, sizeof zero);
    return End();
  }
  // An NLMSG_ERROR (error 0: an ACK) answering a request of seq/pid; with
  // `extack`, its NLMSGERR_ATTR_MSG after the nlmsgerr (capped: without the
  // request echoed; not capped: a request of `echoed` payload bytes echoed).
  Datagram& Error(int32_t error, uint32_t seq, uint32_t pid, const std::string& extack = "", bool capped = true,
                  size_t echoed = 0) {
    uint16_t flags = capped ? NLM_F_CAPPED : 0;
    if (!extack.empty()) flags |= NLM_F_ACK_TLVS;
    Begin(NLMSG_ERROR, flags, seq, pid);
    nlmsgerr e{};
    e.error = error;
    e.msg.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + (capped ? 0 : echoed));
    e.msg.nlmsg_seq = seq;
    e.msg.nlmsg_pid = pid;
    Raw(&e, sizeof e);
    if (!capped) buf_.resize(buf_.size() + NLMSG_ALIGN(echoed), 0x5a);
    if (!extack.empty()) Str(NLMSGERR_ATTR_MSG, extack);
    return End();
  }

  Datagram& Raw(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), p, p + len);
    return *this;
  }
  Datagram& Pad() {
    buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t>& bytes() { return buf_; }
  const nlmsghdr* first() const { return reinterpret_cast<const nlmsghdr*>(buf_.data()); }

 private:
  std::vector<uint8_t> buf_;
  size_t start_ = 0;
  std::vector<size_t> nests_;
};

}  // namespace ipvs::test
