#include "error.h"

#include <cstring>

namespace ipvs {

namespace {

std::string Strerror(int errnum) {
  char buf[128];
  // GNU strerror_r returns the message, which may not be `buf`.
  return strerror_r(errnum, buf, sizeof buf);
}

}  // namespace

void ThrowVerdict(int errnum, const std::string& kernelMessage) {
  throw KernelError(errnum, Strerror(errnum), kernelMessage, true);
}

void ThrowErrno(int errnum, const std::string& what) { throw KernelError(errnum, what + ": " + Strerror(errnum)); }

}  // namespace ipvs
