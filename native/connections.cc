// The connection table's exports: arguments in, readers and counts out. The
// parsing is in conn_parse, the columns in conn_batch, the threads in conn_read.
#include "connections.h"

#include <atomic>
#include <cerrno>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "cancel.h"
#include "conn_batch.h"
#include "conn_parse.h"
#include "conn_read.h"
#include "convert.h"
#include "handoff.h"
#include "netlink.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

// --- arguments ---------------------------------------------------------------

Match MatchFrom(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsObject()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + " must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Match m;
  m.af = U8Field(o, "af");
  AddrField(o, "addr", m.addr);
  Napi::Value port = o.Get("port");
  if (!port.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("field ") + name + ".port must be a number");
  m.port = port.As<Napi::Number>().Int32Value();
  return m;
}

// A RawConnectionFilter, or null: false.
bool FilterArg(const Napi::Value& value, Filter& out) {
  if (value.IsNull()) return false;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "the connection filter must be an object or null");
  Napi::Object f = value.As<Napi::Object>();
  out.protocol = StringField(f, "protocol");
  out.state = StringField(f, "state");
  out.client = MatchFrom(f, "client");
  out.virt = MatchFrom(f, "virtual");
  out.destination = MatchFrom(f, "destination");
  return true;
}

// The socket argument: a handle, or null for the process's own namespace.
std::shared_ptr<GenlSocket> SocketArg(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNull()) return nullptr;
  return Socket::From(info[0]);
}

// Throws, as a JavaScript error with errno and op, what `f` throws.
template <typename F>
auto Rethrowing(Napi::Env env, const char* op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw Napi::Error(env, Failure::Current().ToJs(env, op));
  }
}

Plan PlanFrom(const Napi::CallbackInfo& info, const std::shared_ptr<GenlSocket>& sock, const char* op) {
  Napi::Env env = info.Env();
  Napi::Object o = ObjectArg(info, 1, "connection read options");
  Plan plan;
  Napi::Value fd = o.Get("fd");
  double d = fd.IsNumber() ? fd.As<Napi::Number>().DoubleValue() : -2;
  if (!(d == -1 || (d >= 0 && d <= 2147483647.0 && d == static_cast<int>(d))))
    throw Napi::TypeError::New(env, "field fd must be -1 (the connection table) or a file descriptor");
  plan.fd = static_cast<int>(d);
  if (plan.fd >= 0) plan.name = "descriptor " + std::to_string(plan.fd);
  Napi::Value bounds = o.Get("bounds");
  if (!bounds.IsArray()) throw Napi::TypeError::New(env, "field bounds must be an array");
  Napi::Array arr = bounds.As<Napi::Array>();
  if (arr.Length() == 0 || arr.Length() > 1024)
    throw Napi::TypeError::New(env, "field bounds must be 1 to 1024 ascending byte offsets starting at 0");
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value b = arr.Get(i);
    double v = b.IsNumber() ? b.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0 && v <= 9007199254740991.0) || (i == 0 && v != 0) || (i > 0 && v < plan.bounds.back()))
      throw Napi::TypeError::New(env, "field bounds must be ascending byte offsets starting at 0");
    plan.bounds.push_back(static_cast<uint64_t>(v));
  }
  plan.batchSize = U32Field(o, "batchSize");
  plan.readSize = U32Field(o, "readSize");
  if (plan.batchSize == 0 || plan.batchSize > (1u << 20) || plan.readSize == 0 || plan.readSize > (1u << 20))
    throw Napi::RangeError::New(env, "fields batchSize and readSize must be 1 to 1048576");
  plan.filtered = FilterArg(o.Get("filter"), plan.filter);
  Napi::Value prefetch = o.Get("prefetch");
  if (prefetch.IsBoolean()) {
    plan.prefetch = prefetch.As<Napi::Boolean>().Value() ? Plan::Prefetch::kAlways : Plan::Prefetch::kNever;
  } else if (!prefetch.IsUndefined()) {
    throw Napi::TypeError::New(env, "field prefetch must be a boolean or undefined");
  }
  // Last, after every getter of the options has run: the namespace, which a
  // closed client no longer has (EBADF).
  plan.ns = Rethrowing(env, op, [&] { return sock ? sock->Namespace() : std::make_shared<const Netns>(); });
  return plan;
}

