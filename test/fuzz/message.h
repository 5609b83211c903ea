// What the netlink fuzz targets share: an input as the one message a decoder
// is given. The reply reader guarantees a decoder a whole message (nlmsg_len
// at least a header, at most the bytes there), so the input's own length is
// the message's; its copy is exactly that long, so that AddressSanitizer
// sees a read past it.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../../native/error.h"

namespace ipvs::fuzz {

template <typename F>
void WithMessage(const uint8_t* data, size_t size, F&& decode) {
  if (size < NLMSG_HDRLEN || size > 65536) return;
  auto* buf = static_cast<uint8_t*>(malloc(size));  // malloc: aligned for nlmsghdr
  memcpy(buf, data, size);
  auto* hdr = reinterpret_cast<nlmsghdr*>(buf);
  hdr->nlmsg_len = static_cast<uint32_t>(size);
  try {
    decode(hdr);
  } catch (const KernelError&) {
    // A refusal is the decoder's answer to bad bytes; anything else escapes
    // and is a finding.
  }
  free(buf);
}

}  // namespace ipvs::fuzz
