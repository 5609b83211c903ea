#include "procfs.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <thread>
#include <vector>

#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

std::string PathArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), "expected a path");
  std::string path = info[i].As<Napi::String>().Utf8Value();
  // Only /proc: this primitive exists for the namespace's own proc files.
  if (path.rfind("/proc/", 0) != 0) throw Napi::TypeError::New(info.Env(), "only /proc paths are read or written");
  return path;
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
  auto sock = Socket::From(info[0]);
  std::string path = PathArg(info, 1);
  return Task<std::vector<char>>::Run(
      info.Env(), "readProcFile",
      [sock, path](std::vector<char>& out) {
        Fd f{OpenInNetns(*sock->Namespace(), path, O_RDONLY)};
        char buf[16384];
        while (size_t n = ReadSome(f.fd, buf, sizeof buf, path)) out.insert(out.end(), buf, buf + n);
      },
      [](Napi::Env env, std::vector<char>& out) -> Napi::Value {
        return Napi::Buffer<char>::Copy(env, out.data(), out.size());
      });
}

Napi::Value WriteProcFile(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  std::string path = PathArg(info, 1);
  if (info.Length() < 3 || !info[2].IsString()) throw Napi::TypeError::New(info.Env(), "expected the text to write");
  std::string text = info[2].As<Napi::String>().Utf8Value();
  return Task<Nothing>::Run(
      info.Env(), "writeProcFile",
      [sock, path, text](Nothing&) {
        Fd f{OpenInNetns(*sock->Namespace(), path, O_WRONLY)};
        ssize_t n;
        do {
          n = write(f.fd, text.data(), text.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) ThrowErrno(errno, "writing " + path);
      },
      Undefined);
}

}  // namespace ipvs
