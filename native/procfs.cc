#include "procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <string_view>
#include <thread>
#include <vector>

#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

// What readProcFile and writeProcFile reach: IPVS's own files of the client's
// namespace and nothing else. Paths are matched as literal strings, so no
// "..", "." or "//" leads elsewhere; the last component is opened O_NOFOLLOW
// and the file must then be on procfs (a mount over it is refused).
constexpr std::string_view kThreadNet = "/proc/thread-self/net/";
constexpr std::string_view kNet = "/proc/net/";
constexpr std::string_view kSysctls = "/proc/sys/net/ipv4/vs/";
constexpr std::string_view kNetFiles[] = {"ip_vs", "ip_vs_stats", "ip_vs_stats_percpu", "ip_vs_conn",
                                          "ip_vs_conn_sync"};

// readProcFile reads whole files into memory: the connection table, which
// may be far larger, has its own reader.
constexpr size_t kMaxRead = 16 << 20;

bool IsSysctlName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// The path to open for `path`, or "" when it is not one of IPVS's files (for
// writing: one of its sysctls). /proc/net/NAME opens as
// /proc/thread-self/net/NAME: /proc/net shows the namespace of the process's
// main thread, not that of the thread that opens it inside the client's.
std::string Allowed(std::string_view path, bool write) {
  if (path.substr(0, kSysctls.size()) == kSysctls && IsSysctlName(path.substr(kSysctls.size())))
    return std::string(path);
  if (write) return "";
  for (std::string_view dir : {kThreadNet, kNet}) {
    if (path.substr(0, dir.size()) != dir) continue;
    for (std::string_view file : kNetFiles)
      if (path.substr(dir.size()) == file) return std::string(kThreadNet) + std::string(file);
  }
  return "";
}

// At most the first 64 bytes of `path`, quoted, with anything unprintable escaped.
std::string Quote(std::string_view path) {
  std::string out = "\"";
  for (unsigned char c : path.substr(0, 64)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += path.size() > 64 ? "\"..." : "\"";
  return out;
}

// The path argument, checked before anything else (the socket included), so
// a refused path is a synchronous TypeError. Returns the path to open.
std::string PathArg(const Napi::CallbackInfo& info, size_t i, bool write) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), "expected a path");
  std::string path = info[i].As<Napi::String>().Utf8Value();
  std::string open = Allowed(path, write);
  if (open.empty()) {
    throw Napi::TypeError::New(
        info.Env(),
        write ? "writeProcFile writes only IPVS's sysctls (/proc/sys/net/ipv4/vs/NAME), not " + Quote(path)
              : "readProcFile reads only IPVS's /proc files (/proc/net/ip_vs, ip_vs_stats, ip_vs_stats_percpu, "
                "ip_vs_conn, ip_vs_conn_sync, also under /proc/thread-self/net, and "
                "/proc/sys/net/ipv4/vs/NAME), not " +
                    Quote(path));
  }
  return open;
}

// Opens an allowed path (not following a final symlink) and checks that the
// file is procfs's own. Throws KernelError.
int OpenProcFile(const Netns& ns, const std::string& path, int flags) {
  Fd f{OpenInNetns(ns, path, flags | O_NOFOLLOW)};
  struct statfs fs;
  if (fstatfs(f.fd, &fs) != 0) {
    int e = errno;
    ThrowErrno(e, "checking " + path);
  }
  if (fs.f_type != PROC_SUPER_MAGIC)
    throw KernelError(EXDEV, path + " is not on procfs (something is mounted over it): refused");
  int fd = f.fd;
  f.fd = -1;
  return fd;
}

}  // namespace

int OpenInNetns(const Netns& ns, const std::string& path, int flags) {
  int fd = -1;
  InNetns(ns, [&] {
    fd = open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      ThrowErrno(e, "opening " + path);
    }
  });
  return fd;
}

size_t ReadSome(int fd, char* buf, size_t n, const std::string& path) {
  for (;;) {
    ssize_t got = read(fd, buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    int e = errno;
    if (e != EINTR) ThrowErrno(e, "reading " + path);
  }
}

Napi::Value ReadProcFile(const Napi::CallbackInfo& info) {
  std::string path = PathArg(info, 1, false);
  auto sock = Socket::From(info[0]);
  return Task<std::vector<char>>::Run(
      info.Env(), "readProcFile",
      [sock, path](std::vector<char>& out) {
        Fd f{OpenProcFile(*sock->Namespace(), path, O_RDONLY)};
        char buf[16384];
        while (size_t n = ReadSome(f.fd, buf, sizeof buf, path)) {
          if (out.size() + n > kMaxRead)
            throw KernelError(EFBIG, "reading " + path + ": larger than the 16 MiB readProcFile reads at most");
          out.insert(out.end(), buf, buf + n);
        }
      },
      [](Napi::Env env, std::vector<char>& out) -> Napi::Value {
        return Napi::Buffer<char>::Copy(env, out.data(), out.size());
      });
}

Napi::Value WriteProcFile(const Napi::CallbackInfo& info) {
  std::string path = PathArg(info, 1, true);
  if (info.Length() < 3 || !info[2].IsString()) throw Napi::TypeError::New(info.Env(), "expected the text to write");
  std::string text = info[2].As<Napi::String>().Utf8Value();
  if (text.find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(),
                                "the text to write must not contain a NUL character (the kernel would stop there)");
  auto sock = Socket::From(info[0]);
  return Task<Nothing>::Run(
      info.Env(), "writeProcFile",
      [sock, path, text](Nothing&) {
        Fd f{OpenProcFile(*sock->Namespace(), path, O_WRONLY)};
        ssize_t n;
        do {
          n = write(f.fd, text.data(), text.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
          int e = errno;
          ThrowErrno(e, "writing " + path);
        }
        // A sysctl parses the one write it gets; a second write, at an
        // offset, would not continue the value, so a short write is a failure.
        if (static_cast<size_t>(n) != text.size())
          throw KernelError(EIO, "writing " + path + ": the kernel took " + std::to_string(n) + " of " +
                                     std::to_string(text.size()) + " bytes");
      },
      Undefined);
}

}  // namespace ipvs
