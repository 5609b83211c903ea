// Statistics snapshots: every service and destination with 64-bit counters in
// one call. The packed form (typed arrays, no object per entry) is what the
// addon returns; objects are built from it only when asked for.
import { setTimeout as sleep } from 'node:timers/promises';

import { formatAddress } from './address.js';
import { nowMs } from './clock.js';
import { K } from './constants.js';
import { destinationInfo, type DestinationInfo } from './destination.js';
import type { RawDest, RawDestSpec, RawService, RawServiceSpec, RawSnapshot } from './native.js';
import { serviceInfo, type ServiceInfo } from './service.js';
import type { Stats } from './stats.js';
import { integer, outOfRange } from './validate.js';

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
export type PackedSnapshot = RawSnapshot & {
  /** How many services it holds. */
  serviceCount: number;
  /** How many destinations it holds, of every service. */
  destinationCount: number;
};

/** The names of the 10 counters of each entry of a packed snapshot's `counters`, in order (Stats' names). */
export const COUNTERS = [
  'conns',
  'inPackets',
  'outPackets',
  'inBytes',
  'outBytes',
  'cps',
  'inPps',
  'outPps',
  'inBps',
  'outBps',
] as const;

/**
 * The packed columns as the addon lays them out (native/snapshot.cc, its one
 * home; the addon exports the names and test/snapshot.test.ts holds these to
 * them): the raw counters (in COUNTERS' order), a service's row and a
 * destination's row, each named as in RawService and RawDest.
 */
export const COUNTER_COLUMNS = [
  'conns',
  'inpkts',
  'outpkts',
  'inbytes',
  'outbytes',
  'cps',
  'inpps',
  'outpps',
  'inbps',
  'outbps',
] as const;
export const SERVICE_COLUMNS = [
  'af',
  'protocol',
  'port',
  'fwmark',
  'flags',
  'timeout',
  'netmask',
  'scheduler',
  'pe',
] as const;
export const DEST_COLUMNS = [
  'af',
  'port',
  'fwdMethod',
  'weight',
  'uThreshold',
  'lThreshold',
  'activeConns',
  'inactConns',
  'persistConns',
  'tunType',
  'tunPort',
  'tunFlags',
] as const;

const indexOf = <T extends readonly string[]>(columns: T) =>
  Object.fromEntries(columns.map((name, i) => [name, i])) as { readonly [K in T[number]]: number };
/** The index of each column in its row. */
export const SERVICE_COLUMN = indexOf(SERVICE_COLUMNS);
export const DEST_COLUMN = indexOf(DEST_COLUMNS);

const C = COUNTER_COLUMNS.length;
/** Numbers per service row and per destination row. */
export const S = SERVICE_COLUMNS.length;
export const D = DEST_COLUMNS.length;

/** Row `i` of `table` (rows of `columns.length`) as an object keyed by column. */
function row<T extends readonly string[]>(columns: T, table: Uint32Array, i: number): Record<T[number], number> {
  const out = {} as Record<string, number>;
  const at = i * columns.length;
  columns.forEach((name, k) => (out[name] = table[at + k]!));
  return out as Record<T[number], number>;
}

export function packed(raw: RawSnapshot): PackedSnapshot {
  return Object.assign(raw, { serviceCount: raw.destOffsets.length - 1, destinationCount: raw.dests.length / D });
}

/** A snapshot as objects (`Ipvs.snapshot()`, `unpack()`): every service with its destinations. */
export interface Snapshot {
  /** CLOCK_MONOTONIC in nanoseconds when it was taken. */
  takenAt: bigint;
  /** Every service, in the kernel's order. */
  services: (ServiceInfo & {
    /** The service's destinations. */
    destinations: DestinationInfo[];
  })[];
}

/**
 * The counters as Stats, entry by entry (COUNTERS' order; test/snapshot.test.ts
 * holds it to statsFromRaw). A counter that is 0 (idle entries, most rates)
 * is the one constant 0n: reading a BigUint64Array allocates a BigInt per
 * element, and a snapshot's objects are mostly their counters.
 */
function statsReader(c: BigUint64Array): (entry: number) => Stats {
  const w = new Uint32Array(c.buffer, c.byteOffset, c.length * 2);
  // Written out, not a helper per counter: the first snapshot of a process
  // runs this in the interpreter, where each call costs.
  return (entry) => {
    const k = entry * C;
    const h = 2 * k;
    return {
      conns: (w[h]! | w[h + 1]!) === 0 ? 0n : c[k]!,
      inPackets: (w[h + 2]! | w[h + 3]!) === 0 ? 0n : c[k + 1]!,
      outPackets: (w[h + 4]! | w[h + 5]!) === 0 ? 0n : c[k + 2]!,
      inBytes: (w[h + 6]! | w[h + 7]!) === 0 ? 0n : c[k + 3]!,
      outBytes: (w[h + 8]! | w[h + 9]!) === 0 ? 0n : c[k + 4]!,
      cps: (w[h + 10]! | w[h + 11]!) === 0 ? 0n : c[k + 5]!,
      inPps: (w[h + 12]! | w[h + 13]!) === 0 ? 0n : c[k + 6]!,
      outPps: (w[h + 14]! | w[h + 15]!) === 0 ? 0n : c[k + 7]!,
      inBps: (w[h + 16]! | w[h + 17]!) === 0 ? 0n : c[k + 8]!,
      outBps: (w[h + 18]! | w[h + 19]!) === 0 ? 0n : c[k + 9]!,
    };
  };
}

/**
 * Formats the addresses of one address column, once each: the destinations
 * of a table mostly share a few real servers, which then share one string.
 */
