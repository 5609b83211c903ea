// Statistics snapshots: every service and destination with 64-bit counters in
// one call. The packed form (typed arrays, no object per entry) is what the
// addon returns; objects are built from it only when asked for.
import { setTimeout as sleep } from 'node:timers/promises';

import { destinationFromRaw, type DestinationInfo } from './destination.js';
import type { RawSnapshot, RawStats } from './native.js';
import { serviceFromRaw, type ServiceInfo } from './service.js';
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
export type PackedSnapshot = RawSnapshot & { serviceCount: number; destinationCount: number };

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

export interface Snapshot {
  /** CLOCK_MONOTONIC in nanoseconds when it was taken. */
  takenAt: bigint;
  services: (ServiceInfo & { destinations: DestinationInfo[] })[];
}

function stats(p: RawSnapshot, entry: number): RawStats {
  const out = {} as Record<string, bigint>;
  COUNTER_COLUMNS.forEach((name, k) => (out[name] = p.counters[entry * C + k]!));
  return out as unknown as RawStats;
}

/** Objects from the packed form, with the same shapes as listServices/listDestinations. */
export function unpack(p: PackedSnapshot): Snapshot {
  const services = [];
  for (let i = 0; i < p.serviceCount; i++) {
    const s = row(SERVICE_COLUMNS, p.services, i);
    const info = serviceFromRaw({
      ...s,
      scheduler: p.schedulers[s.scheduler]!,
      pe: p.engines[s.pe]!,
      addr: p.serviceAddrs.subarray(i * 16, i * 16 + 16),
      stats: stats(p, i),
    });
    const destinations = [];
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      const d = row(DEST_COLUMNS, p.dests, j);
      destinations.push(
        destinationFromRaw({
          ...d,
          weight: d.weight | 0, // a signed int on the wire
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
