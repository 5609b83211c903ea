// The module entry: registers every export and nothing else.
#include <napi.h>

#include "batch.h"
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
  exports.Set("setInline", Export<SetInline>(env, "setInline"));
  exports.Set("open", Export<Open>(env, "open"));
  exports.Set("close", Export<Close>(env, "close"));
  exports.Set("canceller", Export<NewCanceller>(env, "canceller"));
  exports.Set("openSockopt", Export<OpenSockopt>(env, "openSockopt"));
  exports.Set("sockopt", SockoptExports(env));
  exports.Set("info", Export<Info>(env, "info"));
  exports.Set("listServices", Export<ListServices>(env, "listServices"));
  exports.Set("getService", Export<GetService>(env, "getService"));
  exports.Set("addService", Export<AddService>(env, "addService"));
  exports.Set("editService", Export<EditService>(env, "editService"));
  exports.Set("deleteService", Export<DeleteService>(env, "deleteService"));
  exports.Set("clear", Export<Clear>(env, "clear"));
  exports.Set("listDestinations", Export<ListDestinations>(env, "listDestinations"));
  exports.Set("addDestination", Export<AddDestination>(env, "addDestination"));
  exports.Set("editDestination", Export<EditDestination>(env, "editDestination"));
  exports.Set("deleteDestination", Export<DeleteDestination>(env, "deleteDestination"));
  exports.Set("batch", Export<Batch>(env, "batch"));
  exports.Set("batchColumns", BatchColumns(env));
  exports.Set("zero", Export<Zero>(env, "zero"));
  exports.Set("snapshot", Export<Snapshot>(env, "snapshot"));
  exports.Set("snapshotColumns", SnapshotColumns(env));
  exports.Set("listingOrder", Export<ListingOrder>(env, "listingOrder"));
  exports.Set("listingText", Export<ListingText>(env, "listingText"));
  exports.Set("connectionText", Export<ConnectionText>(env, "connectionText"));
  exports.Set("readProcFile", Export<ReadProcFile>(env, "readProcFile"));
  exports.Set("writeProcFile", Export<WriteProcFile>(env, "writeProcFile"));
  exports.Set("getTimeouts", Export<GetTimeouts>(env, "getTimeouts"));
  exports.Set("setTimeouts", Export<SetTimeouts>(env, "setTimeouts"));
  exports.Set("listDaemons", Export<ListDaemons>(env, "listDaemons"));
  exports.Set("startDaemon", Export<StartDaemon>(env, "startDaemon"));
  exports.Set("stopDaemon", Export<StopDaemon>(env, "stopDaemon"));
  exports.Set("connectionBatches", Export<ConnectionBatches>(env, "connectionBatches"));
  exports.Set("connectionStats", Export<ConnectionStats>(env, "connectionStats"));
  exports.Set("parseConnections", Export<ParseConnections>(env, "parseConnections"));
  return exports;
}

}  // namespace ipvs

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ipvs::Init(env, exports); }

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
