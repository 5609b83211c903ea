#include "sockopt.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "convert.h"
#include "daemon.h"
#include "destination.h"
#include "service.h"
#include "socket.h"
#include "task.h"
#include "timeouts.h"

namespace ipvs {

// Named apart: the netlink back-end's functions of the same names are in scope.
namespace legacy {

// The kernel answers a socket option with its verdict as errno.
void Set(int fd, int opt, const void* arg, socklen_t len) {
  if (setsockopt(fd, IPPROTO_IP, opt, arg, len) != 0) {
    int e = errno;  // before any argument of the throw is built
    ThrowVerdict(e);
  }
}

void Get(int fd, int opt, void* arg, socklen_t* len) {
  if (getsockopt(fd, IPPROTO_IP, opt, arg, len) != 0) {
    int e = errno;
    ThrowVerdict(e);
  }
}

// What libipvs answers (before any syscall) for what the interface cannot name.
[[noreturn]] void Unsupported(const std::string& what) {
  throw KernelError(EAFNOSUPPORT, "the socket-option interface cannot carry " + what + "; use the netlink back-end");
}

uint32_t V4(const uint8_t addr[16]) {
  uint32_t a;
  memcpy(&a, addr, 4);
  return a;  // network order, as the structures want it
}

void FromV4(uint32_t a, uint8_t addr[16]) {
  memset(addr, 0, 16);
  memcpy(addr, &a, 4);
}

ip_vs_service_user ServiceUser(const ServiceSpec& s) {
  if (s.key.af != AF_INET) Unsupported("IPv6 services");
  if (!s.pe.empty()) Unsupported("a persistence engine");
  if (s.scheduler.size() >= IP_VS_SCHEDNAME_MAXLEN) Unsupported("a scheduler name of 16 characters or more");
  ip_vs_service_user u{};
  // The kernel wants TCP, UDP or SCTP even for fwmark services.
  u.protocol = s.key.fwmark != 0 ? static_cast<uint16_t>(IPPROTO_TCP) : s.key.protocol;
  u.addr = V4(s.key.addr);
  u.port = htons(s.key.port);
  u.fwmark = s.key.fwmark;
  memcpy(u.sched_name, s.scheduler.c_str(), s.scheduler.size());
  u.flags = s.flags;
  u.timeout = s.timeout;
  u.netmask = htonl(s.netmask);
  return u;
}

ip_vs_service_user KeyUser(const ServiceKey& k) {
  ServiceSpec s;
  s.key = k;
  s.netmask = 0xffffffff;
  return ServiceUser(s);
}

// The layout of ADDDEST/EDITDEST/DELDEST: a service, then a destination.
struct ServiceDest {
  ip_vs_service_user svc;
  ip_vs_dest_user dest;
} __attribute__((packed));
static_assert(sizeof(ServiceDest) == sizeof(ip_vs_service_user) + sizeof(ip_vs_dest_user),
              "no padding between the two");

ip_vs_dest_user DestUser(const DestSpec& d) {
  if (d.af != AF_INET) Unsupported("IPv6 destinations");
  if (d.tunType != IP_VS_CONN_F_TUNNEL_TYPE_IPIP || d.tunPort != 0 || d.tunFlags != 0)
    Unsupported("tunnel types other than ipip, tunnel ports or checksum flags");
  ip_vs_dest_user u{};
  u.addr = V4(d.addr);
  u.port = htons(d.port);
  u.conn_flags = d.fwdMethod;
  u.weight = d.weight;
  u.u_threshold = d.uThreshold;
  u.l_threshold = d.lThreshold;
  return u;
}

Stats FromUser(const ip_vs_stats_user& u) {
  Stats s;
  s.conns = u.conns;
  s.inpkts = u.inpkts;
  s.outpkts = u.outpkts;
  s.inbytes = u.inbytes;
  s.outbytes = u.outbytes;
  s.cps = u.cps;
  s.inpps = u.inpps;
  s.outpps = u.outpps;
  s.inbps = u.inbps;
  s.outbps = u.outbps;
  return s;
}

// Reported as netlink reports it: fwmark services carry no protocol or address.
ServiceEntry FromEntry(const ip_vs_service_entry& e) {
  ServiceEntry out;
  ServiceKey& k = out.spec.key;
  k.af = AF_INET;
  k.fwmark = e.fwmark;
  if (e.fwmark == 0) {
    k.protocol = e.protocol;
    FromV4(e.addr, k.addr);
    k.port = ntohs(e.port);
  }
  out.spec.scheduler = std::string(e.sched_name, strnlen(e.sched_name, sizeof e.sched_name));
  out.spec.flags = e.flags;
  out.spec.timeout = e.timeout;
  out.spec.netmask = ntohl(e.netmask);
  out.stats = FromUser(e.stats);
  return out;
}

ip_vs_getinfo GetInfo(int fd) {
  ip_vs_getinfo gi{};
  socklen_t len = sizeof gi;
  Get(fd, IP_VS_SO_GET_INFO, &gi, &len);
  return gi;
}

// GET_SERVICE for one key, which the kernel fills in; ESRCH when missing.
ip_vs_service_entry GetEntry(int fd, const ServiceKey& key) {
  ip_vs_service_user k = KeyUser(key);
  ip_vs_service_entry e{};
  e.protocol = k.protocol;
  e.addr = k.addr;
  e.port = k.port;
  e.fwmark = k.fwmark;
  socklen_t len = sizeof e;
  Get(fd, IP_VS_SO_GET_SERVICE, &e, &len);
  return e;
}

// The kernel wants the exact size for n entries, n read beforehand; when the
// table grows in between it fills only n, so ask again with the new count.
template <typename Header, typename Entry, typename Count, typename Fill>
std::vector<uint8_t> GetTable(int fd, int opt, Count count, Fill fill) {
  for (int attempt = 0; attempt < 8; attempt++) {
    uint32_t n = count();
    std::vector<uint8_t> buf(sizeof(Header) + n * sizeof(Entry));
    auto* h = reinterpret_cast<Header*>(buf.data());
    fill(h, n);
    socklen_t len = buf.size();
    Get(fd, opt, buf.data(), &len);
    if (count() == n) return buf;
  }
  throw KernelError(EAGAIN, "the IPVS table kept changing while it was read; try again");
}

using Handle = std::shared_ptr<GenlSocket>;

// A command that sends one setsockopt and returns nothing. `parse` reads the
// JavaScript arguments on the main thread and returns a maker of the option's
// structure; the maker runs on the worker, where refusing (KernelError) turns
// into a rejected promise rather than an exception across N-API.
template <typename Parse>
Napi::Value SetCommand(const Napi::CallbackInfo& info, const char* op, int opt, Parse parse) {
  auto sock = Socket::From(info[0]);
  auto make = parse(info);
  return Task<Nothing>::Run(
      info.Env(), op,
      [sock, opt, make](Nothing&) {
        auto arg = make();
        sock->WithLegacy([&](int fd) { Set(fd, opt, &arg, sizeof arg); });
      },
      Undefined);
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<ip_vs_getinfo>::Run(
      info.Env(), "info", [sock](ip_vs_getinfo& out) { sock->WithLegacy([&](int fd) { out = GetInfo(fd); }); },
      [](Napi::Env env, ip_vs_getinfo& out) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("version", Napi::Number::New(env, out.version));
        o.Set("connTabSize", Napi::Number::New(env, out.size));
        return o;
      });
}

Napi::Value ListServices(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  using Entries = std::vector<ServiceEntry>;
  return Task<Entries>::Run(
      info.Env(), "listServices",
      [sock](Entries& out) {
        sock->WithLegacy([&](int fd) {
          // num_services counts IPv4 services only, which is all this interface lists.
          auto buf = GetTable<ip_vs_get_services, ip_vs_service_entry>(
              fd, IP_VS_SO_GET_SERVICES, [fd] { return GetInfo(fd).num_services; },
              [](ip_vs_get_services* h, uint32_t n) { h->num_services = n; });
          auto* h = reinterpret_cast<ip_vs_get_services*>(buf.data());
          for (uint32_t i = 0; i < h->num_services; i++) out.push_back(FromEntry(h->entrytable[i]));
        });
      },
      [](Napi::Env env, Entries& out) -> Napi::Value { return ArrayToJs(env, out, ServiceToJs); });
}

Napi::Value GetService(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  ServiceKey key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  return Task<ServiceEntry>::Run(
      info.Env(), "getService",
      [sock, key](ServiceEntry& out) { sock->WithLegacy([&](int fd) { out = FromEntry(GetEntry(fd, key)); }); },
      [](Napi::Env env, ServiceEntry& out) -> Napi::Value { return ServiceToJs(env, out); });
}

Napi::Value AddService(const Napi::CallbackInfo& info) {
  return SetCommand(info, "addService", IP_VS_SO_SET_ADD, [](const Napi::CallbackInfo& i) {
    return [spec = ServiceSpecFrom(ObjectArg(i, 1, "a service spec"))] { return ServiceUser(spec); };
  });
}

Napi::Value EditService(const Napi::CallbackInfo& info) {
  return SetCommand(info, "editService", IP_VS_SO_SET_EDIT, [](const Napi::CallbackInfo& i) {
    return [spec = ServiceSpecFrom(ObjectArg(i, 1, "a service spec"))] { return ServiceUser(spec); };
  });
}

Napi::Value DeleteService(const Napi::CallbackInfo& info) {
  return SetCommand(info, "deleteService", IP_VS_SO_SET_DEL, [](const Napi::CallbackInfo& i) {
    return [key = ServiceKeyFrom(ObjectArg(i, 1, "a service key"))] { return KeyUser(key); };
  });
}

Napi::Value Zero(const Napi::CallbackInfo& info) {
  // An all-zero service zeroes everything.
  return SetCommand(info, "zero", IP_VS_SO_SET_ZERO, [](const Napi::CallbackInfo& i) {
    bool all = i.Length() < 2 || i[1].IsNull() || i[1].IsUndefined();
    ServiceKey key = all ? ServiceKey{} : ServiceKeyFrom(ObjectArg(i, 1, "a service key"));
    return [all, key] { return all ? ip_vs_service_user{} : KeyUser(key); };
  });
}

Napi::Value Clear(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<Nothing>::Run(
      info.Env(), "clear",
      [sock](Nothing&) { sock->WithLegacy([](int fd) { Set(fd, IP_VS_SO_SET_FLUSH, nullptr, 0); }); }, Undefined);
}

Napi::Value ListDestinations(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  ServiceKey key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  using Entries = std::vector<DestEntry>;
  return Task<Entries>::Run(
      info.Env(), "listDestinations",
      [sock, key](Entries& out) {
        if (key.af != AF_INET) Unsupported("IPv6 services");
        sock->WithLegacy([&](int fd) {
          ip_vs_service_user k = KeyUser(key);
          uint32_t n0 = 0;
          try {
            n0 = GetEntry(fd, key).num_dests;
          } catch (const KernelError& e) {
            // As over netlink: a service that does not exist has no destinations.
            if (e.errnum == ESRCH) return;
            throw;
          }
          bool first = true;
          auto buf = GetTable<ip_vs_get_dests, ip_vs_dest_entry>(
              fd, IP_VS_SO_GET_DESTS,
              [&] {
                if (first) {
                  first = false;
                  return n0;
                }
                return GetEntry(fd, key).num_dests;
              },
              [&](ip_vs_get_dests* h, uint32_t n) {
                h->protocol = k.protocol;
                h->addr = k.addr;
                h->port = k.port;
                h->fwmark = k.fwmark;
                h->num_dests = n;
              });
          auto* h = reinterpret_cast<ip_vs_get_dests*>(buf.data());
          for (uint32_t i = 0; i < h->num_dests; i++) {
            const ip_vs_dest_entry& e = h->entrytable[i];
            DestEntry d;
            d.spec.af = AF_INET;
            FromV4(e.addr, d.spec.addr);
            d.spec.port = ntohs(e.port);
            d.spec.fwdMethod = e.conn_flags & IP_VS_CONN_F_FWD_MASK;
            d.spec.weight = e.weight;
            d.spec.uThreshold = e.u_threshold;
            d.spec.lThreshold = e.l_threshold;
            d.activeConns = e.activeconns;
            d.inactConns = e.inactconns;
            d.persistConns = e.persistconns;
            d.stats = FromUser(e.stats);
            out.push_back(d);
          }
        });
      },
      [](Napi::Env env, Entries& out) -> Napi::Value { return ArrayToJs(env, out, DestToJs); });
}

std::function<ServiceDest()> ServiceDestArgs(const Napi::CallbackInfo& info, bool keyOnly) {
  ServiceKey key = ServiceKeyFrom(ObjectArg(info, 1, "a service key"));
  DestSpec dest = DestSpecFrom(ObjectArg(info, 2, "a destination"), keyOnly);
  return [key, dest] {
    ServiceDest sd{};
    sd.svc = KeyUser(key);
    sd.dest = DestUser(dest);
    return sd;
  };
}

Napi::Value AddDestination(const Napi::CallbackInfo& info) {
  return SetCommand(info, "addDestination", IP_VS_SO_SET_ADDDEST,
                    [](const Napi::CallbackInfo& i) { return ServiceDestArgs(i, false); });
}

Napi::Value EditDestination(const Napi::CallbackInfo& info) {
  return SetCommand(info, "editDestination", IP_VS_SO_SET_EDITDEST,
                    [](const Napi::CallbackInfo& i) { return ServiceDestArgs(i, false); });
}

Napi::Value DeleteDestination(const Napi::CallbackInfo& info) {
  return SetCommand(info, "deleteDestination", IP_VS_SO_SET_DELDEST,
                    [](const Napi::CallbackInfo& i) { return ServiceDestArgs(i, true); });
}

Napi::Value GetTimeouts(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  return Task<ip_vs_timeout_user>::Run(
      info.Env(), "getTimeouts",
      [sock](ip_vs_timeout_user& out) {
        sock->WithLegacy([&](int fd) {
          socklen_t len = sizeof out;
          Get(fd, IP_VS_SO_GET_TIMEOUT, &out, &len);
        });
      },
      [](Napi::Env env, ip_vs_timeout_user& out) -> Napi::Value {
        return TimeoutsToJs(env, {out.tcp_timeout, out.tcp_fin_timeout, out.udp_timeout});
      });
}

Napi::Value SetTimeouts(const Napi::CallbackInfo& info) {
  return SetCommand(info, "setTimeouts", IP_VS_SO_SET_TIMEOUT, [](const Napi::CallbackInfo& i) {
    Timeouts t = TimeoutsFrom(ObjectArg(i, 1, "timeouts"));
    ip_vs_timeout_user u{t.tcp, t.tcpFin, t.udp};
    return [u] { return u; };
  });
}

Napi::Value ListDaemons(const Napi::CallbackInfo& info) {
  auto sock = Socket::From(info[0]);
  using Daemons = std::vector<Daemon>;
  return Task<Daemons>::Run(
      info.Env(), "listDaemons",
      [sock](Daemons& out) {
        sock->WithLegacy([&](int fd) {
          // Always two slots, master then backup; state 0 means not running.
          ip_vs_daemon_user d[2]{};
          socklen_t len = sizeof d;
          Get(fd, IP_VS_SO_GET_DAEMON, d, &len);
          for (const auto& u : d) {
            if (u.state == IP_VS_STATE_NONE) continue;
            Daemon x;
            x.state = u.state;
            x.ifname = std::string(u.mcast_ifn, strnlen(u.mcast_ifn, sizeof u.mcast_ifn));
            x.syncId = u.syncid;
            out.push_back(x);
          }
        });
      },
      [](Napi::Env env, Daemons& out) -> Napi::Value { return ArrayToJs(env, out, DaemonToJs); });
}

ip_vs_daemon_user DaemonUserFrom(const Daemon& d);

std::function<ip_vs_daemon_user()> DaemonUser(const Napi::CallbackInfo& info, bool stop) {
  return [d = DaemonFrom(ObjectArg(info, 1, "a daemon"), stop)] { return DaemonUserFrom(d); };
}

ip_vs_daemon_user DaemonUserFrom(const Daemon& d) {
  if (d.maxLen != 0 || d.groupAf != 0 || d.port != 0 || d.ttl != 0)
    Unsupported("a daemon's message length, multicast group, port or TTL");
  ip_vs_daemon_user u{};
  u.state = d.state;
  memcpy(u.mcast_ifn, d.ifname.c_str(), std::min(d.ifname.size(), sizeof u.mcast_ifn - 1));
  u.syncid = d.syncId;
  return u;
}

Napi::Value StartDaemon(const Napi::CallbackInfo& info) {
  return SetCommand(info, "startDaemon", IP_VS_SO_SET_STARTDAEMON,
                    [](const Napi::CallbackInfo& i) { return DaemonUser(i, false); });
}

Napi::Value StopDaemon(const Napi::CallbackInfo& info) {
  return SetCommand(info, "stopDaemon", IP_VS_SO_SET_STOPDAEMON,
                    [](const Napi::CallbackInfo& i) { return DaemonUser(i, true); });
}

}  // namespace legacy

