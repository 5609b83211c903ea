// Writes the fuzzers' seed corpus (test/fuzz/corpus/TARGET/NAME) from the
// native tests' canned replies: small, meaningful inputs per target. Run
// again only when the canned replies change:
//   c++ -std=c++17 -I/usr/include/libnl3 test/fuzz/make-seeds.cc -o build/make-seeds && build/make-seeds
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../native/ipvs_replies.h"

using namespace ipvs::test;

namespace {

const std::string kRoot = "test/fuzz/corpus/";

void Write(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  mkdir((kRoot + target).c_str(), 0755);
  std::string path = kRoot + target + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) {
    perror(path.c_str());
    exit(1);
  }
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
}

void Write(const std::string& target, const std::string& name, const std::string& text) {
  Write(target, name, std::vector<uint8_t>(text.begin(), text.end()));
}

// A reply target input: settings, then each datagram with its length.
std::vector<uint8_t> Reply(uint8_t settings, const std::vector<Datagram>& datagrams) {
  std::vector<uint8_t> out{settings};
  for (const Datagram& d : datagrams) {
    uint16_t len = static_cast<uint16_t>(d.bytes().size());
    out.insert(out.end(), reinterpret_cast<uint8_t*>(&len), reinterpret_cast<uint8_t*>(&len) + 2);
    out.insert(out.end(), d.bytes().begin(), d.bytes().end());
  }
  return out;
}

}  // namespace

int main() {
  mkdir(kRoot.c_str(), 0755);
  {
    Datagram d;
    ServiceMsg(d, "wlc");
    Write("service", "tcp", d.bytes());
    Datagram fw;
    ServiceMsg(fw, "sh", [](Datagram& d) { d.Str(IPVS_SVC_ATTR_PE_NAME, "sip"); });
    Write("service", "pe", fw.bytes());
  }
  {
    Datagram d;
    DestMsg(d, 1, 2);
    std::vector<uint8_t> in{0};
    in.insert(in.end(), d.bytes().begin(), d.bytes().end());
    Write("destination", "masq", in);
  }
  {
    Datagram d;
    DaemonMsg(d);
    Write("daemon", "backup", d.bytes());
  }
  {
    Datagram d;
    InfoMsg(d);
    Write("info", "info", d.bytes());
  }
  {
    Datagram d;
    TimeoutsMsg(d);
    Write("timeouts", "timeouts", d.bytes());
  }
  {
    // Services across two datagrams; destinations interrupted; an info doit
    // with its ACK; an error with extended-ack text; an error mid-dump.
    Datagram a, b;
    ServiceMsg(a);
    ServiceMsg(a, "rr");
    ServiceMsg(b, "lc");
    b.Done(kSeq, kPort);
    Write("reply", "services", Reply(1 | 1 << 1, {a, b}));
    Datagram c, e;
    DestMsg(c, 1);
    DestMsg(c, 2);
    e.Done(kSeq, kPort, NLM_F_MULTI | NLM_F_DUMP_INTR);
    Write("reply", "dests-interrupted", Reply(1 | 2 << 1, {c, e}));
    Datagram i;
    InfoMsg(i);
    i.Error(0, kSeq, kPort);
    Write("reply", "info-ack", Reply(4 << 1, {i}));
    Datagram err;
    err.Error(-EINVAL, kSeq, kPort, "unknown scheduler", false, 32);
    Write("reply", "error-extack", Reply(0, {err}));
    Datagram d1, d2;
    DaemonMsg(d1);
    d2.Error(-ENOMEM, kSeq, kPort);
    Write("reply", "error-mid-dump", Reply(1 | 3 << 1, {d1, d2}));
    Datagram t, stale;
    TimeoutsMsg(stale, kSeq - 1);
    stale.Error(0, kSeq - 1, kPort);
    TimeoutsMsg(t);
    t.Error(0, kSeq, kPort, "", true);
    Write("reply", "stale-then-timeouts", Reply(5 << 1, {stale, t}));
  }
  {
    // The kernel's own lines (ip_vs_conn_seq_show): IPv4, IPv6, a
    // persistence engine's data, and the header line.
    Write("conn_line", "ipv4",
          "TCP  C0000201 D431 C000020A 0050 C6336401 0050 ESTABLISHED     899\n"
          "UDP  C0000202 1F90 C000020A 0035 C6336402 0035 UDP             299\n");
    Write("conn_line", "ipv6",
          "TCP  2001:0db8:0000:0000:0000:0000:0000:0001 D431 2001:0db8:0000:0000:0000:0000:0000:000a 0050 "
          "2001:0db8:0000:0000:0000:0000:0000:0064 0050 SYN_RECV         59\n");
    Write("conn_line", "pe", "UDP  C0000201 13C4 C000020A 13C4 C6336401 13C4 UDP             299 sip a84b4c76e66710\n");
    Write("conn_line", "header", "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n");
    Write("conn_line", "mixed",
          "TCP  C0000201 D431 C000020A 0050 2001:0db8:0000:0000:0000:0000:0000:0064 0050 NONE    10\nTCP  C0000201");
  }
  return 0;
}
