#include "listing.h"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "address_text.h"
#include "packed.h"

namespace ipvs {

namespace {

constexpr int kStride = ccol::kCount;  // counters per entry

template <typename T>
const T* TypedData(const Napi::Object& p, const char* name, size_t* length, napi_typedarray_type want) {
  Napi::Value v = p.Get(name);
  if (!v.IsTypedArray())
    throw Napi::TypeError::New(p.Env(), std::string("snapshot.") + name + " must be a typed array");
  auto a = v.As<Napi::TypedArray>();
  if (a.TypedArrayType() != want)
    throw Napi::TypeError::New(p.Env(), std::string("snapshot.") + name + " has the wrong element type");
  *length = a.ElementLength();
  return reinterpret_cast<const T*>(static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// The strings of array `v` (`what` names it in the error).
std::vector<std::string> StringsOf(const Napi::Value& v, const std::string& what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), what + " must be an array");
  auto a = v.As<Napi::Array>();
  std::vector<std::string> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).ToString().Utf8Value();
  return out;
}

std::vector<std::string> Strings(const Napi::Object& p, const char* name) {
  return StringsOf(p.Get(name), std::string(name));
}

// A packed snapshot (src/snapshot.ts), read in place, its sizes checked
// against each other once so that the formatting below needs no checks.
struct Table {
  const uint64_t* counters;
  const uint32_t* services;
  const uint8_t* serviceAddrs;
  const uint32_t* destOffsets;
  const uint32_t* dests;
  const uint8_t* destAddrs;
  std::vector<std::string> schedulers, engines;
  size_t count = 0;      // services
  size_t destCount = 0;  // destinations

  explicit Table(const Napi::Value& value) {
    Napi::Env env = value.Env();
    if (!value.IsObject()) throw Napi::TypeError::New(env, "snapshot must be a packed snapshot");
    auto p = value.As<Napi::Object>();
    size_t nc, ns, nsa, no, nd, nda;
    counters = TypedData<uint64_t>(p, "counters", &nc, napi_biguint64_array);
    services = TypedData<uint32_t>(p, "services", &ns, napi_uint32_array);
    serviceAddrs = TypedData<uint8_t>(p, "serviceAddrs", &nsa, napi_uint8_array);
    destOffsets = TypedData<uint32_t>(p, "destOffsets", &no, napi_uint32_array);
    dests = TypedData<uint32_t>(p, "dests", &nd, napi_uint32_array);
    destAddrs = TypedData<uint8_t>(p, "destAddrs", &nda, napi_uint8_array);
    schedulers = Strings(p, "schedulers");
    engines = Strings(p, "engines");
    count = ns / scol::kCount;
    destCount = nd / dcol::kCount;
    bool ok = ns == count * scol::kCount && nd == destCount * dcol::kCount && nsa == count * 16 &&
              nda == destCount * 16 && no == count + 1 && nc == (count + destCount) * kStride;
    for (size_t i = 0; ok && i < count; i++) {
      ok = destOffsets[i] <= destOffsets[i + 1] && destOffsets[i + 1] <= destCount &&
           S(i, scol::scheduler) < schedulers.size() && S(i, scol::pe) < engines.size();
    }
    if (!ok) throw Napi::RangeError::New(env, "snapshot's columns do not fit together");
  }

  uint32_t S(size_t i, int column) const { return services[i * scol::kCount + column]; }
  uint32_t D(size_t j, int column) const { return dests[j * dcol::kCount + column]; }
  // Counter k of service i, or of destination j as entry count + j.
  uint64_t Counter(size_t entry, int k) const { return counters[entry * kStride + k]; }
};

// --- ipvsadm's order -----------------------------------------------------------

uint32_t Word(const uint8_t* b) {
  return static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 | static_cast<uint32_t>(b[2]) << 8 |
         b[3];
}

// ntohl differences read as int32: one word for IPv4, four for IPv6 (the
// first entry's family decides), as ipvsadm compares addresses.
int CompareAddr(uint32_t af, const uint8_t* a, const uint8_t* b) {
  int words = af == AF_INET6 ? 4 : 1;
  for (int i = 0; i < words; i++) {
    auto r = static_cast<int32_t>(Word(a + i * 4) - Word(b + i * 4));
    if (r != 0) return r;
  }
  return 0;
}

int CompareServices(const Table& t, uint32_t a, uint32_t b) {
  auto r = static_cast<int32_t>(t.S(a, scol::fwmark) - t.S(b, scol::fwmark));
  if (r != 0) return r;
  uint32_t af = t.S(a, scol::af);
  if (af != t.S(b, scol::af)) return static_cast<int>(af) - static_cast<int>(t.S(b, scol::af));
  if (t.S(a, scol::protocol) != t.S(b, scol::protocol))
    return static_cast<int>(t.S(a, scol::protocol)) - static_cast<int>(t.S(b, scol::protocol));
  r = CompareAddr(af, t.serviceAddrs + a * 16, t.serviceAddrs + b * 16);
  if (r != 0) return r;
  return static_cast<int>(t.S(a, scol::port)) - static_cast<int>(t.S(b, scol::port));
}

int CompareDests(const Table& t, uint32_t a, uint32_t b) {
  int r = CompareAddr(t.D(a, dcol::af), t.destAddrs + a * 16, t.destAddrs + b * 16);
  if (r != 0) return r;
  return static_cast<int>(t.D(a, dcol::port)) - static_cast<int>(t.D(b, dcol::port));
}

// glibc's qsort, which ipvsadm sorts with: a top-down merge sort that takes
// from the left while cmp <= 0. The comparators are not transitive for
// far-apart addresses, so only this exact algorithm gives ipvsadm's order.
template <typename Cmp>
void Msort(uint32_t* a, size_t n, uint32_t* tmp, const Cmp& cmp) {
  if (n <= 1) return;
  size_t n1 = n / 2, n2 = n - n1;
  Msort(a, n1, tmp, cmp);
  Msort(a + n1, n2, tmp, cmp);
  uint32_t *i = a, *j = a + n1, *k = tmp;
  while (n1 > 0 && n2 > 0) {
    if (cmp(*i, *j) <= 0) {
      *k++ = *i++;
      n1--;
    } else {
      *k++ = *j++;
      n2--;
    }
  }
  while (n1-- > 0) *k++ = *i++;
  memcpy(a, tmp, (k - tmp) * sizeof *a);
}

// --- text ------------------------------------------------------------------------

class Text {
 public:
  std::string s;

