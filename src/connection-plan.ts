// Planning a parallel read of the connection table: where each reader's
// slice starts, from the kernel's cost of reading /proc/net/ip_vs_conn and
// the table's size estimated from the destinations' counters.
import { availableParallelism } from 'node:os';

import { nowMs } from './clock.js';
import { K } from './constants.js';
import type { RawDest, RawService } from './native.js';
import type { RawIpvs } from './raw.js';
import { D, DEST_COLUMN, S, SERVICE_COLUMN } from './snapshot.js';

/**
 * What one reader of bytes [a, b) costs the kernel, in units where a read()
 * at byte x costs x: every read() walks the hash table from its first entry
 * to x and returns one page, so the walks add up to (b² - a²) / (2 · page);
 * and each entry up to b is printed once (the reader's seek prints those
 * before a, its reads those after). SHOW_COST is the printing's weight,
 * 2 · page · (cost of printing one entry) / (cost of walking past one),
 * measured in the lab (6.1 kernel): printing an entry costs about 100 steps.
 */
const SHOW_COST = 2 * 4096 * 100;

/** Below this estimate one reader does it all, however many were asked for. */
export const PARALLEL_MIN_BYTES = 256 * 1024;

/**
 * Below this estimate `parallel: 'auto'` chooses one reader: the slices would
 * cost more to set up (a thread each, and a seek that prints every entry
 * before the slice) than they save. 1 MiB is about 16,000 IPv4 entries; in
 * the lab, two readers on 2 CPUs did not beat one at 10,000 entries.
 */
export const AUTO_MIN_BYTES = 1024 * 1024;

/**
 * The byte offsets where each of `readers` slices of a `size`-byte table
 * starts, chosen so that the slices cost the kernel the same (see SHOW_COST):
 * the later a slice, the shorter. Empty slices are dropped, so there may be
 * fewer bounds than readers; the first is always 0. A table under `minBytes`
 * is one slice.
 */
export function sliceBounds(size: number, readers: number, minBytes = PARALLEL_MIN_BYTES): number[] {
  if (readers <= 1 || size < minBytes) return [0];
  const c = SHOW_COST;
  // With every slice costing `cost`, the end of a slice that starts at a.
  const end = (a: number, cost: number) => (-c + Math.sqrt(c * c + 4 * (cost + a * a))) / 2;
  const bounds = (cost: number) => {
    const out = [0];
    for (let k = 1; k < readers; k++) out.push(end(out[k - 1]!, cost));
    return out;
  };
  // Bisect for the cost at which the last slice ends exactly at `size`.
  let lo = 0;
  let hi = size * size + c * size;
  for (let i = 0; i < 100 && hi - lo > 1; i++) {
    const mid = (lo + hi) / 2;
    const b = bounds(mid);
    const last = size * size - b[readers - 1]! ** 2 + c * size;
    if (last > mid) lo = mid;
    else hi = mid;
  }
  const out: number[] = [];
  for (const b of bounds(hi).map(Math.round))
    if (out.length === 0 || (b > out[out.length - 1]! && b < size)) out.push(b);
  return out;
}

/** The bytes one entry takes in the file: `%-3s %08X %04X %08X %04X %08X %04X %-11s %7u\n`, IPv6 addresses 39 wide. */
export function entryBytes(family: number, destinationFamily: number, persistenceEngine = ''): number {
  let n = 66;
  if (family === K.AF_INET6) n += 2 * 31;
  if (destinationFamily === K.AF_INET6) n += 31;
  // " <engine> <data>": the data's length is not known; a SIP Call-ID is
  // typically 20 to 40 characters.
  if (persistenceEngine !== '') n += 2 + persistenceEngine.length + 32;
  return n;
}

const HEADER_BYTES = 81;

/** How long the size found by a client's last whole read stands in for an estimate. */
export const REMEMBERED_FOR_MS = 60_000;

/** What the last whole, unfiltered read of each client found: the table's size in bytes, and when. */
const lastRead = new WeakMap<RawIpvs, { bytes: number; at: number }>();

/** Remembers the size a whole, unfiltered read of `raw`'s table found. */
export function rememberTableBytes(raw: RawIpvs, bytes: number, now = nowMs()): void {
  lastRead.set(raw, { bytes: HEADER_BYTES + bytes, at: now });
}

/**
 * The table's size in bytes for planning a parallel read: what the client's
 * last whole read found, if it ended within REMEMBERED_FOR_MS (a monitor that
 * reads every few seconds then plans without a round trip), or else the
 * estimate from the destinations' counters. Either only balances the slices:
 * every entry is read once whatever the bounds.
 */
export async function tableBytes(raw: RawIpvs, signal?: AbortSignal, now = nowMs()): Promise<number> {
  const last = lastRead.get(raw);
  if (last !== undefined && now - last.at <= REMEMBERED_FOR_MS) return last.bytes;
  return estimateTableBytes(raw, signal);
}

/**
 * The table's size in bytes, estimated from the destinations' counters
 * (active, inactive and persistence entries): one snapshot (one call on the
 * addon's thread) over netlink; over the socket-option back-end, one service
 * dump and one destination dump per service, through the request queue.
 */
export async function estimateTableBytes(raw: RawIpvs, signal?: AbortSignal): Promise<number> {
  let bytes = HEADER_BYTES;
  if (raw.backend === 'sockopt') {
    const services: RawService[] = await raw.listServices();
    const dests: RawDest[][] = await Promise.all(services.map((s) => raw.listDestinations(s)));
    services.forEach((s, i) => {
      for (const d of dests[i]!)
        bytes += (d.activeConns + d.inactConns + d.persistConns) * entryBytes(s.af, d.af, s.pe);
    });
    return bytes;
  }
  const p = await raw.snapshot(Math.min(4, availableParallelism()), signal);
  for (let i = 0; i + 1 < p.destOffsets.length; i++) {
    const af = p.services[i * S + SERVICE_COLUMN.af]!;
    const engine = p.engines[p.services[i * S + SERVICE_COLUMN.pe]!] ?? '';
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      const at = (column: keyof typeof DEST_COLUMN) => p.dests[j * D + DEST_COLUMN[column]]!;
      bytes += (at('activeConns') + at('inactConns') + at('persistConns')) * entryBytes(af, at('af'), engine);
    }
  }
  return bytes;
}
