// Canned replies through the netlink reply reader (native/reply.cc) and every
// reply decoder (native/decode.cc, the snapshot's columns): each branch, on
// any machine, without a kernel. Built and run by scripts/native-test.
#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../../native/attr.h"
#include "../../native/decode.h"
#include "../../native/reply.h"
#include "../../native/snapshot.h"
#include "harness.h"
#include "ipvs_replies.h"

using namespace ipvs;
using namespace ipvs::test;

namespace {

// A reader of a reply to request kSeq from port kPort, counting data messages.
struct Run {
  ReplyReader reader;
  std::vector<uint16_t> seen;  // each data message's type
  explicit Run(bool dump) : reader(kSeq, kPort, dump) {}
  ReplyStep Feed(const Datagram& d, uint32_t sender = 0) {
    return reader.Feed(d.bytes().data(), d.bytes().size(), sender,
                       [this](const nlmsghdr* h) { seen.push_back(h->nlmsg_type); });
  }
};

// --- the reply reader

TEST(AckEndsADoit) {
  Run r(false);
  Datagram d;
  InfoMsg(d);
  d.Error(0, kSeq, kPort);
  CHECK(r.Feed(d) == ReplyStep::kDone);
  CHECK_EQ(r.seen.size(), 1u);
}

TEST(AckAloneEndsADoitWithoutData) {
  Run r(false);
  Datagram d;
  d.Error(0, kSeq, kPort);
  CHECK(r.Feed(d) == ReplyStep::kDone);
  CHECK(r.seen.empty());
}

TEST(AckInADumpDoesNotEndIt) {
  Run r(true);
  Datagram d;
  d.Error(0, kSeq, kPort);
  CHECK(r.Feed(d) == ReplyStep::kMore);
  Datagram done;
  done.Done(kSeq, kPort);
  CHECK(r.Feed(done) == ReplyStep::kDone);
}

TEST(ErrorWithoutExtendedAck) {
  Run r(false);
  Datagram d;
  d.Error(-ESRCH, kSeq, kPort);
  KernelError e = THROWS(r.Feed(d), ESRCH, "No such process");
  CHECK(e.fromKernel);
  CHECK(e.kernelMessage.empty());
  CHECK(!r.reader.malformed());
}

TEST(ErrorWithExtendedAckCapped) {
  Run r(false);
  Datagram d;
  d.Error(-EINVAL, kSeq, kPort, "scheduler not found");
  KernelError e = THROWS(r.Feed(d), EINVAL, "Invalid argument");
  CHECK(e.fromKernel);
  CHECK(e.kernelMessage == "scheduler not found");
}

TEST(ErrorWithExtendedAckAfterTheEchoedRequest) {
  Run r(false);
  Datagram d;
  d.Error(-EEXIST, kSeq, kPort, "already there", false, 36);
  KernelError e = THROWS(r.Feed(d), EEXIST, "File exists");
  CHECK(e.kernelMessage == "already there");
}

TEST(ErrorWithAnEchoThatOverrunsTheMessageHasNoText) {
  Run r(false);
  Datagram d;
  d.Error(-EPERM, kSeq, kPort, "lost", false, 0);
  // The echoed request claims more than the message holds.
  auto* err = reinterpret_cast<nlmsgerr*>(d.bytes().data() + NLMSG_HDRLEN);
  err->msg.nlmsg_len = 4000;
  KernelError e = THROWS(r.Feed(d), EPERM, "Operation not permitted");
  CHECK(e.kernelMessage.empty());
}

TEST(ErrorThatIsNotAnErrno) {
  Run r(false);
  Datagram d;
  d.Error(5, kSeq, kPort);
  KernelError e = THROWS(r.Feed(d), EBADMSG, "error 5");
  CHECK(!e.fromKernel);
  Run r2(false);
  Datagram d2;
  d2.Error(INT32_MIN, kSeq, kPort);
  THROWS(r2.Feed(d2), EBADMSG, "error -2147483648");
}

TEST(DoneEndsADumpAndNotADoit) {
  Run dump(true);
  Datagram d;
  ServiceMsg(d);
  d.Done(kSeq, kPort);
  CHECK(dump.Feed(d) == ReplyStep::kDone);
  CHECK_EQ(dump.seen.size(), 1u);
  Run doit(false);
  Datagram d2;
  d2.Done(kSeq, kPort);
  CHECK(doit.Feed(d2) == ReplyStep::kMore);
}

TEST(EmptyDump) {
  Run r(true);
  Datagram d;
  d.Done(kSeq, kPort);
  CHECK(r.Feed(d) == ReplyStep::kDone);
  CHECK(r.seen.empty());
}

TEST(NoopIsSkipped) {
  Run r(false);
  Datagram d;
  d.Begin(NLMSG_NOOP, 0, kSeq, kPort).End();
  d.Error(0, kSeq, kPort);
  CHECK(r.Feed(d) == ReplyStep::kDone);
  CHECK(r.seen.empty());
}

TEST(DumpAcrossDatagrams) {
  Run r(true);
  Datagram a, b, c;
  DestMsg(a, 1);
  DestMsg(a, 2);
  DestMsg(b, 3);
  DestMsg(c, 4);
  c.Done(kSeq, kPort);
  CHECK(r.Feed(a) == ReplyStep::kMore);
  CHECK(r.Feed(b) == ReplyStep::kMore);
  CHECK(r.Feed(c) == ReplyStep::kDone);
  CHECK_EQ(r.seen.size(), 4u);
}

TEST(DumpInterrupted) {
  Run r(true);
  Datagram a, b;
  ServiceMsg(a);
  ServiceMsg(
      a, "rr", [](Datagram&) {}, kSeq, NLM_F_MULTI | NLM_F_DUMP_INTR);
  ServiceMsg(b);
  b.Done(kSeq, kPort, NLM_F_MULTI | NLM_F_DUMP_INTR);
  CHECK(r.Feed(a) == ReplyStep::kMore);
  CHECK(r.Feed(b) == ReplyStep::kInterrupted);
  // What came from the first mark on is dropped: the dump is sent again.
  CHECK_EQ(r.seen.size(), 1u);
}

TEST(DumpInterruptedOnlyOnDone) {
  Run r(true);
  Datagram a;
  ServiceMsg(a);
  a.Done(kSeq, kPort, NLM_F_MULTI | NLM_F_DUMP_INTR);
  CHECK(r.Feed(a) == ReplyStep::kInterrupted);
}

TEST(ErrorInTheMiddleOfADump) {
  Run r(true);
  Datagram a, b;
  DestMsg(a, 1);
  DestMsg(a, 2);
  b.Error(-ENOMEM, kSeq, kPort);
  CHECK(r.Feed(a) == ReplyStep::kMore);
  THROWS(r.Feed(b), ENOMEM, "Cannot allocate memory");
  CHECK_EQ(r.seen.size(), 2u);
}

TEST(ErrorAfterDataInOneDatagram) {
  Run r(true);
  Datagram a;
  DestMsg(a, 1);
  a.Error(-EINVAL, kSeq, kPort);
  DestMsg(a, 2);  // never reached: the error ends the reply
  THROWS(r.Feed(a), EINVAL, "Invalid argument");
  CHECK_EQ(r.seen.size(), 1u);
}

TEST(WrongSequenceNumbersAreSkipped) {
  Run r(false);
  Datagram d;
  // A reply to an earlier, abandoned request: its data and ACK are not ours.
  InfoMsg(d, kSeq - 1);
  d.Error(0, kSeq - 1, kPort);
  d.Error(-ENOENT, kSeq + 1, kPort);
  CHECK(r.Feed(d) == ReplyStep::kMore);
  CHECK(r.seen.empty());
  Datagram ours;
  InfoMsg(ours);
  ours.Error(0, kSeq, kPort);
  CHECK(r.Feed(ours) == ReplyStep::kDone);
  CHECK_EQ(r.seen.size(), 1u);
}

TEST(WrongPortIdsAreSkipped) {
  Run r(true);
  Datagram d;
  d.Begin(0x10, NLM_F_MULTI, kSeq, kPort + 1, IPVS_CMD_NEW_SERVICE).End();
  d.Done(kSeq, kPort + 1);
  d.Error(-EPERM, kSeq, kPort + 1);
  CHECK(r.Feed(d) == ReplyStep::kMore);
  CHECK(r.seen.empty());
  // A reader that knows no port (0) takes any.
  ReplyReader any(kSeq, 0, true);
  int n = 0;
  CHECK(any.Feed(d.bytes().data(), d.bytes().size(), 0, [&](const nlmsghdr*) { n++; }) == ReplyStep::kDone);
  CHECK_EQ(n, 1);
}

TEST(DatagramsNotFromTheKernelAreIgnored) {
  Run r(false);
  Datagram d;
  d.Error(-EPERM, kSeq, kPort);
  CHECK(r.Feed(d, 999) == ReplyStep::kMore);
  Datagram ack;
  ack.Error(0, kSeq, kPort);
  CHECK(r.Feed(ack) == ReplyStep::kDone);
}

// --- the acknowledgements of pipelined requests (AckReader)

struct Acks {
  AckReader reader;
  std::vector<int> errnums;  // by index; -1: no answer yet
  std::vector<std::string> texts;
  Acks(uint32_t first, size_t count) : reader(first, count, kPort), errnums(count, -1), texts(count) {}
  void Feed(const Datagram& d, uint32_t sender = 0) {
    reader.Feed(d.bytes().data(), d.bytes().size(), sender, [this](size_t i, int errnum, std::string text) {
      errnums[i] = errnum;
      texts[i] = std::move(text);
    });
  }
};

TEST(AcksMatchEachRequestBySequenceNumber) {
  Acks a(kSeq, 3);
  Datagram d;
  d.Error(0, kSeq + 2, kPort);
  d.Error(-EEXIST, kSeq, kPort, "exists");
  a.Feed(d);
  CHECK_EQ(a.reader.answered(), 2u);
  CHECK_EQ(a.errnums[0], EEXIST);
  CHECK(a.texts[0] == "exists");
  CHECK_EQ(a.errnums[1], -1);
  CHECK_EQ(a.errnums[2], 0);
  Datagram last;
  last.Error(-ENOENT, kSeq + 1, kPort);
  a.Feed(last);
  CHECK_EQ(a.reader.answered(), 3u);
  CHECK_EQ(a.errnums[1], ENOENT);
}

TEST(AcksOutsideTheBatchOrTwiceAreSkipped) {
  Acks a(kSeq, 2);
  Datagram d;
  d.Error(-EPERM, kSeq - 1, kPort);  // an abandoned exchange's
  d.Error(0, kSeq + 2, kPort);       // past the batch
  d.Error(0, kSeq, kPort + 1);       // another port's
  InfoMsg(d, kSeq);                  // a data message: a change has none
  d.Error(0, kSeq, kPort);
  d.Error(-EIO, kSeq, kPort);  // a second answer to the same request
  a.Feed(d);
  CHECK_EQ(a.reader.answered(), 1u);
  CHECK_EQ(a.errnums[0], 0);
  a.Feed(d, 999);  // not from the kernel
  CHECK_EQ(a.reader.answered(), 1u);
}

TEST(AcksAcrossTheWrapOfSequenceNumbers) {
  Acks a(0xffffffffu, 2);
  Datagram d;
  d.Error(0, 0xffffffffu, kPort);
  d.Error(-ESRCH, 0, kPort);
  a.Feed(d);
  CHECK_EQ(a.errnums[0], 0);
  CHECK_EQ(a.errnums[1], ESRCH);
}

TEST(AcksThatAreNotErrnosOrAreCutAreMalformed) {
  Acks a(kSeq, 1);
  Datagram bad;
  bad.Error(5, kSeq, kPort);
  THROWS(a.Feed(bad), EBADMSG, "with error 5");
  Acks b(kSeq, 1);
  Datagram cut;
  cut.Error(0, kSeq, kPort);
  cut.bytes().resize(cut.bytes().size() - 4);
  THROWS(b.Feed(cut), EBADMSG, "truncated");
  CHECK_EQ(b.reader.answered(), 0u);
}

TEST(TruncatedHeader) {
  Run r(true);
  Datagram d;
  DestMsg(d, 1);
  size_t whole = d.bytes().size();
  DestMsg(d, 2);
  d.bytes().resize(whole + 10);  // the second message's header cut
  THROWS(r.Feed(d), EBADMSG, "a truncated netlink message");
  CHECK(r.reader.malformed());
  CHECK_EQ(r.seen.size(), 1u);
}

TEST(TruncatedPayload) {
  Run r(true);
  Datagram d;
  DestMsg(d, 1);
  d.bytes().resize(d.bytes().size() - 8);  // nlmsg_len now says more than there is
  THROWS(r.Feed(d), EBADMSG, "a truncated netlink message");
  CHECK(r.reader.malformed());
  CHECK(r.seen.empty());
}

TEST(LengthBelowAHeader) {
  Run r(true);
  Datagram d;
  d.Done(kSeq, kPort);
  uint32_t bogus = 8;
  memcpy(d.bytes().data(), &bogus, sizeof bogus);
  THROWS(r.Feed(d), EBADMSG, "a truncated netlink message");
}

TEST(TruncatedErrorMessage) {
  Run r(false);
  Datagram d;
  d.Begin(NLMSG_ERROR, 0, kSeq, kPort);
  int32_t err = -EPERM;
  d.Raw(&err, sizeof err).End();  // an nlmsgerr without its echoed header
  THROWS(r.Feed(d), EBADMSG, "a truncated netlink error message");
  CHECK(r.reader.malformed());
}

TEST(EmptyDatagram) {
  Run r(true);
  Datagram d;
  CHECK(r.Feed(d) == ReplyStep::kMore);
}

TEST(DataHandlerFailureReadsTheDumpToItsEnd) {
  ReplyReader reader(kSeq, kPort, true);
  int calls = 0;
  auto onData = [&](const nlmsghdr*) {
    calls++;
    throw KernelError(EBADMSG, "first");
  };
  Datagram a, b;
  DestMsg(a, 1);
  DestMsg(a, 2);
  DestMsg(b, 3);
  b.Done(kSeq, kPort);
  CHECK(reader.Feed(a.bytes().data(), a.bytes().size(), 0, onData) == ReplyStep::kMore);
  THROWS(reader.Feed(b.bytes().data(), b.bytes().size(), 0, onData), EBADMSG, "first");
  CHECK_EQ(calls, 1);
  CHECK(!reader.malformed());
}

TEST(DataHandlerFailureWinsOverALaterError) {
  ReplyReader reader(kSeq, kPort, true);
  Datagram a;
  DestMsg(a, 1);
  a.Error(-EINVAL, kSeq, kPort);
  THROWS(reader.Feed(a.bytes().data(), a.bytes().size(), 0,
                     [](const nlmsghdr*) { throw KernelError(EBADMSG, "decoder"); }),
         EBADMSG, "decoder");
}

TEST(DataHandlerFailureInADoitEndsAtTheAck) {
  ReplyReader reader(kSeq, kPort, false);
  Datagram a;
  InfoMsg(a);
  a.Error(0, kSeq, kPort);
  THROWS(reader.Feed(a.bytes().data(), a.bytes().size(), 0,
                     [](const nlmsghdr*) { throw KernelError(EBADMSG, "decoder"); }),
         EBADMSG, "decoder");
}

// --- the decoders

TEST(ServiceDecodes) {
  Datagram d;
  ServiceMsg(d, "rr");
  ServiceEntry e = DecodeService(d.first());
  CHECK_EQ(e.spec.key.af, AF_INET);
  CHECK_EQ(e.spec.key.protocol, IPPROTO_TCP);
  CHECK_EQ(e.spec.key.port, 80);
  CHECK_EQ(e.spec.key.addr[0], 192);
  CHECK_EQ(e.spec.key.addr[3], 10);
  CHECK(e.spec.scheduler == "rr");
  CHECK(e.spec.pe.empty());
  CHECK_EQ(e.spec.flags, static_cast<uint32_t>(IP_VS_SVC_F_PERSISTENT));
  CHECK_EQ(e.spec.timeout, 300u);
  CHECK_EQ(e.spec.netmask, 0xffffff00u);
  // STATS64 wins over STATS.
  CHECK_EQ(e.stats.conns, 1001u);
  CHECK_EQ(e.stats.outbps, 1010u);
}

TEST(FwmarkServiceDecodes) {
  Datagram d;
  d.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_SERVICE);
  d.Nest(IPVS_CMD_ATTR_SERVICE);
  d.U16(IPVS_SVC_ATTR_AF, AF_INET6);
  d.U32(IPVS_SVC_ATTR_FWMARK, 42);
  d.Str(IPVS_SVC_ATTR_SCHED_NAME, "sh");
  d.Str(IPVS_SVC_ATTR_PE_NAME, "sip");
  ip_vs_flags f{0, ~0u};
  d.Attr(IPVS_SVC_ATTR_FLAGS, &f, sizeof f);
  d.U32(IPVS_SVC_ATTR_TIMEOUT, 0);
  d.U32(IPVS_SVC_ATTR_NETMASK, 128);
  d.EndNest().End();
  ServiceEntry e = DecodeService(d.first());
  CHECK_EQ(e.spec.key.fwmark, 42u);
  CHECK_EQ(e.spec.netmask, 128u);  // IPv6: a prefix length, as it is
  CHECK(e.spec.pe == "sip");
  CHECK_EQ(e.stats.conns, 0u);  // no stats at all
}