  void Add(const char* p, size_t n) { s.append(p, n); }
  void Add(const std::string& v) { s.append(v); }
  void Add(const char* v) { s.append(v); }
  void Add(char c) { s.push_back(c); }
  void Spaces(size_t n) { s.append(n, ' '); }
  // printf's %-Ns and %Ns: padded, never cut.
  void Left(const char* p, size_t n, size_t width) {
    Add(p, n);
    if (n < width) Spaces(width - n);
  }
  void Left(const std::string& v, size_t width) { Left(v.data(), v.size(), width); }
  void Right(const char* p, size_t n, size_t width) {
    if (n < width) Spaces(width - n);
    Add(p, n);
  }
  void Unsigned(uint64_t v) {
    char b[24];
    Add(b, Digits(v, b));
  }
  void Signed(int64_t v) {
    if (v < 0) {
      Add('-');
      Unsigned(static_cast<uint64_t>(-(v + 1)) + 1);
    } else {
      Unsigned(static_cast<uint64_t>(v));
    }
  }
  void LeftUnsigned(uint64_t v, size_t width) {
    char b[24];
    Left(b, Digits(v, b), width);
  }
  void LeftSigned(int64_t v, size_t width) {
    size_t at = s.size();
    Signed(v);
    if (s.size() - at < width) Spaces(width - (s.size() - at));
  }
  void RightUnsigned(uint64_t v, size_t width) {
    char b[24];
    Right(b, Digits(v, b), width);
  }

  static size_t Digits(uint64_t v, char* out) {
    char b[24];
    size_t n = 0;
    do {
      b[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) out[i] = b[n - 1 - i];
    return n;
  }
};

// print_largenum: 9 columns, scaled to K, M, G or T unless exact.
void Largenum(Text& out, uint64_t v, bool exact) {
  if (exact) {
    char b[24];
    size_t n = Text::Digits(v, b);
    if (n <= 8) {
      out.Right(b, n, 9);
    } else {
      out.Add(' ');
      out.Add(b, n);
    }
    return;
  }
  if (v < 100000000ULL) return out.RightUnsigned(v, 9);
  char unit;
  uint64_t d;
  if (v < 1000000000ULL) {
    unit = 'K', d = 1000ULL;
  } else if (v < 100000000000ULL) {
    unit = 'M', d = 1000000ULL;
  } else if (v < 100000000000000ULL) {
    unit = 'G', d = 1000000000ULL;
  } else {
    unit = 'T', d = 1000000000000ULL;
  }
  out.RightUnsigned(v / d, 8);
  out.Add(unit);
}

// The address of the 16 address bytes for `af` (4 of them for IPv4), as
// inet_ntop writes it, appended to `out`.
void AddAddr(Text& out, uint32_t af, const uint8_t* addr) {
  char b[INET6_ADDRSTRLEN];
  out.Add(b, af == AF_INET6 ? Ipv6Text(addr, b) : DottedQuad(addr, b));
}

// `host:port`, IPv6 in brackets, numeric, at most 59 characters, written to `out`.
void AddrPortAt(Text& out, uint32_t af, const uint8_t* addr, uint32_t port) {
  size_t start = out.s.size();
  if (af == AF_INET6) {
    out.Add('[');
    AddAddr(out, af, addr);
    out.Add("]:");
  } else {
    AddAddr(out, af, addr);
    out.Add(':');
  }
  out.Unsigned(port);
  if (out.s.size() - start > 59) out.s.resize(start + 59);
}

// The same as a string.
std::string AddrPort(uint32_t af, const uint8_t* addr, uint32_t port) {
  Text out;
  AddrPortAt(out, af, addr, port);
  return out.s;
}

std::string DottedMask(uint32_t m) {
  return std::to_string(m >> 24) + "." + std::to_string(m >> 16 & 255) + "." + std::to_string(m >> 8 & 255) + "." +
         std::to_string(m & 255);
}

// The scheduler flags' names; `ipvsadm`: as ipvsadm lists them, which shows
// no flag-3 for sh and mh (their own names for the other two).
std::string SchedulerFlags(const std::string& scheduler, uint32_t flags, bool ipvsadm, const char* quote,
                           const char* separator) {
  static const uint32_t bits[] = {IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3};
  static const char* const generic[] = {"flag-1", "flag-2", "flag-3"};
  bool own = scheduler == "sh" || scheduler == "mh";
  std::string out;
  for (int k = 0; k < 3; k++) {
    if (!(flags & bits[k])) continue;
    std::string name;
    if (own && k < 2) {
      name = scheduler + (k == 0 ? "-fallback" : "-port");
    } else if (own && ipvsadm) {
      continue;
    } else {
      name = generic[k];
    }
    if (!out.empty()) out += separator;
    out += quote + name + quote;
  }
  return out;
}

constexpr uint32_t kSchedulerFlagBits = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;

// ipvsadm's name of a service's protocol ("?" for one a service cannot have),
// and the -S option that names it.
const char* ProtocolName(uint32_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case IPPROTO_SCTP:
      return "SCTP";
    default:
      return "?";
  }
}

const char* ProtocolOption(uint32_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP:
      return "-t";
    case IPPROTO_UDP:
      return "-u";
    case IPPROTO_SCTP:
      return "--sctp-service";
    default:
      return "--xxx-service";
  }
}

