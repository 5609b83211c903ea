// DecodeTimeouts over one message.
#include "../../native/decode.h"
#include "message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ipvs::fuzz::WithMessage(data, size, [](const nlmsghdr* hdr) { ipvs::DecodeTimeouts(hdr); });
  return 0;
}
