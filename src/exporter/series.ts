// The series of a scrape, family by family: which entry each belongs to and
// its value as the exposition format writes it. The text renderer and the
// prom-client collector both walk them, each making its own labels.
import { formatAddress, familyOf } from '../address.js';
import { COUNTERS, D, type PackedSnapshot } from '../snapshot.js';
import type { Family } from './families.js';
import { serviceLabels, type Metrics, type Scrape } from './source.js';

/** What a series is about: the namespace, a service, a real server, or a group of the connection table. */
export const Entry = { None: 0, Namespace: 1, Service: 2, Destination: 3, Connection: 4 } as const;
export type Entry = (typeof Entry)[keyof typeof Entry];

/**
 * Called per series: the entry (`reading` is the index of the namespace's
 * Reading; `index` is the service's index in the snapshot, the destination's
 * index among the snapshot's destinations, or the connection group's), the
 * `direction` label or null, and the value as text.
 */
export type Emit = (entry: Entry, reading: number, index: number, direction: string | null, value: string) => void;

const TWO_32 = 4294967296;
// Integers below 2^53 are exact as doubles.
const HIGH_EXACT = 0x200000;

/** Counter `column` of entry `entry` as decimal text: exact for every 64-bit value. */
function counterText(words: Uint32Array, counters: BigUint64Array, entry: number, column: number): string {
  const k = entry * 10 + column;
  const lo = words[2 * k]!;
  const hi = words[2 * k + 1]!;
  if (hi === 0) return String(lo);
  if (hi < HIGH_EXACT) return String(hi * TWO_32 + lo);
  return counters[k]!.toString();
}

/** The 32-bit words of a counters array, low word first (the platforms Node runs IPVS on are little-endian). */
const wordsOf = (c: BigUint64Array) => new Uint32Array(c.buffer, c.byteOffset, c.length * 2);

/** Walks the series of `family` in scrape `s`. */
export function walk(family: Family, s: Scrape, emit: Emit): void {
  const source = family.source;
  if ('own' in source) return walkOwn(source.own, s, emit);
  s.readings.forEach((r, ri) => {
    if (family.scope === 'total') {
      if (r.totals === undefined || !('counters' in source)) return;
      for (const [column, direction] of source.counters) {
        emit(Entry.Namespace, ri, 0, direction, String(r.totals[COUNTERS[column]!]));
      }
      return;
    }
    const p = r.snapshot;
    if (p === undefined) return;
    const kept = r.kept;
    if (family.scope === 'service') {
      if ('counters' in source) {
        const words = wordsOf(p.counters);
        for (const [column, direction] of source.counters) {
          for (let k = 0; k < kept.length; k += 2) {
            const i = kept[k]!;
            emit(Entry.Service, ri, i, direction, counterText(words, p.counters, i, column));
          }
        }
      } else if ('serviceSum' in source) {
        for (let k = 0; k < kept.length; k += 2) {
          const i = kept[k]!;
          emit(Entry.Service, ri, i, null, String(serviceSum(p, i, source.serviceSum)));
        }
      }
      return;
    }
    if (family.scope === 'destination') {
      const n = p.serviceCount;
      if ('counters' in source) {
        const words = wordsOf(p.counters);
        for (const [column, direction] of source.counters) {
          for (let k = 0; k < kept.length; k += 2) {
            const end = kept[k + 1]!;
            for (let j = p.destOffsets[kept[k]!]!; j < end; j++) {
              emit(Entry.Destination, ri, j, direction, counterText(words, p.counters, n + j, column));
            }
          }
        }
      } else if ('destColumn' in source) {
        const rows = p.dests;
        const c = source.destColumn;
        for (let k = 0; k < kept.length; k += 2) {
          const end = kept[k + 1]!;
          for (let j = p.destOffsets[kept[k]!]!; j < end; j++)
            emit(Entry.Destination, ri, j, null, String(rows[j * D + c]!));
        }
      }
    }
  });
}

function serviceSum(p: PackedSnapshot, i: number, column: number): number {
  const first = p.destOffsets[i]!;
  const end = p.destOffsets[i + 1]!;
  if (column < 0) return end - first;
  let sum = 0;
  for (let j = first; j < end; j++) sum += p.dests[j * D + column]!;
  return sum;
}