// glibc prints a NULL %s as "(null)": what ipvsadm shows for an unknown value.
const char* ForwardingName(uint32_t fwd) {
  static const char* const names[] = {"Masq", "Local", "Tunnel", "Route"};
  fwd &= IP_VS_CONN_F_FWD_MASK;
  return fwd < 4 ? names[fwd] : "(null)";
}

const char* ForwardingSwitch(uint32_t fwd) {
  switch (fwd) {
    case IP_VS_CONN_F_MASQ:
      return "-m";
    case IP_VS_CONN_F_TUNNEL:
      return "-i";
    case IP_VS_CONN_F_DROUTE:
    case IP_VS_CONN_F_LOCALNODE:
      return "-g";
    default:
      return "(null)";
  }
}

const char* Indexed(const char* const* names, size_t n, uint32_t i) { return i < n ? names[i] : "(null)"; }

enum Mode { kTable, kStats, kRate, kThresholds, kPersistentConn, kTunInfo, kSave, kJson };
constexpr uint32_t kExact = 1, kSort = 2;

class Listing {
 public:
  Listing(const Table& t, uint32_t mode, uint32_t flags) : t_(t), mode_(mode), exact_(flags & kExact) {}

  void Service(uint32_t i, const uint32_t* order, size_t n) {
    switch (mode_) {
      case kSave:
        return Save(i, order, n);
      default:
        ServiceLine(i);
        for (size_t k = 0; k < n; k++) DestLine(i, order[k]);
    }
  }

  Text out;

 private:
  // `TCP  192.0.2.1:80`, `FWM  5 IPv6`.
  std::string ServiceName(uint32_t i) const {
    uint32_t af = t_.S(i, scol::af);
    uint32_t fwmark = t_.S(i, scol::fwmark);
    if (fwmark != 0) return "FWM  " + std::to_string(static_cast<int32_t>(fwmark)) + (af == AF_INET6 ? " IPv6" : "");
    std::string protocol = ProtocolName(t_.S(i, scol::protocol));
    protocol.resize(std::max<size_t>(protocol.size(), 4), ' ');
    std::string text = protocol + " " + AddrPort(af, t_.serviceAddrs + i * 16, t_.S(i, scol::port));
    if (af != AF_INET6 && text.size() > 33) text.resize(33);
    return text;
  }

  void Numbers(uint64_t entry, int first) {
    for (int k = first; k < first + 5; k++) Largenum(out, t_.Counter(entry, k), exact_);
  }

  void Persistence(uint32_t i, const char* mask) {
    uint32_t netmask = t_.S(i, scol::netmask);
    if (t_.S(i, scol::af) == AF_INET) {
      if (netmask != 0xffffffffU) {
        out.Add(mask);
        out.Add(DottedMask(netmask));
      }
    } else if (netmask != 128) {
      out.Add(mask);
      out.Signed(static_cast<int32_t>(netmask));
    }
  }

