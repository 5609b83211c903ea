// Traffic counters and the kernel's rate estimates, as 64-bit bigints.
import type { RawStats } from './native.js';

export interface Stats {
  /** Connections scheduled. */
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
  /** Rates, estimated by the kernel every 2 s as moving averages. */
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
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
