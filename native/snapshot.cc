#include "snapshot.h"

#include <linux/ip_vs.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <system_error>
#include <vector>

#include "cancel.h"
#include "column.h"
#include "destination.h"
#include "executor.h"
#include "packed.h"
#include "service.h"
#include "socket.h"
#include "task.h"

namespace ipvs {

namespace {

// Below this many services one socket is faster than a pool: in the lab
// (qemu, 2 vCPUs) one socket won at 100 to 500 services, the pool of 2 from
// about 1,000 (docs/benchmarks.md, the thirteenth session).
constexpr size_t kPoolThreshold = 256;
// The snapshot as it is taken: the services decoded (their keys make the
// destination requests), and the destinations decoded straight into their
// packed columns, which JavaScript then takes over without a copy.
struct Taken {
  std::vector<ServiceEntry> services;
  std::vector<uint32_t> counts;    // destinations per service
  std::vector<uint64_t> counters;  // every service's, then every destination's
  std::vector<uint32_t> dests;     // kDestInts per destination
  std::vector<uint8_t> destAddrs;  // 16 per destination
  uint64_t takenAt = 0;            // CLOCK_MONOTONIC, ns
};

struct OwnColumns {
  std::vector<uint64_t> counters;
  std::vector<uint32_t> dests;
  std::vector<uint8_t> destAddrs;
  DestColumns View() { return {counters, dests, destAddrs}; }
};

uint64_t Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

template <typename T>
void Append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The IPVS_CMD_GET_DEST dump request of one socket, built once and given
// each service's key in turn (libnl appends at nlmsg_len: cutting it back
// empties the message).
class DestRequest {
 public:
  explicit DestRequest(const GenlSocket& sock)
      : msg_(sock.NewRequest(IPVS_CMD_GET_DEST, NLM_F_DUMP)), empty_(nlmsg_hdr(msg_.get())->nlmsg_len) {}

  nl_msg* For(const ServiceKey& key) {
    nlmsg_hdr(msg_.get())->nlmsg_len = empty_;
    PutServiceKey(msg_.get(), key);
    return msg_.get();
  }