  void ServiceLine(uint32_t i) {
    std::string name = ServiceName(i);
    if (mode_ == kStats || mode_ == kRate) {
      out.Left(name, 33);
      Numbers(i, mode_ == kStats ? ccol::conns : ccol::cps);
      out.Add('\n');
      return;
    }
    const std::string& scheduler = t_.schedulers[t_.S(i, scol::scheduler)];
    uint32_t flags = t_.S(i, scol::flags);
    out.Add(name);
    out.Add(' ');
    out.Add(scheduler);
    if (flags & kSchedulerFlagBits) {
      out.Add(" (");
      out.Add(SchedulerFlags(scheduler, flags, true, "", ","));
      out.Add(')');
    }
    if (flags & IP_VS_SVC_F_PERSISTENT) {
      out.Add(" persistent ");
      out.Unsigned(t_.S(i, scol::timeout));
      Persistence(i, " mask ");
      const std::string& engine = t_.engines[t_.S(i, scol::pe)];
      if (!engine.empty()) {
        out.Add(" pe ");
        out.Add(engine);
      }
    }
    if (flags & IP_VS_SVC_F_ONEPACKET) out.Add(" ops");
    out.Add('\n');
  }

  // A destination's counter as ipvsadm 1.31 shows it: libipvs reads the
  // 64-bit counters other than bytes with a 32-bit getter.
  uint64_t DestCounter(uint32_t j, int k) const {
    uint64_t v = t_.Counter(t_.count + j, k);
    return k == ccol::inbytes || k == ccol::outbytes ? v : static_cast<uint32_t>(v);
  }

  std::string TunnelInfo(uint32_t j) const {
    static const char* const csum[] = {"-c", "+c", "r+c"};
    if ((t_.D(j, dcol::fwdMethod) & IP_VS_CONN_F_FWD_MASK) != IP_VS_CONN_F_TUNNEL) return "n/a";
    const char* flag = Indexed(csum, 3, t_.D(j, dcol::tunFlags));
    switch (t_.D(j, dcol::tunType)) {
      case IP_VS_CONN_F_TUNNEL_TYPE_IPIP:
        return "ipip";
      case IP_VS_CONN_F_TUNNEL_TYPE_GUE:
        return "gue:" + std::to_string(t_.D(j, dcol::tunPort)) + ":" + flag;
      case IP_VS_CONN_F_TUNNEL_TYPE_GRE:
        return std::string("gre:") + flag;
      default:
        return "n/a";
    }
  }

  void DestLine(uint32_t i, uint32_t j) {
    uint32_t af = t_.D(j, dcol::af);
    std::string name = AddrPort(af, t_.destAddrs + j * 16, t_.D(j, dcol::port));
    if (af != AF_INET6 && name.size() > 28) name.resize(28);
    out.Add("  -> ");
    out.Left(name, 28);
    if (mode_ == kStats) {
      for (int k = ccol::conns; k < ccol::conns + 5; k++) Largenum(out, DestCounter(j, k), exact_);
      out.Add('\n');
      return;
    }
    if (mode_ == kRate) {
      for (int k = ccol::cps; k < ccol::cps + 3; k++) {
        out.Add(' ');
        out.RightUnsigned(DestCounter(j, k), 8);
      }
      Largenum(out, DestCounter(j, ccol::inbps), exact_);
      Largenum(out, DestCounter(j, ccol::outbps), exact_);
      out.Add('\n');
      return;
    }
    auto weight = static_cast<int32_t>(t_.D(j, dcol::weight));
    out.Add(' ');
    if (mode_ == kThresholds) {
      out.LeftUnsigned(t_.D(j, dcol::uThreshold), 10);
      out.Add(' ');
      out.LeftUnsigned(t_.D(j, dcol::lThreshold), 10);
    } else if (mode_ == kPersistentConn) {
      out.LeftSigned(weight, 9);
      out.Add(' ');
      out.LeftUnsigned(t_.D(j, dcol::persistConns), 11);
    } else {
      out.Left(std::string(ForwardingName(t_.D(j, dcol::fwdMethod))), 7);
      out.Add(' ');
      if (mode_ == kTunInfo) {
        out.Left(TunnelInfo(j), 13);
        out.Add(' ');
      }
      out.LeftSigned(weight, 6);
    }
    out.Add(' ');
    out.LeftUnsigned(t_.D(j, dcol::activeConns), 10);
    out.Add(' ');
    out.LeftUnsigned(t_.D(j, dcol::inactConns), 10);
    out.Add('\n');
  }

