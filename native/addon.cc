// The module entry: registers every export and nothing else.
#include <napi.h>

#include "cancel.h"
#include "connections.h"
#include "constants.h"
#include "daemon.h"
#include "destination.h"
#include "info.h"
#include "listing.h"
#include "procfs.h"
#include "service.h"
#include "snapshot.h"
#include "socket.h"
#include "sockopt.h"
#include "stats.h"
#include "task.h"
#include "timeouts.h"

namespace ipvs {

bool RunsInline(Napi::Env env) {
  Napi::Value flag = env.GetInstanceData<Napi::ObjectReference>()->Get("inline");
  return flag.IsBoolean() && flag.As<Napi::Boolean>().Value();
}

namespace {

// setInline(true): every later call of this environment runs on the calling
// thread (task.h), for a program that waits for each call anyway.
Napi::Value SetInline(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "setInline takes a boolean");
  info.Env().GetInstanceData<Napi::ObjectReference>()->Set("inline", info[0]);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Instance data keeps the Socket constructor for type checks of handles.
  auto* data = new Napi::ObjectReference(Napi::Persistent(Napi::Object::New(env)));
  env.SetInstanceData(data);
  Socket::Define(env);
  DefineConnectionReader(env);
  Canceller::Define(env);

  exports.Set("constants", Constants(env));
  exports.Set("setInline", Napi::Function::New(env, SetInline, "setInline"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("canceller", Napi::Function::New(env, NewCanceller, "canceller"));
  exports.Set("openSockopt", Napi::Function::New(env, OpenSockopt, "openSockopt"));
  exports.Set("sockopt", SockoptExports(env));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("listServices", Napi::Function::New(env, ListServices, "listServices"));
  exports.Set("getService", Napi::Function::New(env, GetService, "getService"));
  exports.Set("addService", Napi::Function::New(env, AddService, "addService"));
  exports.Set("editService", Napi::Function::New(env, EditService, "editService"));
  exports.Set("deleteService", Napi::Function::New(env, DeleteService, "deleteService"));
  exports.Set("clear", Napi::Function::New(env, Clear, "clear"));
  exports.Set("listDestinations", Napi::Function::New(env, ListDestinations, "listDestinations"));
  exports.Set("addDestination", Napi::Function::New(env, AddDestination, "addDestination"));
  exports.Set("editDestination", Napi::Function::New(env, EditDestination, "editDestination"));
  exports.Set("deleteDestination", Napi::Function::New(env, DeleteDestination, "deleteDestination"));
  exports.Set("zero", Napi::Function::New(env, Zero, "zero"));
  exports.Set("snapshot", Napi::Function::New(env, Snapshot, "snapshot"));
  exports.Set("snapshotColumns", SnapshotColumns(env));
  exports.Set("listingOrder", Napi::Function::New(env, ListingOrder, "listingOrder"));
  exports.Set("listingText", Napi::Function::New(env, ListingText, "listingText"));
  exports.Set("connectionText", Napi::Function::New(env, ConnectionText, "connectionText"));
  exports.Set("readProcFile", Napi::Function::New(env, ReadProcFile, "readProcFile"));
  exports.Set("writeProcFile", Napi::Function::New(env, WriteProcFile, "writeProcFile"));
  exports.Set("getTimeouts", Napi::Function::New(env, GetTimeouts, "getTimeouts"));
  exports.Set("setTimeouts", Napi::Function::New(env, SetTimeouts, "setTimeouts"));
  exports.Set("listDaemons", Napi::Function::New(env, ListDaemons, "listDaemons"));
  exports.Set("startDaemon", Napi::Function::New(env, StartDaemon, "startDaemon"));
  exports.Set("stopDaemon", Napi::Function::New(env, StopDaemon, "stopDaemon"));
  exports.Set("connectionBatches", Napi::Function::New(env, ConnectionBatches, "connectionBatches"));
  exports.Set("connectionStats", Napi::Function::New(env, ConnectionStats, "connectionStats"));
  exports.Set("parseConnections", Napi::Function::New(env, ParseConnections, "parseConnections"));
  return exports;
}

}  // namespace ipvs

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ipvs::Init(env, exports); }

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