function walkOwn(what: string, s: Scrape, emit: Emit): void {
  switch (what) {
    case 'scrapes':
      return emit(Entry.None, 0, 0, null, String(s.scrapes));
    case 'series':
      return emit(Entry.None, 0, 0, null, String(s.series));
    case 'dropped':
      return emit(Entry.None, 0, 0, null, String(s.droppedTotal));
  }
  s.readings.forEach((r, ri) => {
    switch (what) {
      case 'up':
        return emit(Entry.Namespace, ri, 0, null, r.error === undefined ? '1' : '0');
      case 'readDuration':
        return emit(Entry.Namespace, ri, 0, null, String(r.duration));
      case 'readErrors':
        return emit(Entry.Namespace, ri, 0, null, String(r.errors));
      case 'connectionsAt':
        if (r.connections !== undefined) emit(Entry.Namespace, ri, 0, null, String(r.connections.at));
        return;
      case 'connectionsDuration':
        if (r.connections !== undefined) emit(Entry.Namespace, ri, 0, null, String(r.connections.duration));
        return;
      case 'connections': {
        const groups = r.connections?.groups ?? [];
        for (let g = 0; g < r.connectionsKept; g++) emit(Entry.Connection, ri, g, null, String(groups[g]!.count));
        return;
      }
    }
  });
}

/** The label names of each kind of entry after `netns`, in order. */
export const SERVICE_LABELS = ['local_address', 'local_port', 'local_mark', 'proto', 'family'] as const;
export const REMOTE_LABELS = ['remote_address', 'remote_port'] as const;
export const CONNECTION_LABELS = [
  'local_address',
  'local_port',
  'proto',
  'remote_address',
  'remote_port',
  'state',
] as const;

/** A destination's own label values: remote_address and remote_port. */
export function destinationLabels(p: PackedSnapshot, j: number): [string, string] {
  const at = j * D;
  return [formatAddress(familyOf(p.dests[at]!), p.destAddrs.subarray(j * 16, j * 16 + 16)), String(p.dests[at + 1]!)];
}

/** The labels of each kind of entry of one namespace, made once per scrape: text or objects. */
export interface EntryLabels<L> {
  namespace: L;
  services: L[];
  destinations: L[];
  connections: L[];
}

/** The labels of the entry a series belongs to (`none` for the exporter's own series). */
export function labelsOf<L>(t: EntryLabels<L>, entry: Entry, index: number, none: L): L {
  switch (entry) {
    case Entry.Namespace:
      return t.namespace;
    case Entry.Service:
      return t.services[index]!;
    case Entry.Destination:
      return t.destinations[index]!;
    case Entry.Connection:
      return t.connections[index]!;
    default:
      return none;
  }
}

/** How a writer makes labels: the text format's, or prom-client's objects. */
export interface LabelMaker<L> {
  /** A namespace's labels (its `netns`, if it has one). */
  namespace(netns: string | undefined): L;
  /** `base` (a namespace's or a service's labels) with these added; a `family` without a value is left out. */
  add(base: L, names: readonly string[], values: readonly string[]): L;
}

/**
 * The labels of every entry a scrape exports, namespace by namespace, made
 * once per scrape (a real server's from its service's) and shared by all
 * the families.
 */
export function entryLabels<L>(metrics: Metrics, s: Scrape, make: LabelMaker<L>): EntryLabels<L>[] {
  const withDestinations = metrics.families.some((f) => f.scope === 'destination');
  return s.readings.map((r) => {
    const namespace = make.namespace(r.netns);
    const services: L[] = [];
    const destinations: L[] = [];
    const p = r.snapshot;
    if (p !== undefined) {
      for (let k = 0; k < r.kept.length; k += 2) {
        const i = r.kept[k]!;
        const service = make.add(namespace, SERVICE_LABELS, serviceLabels(p, i));
        services[i] = service;
        if (!withDestinations) continue;
        const end = r.kept[k + 1]!;
        for (let j = p.destOffsets[i]!; j < end; j++)
          destinations[j] = make.add(service, REMOTE_LABELS, destinationLabels(p, j));
      }
    }
    const groups = r.connections?.groups ?? [];
    const connections = groups.slice(0, r.connectionsKept).map((g) => make.add(namespace, CONNECTION_LABELS, g.labels));
    return { namespace, services, destinations, connections };
  });
}