  // -S: the rules that make service i and its destinations (no thresholds).
  void Save(uint32_t i, const uint32_t* order, size_t n) {
    uint32_t af = t_.S(i, scol::af);
    uint32_t fwmark = t_.S(i, scol::fwmark);
    uint32_t protocol = t_.S(i, scol::protocol);
    std::string spec;
    if (fwmark != 0) {
      spec = "-f " + std::to_string(static_cast<int32_t>(fwmark)) + (af == AF_INET6 ? " -6" : "");
    } else {
      spec = std::string(ProtocolOption(protocol)) + " " + AddrPort(af, t_.serviceAddrs + i * 16, t_.S(i, scol::port));
    }
    const std::string& scheduler = t_.schedulers[t_.S(i, scol::scheduler)];
    const std::string& engine = t_.engines[t_.S(i, scol::pe)];
    uint32_t flags = t_.S(i, scol::flags);
    out.Add("-A ");
    out.Add(spec);
    out.Add(" -s ");
    out.Add(scheduler);
    if (flags & IP_VS_SVC_F_PERSISTENT) {
      out.Add(" -p ");
      out.Unsigned(t_.S(i, scol::timeout));
      Persistence(i, " -M ");
    }
    if (!engine.empty()) {
      out.Add(" --pe ");
      out.Add(engine);
    }
    if (flags & IP_VS_SVC_F_ONEPACKET) out.Add(" -o");
    if (flags & kSchedulerFlagBits) {
      out.Add(" -b ");
      out.Add(SchedulerFlags(scheduler, flags, true, "", ","));
    }
    out.Add('\n');
    static const char* const csum[] = {"--tun-nocsum", "--tun-csum", "--tun-remcsum"};
    for (size_t k = 0; k < n; k++) {
      uint32_t j = order[k];
      uint32_t fwd = t_.D(j, dcol::fwdMethod) & IP_VS_CONN_F_FWD_MASK;
      out.Add("-a ");
      out.Add(spec);
      out.Add(" -r ");
      AddrPortAt(out, t_.D(j, dcol::af), t_.destAddrs + j * 16, t_.D(j, dcol::port));
      out.Add(' ');
      out.Add(ForwardingSwitch(fwd));
      out.Add(" -w ");
      out.Signed(static_cast<int32_t>(t_.D(j, dcol::weight)));
      if (fwd == IP_VS_CONN_F_TUNNEL) {
        const char* flag = Indexed(csum, 3, t_.D(j, dcol::tunFlags));
        switch (t_.D(j, dcol::tunType)) {
          case IP_VS_CONN_F_TUNNEL_TYPE_IPIP:
            out.Add(" --tun-type ipip");
            break;
          case IP_VS_CONN_F_TUNNEL_TYPE_GRE:
            out.Add(" --tun-type gre ");
            out.Add(flag);
            break;
          case IP_VS_CONN_F_TUNNEL_TYPE_GUE:
            out.Add(" --tun-type gue --tun-port ");
            out.Unsigned(t_.D(j, dcol::tunPort));
            out.Add(' ');
            out.Add(flag);
            break;
          default:
            break;
        }
      }
      out.Add('\n');
    }
  }

  const Table& t_;
  uint32_t mode_;
  bool exact_;
};

// --- JSON ----------------------------------------------------------------------

// JSON.stringify(…, null, 2)'s layout: the indent of `depth`.
void Indent(Text& out, int depth) { out.Spaces(2 * depth); }

// A JSON string as JSON.stringify writes it (UTF-8 passes through).
void JsonString(Text& out, const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  out.Add('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out.Add("\\\"");
        break;
      case '\\':
        out.Add("\\\\");
        break;
      case '\b':
        out.Add("\\b");
        break;
      case '\f':
        out.Add("\\f");
        break;
      case '\n':
        out.Add("\\n");
        break;
      case '\r':
        out.Add("\\r");
        break;
      case '\t':
        out.Add("\\t");
        break;
      default:
        if (c < 0x20) {
          out.Add("\\u00");
          out.Add(hex[c >> 4]);
          out.Add(hex[c & 15]);
        } else {
          out.Add(static_cast<char>(c));
        }
    }
  }
  out.Add('"');
}

// `"key": ` at the start of a field of an object at depth - 1, its room made
// once and written in place: a destination has some thirty fields, and an
// append per piece of each was most of the listing's time.
void Key(Text& out, int depth, const char* key, bool first = false) {
  const size_t indent = 2 * static_cast<size_t>(depth);
  const size_t length = std::strlen(key);
  const size_t at = out.s.size();
  out.s.resize(at + (first ? 0 : 1) + 1 + indent + 1 + length + 3);
  char* p = &out.s[at];
  if (!first) *p++ = ',';
  *p++ = '\n';
  std::memset(p, ' ', indent);
  p += indent;
  *p++ = '"';
  std::memcpy(p, key, length);
  p += length;
  *p++ = '"';
  *p++ = ':';
  *p = ' ';
}

class JsonListing {
 public:
  explicit JsonListing(const Table& t) : t_(t) {}
  Text out;