TEST(Stats32WhenNoStats64) {
  Datagram d;
  DestMsg(d, 1, 1, [](Datagram& d) { StatsNest(d, IPVS_DEST_ATTR_STATS, false, 7); });
  // Rebuild without STATS64: a destination of an old kernel.
  Datagram old;
  old.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_DEST);
  old.Nest(IPVS_CMD_ATTR_DEST);
  uint8_t addr[16] = {198, 51, 100, 9};
  old.Attr(IPVS_DEST_ATTR_ADDR, addr, 16);
  old.U16(IPVS_DEST_ATTR_PORT, htons(80));
  for (uint16_t a : {IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_WEIGHT, IPVS_DEST_ATTR_U_THRESH, IPVS_DEST_ATTR_L_THRESH,
                     IPVS_DEST_ATTR_ACTIVE_CONNS, IPVS_DEST_ATTR_INACT_CONNS, IPVS_DEST_ATTR_PERSIST_CONNS})
    old.U32(a, 0);
  StatsNest(old, IPVS_DEST_ATTR_STATS, false, 7);
  old.EndNest().End();
  DestEntry e = DecodeDest(old.first(), AF_INET6);
  CHECK_EQ(e.spec.af, AF_INET6);  // no ADDR_FAMILY (kernels before 4.3): the service's
  CHECK_EQ(e.stats.conns, 8u);
  CHECK_EQ(e.stats.inbytes, 11u);
  CHECK_EQ(e.spec.tunType, 0);  // optional, missing
  DestEntry both = DecodeDest(d.first(), AF_INET6);
  CHECK_EQ(both.stats.conns, 2001u);  // STATS64 present: it wins
}