function addressFormatter(addrs: Uint8Array): (entry: number, af: number) => string {
  const v4 = new Map<number, string>();
  return (entry, af) => {
    const at = entry * 16;
    if (af === K.AF_INET6) return formatAddress('inet6', addrs.subarray(at, at + 16));
    const key = (addrs[at]! << 24) | (addrs[at + 1]! << 16) | (addrs[at + 2]! << 8) | addrs[at + 3]!;
    let text = v4.get(key);
    if (text === undefined) v4.set(key, (text = `${addrs[at]}.${addrs[at + 1]}.${addrs[at + 2]}.${addrs[at + 3]}`));
    return text;
  };
}

const SV = SERVICE_COLUMN;
const DV = DEST_COLUMN;

/** Destination `j` of a snapshot as a raw spec, into `out` (its address only when `withAddress`). */
export function destinationAt<T extends Omit<RawDestSpec, 'addr'> & { addr?: Uint8Array }>(
  p: PackedSnapshot,
  j: number,
  out: T,
  withAddress: boolean,
): T {
  const at = j * D;
  const dv = p.dests;
  out.af = dv[at + DV.af]!;
  out.port = dv[at + DV.port]!;
  out.fwdMethod = dv[at + DV.fwdMethod]!;
  out.weight = dv[at + DV.weight]! | 0; // a signed int on the wire
  out.uThreshold = dv[at + DV.uThreshold]!;
  out.lThreshold = dv[at + DV.lThreshold]!;
  out.tunType = dv[at + DV.tunType]!;
  out.tunPort = dv[at + DV.tunPort]!;
  out.tunFlags = dv[at + DV.tunFlags]!;
  if (withAddress) out.addr = p.destAddrs.subarray(j * 16, j * 16 + 16);
  return out;
}

/** A service spec of zeros (no scheduler), to be filled. */
export const emptyService = (): RawServiceSpec => ({
  af: 0,
  protocol: 0,
  addr: new Uint8Array(16),
  port: 0,
  fwmark: 0,
  scheduler: '',
  pe: '',
  flags: 0,
  timeout: 0,
  netmask: 0,
});

/**
 * Objects from the packed form, with the same shapes as listServices and
 * listDestinations. This runs once per entry of tables with tens of
 * thousands: each object is made once, straight from the columns (no row
 * objects, spreads or address views; one raw record reused), and equal
 * addresses share a string.
 */
export function unpack(p: PackedSnapshot): Snapshot {
  const { services: sv, dests: dv, destOffsets } = p;
  const statsAt = statsReader(p.counters);
  const serviceAddress = addressFormatter(p.serviceAddrs);
  const destAddress = addressFormatter(p.destAddrs);
  const services: Snapshot['services'] = new Array(p.serviceCount);
  // One raw record of each kind, refilled for every entry: the conversions
  // read it and keep nothing of it.
  const raw: Omit<RawService, 'addr' | 'stats'> = emptyService();
  const dest: Omit<RawDest, 'addr' | 'stats'> = {
    af: 0,
    port: 0,
    fwdMethod: 0,
    weight: 0,
    uThreshold: 0,
    lThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
    activeConns: 0,
    inactConns: 0,
    persistConns: 0,
  };
  for (let i = 0; i < p.serviceCount; i++) {
    const at = i * S;
    const af = sv[at + SV.af]!;
    const fwmark = sv[at + SV.fwmark]!;
    raw.af = af;
    raw.protocol = sv[at + SV.protocol]!;
    raw.port = sv[at + SV.port]!;
    raw.fwmark = fwmark;
    raw.scheduler = p.schedulers[sv[at + SV.scheduler]!]!;
    raw.pe = p.engines[sv[at + SV.pe]!]!;
    raw.flags = sv[at + SV.flags]!;
    raw.timeout = sv[at + SV.timeout]!;
    raw.netmask = sv[at + SV.netmask]!;
    const info = serviceInfo(
      raw,
      fwmark !== 0 ? '' : serviceAddress(i, af),
      statsAt(i),
    ) as Snapshot['services'][number];
    const first = destOffsets[i]!;
    const last = destOffsets[i + 1]!;
    const destinations: DestinationInfo[] = new Array(last - first);
    for (let j = first; j < last; j++) {
      const d = j * D;
      destinationAt(p, j, dest, false);
      dest.activeConns = dv[d + DV.activeConns]!;
      dest.inactConns = dv[d + DV.inactConns]!;
      dest.persistConns = dv[d + DV.persistConns]!;
      destinations[j - first] = destinationInfo(dest, destAddress(j, dest.af), statsAt(p.serviceCount + j));
    }
    info.destinations = destinations;
    services[i] = info;
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
    const s = row(SERVICE_COLUMNS, p.services, i);
    const addr = p.serviceAddrs.subarray(i * 16, i * 16 + 16).join('.');
    out.push(`${s.af}/${s.protocol}/${s.port}/${s.fwmark}/${addr}`);
  }
  for (let i = 0; i < p.serviceCount; i++) {
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      const d = row(DEST_COLUMNS, p.dests, j);
      out.push(`${out[i]}>${d.af}/${d.port}/${p.destAddrs.subarray(j * 16, j * 16 + 16).join('.')}`);
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
  if (!(seconds > 0)) throw outOfRange('rates() needs the earlier snapshot first, taken at another moment');
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

/** What `Ipvs.poll()` takes. */
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
export async function* poll(
  take: () => Promise<PackedSnapshot>,
  options: PollOptions,
): AsyncGenerator<PackedSnapshot, void, undefined> {
  const interval = integer('interval', options.interval, 1, 2 ** 31 - 1);
  const signal = options.signal;
  let next = nowMs();
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
    const now = nowMs();
    if (next < now) next += Math.ceil((now - next) / interval) * interval;
    try {
      await sleep(next - now, undefined, signal ? { signal } : undefined);
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
  }
}
