// Traffic counters and the kernel's rate estimates, as 64-bit bigints.
import { badMessage } from './errors.js';
import type { RawStats } from './native.js';

/**
 * A service's, a real server's or the namespace's traffic: 64-bit counters,
 * and the kernel's rate estimates (updated every 2 s, as moving averages).
 */
export interface Stats {
  /** Connections scheduled. */
  conns: bigint;
  /** Packets in (client to server). */
  inPackets: bigint;
  /** Packets out (server to client). */
  outPackets: bigint;
  /** Bytes in. */
  inBytes: bigint;
  /** Bytes out. */
  outBytes: bigint;
  /** Rates, estimated by the kernel every 2 s as moving averages: connections per second. */
  cps: bigint;
  /** Packets in per second (the kernel's estimate). */
  inPps: bigint;
  /** Packets out per second (the kernel's estimate). */
  outPps: bigint;
  /** Bytes in per second (the kernel's estimate). */
  inBps: bigint;
  /** Bytes out per second (the kernel's estimate). */
  outBps: bigint;
}

export function statsFromRaw(raw: RawStats): Stats {
  return {
    conns: raw.conns,
    inPackets: raw.inpkts,
    outPackets: raw.outpkts,
    inBytes: raw.inbytes,
    outBytes: raw.outbytes,
    cps: raw.cps,
    inPps: raw.inpps,
    outPps: raw.outpps,
    inBps: raw.inbps,
    outBps: raw.outbps,
  };
}

/**
 * Parses /proc/net/ip_vs_stats, the namespace's totals (netlink has no
 * command for them): a row of counters and a row of rates, in hex.
 */
export function parseTotals(text: string): Stats {
  // EBADMSG (an IpvsError of `totals`) when the file is not as the kernel writes it.
  const rows = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    // Five 64-bit numbers: at most 16 hex digits each.
    .filter((f) => f.length === 5 && f.every((x) => /^[0-9A-Fa-f]{1,16}$/.test(x)));
  if (rows.length !== 2)
    throw badMessage('totals', `unexpected /proc/net/ip_vs_stats format: ${JSON.stringify(text.slice(0, 64))}`);
  const [c, r] = rows.map((row) => row.map((x) => BigInt(`0x${x}`))) as [bigint[], bigint[]];
  return {
    conns: c[0]!,
    inPackets: c[1]!,
    outPackets: c[2]!,
    inBytes: c[3]!,
    outBytes: c[4]!,
    cps: r[0]!,
    inPps: r[1]!,
    outPps: r[2]!,
    inBps: r[3]!,
    outBps: r[4]!,
  };
}