TEST(DestinationDecodes) {
  Datagram d;
  DestMsg(d, 7, 3);
  DestEntry e = DecodeDest(d.first(), AF_INET6);
  CHECK_EQ(e.spec.af, AF_INET);
  CHECK_EQ(e.spec.addr[3], 7);
  CHECK_EQ(e.spec.port, 8080);
  CHECK_EQ(e.spec.fwdMethod, static_cast<uint32_t>(IP_VS_CONN_F_MASQ));
  CHECK_EQ(e.spec.weight, 3);
  CHECK_EQ(e.spec.uThreshold, 10u);
  CHECK_EQ(e.spec.lThreshold, 5u);
  CHECK_EQ(e.activeConns, 3u);
  CHECK_EQ(e.inactConns, 4u);
  CHECK_EQ(e.persistConns, 5u);
  CHECK_EQ(e.stats.inpkts, 2002u);
}

TEST(UnknownAttributesAreIgnored) {
  Datagram d;
  ServiceMsg(d, "wlc", [](Datagram& d) {
    d.U64(200, 1);                         // beyond IPVS_SVC_ATTR_MAX
    d.Attr(IPVS_SVC_ATTR_MAX + 1, "", 0);  // the next one a newer kernel may add
  });
  ServiceEntry e = DecodeService(d.first());
  CHECK(e.spec.scheduler == "wlc");
  // And at the top level, beside the service nest.
  Datagram top;
  top.Begin(0x10, 0, kSeq, kPort, IPVS_CMD_SET_CONFIG);
  top.U32(IPVS_CMD_ATTR_TIMEOUT_TCP, 1);
  top.U16(IPVS_CMD_ATTR_MAX + 3, 9);
  top.End();
  CHECK_EQ(DecodeTimeouts(top.first()).tcp, 1);
}

