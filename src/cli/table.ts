// The table a listing prints: one packed snapshot, read in place. A service is
// its index i in the snapshot, a destination its index j; their fields are
// read from the snapshot's columns when printed, so a listing of any size
// builds no object per entry. Also the order ipvsadm lists them in.
import { K } from '../constants.js';
import type { RawDest, RawService, RawStats } from '../native.js';
import {
  COUNTER_COLUMNS,
  D,
  DEST_COLUMN,
  DEST_COLUMNS,
  S,
  SERVICE_COLUMN,
  SERVICE_COLUMNS,
  type PackedSnapshot,
} from '../snapshot.js';

const C = COUNTER_COLUMNS.length;
/** Where a u64's low and high halves are among the u32 words of its memory. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = 1 - LOW;
/** Counters from 2^53 up are read as bigints; below, as exact numbers. */
const HIGH_LIMIT = 2 ** 21;

export type ServiceColumn = keyof typeof SERVICE_COLUMN;
export type DestColumn = keyof typeof DEST_COLUMN;

export class Table {
  readonly p: PackedSnapshot;
  /** Services in the snapshot. */
  readonly count: number;
  readonly #words: Uint32Array;

  constructor(p: PackedSnapshot) {
    this.p = p;
    this.count = p.serviceCount;
    const c = p.counters;
    this.#words = new Uint32Array(c.buffer, c.byteOffset, c.length * 2);
  }

  /** A table of services and their destinations fetched one call at a time, packed as a snapshot packs them. */
  static of(services: readonly RawService[], dests: readonly (readonly RawDest[])[]): Table {
    const nd = dests.reduce((n, d) => n + d.length, 0);
    const schedulers: string[] = [];
    const engines = [''];
    const intern = (list: string[], name: string): number => {
      const at = list.indexOf(name);
      return at >= 0 ? at : list.push(name) - 1;
    };
    const p: PackedSnapshot = {
      takenAt: 0n,
      counters: new BigUint64Array((services.length + nd) * C),
      services: new Uint32Array(services.length * S),
      serviceAddrs: new Uint8Array(services.length * 16),
      destOffsets: new Uint32Array(services.length + 1),
      dests: new Uint32Array(nd * D),
      destAddrs: new Uint8Array(nd * 16),
      schedulers,
      engines,
      serviceCount: services.length,
      destinationCount: nd,
    };
    const putStats = (entry: number, stats: RawStats) =>
      COUNTER_COLUMNS.forEach((name, k) => (p.counters[entry * C + k] = stats[name]));
    let j = 0;
    services.forEach((s, i) => {
      const row = { ...s, scheduler: intern(schedulers, s.scheduler), pe: intern(engines, s.pe) };
      SERVICE_COLUMNS.forEach((name, k) => (p.services[i * S + k] = row[name]));
      p.serviceAddrs.set(s.addr.subarray(0, 16), i * 16);
      putStats(i, s.stats);
      p.destOffsets[i] = j;
      for (const d of dests[i] ?? []) {
        DEST_COLUMNS.forEach((name, k) => (p.dests[j * D + k] = d[name]));
        p.destAddrs.set(d.addr.subarray(0, 16), j * 16);
        putStats(services.length + j, d.stats);
        j++;
      }
    });
    p.destOffsets[services.length] = j;
    return new Table(p);
  }

  /** Column `name` of service `i`. */
  service(i: number, name: ServiceColumn): number {
    return this.p.services[i * S + SERVICE_COLUMN[name]]!;
  }

  /** Column `name` of destination `j`. */
  dest(j: number, name: DestColumn): number {
    return this.p.dests[j * D + DEST_COLUMN[name]]!;
  }

  scheduler(i: number): string {
    return this.p.schedulers[this.service(i, 'scheduler')]!;
  }

  /** The persistence engine's name, '' for none. */
  engine(i: number): string {
    return this.p.engines[this.service(i, 'pe')]!;
  }

  /** Service `i`'s 16 address bytes (a view). */
  serviceAddr(i: number): Uint8Array {
    return this.p.serviceAddrs.subarray(i * 16, i * 16 + 16);
  }

  /** Destination `j`'s 16 address bytes (a view). */
  destAddr(j: number): Uint8Array {
    return this.p.destAddrs.subarray(j * 16, j * 16 + 16);
  }

  /** The destinations of service `i` are j in [firstDest(i), endDest(i)). */
  firstDest(i: number): number {
    return this.p.destOffsets[i]!;
  }

  endDest(i: number): number {
    return this.p.destOffsets[i + 1]!;
  }

