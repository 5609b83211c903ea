// /proc files of the client's network namespace: /proc/net/ip_vs_stats (the
// totals, which netlink does not carry) and the sysctls under
// /proc/sys/net/ipv4/vs. Such a file belongs to the namespace of the task that
// opens it, and the open descriptor keeps it.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <string>

#include "netlink.h"

namespace ipvs {

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// One read() of up to `n` bytes, again when interrupted: the bytes read, 0 at
// the end. Throws KernelError "reading <path>" with read's errno.
size_t ReadSome(int fd, char* buf, size_t n, const std::string& path);

// Opens `path` from a short-lived thread inside the namespace `ns` (fd -1:
// the caller's own), so no other thread moves. Returns the descriptor;
// throws KernelError with the errno of setns or open.
int OpenInNetns(const Netns& ns, const std::string& path, int flags);

// readProcFile(socket, path): Promise<Buffer>, the whole file, at most 16 MiB
// (EFBIG past that). Only /proc/{net,thread-self/net}/ip_vs{,_stats,
// _stats_percpu,_conn,_conn_sync} and /proc/sys/net/ipv4/vs/NAME; any other
// path is a TypeError, thrown at once.
Napi::Value ReadProcFile(const Napi::CallbackInfo& info);
// writeProcFile(socket, path, text): Promise<void>, one write() to
// /proc/sys/net/ipv4/vs/NAME (any other path is a TypeError, thrown at once);
// EIO when the kernel takes less than the whole text.
Napi::Value WriteProcFile(const Napi::CallbackInfo& info);

}  // namespace ipvs
