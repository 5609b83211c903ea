// Addresses as text, as inet_ntop writes them, without it: glibc formats
// each byte of an IPv4 address and each group of an IPv6 address with
// sprintf, which was the slowest part of a numeric listing's line.
// test/native/address_test.cc holds both to inet_ntop.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ipvs {

// The dotted quad of 4 address bytes into `b` (room for 15); returns its length.
inline size_t DottedQuad(const uint8_t* a, char* b) {
  size_t n = 0;
  for (int k = 0; k < 4; k++) {
    unsigned v = a[k];
    if (v >= 100) {
      b[n++] = static_cast<char>('0' + v / 100);
      v %= 100;
      b[n++] = static_cast<char>('0' + v / 10);
    } else if (v >= 10) {
      b[n++] = static_cast<char>('0' + v / 10);
    }
    b[n++] = static_cast<char>('0' + v % 10);
    if (k < 3) b[n++] = '.';
  }
  return n;
}

// The text of 16 IPv6 address bytes into `b` (room for 45), as glibc writes
// it: groups in lower-case hex without leading zeros, the longest run of two
// or more zero groups (the first of equals) as `::`, and the last 32 bits of
// an IPv4-compatible (`::a.b.c.d`) or IPv4-mapped (`::ffff:a.b.c.d`) address
// dotted. Returns its length.
inline size_t Ipv6Text(const uint8_t* a, char* b) {
  static const char hex[] = "0123456789abcdef";
  unsigned words[8];
  for (int i = 0; i < 8; i++) words[i] = static_cast<unsigned>(a[2 * i]) << 8 | a[2 * i + 1];
  int best = -1;
  int bestLength = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) best = -1;
  const bool embedded = best == 0 && (bestLength == 6 || (bestLength == 5 && words[5] == 0xffff));
  size_t n = 0;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      if (i == 0) b[n++] = ':';
      b[n++] = ':';
      i += bestLength - 1;
      continue;
    }
    if (embedded && i == 6) return n + DottedQuad(a + 12, b + n);
    const unsigned v = words[i];
    if (v >= 0x1000) b[n++] = hex[v >> 12];
    if (v >= 0x100) b[n++] = hex[(v >> 8) & 15];
    if (v >= 0x10) b[n++] = hex[(v >> 4) & 15];
    b[n++] = hex[v & 15];
    if (i < 7) b[n++] = ':';
  }
  return n;
}

}  // namespace ipvs