  /**
   * Counter `k` (COUNTER_COLUMNS' order) of service `i`, or of destination
   * `j` as `count + j`: a number while exact (below 2^53), else a bigint.
   */
  counter(entry: number, k: number): number | bigint {
    const w = (entry * C + k) * 2;
    const high = this.#words[w + HIGH]!;
    if (high < HIGH_LIMIT) return high * 2 ** 32 + this.#words[w + LOW]!;
    return this.p.counters[entry * C + k]!;
  }

  /** The low 32 bits of a counter (what libipvs's 32-bit getters keep). */
  low32(entry: number, k: number): number {
    return this.#words[(entry * C + k) * 2 + LOW]!;
  }

  /** Service indices in ipvsadm's order (its sort), or as the kernel dumped them. */
  serviceOrder(sort: boolean): Uint32Array {
    const order = identity(0, this.count);
    if (sort) msortInPlace(order, 0, order.length, (a, b) => this.compareServices(a, b), new Uint32Array(order.length));
    return order;
  }

  /** Service `i`'s destination indices in ipvsadm's order, or as dumped. */
  destOrder(i: number, sort: boolean, scratch?: Uint32Array): Uint32Array {
    const order = identity(this.firstDest(i), this.endDest(i));
    if (sort && order.length > 1) {
      const tmp = scratch && scratch.length >= order.length ? scratch : new Uint32Array(order.length);
      msortInPlace(order, 0, order.length, (a, b) => this.compareDests(a, b), tmp);
    }
    return order;
  }

  /** ipvsadm's service comparator: fwmark, af, protocol, address, port, each a 32-bit difference. */
  compareServices(a: number, b: number): number {
    const sa = a * S;
    const sb = b * S;
    const s = this.p.services;
    const af = s[sa + SERVICE_COLUMN.af]!;
    return (
      (s[sa + SERVICE_COLUMN.fwmark]! - s[sb + SERVICE_COLUMN.fwmark]!) | 0 ||
      af - s[sb + SERVICE_COLUMN.af]! ||
      s[sa + SERVICE_COLUMN.protocol]! - s[sb + SERVICE_COLUMN.protocol]! ||
      compareAddr(af, this.p.serviceAddrs, a * 16, b * 16) ||
      s[sa + SERVICE_COLUMN.port]! - s[sb + SERVICE_COLUMN.port]!
    );
  }

  /** ipvsadm's destination comparator: address (words by the first's af), then port. */
  compareDests(a: number, b: number): number {
    const d = this.p.dests;
    return (
      compareAddr(d[a * D + DEST_COLUMN.af]!, this.p.destAddrs, a * 16, b * 16) ||
      d[a * D + DEST_COLUMN.port]! - d[b * D + DEST_COLUMN.port]!
    );
  }
}

function identity(from: number, to: number): Uint32Array {
  const out = new Uint32Array(to - from);
  for (let k = 0; k < out.length; k++) out[k] = from + k;
  return out;
}

const word = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;

/**
 * The address part of ipvsadm's comparators: ntohl differences read as int32,
 * one word for IPv4, four for IPv6 (chosen by the first entry's af), of the
 * 16-byte addresses at `a` and `b` in `bytes`.
 */
export function compareAddr(af: number, bytes: Uint8Array, a: number, b: number): number {
  const words = af === K.AF_INET6 ? 4 : 1;
  for (let i = 0; i < words; i++) {
    const r = (word(bytes, a + i * 4) - word(bytes, b + i * 4)) | 0;
    if (r !== 0) return r;
  }
  return 0;
}

// --- order ---------------------------------------------------------------------

/**
 * glibc 2.36 qsort, which ipvsadm sorts with: a top-down merge sort, stable,
 * taking from the left while cmp <= 0. Sorts a[lo, lo + n) in place; `tmp`
 * holds at least n items.
 */
export function msortInPlace<T>(
  a: { [i: number]: T; length: number },
  lo: number,
  n: number,
  cmp: (x: T, y: T) => number,
  tmp: { [i: number]: T },
): void {
  if (n <= 1) return;
  const n1 = n >> 1;
  const n2 = n - n1;
  msortInPlace(a, lo, n1, cmp, tmp);
  msortInPlace(a, lo + n1, n2, cmp, tmp);
  let i = lo;
  let j = lo + n1;
  let k = 0;
  let left = n1;
  let right = n2;
  while (left > 0 && right > 0) {
    if (cmp(a[i]!, a[j]!) <= 0) {
      tmp[k++] = a[i++]!;
      left--;
    } else {
      tmp[k++] = a[j++]!;
      right--;
    }
  }
  while (left-- > 0) tmp[k++] = a[i++]!;
  for (let m = 0; m < k; m++) a[lo + m] = tmp[m]!;
}

/** A sorted copy of `items` (msortInPlace's order). */
export function msort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  msortInPlace(a, 0, a.length, cmp, new Array<T>(a.length));
  return a;
}
