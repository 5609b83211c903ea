// The one failure the addon's native code throws, and its two makers. Apart
// from the transport, so that the pure parts (reply.cc, decode.cc, the
// connection-table parser) build without a socket: the native tests and the
// fuzz targets link them alone.
#pragma once

#include <stdexcept>
#include <string>

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

// Throws KernelError(errnum, "<what>: <strerror>"). Save errno in a local
// before building `what`: building a string may change errno.
[[noreturn]] void ThrowErrno(int errnum, const std::string& what);

}  // namespace ipvs