// --- the reader handle -------------------------------------------------------

class ConnectionReader;

// What the reader threads' notifications reach: the handle while it lives.
// Owned by the thread-safe function, freed by its finalizer.
struct Bridge {
  ConnectionReader* owner = nullptr;   // main thread only; null once the handle is gone
  std::atomic<bool> scheduled{false};  // a notification is queued: no need for another
};

// The JavaScript side of a Reading. next() never blocks: it resolves from the
// batches read so far, or waits (without any thread) for the readers to
// notify through a thread-safe function, which keeps the event loop alive
// only while a next() is pending.
class ConnectionReader : public Napi::ObjectWrap<ConnectionReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "ConnectionReader",
        {InstanceMethod<&ConnectionReader::Next>("next"), InstanceMethod<&ConnectionReader::Close>("close")});
  }

  explicit ConnectionReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConnectionReader>(info) {
    Napi::Env env = info.Env();
    reading_ = Handoff<std::shared_ptr<Reading>>::Take(env, "ConnectionReader handles are made by connectionBatches()");
    bridge_ = new Bridge();
    bridge_->owner = this;
    if (napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "connectionBatches"), 0, 1,
                                        bridge_, FinalizeBridge, bridge_, CallJs, &tsfn_) != napi_ok) {
      delete bridge_;
      bridge_ = nullptr;
      throw Napi::Error::New(env, "could not set up a thread-safe function for the connection reader");
    }
    napi_unref_threadsafe_function(env, tsfn_);
    Bridge* bridge = bridge_;
    napi_threadsafe_function tsfn = tsfn_;
    try {
      // Called by the readers under the reading's lock, which Detach() takes
      // before the function is released: never after.
      reading_->Start([bridge, tsfn] {
        if (!bridge->scheduled.exchange(true)) napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_nonblocking);
      });
    } catch (...) {
      // Out of memory: no destructor runs for a constructor that throws, so
      // the threads started and the function are let go of here.
      released_ = true;
      reading_->Detach();
      bridge_->owner = nullptr;
      napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
      throw;
    }
    // Before the environment goes (a worker thread ends, the process exits),
    // the readers stop calling the function: it is freed with the environment.
    // Last: nothing after it may throw, or the hook would outlive this.
    napi_add_env_cleanup_hook(env, Cleanup, this);
  }

  // A handle collected without close() still stops its threads.
  ~ConnectionReader() override { Release(); }

 private:
  // With env null, Node is emptying the queue of a function it has closed,
  // after FinalizeBridge freed the bridge: nothing may touch it.
  static void CallJs(napi_env env, napi_value, void* context, void*) {
    if (env == nullptr) return;
    auto* bridge = static_cast<Bridge*>(context);
    bridge->scheduled = false;
    if (bridge->owner != nullptr) bridge->owner->Deliver(Napi::Env(env));
  }

  static void FinalizeBridge(napi_env, void* data, void*) { delete static_cast<Bridge*>(data); }

  static void Cleanup(void* self) { static_cast<ConnectionReader*>(self)->Release(); }

  // Settles the pending next() calls, in order, from what the reading has.
  void Deliver(Napi::Env env) {
    Napi::HandleScope scope(env);
    while (!pending_.empty()) {
      std::unique_ptr<Batch> batch;
      Failure failure;
      Reading::Step step = released_ ? Reading::Step::kEnd : reading_->Next(batch, failure);
      if (step == Reading::Step::kWait) break;
      Napi::Promise::Deferred d = pending_.front();
      pending_.pop_front();
      switch (step) {
        case Reading::Step::kBatch:
          try {
            d.Resolve(batch->ToJs(env));
          } catch (const Napi::Error& e) {
            d.Reject(e.Value());
          } catch (...) {
            d.Reject(Failure::Current().ToJs(env, "connectionBatches"));
          }
          break;
        case Reading::Step::kEnd:
          d.Resolve(env.Null());
          break;
        default:
          d.Reject(failure.ToJs(env, "connectionBatches"));
          break;
      }
    }
    if (tsfn_ != nullptr) {
      if (pending_.empty()) {
        napi_unref_threadsafe_function(env, tsfn_);
      } else {
        napi_ref_threadsafe_function(env, tsfn_);
      }
    }
  }

  // next(): the next batch, or null at the end; calls made before the last
  // one settled are answered in the order they were made.
  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Coded(env, "connectionBatches", [&]() -> Napi::Value {
      auto d = Napi::Promise::Deferred::New(env);
      pending_.push_back(d);
      Deliver(env);
      return d.Promise();
    });
  }

  // close(): stops the readers; a pending next() rejects with ECANCELED.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return Coded(info.Env(), "connectionBatches", [&] {
      if (!released_) reading_->Detach();
      Deliver(info.Env());
      Release();
      return info.Env().Undefined();
    });
  }

  void Release() {
    if (released_) return;
    released_ = true;
    napi_remove_env_cleanup_hook(Env(), Cleanup, this);
    reading_->Detach();
    // The threads keep the reading (and its namespace descriptor) until they
    // end, which the stop makes soon; this handle lets go of it now.
    reading_.reset();
    if (bridge_ != nullptr) bridge_->owner = nullptr;
    if (tsfn_ != nullptr) napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_ = nullptr;
  }

  std::shared_ptr<Reading> reading_;
  Bridge* bridge_ = nullptr;
  napi_threadsafe_function tsfn_ = nullptr;
  std::deque<Napi::Promise::Deferred> pending_;
  bool released_ = false;
};

}  // namespace