TEST(KnownAttributeWithTheWrongLength) {
  Datagram d;
  d.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_SERVICE);
  d.Nest(IPVS_CMD_ATTR_SERVICE);
  d.U16(IPVS_SVC_ATTR_AF, AF_INET);
  d.U32(IPVS_SVC_ATTR_PORT, 80);  // a u16
  d.EndNest().End();
  THROWS(DecodeService(d.first()), EBADMSG, "the kernel sent IPVS_SVC_ATTR_PORT with 4 bytes, expected 2");
  Datagram s;
  DestMsg(s, 1, 1, [](Datagram& d) {
    d.Nest(IPVS_DEST_ATTR_STATS64);   // a second one: the last wins
    d.U32(IPVS_STATS_ATTR_CONNS, 1);  // a u64 in STATS64
    d.EndNest();
  });
  THROWS(DecodeDest(s.first(), AF_INET), EBADMSG, "IPVS_STATS_ATTR_CONNS with 4 bytes, expected 8");
}

TEST(StringsMustBeTerminatedAndShort) {
  Datagram d;
  ServiceMsg(d, "wlc", [](Datagram& d) { d.Attr(IPVS_SVC_ATTR_PE_NAME, "sip", 3); });
  THROWS(DecodeService(d.first()), EBADMSG, "IPVS_SVC_ATTR_PE_NAME as 3 bytes, not a string");
  Datagram longName;
  ServiceMsg(longName, std::string(IP_VS_SCHEDNAME_MAXLEN, 'x'));
  THROWS(DecodeService(longName.first()), EBADMSG, "IPVS_SVC_ATTR_SCHED_NAME as 17 bytes");
}

