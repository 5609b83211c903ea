#include "reply.h"

#include <cerrno>
#include <cstring>

namespace ipvs {

std::string ExtAckMessage(const nlmsghdr* hdr) {
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  // Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs.
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
    if (err->msg.nlmsg_len < NLMSG_HDRLEN) return "";
    offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  offset = NLMSG_ALIGN(offset);
  const char* base = reinterpret_cast<const char*>(hdr);
  // The TLVs, walked by hand: a cut one ends the walk.
  for (size_t at = offset; at + NLA_HDRLEN <= hdr->nlmsg_len;) {
    nlattr attr;
    memcpy(&attr, base + at, sizeof attr);
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > hdr->nlmsg_len - at) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && attr.nla_len > NLA_HDRLEN) {
      const char* text = base + at + NLA_HDRLEN;
      return std::string(text, strnlen(text, attr.nla_len - NLA_HDRLEN));
    }
    at += NLA_ALIGN(attr.nla_len);
  }
  return "";
}

ReplyStep ReplyReader::Finish(ReplyStep step) {
  if (abandoned_) std::rethrow_exception(abandoned_);
  return step;
}

void ReplyReader::Malformed(const char* what) {
  malformed_ = true;
  throw KernelError(EBADMSG, what);
}

ReplyStep ReplyReader::Feed(const void* buf, size_t len, uint32_t sender, const OnData& onData) {
  if (sender != 0) return ReplyStep::kMore;  // not from the kernel
  // The kernel's datagrams are far below INT_MAX (a receive is a page).
  int left = static_cast<int>(len);
  auto* hdr = reinterpret_cast<const nlmsghdr*>(buf);
  for (; NLMSG_OK(hdr, left); hdr = NLMSG_NEXT(hdr, left)) {
    if (hdr->nlmsg_seq != seq_) continue;  // left over from an abandoned exchange
    if (portid_ != 0 && hdr->nlmsg_pid != portid_) continue;
    if (hdr->nlmsg_flags & NLM_F_DUMP_INTR) interrupted_ = true;
    switch (hdr->nlmsg_type) {
      case NLMSG_NOOP:
        continue;
      case NLMSG_DONE:
        if (dump_) return Finish(interrupted_ ? ReplyStep::kInterrupted : ReplyStep::kDone);
        continue;
      case NLMSG_ERROR: {
        if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) Malformed("a truncated netlink error message");
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
        if (err->error == 0) {
          if (!dump_) return Finish(ReplyStep::kDone);  // the ACK that ends a doit
          continue;
        }
        if (abandoned_) std::rethrow_exception(abandoned_);
        // The kernel's errors are -1 to -4095; anything else is not an errno.
        if (err->error > 0 || err->error < -4095)
          throw KernelError(EBADMSG, "a netlink error message with error " + std::to_string(err->error));
        ThrowVerdict(-err->error, ExtAckMessage(hdr));
      }
      default:
        if (interrupted_ || abandoned_) continue;
        try {
          onData(hdr);
        } catch (...) {
          abandoned_ = std::current_exception();
        }
    }
  }
  // The kernel sends whole messages: anything left is a cut one.
  if (left > 0) Malformed("a truncated netlink message");
  return ReplyStep::kMore;
}

void AckReader::Feed(const void* buf, size_t len, uint32_t sender, const OnAck& onAck) {
  if (sender != 0) return;  // not from the kernel
  if (seen_.size() != count_) seen_.assign(count_, false);
  int left = static_cast<int>(len);
  auto* hdr = reinterpret_cast<const nlmsghdr*>(buf);
  for (; NLMSG_OK(hdr, left); hdr = NLMSG_NEXT(hdr, left)) {
    if (portid_ != 0 && hdr->nlmsg_pid != portid_) continue;
    if (hdr->nlmsg_type != NLMSG_ERROR) continue;
    // Unsigned: a sequence number before `first` wraps past count_.
    const uint32_t index = hdr->nlmsg_seq - first_;
    if (index >= count_ || seen_[index]) continue;
    if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
      throw KernelError(EBADMSG, "a truncated netlink error message");
    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
    if (err->error > 0 || err->error < -4095)
      throw KernelError(EBADMSG, "a netlink error message with error " + std::to_string(err->error));
    seen_[index] = true;
    answered_++;
    onAck(index, -err->error, err->error == 0 ? std::string() : ExtAckMessage(hdr));
  }
  if (left > 0) throw KernelError(EBADMSG, "a truncated netlink message");
}

}  // namespace ipvs
