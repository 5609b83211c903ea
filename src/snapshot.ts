// Statistics snapshots: every service and destination with 64-bit counters in
// one call. The packed form (typed arrays, no object per entry) is what the
// addon returns; objects are built from it only when asked for.
import { setTimeout as sleep } from 'node:timers/promises';

import { destinationFromRaw, type DestinationInfo } from './destination.js';
import type { RawSnapshot } from './native.js';
import { serviceFromRaw, type ServiceInfo } from './service.js';
import { integer } from './validate.js';

/**
 * The packed form. Entry i < serviceCount is service i; entry serviceCount + j
 * is destination j. Destinations of service i are j in
 * [destOffsets[i], destOffsets[i + 1]).
 *
 * - `counters`: 10 per entry: conns, inPackets, outPackets, inBytes, outBytes,
 *   cps, inPps, outPps, inBps, outBps (the last five are the kernel's rates).
 * - `services`: 9 per service: af, protocol, port, fwmark, flags, timeout,
 *   netmask, index into `schedulers`, index into `engines` ('' = none).
 * - `dests`: 12 per destination: af, port, forwarding method, weight, upper
 *   and lower threshold, active, inactive and persistent connections, tunnel
 *   type, tunnel port, tunnel flags.
 * - `serviceAddrs`, `destAddrs`: 16 bytes per entry (IPv4 in the first 4).
 * - `takenAt`: CLOCK_MONOTONIC in nanoseconds when the last dump ended.
 */
export type PackedSnapshot = RawSnapshot & { serviceCount: number; destinationCount: number };

export const COUNTERS = ['conns', 'inPackets', 'outPackets', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
const C = COUNTERS.length;
const S = 9;
const D = 12;

export function packed(raw: RawSnapshot): PackedSnapshot {
  return Object.assign(raw, { serviceCount: raw.destOffsets.length - 1, destinationCount: raw.dests.length / D });
}

export interface Snapshot {
  /** CLOCK_MONOTONIC in nanoseconds when it was taken. */
  takenAt: bigint;
  services: (ServiceInfo & { destinations: DestinationInfo[] })[];
}

function stats(p: RawSnapshot, entry: number) {
  const c = p.counters;
  const o = entry * C;
  return { conns: c[o]!, inpkts: c[o + 1]!, outpkts: c[o + 2]!, inbytes: c[o + 3]!, outbytes: c[o + 4]!, cps: c[o + 5]!, inpps: c[o + 6]!, outpps: c[o + 7]!, inbps: c[o + 8]!, outbps: c[o + 9]!, is64: true };
}

/** Objects from the packed form, with the same shapes as listServices/listDestinations. */
export function unpack(p: PackedSnapshot): Snapshot {
  const services = [];
  for (let i = 0; i < p.serviceCount; i++) {
    const s = p.services.subarray(i * S, i * S + S);
    const info = serviceFromRaw({
      af: s[0]!,
      protocol: s[1]!,
      port: s[2]!,
      fwmark: s[3]!,
      flags: s[4]!,
      timeout: s[5]!,
      netmask: s[6]!,
      scheduler: p.schedulers[s[7]!]!,
      pe: p.engines[s[8]!]!,
      addr: p.serviceAddrs.subarray(i * 16, i * 16 + 16),
      stats: stats(p, i),
    });
    const destinations = [];
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      const d = p.dests.subarray(j * D, j * D + D);
      destinations.push(
        destinationFromRaw({
          af: d[0]!,
          port: d[1]!,
          fwdMethod: d[2]!,
          weight: d[3]! | 0,
          uThreshold: d[4]!,
          lThreshold: d[5]!,
          activeConns: d[6]!,
          inactConns: d[7]!,
          persistConns: d[8]!,
          tunType: d[9]!,
          tunPort: d[10]!,
          tunFlags: d[11]!,
          addr: p.destAddrs.subarray(j * 16, j * 16 + 16),
          stats: stats(p, p.serviceCount + j),
        }),
      );
    }
    services.push({ ...info, destinations });
  }
  return { takenAt: p.takenAt, services };
}