void DefineConnectionReader(Napi::Env env) {
  env.GetInstanceData<Napi::ObjectReference>()->Set("ConnectionReader", ConnectionReader::Define(env));
}

Napi::Value ConnectionBatches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<GenlSocket> sock = SocketArg(info);
  Plan plan = PlanFrom(info, sock, "connectionBatches");
  auto stop = std::make_shared<Stop>();
  if (sock) sock->Track(stop);
  auto reading = std::make_shared<Reading>(std::move(plan), stop);
  Napi::Function ctor = env.GetInstanceData<Napi::ObjectReference>()->Get("ConnectionReader").As<Napi::Function>();
  return Handoff<std::shared_ptr<Reading>>::Make(ctor, std::move(reading));
}

Napi::Value ConnectionStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<GenlSocket> sock = SocketArg(info);
  std::string by = StringField(ObjectArg(info, 1, "connection read options"), "by");
  Tally::By key;
  if (by == "state") {
    key = Tally::By::kState;
  } else if (by == "destination") {
    key = Tally::By::kDestination;
  } else if (by == "service") {
    key = Tally::By::kService;
  } else {
    throw Napi::TypeError::New(env, "field by must be 'state', 'destination' or 'service'");
  }
  StopPtr stop = Canceller::From(info.Length() > 2 ? info[2] : env.Undefined());
  auto plan = std::make_shared<const Plan>(PlanFrom(info, sock, "connectionStats"));
  if (sock) sock->Track(stop);
  return ThreadTask<std::unique_ptr<Tally>>::Run(
      env, "connectionStats", stop,
      [plan, key](std::unique_ptr<Tally>& out, Stop& stop) { out = Reading::Count(*plan, key, stop); },
      [](Napi::Env env, std::unique_ptr<Tally>& out) -> Napi::Value { return out->ToJs(env); });
}

Napi::Value ParseConnections(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "expected the text as a Uint8Array");
  // Every argument is read before the text's pointer is taken: the filter's
  // getters run JavaScript, which could detach or shrink the text's buffer.
  Filter filter;
  bool filtered = info.Length() > 1 && FilterArg(info[1], filter);
  Napi::Uint8Array text = info[0].As<Napi::Uint8Array>();
  const char* data = reinterpret_cast<const char*>(text.Data());
  size_t n = text.ByteLength();
  Batch batch;
  bool header = true;
  auto onLine = [&](size_t, std::string_view line) {
    if (header) {
      header = false;
      return true;
    }
    Entry e;
    if (!ParseLine(line, e)) throw Napi::Error::New(env, "unexpected line: " + QuoteLine(line));
    if (!filtered || filter.Test(e)) batch.Add(e);
    return true;
  };
  Rethrowing(env, "parseConnections", [&] {
    size_t taken = SplitLines(data, n, onLine);
    if (taken < n) onLine(taken, std::string_view(data + taken, n - taken));
  });
  return batch.ToJs(env);
}

}  // namespace ipvs
