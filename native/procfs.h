// /proc files of the client's network namespace: /proc/net/ip_vs_stats (the
// totals, which netlink does not carry) and the sysctls under
// /proc/sys/net/ipv4/vs. Such a file belongs to the namespace of the task that
// opens it, and the open descriptor keeps it.
#pragma once

#include <napi.h>

#include <string>

namespace ipvs {

// Opens `path` from a short-lived thread inside the namespace `netnsFd`
// (-1: the caller's own), so no other thread moves. Returns the descriptor;
// throws KernelError with the errno of setns or open.
int OpenInNetns(int netnsFd, const std::string& path, int flags);

// readProcFile(socket, path): Promise<Buffer>, the whole file.
Napi::Value ReadProcFile(const Napi::CallbackInfo& info);
// writeProcFile(socket, path, text): Promise<void>, one write().
Napi::Value WriteProcFile(const Napi::CallbackInfo& info);

}  // namespace ipvs
