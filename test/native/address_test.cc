// Addresses as text (native/address_text.h) against glibc's inet_ntop, which
// ipvsadm prints with: IPv4 over a grid of byte values that crosses every
// digit count, IPv6 over every pattern of zero groups with several group
// values (runs of zeros, ties, the IPv4-compatible and -mapped forms) and
// many random addresses.
#include "../../native/address_text.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdint>
#include <random>
#include <string>

#include "harness.h"

namespace ipvs::test {
namespace {

std::string Glibc(int af, const uint8_t* a) {
  char b[INET6_ADDRSTRLEN];
  CHECK(inet_ntop(af, a, b, sizeof b) != nullptr);
  return b;
}

void Same4(const uint8_t* a) {
  char b[16];
  const std::string ours(b, DottedQuad(a, b));
  if (ours != Glibc(AF_INET, a)) throw Failure{"IPv4 " + Glibc(AF_INET, a) + ": got " + ours};
}

void Same6(const uint8_t* a) {
  char b[INET6_ADDRSTRLEN];
  const std::string ours(b, Ipv6Text(a, b));
  if (ours != Glibc(AF_INET6, a)) throw Failure{"IPv6 " + Glibc(AF_INET6, a) + ": got " + ours};
}

TEST(ipv4_as_inet_ntop_writes_it) {
  const uint8_t values[] = {0, 1, 9, 10, 11, 99, 100, 101, 109, 110, 199, 200, 249, 250, 255};
  for (uint8_t p : values)
    for (uint8_t q : values)
      for (uint8_t r : values)
        for (uint8_t s : values) {
          const uint8_t a[4] = {p, q, r, s};
          Same4(a);
        }
}

TEST(ipv6_every_pattern_of_zero_groups) {
  const unsigned values[] = {0x1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x0db8, 0xa0b0};
  for (unsigned mask = 0; mask < 256; mask++)
    for (unsigned value : values) {
      uint8_t a[16] = {};
      for (int i = 0; i < 8; i++) {
        if (!(mask & (1u << i))) continue;
        const unsigned v = value + static_cast<unsigned>(i);  // groups that differ
        a[2 * i] = static_cast<uint8_t>((v >> 8) & 0xff);
        a[2 * i + 1] = static_cast<uint8_t>(v & 0xff);
      }
      Same6(a);
    }
}

TEST(ipv6_with_ipv4_inside) {
  const uint8_t tails[][4] = {{0, 0, 0, 1}, {0, 0, 1, 0},   {0, 1, 0, 0},
                              {1, 0, 0, 0}, {192, 0, 2, 1}, {255, 255, 255, 255}};
  const unsigned fifth[] = {0, 0xffff, 0xfffe, 1};
  for (const auto& tail : tails)
    for (unsigned w5 : fifth)
      for (unsigned w4 : {0u, 1u}) {
        uint8_t a[16] = {};
        a[8] = static_cast<uint8_t>(w4 >> 8);
        a[9] = static_cast<uint8_t>(w4);
        a[10] = static_cast<uint8_t>(w5 >> 8);
        a[11] = static_cast<uint8_t>(w5);
        for (int k = 0; k < 4; k++) a[12 + k] = tail[k];
        Same6(a);
      }
}

TEST(ipv6_random) {
  std::mt19937 random(20261203);
  for (int n = 0; n < 200000; n++) {
    uint8_t a[16];
    for (int i = 0; i < 8; i++) {
      const unsigned v = random() % 3 == 0 ? 0 : random() % (random() % 2 ? 0x10000 : 0x100);
      a[2 * i] = static_cast<uint8_t>(v >> 8);
      a[2 * i + 1] = static_cast<uint8_t>(v);
    }
    Same6(a);
  }
}

}  // namespace
}  // namespace ipvs::test

IPVS_NATIVE_TEST_MAIN
