// The lines of /proc/net/ip_vs_conn: pure functions over bytes, no I/O, so
// that they can be tested (and fuzzed) alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ipvs {

// The longest line accepted. A kernel line is at most about 200 characters
// plus a persistence engine's data (a SIP Call-ID, at most 255): a line past
// this is not the connection table, and buffering it would be unbounded.
constexpr size_t kMaxLine = 4096;

// One line of the file. The views point into the text it was parsed from.
struct Entry {
  std::string_view protocol, state;
  bool hasPe = false;
  std::string_view peName, peData;
  uint8_t af = 0, destinationAf = 0;
  uint8_t client[16], virt[16], destination[16];
  uint16_t clientPort = 0, virtualPort = 0, destinationPort = 0;
  uint32_t expires = 0;
};

// `%-3s %s %04X %s %04X %s %04X %-11s %7u%s`: protocol, client, virtual and
// destination address and port, state, seconds to expiry, then the
// persistence engine's text: empty, or " <name> <data>" with the data free
// text to the end of the line. Client and virtual share a family; the
// destination may have the other one. False for anything else.
bool ParseLine(std::string_view line, Entry& e);

// What a caller asks to keep. An address of family 0 and a port of -1 match
// anything; an empty protocol or state too.
struct Match {
  uint8_t af = 0;
  uint8_t addr[16] = {};
  int32_t port = -1;

  bool Test(uint8_t entryAf, const uint8_t* entryAddr, uint16_t entryPort) const {
    if (af != 0 && (af != entryAf || memcmp(addr, entryAddr, af == 2 /* AF_INET */ ? 4 : 16) != 0)) return false;
    return port < 0 || port == entryPort;
  }
};

struct Filter {
  std::string protocol, state;  // as the kernel prints them
  Match client, virt, destination;

  bool Test(const Entry& e) const {
    return (protocol.empty() || protocol == e.protocol) && (state.empty() || state == e.state) &&
           client.Test(e.af, e.client, e.clientPort) && virt.Test(e.af, e.virt, e.virtualPort) &&
           destination.Test(e.destinationAf, e.destination, e.destinationPort);
  }
};

// Calls onLine(offset, line) for each complete line of data[0, n), offset
// counted from data, until onLine returns false; returns the bytes taken (up
// to the last newline; n when stopped).
template <typename OnLine>
size_t SplitLines(const char* data, size_t n, OnLine&& onLine) {
  size_t at = 0;
  while (at < n) {
    const void* nl = memchr(data + at, '\n', n - at);
    if (nl == nullptr) break;
    size_t len = static_cast<const char*>(nl) - (data + at);
    if (!onLine(at, std::string_view(data + at, len))) return n;
    at += len + 1;
  }
  return at;
}

// A line for an error message: at most 64 bytes of it, printable, quoted.
std::string QuoteLine(std::string_view line);

}  // namespace ipvs
