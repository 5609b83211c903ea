// The reply reader over a whole reply, datagram by datagram, with a decoder
// behind it as in the addon; each datagram also goes to the reader of
// pipelined acknowledgements (AckReader), which must answer each request
// at most once. Input: one byte of settings (bit 0: a dump;
// bits 1-3: which decoder; bit 4: datagrams from another port), then
// datagrams, each a 16-bit length (host order) and that many bytes.
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/decode.h"
#include "../../native/reply.h"
#include "../../native/snapshot.h"

namespace {

constexpr uint32_t kSeq = 7, kPort = 4242;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t settings = data[0];
  const bool dump = settings & 1;
  const int decoder = (settings >> 1) & 7;
  const uint32_t sender = settings & 0x10 ? 99 : 0;
  std::vector<uint64_t> counters;
  std::vector<uint32_t> dests;
  std::vector<uint8_t> addrs;
  ipvs::DestColumns columns{counters, dests, addrs};
  size_t messages = 0;
  ipvs::ReplyReader::OnData onData = [&](const nlmsghdr* hdr) {
    // The reader hands over whole messages only.
    if (hdr->nlmsg_len < NLMSG_HDRLEN) abort();
    messages++;
    switch (decoder) {
      case 1:
        ipvs::DecodeService(hdr);
        break;
      case 2:
        ipvs::PutDest(hdr, AF_INET, columns);
        break;
      case 3:
        ipvs::DecodeDaemon(hdr);
        break;
      case 4:
        ipvs::DecodeInfo(hdr);
        break;
      case 5:
        ipvs::DecodeTimeouts(hdr);
        break;
      default:
        break;
    }
  };
  ipvs::ReplyReader reader(kSeq, kPort, dump);
  constexpr size_t kBatch = 70;
  ipvs::AckReader acks(kSeq, kBatch, kPort);
  std::vector<bool> answered(kBatch, false);
  bool acksBroken = false;
  size_t at = 1;
  try {
    while (at + 2 <= size) {
      uint16_t len;
      memcpy(&len, data + at, 2);
      at += 2;
      if (len > size - at) len = static_cast<uint16_t>(size - at);
      // Each datagram in a buffer of its own, exactly its size.
      auto* buf = static_cast<uint8_t*>(malloc(len ? len : 1));
      memcpy(buf, data + at, len);
      at += len;
      if (!acksBroken) {
        try {
          acks.Feed(buf, len, sender, [&](size_t index, int errnum, std::string) {
            if (index >= kBatch || answered[index] || errnum < 0 || errnum > 4095) abort();
            answered[index] = true;
          });
        } catch (const ipvs::KernelError&) {
          acksBroken = true;
        }
      }
      ipvs::ReplyStep step;
      try {
        step = reader.Feed(buf, len, sender, onData);
      } catch (...) {
        free(buf);
        throw;
      }
      free(buf);
      if (step != ipvs::ReplyStep::kMore) break;
    }
  } catch (const ipvs::KernelError&) {
  }
  return 0;
}
