// DecodeDest (with its stats), and the snapshot's columns it feeds, over one
// message; the first byte says which family stands in for a missing one.
#include <sys/socket.h>

#include "../../native/decode.h"
#include "../../native/snapshot.h"
#include "message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint16_t serviceAf = data[0] & 1 ? AF_INET6 : AF_INET;
  std::vector<uint64_t> counters;
  std::vector<uint32_t> dests;
  std::vector<uint8_t> addrs;
  ipvs::DestColumns out{counters, dests, addrs};
  ipvs::fuzz::WithMessage(data + 1, size - 1, [&](const nlmsghdr* hdr) { ipvs::PutDest(hdr, serviceAf, out); });
  return 0;
}