 private:
  Message msg_;
  uint32_t empty_;
};

// One IPVS_CMD_GET_DEST dump, each destination decoded into `out`; returns
// how many. A dump that restarts (the table changed) drops what it added.
uint32_t DumpDests(GenlSocket& sock, DestRequest& request, const ServiceKey& key, DestColumns out) {
  const size_t mark = out.destAddrs.size() / 16;
  sock.Exchange(
      request.For(key), [&](const nlmsghdr* hdr) { PutDest(hdr, key.af, out); },
      [&] {
        out.counters.resize(mark * kCounters);
        out.dests.resize(mark * kDestInts);
        out.destAddrs.resize(mark * 16);
      });
  return static_cast<uint32_t>(out.destAddrs.size() / 16 - mark);
}

void Take(const std::shared_ptr<GenlSocket>& sock, size_t poolSize, Taken& t, Stop& stop) {
  t.services.reserve(256);
  DumpServices(*sock, t.services);
  const size_t n = t.services.size();
  t.counts.assign(n, 0);
  // As many destinations as the last snapshot of this socket had (a polling
  // monitor's table rarely changes), or a guess: then the columns are
  // handed over without a copy.
  size_t hint = sock->snapshotDestsHint.load(std::memory_order_relaxed);
  if (hint == 0) hint = 16 * n;
  t.counters.reserve((n + hint) * kCounters);
  for (const ServiceEntry& s : t.services) PutStats(t.counters, s.stats);
  DestColumns own{t.counters, t.dests, t.destAddrs};
  own.Reserve(hint);
  size_t threads = n >= kPoolThreshold ? std::min(poolSize, n) : 1;
  if (threads <= 1) {
    DestRequest request(*sock);
    for (size_t i = 0; i < n; i++) {
      stop.ThrowIfRequested();
      t.counts[i] = DumpDests(*sock, request, t.services[i].spec.key, own);
    }
  } else {
    auto pool = sock->Pool(threads);
    // The first thread's destinations go straight into the snapshot's
    // columns; the others' into their own, appended in order after.
    std::vector<OwnColumns> parts(threads - 1);
    // One slot per worker, and one for a worker that could not start.
    std::vector<std::exception_ptr> failures(threads + 1);
    // Each job uses this frame: Wait() returns only once every job posted has ended.
    Latch latch;
    // Contiguous slices, one per socket: each job owns its slice of t.counts.
    // The first failure stops the others (through `stop`).
    for (size_t w = 0; w < threads && !stop.requested(); w++) {
      latch.Add();
      try {
        Executor::Shared().Post([&, w] {
          NameThread("ipvs-dump");
          try {
            DestColumns out = w == 0 ? own : parts[w - 1].View();
            if (w > 0) out.Reserve(hint / threads);
            DestRequest request(*pool[w]);
            for (size_t i = w * n / threads; i < (w + 1) * n / threads; i++) {
              stop.ThrowIfRequested();
              t.counts[i] = DumpDests(*pool[w], request, t.services[i].spec.key, out);
            }
          } catch (...) {
            failures[w] = std::current_exception();
            stop.Request(ECANCELED);
          }
          latch.Done();
        });
      } catch (...) {
        latch.Done();
        failures[threads] = ThreadStartException("a snapshot thread");
        stop.Request(ECANCELED);
      }
    }
    latch.Wait();
    // A worker's own failure, not the stop it caused, is what went wrong;
    // the caller's stop (abort, close) is reported as such.
    if (stop.reason() == EBADF) stop.ThrowIfRequested();
    for (auto& f : failures) {
      if (!f) continue;
      try {
        std::rethrow_exception(f);
      } catch (const KernelError& e) {
        if (e.errnum != ECANCELED) throw;
      }
    }
    for (auto& f : failures)
      if (f) std::rethrow_exception(f);
    size_t total = t.destAddrs.size() / 16;
    for (const OwnColumns& part : parts) total += part.destAddrs.size() / 16;
    own.Reserve(total - t.destAddrs.size() / 16);
    for (const OwnColumns& part : parts) {
      Append(t.counters, part.counters);
      Append(t.dests, part.dests);
      Append(t.destAddrs, part.destAddrs);
    }
  }
  stop.ThrowIfRequested();
  sock->snapshotDestsHint.store(t.destAddrs.size() / 16, std::memory_order_relaxed);
  t.takenAt = Now();
}

// Index of `name` in `table`, adding it when new.
uint32_t Intern(std::vector<std::string>& table, const std::string& name) {
  auto it = std::find(table.begin(), table.end(), name);
  if (it != table.end()) return static_cast<uint32_t>(it - table.begin());
  table.push_back(name);
  return static_cast<uint32_t>(table.size() - 1);
}

Napi::Value Pack(Napi::Env env, Taken& t) {
  const size_t ns = t.services.size();
  std::vector<uint32_t> services(ns * kServiceInts), offsets(ns + 1);
  std::vector<uint8_t> serviceAddrs(ns * 16);
  std::vector<std::string> schedulers, engines{""};
  uint32_t d = 0;
  for (size_t i = 0; i < ns; i++) {
    const ServiceEntry& s = t.services[i];
    const ServiceKey& k = s.spec.key;
    const uint32_t row[kServiceInts] = {IPVS_SERVICE_COLUMNS(IPVS_COLUMN_VALUE)};
    memcpy(&services[i * kServiceInts], row, sizeof row);
    memcpy(&serviceAddrs[i * 16], k.addr, 16);
    offsets[i] = d;
    d += t.counts[i];
  }
  offsets[ns] = d;

  Napi::Object o = Napi::Object::New(env);
  o.Set("takenAt", Napi::BigInt::New(env, t.takenAt));
  o.Set("counters", Column(env, std::move(t.counters)));
  o.Set("services", Column(env, std::move(services)));
  o.Set("serviceAddrs", Column(env, std::move(serviceAddrs)));
  o.Set("destOffsets", Column(env, std::move(offsets)));
  o.Set("dests", Column(env, std::move(t.dests)));
  o.Set("destAddrs", Column(env, std::move(t.destAddrs)));
  Napi::Array sch = Napi::Array::New(env, schedulers.size());
  for (size_t i = 0; i < schedulers.size(); i++) sch.Set(i, schedulers[i]);
  o.Set("schedulers", sch);
  Napi::Array pe = Napi::Array::New(env, engines.size());
  for (size_t i = 0; i < engines.size(); i++) pe.Set(i, engines[i]);
  o.Set("engines", pe);
  return o;
}

Napi::Array Names(Napi::Env env, const char* const* names, size_t n) {
  Napi::Array arr = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) arr.Set(i, Napi::String::New(env, names[i]));
  return arr;
}

}  // namespace

Napi::Object SnapshotColumns(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("counters", Names(env, kCounterNames, kCounters));
  o.Set("services", Names(env, kServiceNames, kServiceInts));
  o.Set("dests", Names(env, kDestNames, kDestInts));
  return o;
}

Napi::Value Snapshot(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  double pool = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  if (!(pool >= 1 && pool <= 16 && pool == static_cast<size_t>(pool)))
    throw Napi::RangeError::New(info.Env(), "poolSize must be an integer from 1 to 16");
  size_t poolSize = static_cast<size_t>(pool);
  StopPtr stop = Canceller::From(info.Length() > 2 ? info[2] : info.Env().Undefined());
  sock->Track(stop);
  return ThreadTask<Taken>::Run(
      info.Env(), "snapshot", stop, [sock, poolSize](Taken& t, Stop& stop) { Take(sock, poolSize, t, stop); }, Pack);
}

}  // namespace ipvs