using namespace legacy;

Napi::Value OpenSockopt(const Napi::CallbackInfo& info) {
  SocketOptions options = SocketOptionsFrom(info);
  return Task<Handle>::Run(
      info.Env(), "open",
      [options](Handle& out) {
        out = GenlSocket::OpenLegacy(options);
        // A first exchange proves IPVS is there, as ipvsadm's initialisation does.
        out->WithLegacy([](int fd) {
          try {
            GetInfo(fd);
          } catch (const KernelError& e) {
            if (e.errnum != ENOPROTOOPT) throw;
            throw KernelError(ENOPROTOOPT,
                              "IPVS is not available in this kernel: its socket options are unknown (load the ip_vs "
                              "module or run a kernel built with CONFIG_IP_VS)");
          }
        });
      },
      [](Napi::Env env, Handle& out) -> Napi::Value { return Socket::Wrap(env, out); });
}

Napi::Object SockoptExports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("info", Export<legacy::Info>(env, "info"));
  o.Set("listServices", Export<legacy::ListServices>(env, "listServices"));
  o.Set("getService", Export<legacy::GetService>(env, "getService"));
  o.Set("addService", Export<legacy::AddService>(env, "addService"));
  o.Set("editService", Export<legacy::EditService>(env, "editService"));
  o.Set("deleteService", Export<legacy::DeleteService>(env, "deleteService"));
  o.Set("clear", Export<legacy::Clear>(env, "clear"));
  o.Set("zero", Export<legacy::Zero>(env, "zero"));
  o.Set("listDestinations", Export<legacy::ListDestinations>(env, "listDestinations"));
  o.Set("addDestination", Export<legacy::AddDestination>(env, "addDestination"));
  o.Set("editDestination", Export<legacy::EditDestination>(env, "editDestination"));
  o.Set("deleteDestination", Export<legacy::DeleteDestination>(env, "deleteDestination"));
  o.Set("getTimeouts", Export<legacy::GetTimeouts>(env, "getTimeouts"));
  o.Set("setTimeouts", Export<legacy::SetTimeouts>(env, "setTimeouts"));
  o.Set("listDaemons", Export<legacy::ListDaemons>(env, "listDaemons"));
  o.Set("startDaemon", Export<legacy::StartDaemon>(env, "startDaemon"));
  o.Set("stopDaemon", Export<legacy::StopDaemon>(env, "stopDaemon"));
  return o;
}

}  // namespace ipvs
