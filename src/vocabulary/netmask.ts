// Persistence netmasks: an IPv4 mask travels as a 32-bit number and ipvsadm
// shows it dotted; an IPv6 one is a prefix length.

/** 0xffffff00 as `255.255.255.0`. */
export function dottedMask(mask: number): string {
  return `${mask >>> 24}.${(mask >>> 16) & 0xff}.${(mask >>> 8) & 0xff}.${mask & 0xff}`;
}

/** A prefix length 0..32 as the 32-bit mask. */
export function prefixToMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** The whole address: a persistent service's mask when none is given. */
export const FULL_MASK = { inet: 0xffffffff, inet6: 128 } as const;