TEST(TruncatedAttribute) {
  Datagram d;
  ServiceMsg(d);
  // Cut the message inside its last attribute (the service nest's last
  // attribute, then the nest itself, are left announcing more than there is).
  uint32_t len = d.first()->nlmsg_len - 6;
  memcpy(d.bytes().data(), &len, sizeof len);
  THROWS(DecodeService(d.first()), EBADMSG, "the kernel sent IPVS_CMD_ATTR_SERVICE cut short");
  // A cut inside a nest, with the nest's own length consistent.
  Datagram n;
  n.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_SERVICE);
  n.Nest(IPVS_CMD_ATTR_SERVICE);
  n.U16(IPVS_SVC_ATTR_AF, AF_INET);
  nlattr cut{NLA_HDRLEN + 16, IPVS_SVC_ATTR_ADDR};  // announces 16 bytes, has 4
  n.Raw(&cut, sizeof cut).Raw("\xc0\x00\x02\x0a", 4);
  n.EndNest().End();
  THROWS(DecodeService(n.first()), EBADMSG,
         "the kernel sent IPVS_SVC_ATTR_ADDR cut short: 20 bytes announced, 8 there");
  // An attribute shorter than its own header.
  Datagram h;
  h.Begin(0x10, 0, kSeq, kPort, IPVS_CMD_SET_INFO);
  nlattr tiny{2, 77};
  h.Raw(&tiny, sizeof tiny).End();
  THROWS(DecodeInfo(h.first()), EBADMSG, "an attribute of type 77 cut short");
}

