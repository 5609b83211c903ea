// IPVS_CMD_GET_INFO: the IPVS version and the connection table size.
#pragma once

#include <cstdint>

#include "napi_fwd.h"

struct nlmsghdr;

namespace ipvs {

struct InfoReply {
  uint32_t version = 0;
  uint32_t connTabSize = 0;
};

// Decodes the IPVS_CMD_SET_INFO message that answers IPVS_CMD_GET_INFO.
InfoReply DecodeInfo(const nlmsghdr* hdr);

Napi::Value Info(const Napi::CallbackInfo& info);

}  // namespace ipvs
