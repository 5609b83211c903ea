// The JavaScript handle of one client's netlink socket.
#pragma once

#include <napi.h>

#include <memory>

#include "netlink.h"

namespace ipvs {

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<GenlSocket> sock);
  // The socket behind a handle passed back from JavaScript; throws TypeError
  // for anything that is not a handle made by open().
  static std::shared_ptr<GenlSocket> From(const Napi::Value& value);

  explicit Socket(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<GenlSocket> sock_;
};

// The options of open() and openSockopt(): { netns: string | null, timeout:
// ms, modprobe: boolean } (OpenOptions in src/native.ts).
SocketOptions SocketOptionsFrom(const Napi::CallbackInfo& info);

// open(options): Promise<Socket>
Napi::Value Open(const Napi::CallbackInfo& info);
// close(socket): void. Idempotent.
Napi::Value Close(const Napi::CallbackInfo& info);

}  // namespace ipvs