  // Service i (depth 2, in the top-level "services" array) with its
  // destinations, after its separator: the k-th of the array.
  void Service(size_t k, uint32_t i, const uint32_t* order, size_t n) {
    const int depth = 2;
    if (k != 0) out.Add(',');
    out.Add('\n');
    Indent(out, depth);
    uint32_t af = t_.S(i, scol::af);
    uint32_t fwmark = t_.S(i, scol::fwmark);
    uint32_t flags = t_.S(i, scol::flags) & ~IP_VS_SVC_F_HASHED;
    const std::string& scheduler = t_.schedulers[t_.S(i, scol::scheduler)];
    const std::string& engine = t_.engines[t_.S(i, scol::pe)];
    uint32_t netmask = t_.S(i, scol::netmask);
    out.Add('{');
    Key(out, depth + 1, "family", true);
    out.Add(af == AF_INET6 ? "\"inet6\"" : "\"inet\"");
    if (fwmark != 0) {
      Key(out, depth + 1, "protocol");
      out.Add("null");
      Key(out, depth + 1, "address");
      out.Add("null");
      Key(out, depth + 1, "port");
      out.Add("null");
      Key(out, depth + 1, "fwmark");
      out.Unsigned(fwmark);
    } else {
      uint32_t protocol = t_.S(i, scol::protocol);
      const char* name = protocol == IPPROTO_TCP    ? "tcp"
                         : protocol == IPPROTO_UDP  ? "udp"
                         : protocol == IPPROTO_SCTP ? "sctp"
                                                    : nullptr;
      if (name == nullptr) throw Unknown("a service with unknown protocol ", protocol);
      Key(out, depth + 1, "protocol");
      out.Add('"');
      out.Add(name);
      out.Add('"');
      Key(out, depth + 1, "address");
      out.Add('"');
      AddAddr(out, af, t_.serviceAddrs + i * 16);
      out.Add('"');
      Key(out, depth + 1, "port");
      out.Unsigned(t_.S(i, scol::port));
      Key(out, depth + 1, "fwmark");
      out.Add("null");
    }
    Key(out, depth + 1, "scheduler");
    JsonString(out, scheduler);
    Key(out, depth + 1, "schedulerFlags");
    if (flags & kSchedulerFlagBits) {
      out.Add("[\n");
      Indent(out, depth + 2);
      std::string separator = ",\n" + std::string(2 * (depth + 2), ' ');
      out.Add(SchedulerFlags(scheduler, flags, false, "\"", separator.c_str()));
      out.Add('\n');
      Indent(out, depth + 1);
      out.Add(']');
    } else {
      out.Add("[]");
    }
    Key(out, depth + 1, "persistence");
    if (flags & IP_VS_SVC_F_PERSISTENT) {
      out.Add('{');
      Key(out, depth + 2, "timeout", true);
      out.Unsigned(t_.S(i, scol::timeout));
      Key(out, depth + 2, "netmask");
      if (af == AF_INET6) {
        out.Unsigned(netmask);
      } else {
        out.Add('"');
        out.Add(DottedMask(netmask));
        out.Add('"');
      }
      out.Add('\n');
      Indent(out, depth + 1);
      out.Add('}');
    } else {
      out.Add("null");
    }
    Key(out, depth + 1, "persistenceEngine");
    if (engine.empty()) {
      out.Add("null");
    } else {
      JsonString(out, engine);
    }
    Key(out, depth + 1, "onePacket");
    out.Add(flags & IP_VS_SVC_F_ONEPACKET ? "true" : "false");
    Counters(i, depth);
    Key(out, depth + 1, "destinations");
    if (n == 0) {
      out.Add("[]");
    } else {
      out.Add('[');
      for (size_t k = 0; k < n; k++) {
        if (k != 0) out.Add(',');
        out.Add('\n');
        Indent(out, depth + 2);
        Destination(order[k], depth + 2);
      }
      out.Add('\n');
      Indent(out, depth + 1);
      out.Add(']');
    }
    out.Add('\n');
    Indent(out, depth);
    out.Add('}');
  }

 private:
  static std::runtime_error Unknown(const char* what, uint32_t value) {
    return std::runtime_error(std::string("the kernel reported ") + what + std::to_string(value));
  }

  // The "stats" and "rates" fields of an entry in an object at depth.
  void Counters(uint64_t entry, int depth) {
    static const char* const stats[] = {"connections", "inPackets", "outPackets", "inBytes", "outBytes"};
    static const char* const rates[] = {"connectionsPerSecond", "inPacketsPerSecond", "outPacketsPerSecond",
                                        "inBytesPerSecond", "outBytesPerSecond"};
    for (int half = 0; half < 2; half++) {
      Key(out, depth + 1, half == 0 ? "stats" : "rates");
      out.Add('{');
      for (int k = 0; k < 5; k++) {
        Key(out, depth + 2, half == 0 ? stats[k] : rates[k], k == 0);
        out.Unsigned(t_.Counter(entry, half * 5 + k));
      }
      out.Add('\n');
      Indent(out, depth + 1);
      out.Add('}');
    }
  }

