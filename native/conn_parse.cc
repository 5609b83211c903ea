#include "conn_parse.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <limits>

namespace ipvs {

namespace {

// Takes the next run of non-spaces off `rest`; false when none is left.
bool NextToken(std::string_view& rest, std::string_view& token) {
  size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') i++;
  size_t j = i;
  while (j < rest.size() && rest[j] != ' ') j++;
  token = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return !token.empty();
}

// The value of each hex digit, -1 for any other byte.
constexpr std::array<int8_t, 256> kHexDigits = [] {
  std::array<int8_t, 256> t{};
  for (auto& d : t) d = -1;
  for (int c = '0'; c <= '9'; c++) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'A'; c <= 'F'; c++) t[c] = static_cast<int8_t>(c - 'A' + 10);
  for (int c = 'a'; c <= 'f'; c++) t[c] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}();

bool ParseHex(std::string_view s, size_t maxDigits, uint32_t& out) {
  if (s.empty() || s.size() > maxDigits) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d = kHexDigits[static_cast<uint8_t>(c)];
    if (d < 0) return false;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  out = v;
  return true;
}

bool ParseDecimal(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > std::numeric_limits<uint32_t>::max()) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool ParsePort(std::string_view s, uint16_t& out) {
  uint32_t v;
  if (!ParseHex(s, 4, v)) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

// An IPv4 address is printed `%08X` in host order; an IPv6 one `%pI6`, eight
// groups of four hex digits. Both become 16 bytes in network order.
bool ParseAddr(std::string_view s, uint8_t& af, uint8_t out[16]) {
  memset(out, 0, 16);
  if (s.find(':') == std::string_view::npos) {
    uint32_t v;
    if (s.size() != 8 || !ParseHex(s, 8, v)) return false;
    v = htonl(v);
    memcpy(out, &v, 4);
    af = AF_INET;
    return true;
  }
  char text[INET6_ADDRSTRLEN];
  if (s.size() >= sizeof text) return false;
  memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  if (inet_pton(AF_INET6, text, out) != 1) return false;
  af = AF_INET6;
  return true;
}

// An IPv4 address `%08X` (host order) at p, as 16 bytes in network order.
bool ParseAddr4(const char* p, uint8_t out[16]) {
  uint32_t v;
  if (!ParseHex(std::string_view(p, 8), 8, v)) return false;
  memset(out, 0, 16);
  v = htonl(v);
  memcpy(out, &v, 4);
  return true;
}

// The common line, every address IPv4: after the protocol, ` %08X %04X %08X
// %04X %08X %04X ` at fixed places. Takes them off `rest`; false (and `rest`
// untouched) for any other line, which the general path then reads.
bool ParseAddresses4(std::string_view& rest, Entry& e) {
  constexpr size_t kLength = 43;  // up to the space before the state
  if (rest.size() < kLength) return false;
  const char* p = rest.data();
  for (size_t i : {0, 9, 14, 23, 28, 37, 42})
    if (p[i] != ' ') return false;
  uint32_t port[3];
  if (!ParseAddr4(p + 1, e.client) || !ParseHex(std::string_view(p + 10, 4), 4, port[0]) ||
      !ParseAddr4(p + 15, e.virt) || !ParseHex(std::string_view(p + 24, 4), 4, port[1]) ||
      !ParseAddr4(p + 29, e.destination) || !ParseHex(std::string_view(p + 38, 4), 4, port[2]))
    return false;
  e.af = e.destinationAf = AF_INET;
  e.clientPort = static_cast<uint16_t>(port[0]);
  e.virtualPort = static_cast<uint16_t>(port[1]);
  e.destinationPort = static_cast<uint16_t>(port[2]);
  rest.remove_prefix(kLength);
  return true;
}

}  // namespace

bool ParseLine(std::string_view line, Entry& e) {
  std::string_view rest = line;
  std::string_view t;
  uint8_t virtualAf;
  if (!NextToken(rest, e.protocol)) return false;
  if (!ParseAddresses4(rest, e)) {
    if (!NextToken(rest, t) || !ParseAddr(t, e.af, e.client)) return false;
    if (!NextToken(rest, t) || !ParsePort(t, e.clientPort)) return false;
    if (!NextToken(rest, t) || !ParseAddr(t, virtualAf, e.virt) || virtualAf != e.af) return false;
    if (!NextToken(rest, t) || !ParsePort(t, e.virtualPort)) return false;
    if (!NextToken(rest, t) || !ParseAddr(t, e.destinationAf, e.destination)) return false;
    if (!NextToken(rest, t) || !ParsePort(t, e.destinationPort)) return false;
  }
  if (!NextToken(rest, e.state)) return false;
  if (!NextToken(rest, t) || !ParseDecimal(t, e.expires)) return false;
  e.hasPe = NextToken(rest, e.peName);
  e.peData = e.hasPe && !rest.empty() ? rest.substr(1) : std::string_view();
  return true;
}

std::string QuoteLine(std::string_view line) {
  constexpr size_t kShown = 64;
  std::string out = "\"";
  for (char c : line.substr(0, kShown)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += line.size() > kShown ? "\"..." : "\"";
  return out;
}

}  // namespace ipvs