/** A Buffer view of the same memory (Buffer.from(typedArray) would copy). */
function bytes(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Whether two snapshots list the same services and destinations in the same order. */
function sameShape(a: PackedSnapshot, b: PackedSnapshot): boolean {
  if (a.serviceCount !== b.serviceCount || a.destinationCount !== b.destinationCount) return false;
  for (let i = 0; i < a.serviceCount; i++) {
    for (let k = 0; k < 4; k++) if (a.services[i * S + k] !== b.services[i * S + k]) return false;
    if (a.destOffsets[i + 1] !== b.destOffsets[i + 1]) return false;
  }
  for (let j = 0; j < a.destinationCount; j++) {
    if (a.dests[j * D] !== b.dests[j * D] || a.dests[j * D + 1] !== b.dests[j * D + 1]) return false;
  }
  return bytes(a.serviceAddrs).equals(b.serviceAddrs) && bytes(a.destAddrs).equals(b.destAddrs);
}

/** A text key per entry, for matching entries across snapshots whose tables differ. */
function keys(p: PackedSnapshot): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.serviceCount; i++) {
    const s = p.services;
    out.push(`${s[i * S]}/${s[i * S + 1]}/${s[i * S + 2]}/${s[i * S + 3]}/${p.serviceAddrs.subarray(i * 16, i * 16 + 16).join('.')}`);
  }
  for (let i = 0; i < p.serviceCount; i++) {
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      out.push(`${out[i]}>${p.dests[j * D]}/${p.dests[j * D + 1]}/${p.destAddrs.subarray(j * 16, j * 16 + 16).join('.')}`);
    }
  }
  return out;
}

/**
 * Per-second rates between two snapshots of the same namespace, computed by
 * the client at whatever interval they were taken (the kernel's own rates
 * update every 2 s). Five per entry of `next`, in its order: conns,
 * inPackets, outPackets, inBytes, outBytes. NaN for an entry that `prev`
 * lacks, or whose counters went down (zeroed in between).
 */
export function rates(prev: PackedSnapshot, next: PackedSnapshot): Float64Array {
  const seconds = Number(next.takenAt - prev.takenAt) / 1e9;
  if (!(seconds > 0)) throw new RangeError('rates() needs the earlier snapshot first, taken at another moment');
  const n = next.serviceCount + next.destinationCount;
  const out = new Float64Array(n * 5);
  // The usual case, a table that did not change shape: entry i is entry i.
  const same = sameShape(prev, next);
  let map: Map<string, number> | undefined;
  let nextKeys: string[] | undefined;
  if (!same) {
    const prevKeys = keys(prev);
    map = new Map(prevKeys.map((k, i) => [k, i]));
    nextKeys = keys(next);
  }
  for (let e = 0; e < n; e++) {
    const from = same ? e : map!.get(nextKeys![e]!);
    for (let k = 0; k < 5; k++) {
      const b = next.counters[e * C + k]!;
      const a = from === undefined ? undefined : prev.counters[from * C + k]!;
      out[e * 5 + k] = a === undefined || b < a ? NaN : Number(b - a) / seconds;
    }
  }
  return out;
}

export interface PollOptions {
  /** Milliseconds between the starts of two snapshots; at least 1. */
  interval: number;
  /** Stops the iteration, and a snapshot in progress (the iteration then ends without an error). */
  signal?: AbortSignal;
  /** Sockets to spread destination dumps over, 1..16 (default: up to 4, one per core). */
  poolSize?: number;
}

/**
 * Takes a packed snapshot every `interval` ms, the first at once. A tick that
 * a slow snapshot overran is skipped rather than queued. Allocates nothing per
 * tick beyond the snapshot itself.
 */
export async function* poll(take: () => Promise<PackedSnapshot>, options: PollOptions): AsyncGenerator<PackedSnapshot, void, undefined> {
  const interval = integer('interval', options.interval, 1, 2 ** 31 - 1);
  const signal = options.signal;
  let next = performance.now();
  while (!signal?.aborted) {
    let snapshot: PackedSnapshot;
    try {
      snapshot = await take();
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    yield snapshot;
    next += interval;
    const now = performance.now();
    if (next < now) next += Math.ceil((now - next) / interval) * interval;
    try {
      await sleep(next - now, undefined, signal ? { signal } : undefined);
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
  }
}