TEST(MessageShorterThanItsGenlHeader) {
  Datagram d;
  d.Begin(0x10, 0, kSeq, kPort).Raw("\x01\x01", 2).End();
  THROWS(DecodeInfo(d.first()), EBADMSG, "shorter than its headers");
}

TEST(MissingRequiredAttribute) {
  Datagram d;
  d.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_SERVICE);
  d.Nest(IPVS_CMD_ATTR_SERVICE);
  d.U16(IPVS_SVC_ATTR_AF, AF_INET);
  d.U32(IPVS_SVC_ATTR_FWMARK, 1);
  d.EndNest().End();
  THROWS(DecodeService(d.first()), EBADMSG, "the kernel's reply lacks IPVS_SVC_ATTR_SCHED_NAME");
  Datagram none;
  none.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_DEST).End();
  THROWS(DecodeDest(none.first(), AF_INET), EBADMSG, "lacks IPVS_CMD_ATTR_DEST");
}

TEST(DaemonDecodes) {
  Datagram d;
  DaemonMsg(d);
  Daemon m = DecodeDaemon(d.first());
  CHECK_EQ(m.state, IP_VS_STATE_BACKUP);
  CHECK(m.ifname == "eth0");
  CHECK_EQ(m.syncId, 3);
  CHECK_EQ(m.maxLen, 1472);
  CHECK_EQ(m.groupAf, AF_INET);
  CHECK_EQ(m.group[0], 224);
  CHECK_EQ(m.port, 8848);
  CHECK_EQ(m.ttl, 1);
  Datagram v6;
  v6.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_DAEMON);
  v6.Nest(IPVS_CMD_ATTR_DAEMON);
  v6.U32(IPVS_DAEMON_ATTR_STATE, IP_VS_STATE_MASTER);
  v6.Str(IPVS_DAEMON_ATTR_MCAST_IFN, "lo");
  v6.U32(IPVS_DAEMON_ATTR_SYNC_ID, 0);
  uint8_t group[16] = {0xff, 0x02};
  v6.Attr(IPVS_DAEMON_ATTR_MCAST_GROUP6, group, 16);
  v6.EndNest().End();
  Daemon m6 = DecodeDaemon(v6.first());
  CHECK_EQ(m6.groupAf, AF_INET6);
  CHECK_EQ(m6.group[0], 0xff);
  CHECK_EQ(m6.port, 0);  // not sent: the kernel's default
  Datagram bad;
  bad.Begin(0x10, NLM_F_MULTI, kSeq, kPort, IPVS_CMD_NEW_DAEMON);
  bad.Nest(IPVS_CMD_ATTR_DAEMON);
  bad.U32(IPVS_DAEMON_ATTR_MCAST_TTL, 1);  // a u8
  bad.EndNest().End();
  THROWS(DecodeDaemon(bad.first()), EBADMSG, "IPVS_DAEMON_ATTR_MCAST_TTL with 4 bytes, expected 1");
}