  void Destination(uint32_t j, int depth) {
    static const char* const forwarding[] = {"masq", "local", "tunnel", "route"};
    static const char* const types[] = {"ipip", "gue", "gre"};
    uint32_t fwdMethod = t_.D(j, dcol::fwdMethod);
    uint32_t fwd = fwdMethod & IP_VS_CONN_F_FWD_MASK;
    if (fwd >= 4) throw Unknown("unknown forwarding method ", fwdMethod);
    uint32_t af = t_.D(j, dcol::af);
    out.Add('{');
    Key(out, depth + 1, "family", true);
    out.Add(af == AF_INET6 ? "\"inet6\"" : "\"inet\"");
    Key(out, depth + 1, "address");
    out.Add('"');
    AddAddr(out, af, t_.destAddrs + j * 16);
    out.Add('"');
    Key(out, depth + 1, "port");
    out.Unsigned(t_.D(j, dcol::port));
    Key(out, depth + 1, "forwarding");
    out.Add('"');
    out.Add(forwarding[fwd]);
    out.Add('"');
    Key(out, depth + 1, "weight");
    out.Signed(static_cast<int32_t>(t_.D(j, dcol::weight)));
    Key(out, depth + 1, "upperThreshold");
    out.Unsigned(t_.D(j, dcol::uThreshold));
    Key(out, depth + 1, "lowerThreshold");
    out.Unsigned(t_.D(j, dcol::lThreshold));
    Key(out, depth + 1, "tunnel");
    if (fwd == IP_VS_CONN_F_TUNNEL) {
      uint32_t type = t_.D(j, dcol::tunType);
      uint32_t tunFlags = t_.D(j, dcol::tunFlags);
      out.Add('{');
      Key(out, depth + 2, "type", true);
      out.Add('"');
      out.Add(type < 3 ? types[type] : "ipip");
      out.Add('"');
      Key(out, depth + 2, "port");
      if (type == IP_VS_CONN_F_TUNNEL_TYPE_GUE) {
        out.Unsigned(t_.D(j, dcol::tunPort));
      } else {
        out.Add("null");
      }
      Key(out, depth + 2, "checksum");
      out.Add(tunFlags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM ? "\"remcsum\""
              : tunFlags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM  ? "\"csum\""
                                                         : "\"nocsum\"");
      out.Add('\n');
      Indent(out, depth + 1);
      out.Add('}');
    } else {
      out.Add("null");
    }
    Key(out, depth + 1, "activeConnections");
    out.Unsigned(t_.D(j, dcol::activeConns));
    Key(out, depth + 1, "inactiveConnections");
    out.Unsigned(t_.D(j, dcol::inactConns));
    Key(out, depth + 1, "persistentConnections");
    out.Unsigned(t_.D(j, dcol::persistConns));
    Counters(t_.count + j, depth);
    out.Add('\n');
    Indent(out, depth);
    out.Add('}');
  }

  const Table& t_;
};

// A call's text in the memory of this thread's last call: a listing calls
// again and again for chunks of about the same size, and fresh pages for each
// cost more than the writing. Swapped in on construction, back on destruction.
class ScratchText {
 public:
  explicit ScratchText(Text& out) : out_(out) {
    scratch().clear();
    out_.s.swap(scratch());
  }
  ~ScratchText() { out_.s.swap(scratch()); }
  ScratchText(const ScratchText&) = delete;
  ScratchText& operator=(const ScratchText&) = delete;

 private:
  static std::string& scratch() {
    thread_local std::string s;
    return s;
  }
  Text& out_;
};

// The text handed back: copied into `into` (a Uint8Array) with its length
// returned when it fits, else a new Buffer (`into` undefined: always).
Napi::Value TextResult(Napi::Env env, const std::string& text, const Napi::Value& into) {
  if (!into.IsUndefined()) {
    if (!into.IsTypedArray() || into.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "into must be a Uint8Array");
    auto target = into.As<Napi::Uint8Array>();
    if (text.size() <= target.ElementLength()) {
      std::memcpy(target.Data(), text.data(), text.size());
      return Napi::Number::New(env, static_cast<double>(text.size()));
    }
  }
  return Napi::Buffer<char>::Copy(env, text.data(), text.size());
}

uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

void PadFrom(Text& out, size_t start, size_t width) {
  if (out.s.size() - start < width) out.Spaces(width - (out.s.size() - start));
}

template <typename T>
const T* Column(const Napi::Object& b, const char* name, size_t want, napi_typedarray_type type) {
  size_t n;
  const T* data = TypedData<T>(b, name, &n, type);
  if (n < want) throw Napi::RangeError::New(b.Env(), std::string("batch.") + name + " is too short");
  return data;
}

}  // namespace