TEST(InfoDecodes) {
  Datagram d;
  InfoMsg(d);
  InfoReply i = DecodeInfo(d.first());
  CHECK_EQ(i.version, 0x010201u);
  CHECK_EQ(i.connTabSize, 4096u);
  Datagram missing;
  missing.Begin(0x10, 0, kSeq, kPort, IPVS_CMD_SET_INFO).U32(IPVS_INFO_ATTR_VERSION, 1).End();
  THROWS(DecodeInfo(missing.first()), EBADMSG, "lacks IPVS_INFO_ATTR_CONN_TAB_SIZE");
}

TEST(TimeoutsDecode) {
  Datagram d;
  TimeoutsMsg(d);
  Timeouts t = DecodeTimeouts(d.first());
  CHECK_EQ(t.tcp, 900);
  CHECK_EQ(t.tcpFin, 120);
  CHECK_EQ(t.udp, 300);
  Datagram partial;
  partial.Begin(0x10, 0, kSeq, kPort, IPVS_CMD_SET_CONFIG).U32(IPVS_CMD_ATTR_TIMEOUT_UDP, 5).End();
  Timeouts p = DecodeTimeouts(partial.first());
  CHECK_EQ(p.tcp, 0);
  CHECK_EQ(p.udp, 5);
  Datagram bad;
  bad.Begin(0x10, 0, kSeq, kPort, IPVS_CMD_SET_CONFIG).U16(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, 5).End();
  THROWS(DecodeTimeouts(bad.first()), EBADMSG, "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN with 2 bytes, expected 4");
}