Napi::Value ConnectionText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "batch must be a connection batch");
  auto b = info[0].As<Napi::Object>();
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "protocols must be an array of strings");
  bool withPe = info[2].ToBoolean();
  size_t n = b.Get("length").ToNumber().Uint32Value();
  uint32_t w = b.Get("addressLength").ToNumber().Uint32Value();
  uint32_t dw = b.Get("destinationAddressLength").ToNumber().Uint32Value();
  if ((w != 4 && w != 16) || (dw != 4 && dw != 16)) throw Napi::RangeError::New(env, "address lengths must be 4 or 16");
  std::vector<std::string> protocols = StringsOf(info[1], "protocols");
  std::vector<std::string> states = Strings(b, "states");
  std::vector<std::string> engines = Strings(b, "persistenceEngines");
  auto* protocolIndex = Column<uint16_t>(b, "protocolIndex", n, napi_uint16_array);
  auto* stateIndex = Column<uint16_t>(b, "stateIndex", n, napi_uint16_array);
  auto* family = Column<uint8_t>(b, "family", n, napi_uint8_array);
  auto* client = Column<uint8_t>(b, "client", n * w, napi_uint8_array);
  auto* clientPort = Column<uint16_t>(b, "clientPort", n, napi_uint16_array);
  auto* virt = Column<uint8_t>(b, "virtual", n * w, napi_uint8_array);
  auto* virtualPort = Column<uint16_t>(b, "virtualPort", n, napi_uint16_array);
  auto* destFamily = Column<uint8_t>(b, "destinationFamily", n, napi_uint8_array);
  auto* dest = Column<uint8_t>(b, "destination", n * dw, napi_uint8_array);
  auto* destPort = Column<uint16_t>(b, "destinationPort", n, napi_uint16_array);
  auto* expires = Column<uint32_t>(b, "expires", n, napi_uint32_array);
  auto* engineIndex = Column<uint16_t>(b, "persistenceEngineIndex", n, napi_uint16_array);
  auto* dataIndex = Column<uint32_t>(b, "persistenceDataIndex", n, napi_uint32_array);
  Napi::Array data;
  if (withPe) {
    Napi::Value v = b.Get("persistenceData");
    if (!v.IsArray()) throw Napi::TypeError::New(env, "batch.persistenceData must be an array");
    data = v.As<Napi::Array>();
  }
  for (size_t i = 0; i < n; i++) {
    if (protocolIndex[i] >= protocols.size() || stateIndex[i] >= states.size() || engineIndex[i] >= engines.size())
      throw Napi::RangeError::New(env, "batch holds an index past its names");
  }
  Text out;
  ScratchText scratch(out);
  out.s.reserve(n * 100);
  for (size_t i = 0; i < n; i++) {
    // The kernel's protocol and state names, padded; the client and virtual
    // addresses share the entry's family.
    out.Left(protocols[protocolIndex[i]], 3);
    out.Add(' ');
    size_t at = out.s.size();
    uint32_t minutes = expires[i] / 60, seconds = expires[i] % 60;
    if (minutes < 10) out.Add('0');
    out.Unsigned(minutes);
    out.Add(':');
    if (seconds < 10) out.Add('0');
    out.Unsigned(seconds);
    PadFrom(out, at, 6);
    out.Add(' ');
    out.Left(states[stateIndex[i]], 11);
    out.Add(' ');
    at = out.s.size();
    AddrPortAt(out, family[i], client + i * w, clientPort[i]);
    PadFrom(out, at, 18);
    out.Add(' ');
    at = out.s.size();
    AddrPortAt(out, family[i], virt + i * w, virtualPort[i]);
    PadFrom(out, at, 18);
    out.Add(' ');
    // ipvsadm prints the engine columns only where its sscanf filled all 11
    // fields: an engine and data whose first word is not empty.
    std::string word;
    if (withPe && engineIndex[i] != 0) {
      std::string all = data.Get(dataIndex[i]).ToString().Utf8Value();
      word = all.substr(0, all.find_first_of(" \t\n\v\f\r"));
    }
    at = out.s.size();
    AddrPortAt(out, destFamily[i], dest + i * dw, destPort[i]);
    if (!word.empty()) {
      PadFrom(out, at, 16);
      out.Add(' ');
      out.Left(engines[engineIndex[i]], 18);
      out.Add(' ');
      out.Add(word);
    }
    out.Add('\n');
  }
  return TextResult(env, out.s, info[3]);
}

Napi::Value ListingOrder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Table t(info[0]);
  auto order = Napi::Uint32Array::New(env, t.count);
  uint32_t* a = order.Data();
  for (size_t i = 0; i < t.count; i++) a[i] = static_cast<uint32_t>(i);
  if (info[1].ToBoolean()) {
    std::vector<uint32_t> tmp(t.count);
    Msort(a, t.count, tmp.data(), [&t](uint32_t x, uint32_t y) { return CompareServices(t, x, y); });
  }
  return order;
}

Napi::Value ListingText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Table t(info[0]);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "order must be a Uint32Array");
  auto order = info[1].As<Napi::Uint32Array>();
  uint32_t from = Uint32Arg(info, 2, "from");
  uint32_t to = Uint32Arg(info, 3, "to");
  uint32_t mode = Uint32Arg(info, 4, "mode");
  uint32_t flags = Uint32Arg(info, 5, "flags");
  if (from > to || to > order.ElementLength()) throw Napi::RangeError::New(env, "from and to must lie within order");
  if (mode > kJson) throw Napi::RangeError::New(env, "unknown listing mode");
  for (uint32_t k = from; k < to; k++) {
    if (order[k] >= t.count) throw Napi::RangeError::New(env, "order holds a service the snapshot does not have");
  }
  Listing table(t, mode, flags);
  JsonListing json(t);
  Text& out = mode == kJson ? json.out : table.out;
  ScratchText scratch(out);
  std::vector<uint32_t> dests, tmp;
  try {
    for (uint32_t k = from; k < to; k++) {
      uint32_t i = order[k];
      uint32_t first = t.destOffsets[i], n = t.destOffsets[i + 1] - first;
      dests.resize(n);
      for (uint32_t d = 0; d < n; d++) dests[d] = first + d;
      if ((flags & kSort) && n > 1) {
        tmp.resize(n);
        Msort(dests.data(), n, tmp.data(), [&t](uint32_t x, uint32_t y) { return CompareDests(t, x, y); });
      }
      if (mode == kJson) {
        json.Service(k, i, dests.data(), n);
      } else {
        table.Service(i, dests.data(), n);
      }
    }
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
  return TextResult(env, out.s, info[6]);
}

}  // namespace ipvs