TEST(SnapshotColumnsFromADump) {
  std::vector<uint64_t> counters;
  std::vector<uint32_t> dests;
  std::vector<uint8_t> addrs;
  DestColumns out{counters, dests, addrs};
  Run r(true);
  ReplyReader reader(kSeq, kPort, true);
  Datagram a, b;
  DestMsg(a, 1, 2);
  DestMsg(b, 2, 5);
  b.Done(kSeq, kPort);
  auto put = [&](const nlmsghdr* h) { PutDest(h, AF_INET, out); };
  CHECK(reader.Feed(a.bytes().data(), a.bytes().size(), 0, put) == ReplyStep::kMore);
  CHECK(reader.Feed(b.bytes().data(), b.bytes().size(), 0, put) == ReplyStep::kDone);
  CHECK_EQ(addrs.size(), 32u);
  CHECK_EQ(counters.size(), 2 * kCounters);
  CHECK_EQ(dests.size(), 2 * kDestInts);
  CHECK_EQ(addrs[16 + 3], 2);
  CHECK_EQ(counters[kCounters], 2001u);  // the second's conns
  CHECK_EQ(dests[kDestInts + 3], 5u);    // the second's weight (fourth column)
}

TEST(DecodeFailureInADumpNamesTheAttribute) {
  // The whole path of a listing: a dump whose second service is bad is read
  // to its end, then fails naming what was wrong.
  ReplyReader reader(kSeq, kPort, true);
  std::vector<ServiceEntry> out;
  Datagram a, b;
  ServiceMsg(a);
  ServiceMsg(a, "wlc", [](Datagram& d) { d.U8(IPVS_SVC_ATTR_NETMASK, 1); });
  ServiceMsg(b);
  b.Done(kSeq, kPort);
  auto onData = [&](const nlmsghdr* h) { out.push_back(DecodeService(h)); };
  CHECK(reader.Feed(a.bytes().data(), a.bytes().size(), 0, onData) == ReplyStep::kMore);
  THROWS(reader.Feed(b.bytes().data(), b.bytes().size(), 0, onData), EBADMSG,
         "IPVS_SVC_ATTR_NETMASK with 1 bytes, expected 4");
  CHECK_EQ(out.size(), 1u);
}

}  // namespace

IPVS_NATIVE_TEST_MAIN
