// The addon's numeric listings (native/listing.cc) against the TypeScript
// formatters they stand in for (src/cli/format.ts, json.ts): the same bytes
// in every mode, for tables with every kind of service and destination.
import { describe, expect, it } from 'vitest';

import { batchLines, numericLines } from '../src/cli/connections.js';
import { LISTING_MODE, NUMERIC, saveEntry, serviceEntry, type ListFormat } from '../src/cli/format.js';
import { serviceJson } from '../src/cli/json.js';
import { Table } from '../src/cli/table.js';
import { ConnectionBatch } from '../src/connections.js';
import { K } from '../src/constants.js';
import { native, type RawDest, type RawService, type RawStats } from '../src/native.js';
import { bytes, rawDest, rawService } from './helpers/raw.js';

/** A small deterministic generator (xorshift32), so that a failure can be replayed. */
function generator(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const below = (n: number): number => next() % n;
  const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;
  return { next, below, pick };
}

type Gen = ReturnType<typeof generator>;

/** Counters around every scale print_largenum switches at, and past 2^53 and 2^63. */
const COUNTERS = [
  0n,
  7n,
  99_999_999n,
  100_000_000n,
  999_999_999n,
  1_000_000_000n,
  99_999_999_999n,
  100_000_000_000n,
  99_999_999_999_999n,
  100_000_000_000_000n,
  2n ** 32n - 1n,
  2n ** 32n + 5n,
  2n ** 53n + 1n,
  2n ** 64n - 1n,
];

function stats(g: Gen): RawStats {
  const c = () => g.pick(COUNTERS);
  return {
    conns: c(),
    inpkts: c(),
    outpkts: c(),
    inbytes: c(),
    outbytes: c(),
    cps: c(),
    inpps: c(),
    outpps: c(),
    inbps: c(),
    outbps: c(),
  };
}

const u32 = (g: Gen): number => g.pick([0, 1, 9, 1_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]);

function address(g: Gen, af: number): Uint8Array {
  if (af === K.AF_INET) return bytes(g.pick([10, 192, 198, 255, 0]), g.below(256), g.below(256), g.below(256));
  const out = new Uint8Array(16);
  const shape = g.below(4);
  if (shape === 0) out.set([0x20, 0x01, 0x0d, 0xb8], 0);
  if (shape === 1) out.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, g.below(256)]);
  if (shape >= 2) for (let i = 0; i < 16; i++) out[i] = g.below(3) === 0 ? 0 : g.below(256);
  return out;
}

function service(g: Gen, nameable: boolean): RawService {
  const af = g.pick([K.AF_INET, K.AF_INET, K.AF_INET6]);
  const fwmark = g.below(5) === 0 ? g.pick([1, 7, 2 ** 31 + 3, 2 ** 32 - 1]) : 0;
  const scheduler = g.pick(['rr', 'wlc', 'sh', 'mh', 'weird"\\name\t']);
  const persistent = g.below(2) === 0;
  let flags = K.IP_VS_SVC_F_HASHED;
  if (persistent) flags |= K.IP_VS_SVC_F_PERSISTENT;
  if (g.below(3) === 0) flags |= K.IP_VS_SVC_F_ONEPACKET;
  for (const bit of [K.IP_VS_SVC_F_SCHED1, K.IP_VS_SVC_F_SCHED2, K.IP_VS_SVC_F_SCHED3])
    if (g.below(3) === 0) flags |= bit;
  return rawService({
    af,
    protocol: fwmark
      ? 0
      : g.pick([K.IPPROTO_TCP, K.IPPROTO_UDP, K.IPPROTO_SCTP, nameable ? K.IPPROTO_TCP : K.IPPROTO_ICMP]),
    addr: fwmark ? new Uint8Array(16) : address(g, af),
    port: fwmark ? 0 : g.pick([0, 80, 443, 65535]),
    fwmark,
    scheduler,
    pe: persistent && g.below(3) === 0 ? 'sip' : '',
    flags,
    timeout: persistent ? g.pick([1, 360, 2678400]) : 0,
    netmask: af === K.AF_INET ? g.pick([0xffffffff, 0xffffff00, 0, 0x80000000]) : g.pick([128, 64, 1, 2 ** 32 - 1]),
    stats: stats(g),
  });
}

function destination(g: Gen, af: number, nameable: boolean): RawDest {
  const dAf = g.below(6) === 0 ? (af === K.AF_INET ? K.AF_INET6 : K.AF_INET) : af;
  return rawDest({
    af: dAf,
    addr: address(g, dAf),
    port: g.pick([0, 80, 8080, 65535]),
    fwdMethod: g.pick([
      K.IP_VS_CONN_F_MASQ,
      K.IP_VS_CONN_F_LOCALNODE,
      K.IP_VS_CONN_F_TUNNEL,
      K.IP_VS_CONN_F_DROUTE,
      K.IP_VS_CONN_F_TUNNEL | 0x100,
      nameable ? K.IP_VS_CONN_F_MASQ : 5,
    ]),
    weight: g.pick([0, 1, 5, 2 ** 31 - 1, -1]),
    uThreshold: u32(g),
    lThreshold: u32(g),
    tunType: g.pick([
      K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
      K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
      K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
      7,
    ]),
    tunPort: g.pick([0, 6080]),
    tunFlags: g.pick([0, 1, 2, 3]),
    activeConns: u32(g),
    inactConns: u32(g),
    persistConns: u32(g),
    stats: stats(g),
  });
}

/**
 * A table of `n` services with 0 to 5 destinations each; some share an
 * address, to exercise the sort's ties. `nameable`: only protocols and
 * forwarding methods the library has names for.
 */
function table(seed: number, n: number, nameable = false): Table {
  const g = generator(seed);
  const services: RawService[] = [];
  const dests: RawDest[][] = [];
  for (let i = 0; i < n; i++) {
    const s = i > 0 && g.below(4) === 0 ? { ...services[g.below(i)]!, port: g.below(3) } : service(g, nameable);
    services.push(s);
    const list: RawDest[] = [];
    for (let d = g.below(6); d > 0; d--) {
      list.push(list.length && g.below(4) === 0 ? { ...list[0]!, port: g.below(2) } : destination(g, s.af, nameable));
    }
    dests.push(list);
  }
  return Table.of(services, dests);
}

const FORMAT: ListFormat = {
  numeric: true,
  exact: false,
  stats: false,
  rate: false,
  thresholds: false,
  persistentConn: false,
  tunInfo: false,
};

/** Every table mode as ListFormat options, with the addon's mode for it. */
const TABLE_MODES: [string, Partial<ListFormat>, number][] = [
  ['table', {}, LISTING_MODE.table],
  ['--stats', { stats: true }, LISTING_MODE.stats],
  ['--stats --exact', { stats: true, exact: true }, LISTING_MODE.stats],
  ['--rate', { rate: true }, LISTING_MODE.rate],
  ['--rate --exact', { rate: true, exact: true }, LISTING_MODE.rate],
  ['--thresholds', { thresholds: true }, LISTING_MODE.thresholds],
  ['--persistent-conn', { persistentConn: true }, LISTING_MODE.persistentConn],
  ['--tun-info', { tunInfo: true }, LISTING_MODE.tunInfo],
];

function nativeText(t: Table, mode: number, exact: boolean, sort: boolean, chunk = 3): string {
  const order = native().listingOrder(t.p, sort);
  const flags = (exact ? 1 : 0) | (sort ? 2 : 0);
  let out = '';
  for (let from = 0; from < order.length; from += chunk) {
    out += native()
      .listingText(t.p, order, from, Math.min(order.length, from + chunk), mode, flags)
      .toString('utf8');
  }
  return out;
}

function jsText(t: Table, sort: boolean, render: (i: number, dests: Uint32Array) => string): string {
  let out = '';
  for (const i of t.serviceOrder(sort)) out += render(i, t.destOrder(i, sort));
  return out;
}

function jsJson(t: Table, sort: boolean): string {
  let out = '';
  t.serviceOrder(sort).forEach((i, k) => (out += `${k ? ',' : ''}\n    ${serviceJson(t, i, t.destOrder(i, sort), 2)}`));
  return out;
}

const SEEDS = Array.from({ length: 40 }, (_, k) => k * 7919 + 1);

describe('the addon lists as the TypeScript formatters do', () => {
  it('orders services and destinations as ipvsadm (its merge sort and comparators)', () => {
    for (const seed of SEEDS) {
      const t = table(seed, 60);
      expect(Array.from(native().listingOrder(t.p, true)), `seed ${seed}`).toEqual(Array.from(t.serviceOrder(true)));
      expect(Array.from(native().listingOrder(t.p, false))).toEqual(Array.from(t.serviceOrder(false)));
    }
  });

  for (const [name, options, mode] of TABLE_MODES) {
    it(`-Ln ${name}`, () => {
      const f = { ...FORMAT, ...options };
      for (const seed of SEEDS) {
        const t = table(seed, 40);
        for (const sort of [true, false]) {
          const expected = jsText(t, sort, (i, d) => serviceEntry(t, i, d, f, NUMERIC));
          expect(nativeText(t, mode, f.exact, sort), `seed ${seed}, sort ${sort}`).toBe(expected);
        }
      }
    });
  }

  it('-Sn', () => {
    for (const seed of SEEDS) {
      const t = table(seed, 40);
      const expected = jsText(t, true, (i, d) => saveEntry(t, i, d, NUMERIC));
      expect(nativeText(t, LISTING_MODE.save, false, true), `seed ${seed}`).toBe(expected);
    }
  });

  it('-L --json', () => {
    for (const seed of SEEDS) {
      // JSON refuses what the library cannot name (checked below).
      const t = table(seed, 40, true);
      for (const sort of [true, false]) {
        expect(nativeText(t, LISTING_MODE.json, false, sort), `seed ${seed}`).toBe(jsJson(t, sort));
      }
    }
  });

  it('-L --json refuses an unknown protocol or forwarding method with the library message', () => {
    const icmp = Table.of([rawService({ protocol: K.IPPROTO_ICMP })], [[]]);
    expect(() => nativeText(icmp, LISTING_MODE.json, false, true)).toThrow(
      'the kernel reported a service with unknown protocol 1',
    );
    const fwd = Table.of([rawService()], [[rawDest({ fwdMethod: 5 })]]);
    expect(() => nativeText(fwd, LISTING_MODE.json, false, true)).toThrow(
      'the kernel reported unknown forwarding method 5',
    );
  });

  it('copies the text into a buffer given when it fits, and makes a new one when it does not', () => {
    const t = table(5, 30, true);
    const order = native().listingOrder(t.p, true);
    for (const mode of [LISTING_MODE.table, LISTING_MODE.stats, LISTING_MODE.json]) {
      const whole = native().listingText(t.p, order, 0, order.length, mode, 2);
      const room = Buffer.alloc(whole.length + 10, 0x2a);
      expect(native().listingText(t.p, order, 0, order.length, mode, 2, room)).toBe(whole.length);
      expect(room.subarray(0, whole.length).equals(whole)).toBe(true);
      expect(room[whole.length]).toBe(0x2a);
      // The next call's text in the same buffer, and text that does not fit.
      const first = native().listingText(t.p, order, 0, 1, mode, 2);
      expect(native().listingText(t.p, order, 0, 1, mode, 2, room)).toBe(first.length);
      expect(room.subarray(0, first.length).equals(first)).toBe(true);
      const small = new Uint8Array(whole.length - 1);
      const made = native().listingText(t.p, order, 0, order.length, mode, 2, small);
      expect(Buffer.isBuffer(made) && made.equals(whole)).toBe(true);
      expect(small.every((b) => b === 0)).toBe(true);
    }
    expect(() => native().listingText(t.p, order, 0, 1, 0, 0, new Uint32Array(4) as never)).toThrow(TypeError);
  });

  it('an empty table lists nothing', () => {
    const t = Table.of([], []);
    expect(Array.from(native().listingOrder(t.p, true))).toEqual([]);
    expect(native().listingText(t.p, new Uint32Array(0), 0, 0, LISTING_MODE.table, 2).length).toBe(0);
  });

  it('refuses arguments that do not fit the snapshot', () => {
    const t = table(3, 4);
    const order = native().listingOrder(t.p, true);
    expect(() => native().listingText(t.p, order, 0, 5, 0, 0)).toThrow(RangeError);
    expect(() => native().listingText(t.p, new Uint32Array([9]), 0, 1, 0, 0)).toThrow(RangeError);
    expect(() => native().listingText(t.p, order, 0, 1, 8, 0)).toThrow(RangeError);
    const cut = { ...t.p, services: t.p.services.subarray(1) };
    expect(() => native().listingOrder(cut, true)).toThrow(RangeError);
    expect(() => native().listingOrder({ ...t.p, counters: new Uint32Array(4) } as never, true)).toThrow(TypeError);
  });
});

/** Lines in the kernel's /proc/net/ip_vs_conn format, of every shape (`%-3s %08X %04X … %-11s %7u[ PE DATA]`). */
function connectionText(seed: number, n: number): string {
  const g = generator(seed);
  const hex = (v: number, width: number) => v.toString(16).toUpperCase().padStart(width, '0');
  const v6 = () =>
    Array.from({ length: 8 }, () => hex(g.pick([0, 0, 1, 0x20, 0xdb8, 0xffff, g.below(65536)]), 4).toLowerCase()).join(
      ':',
    );
  const v4 = () => hex(g.next(), 8);
  let out = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
  for (let i = 0; i < n; i++) {
    const six = g.below(3) === 0;
    const address = six ? v6 : v4;
    const dest = six && g.below(3) === 0 ? v4 : address;
    const pe = g.below(4) === 0 ? ` sip ${g.pick(['abc', 'call-id@x y', ' lead', 'z'])}` : '';
    out +=
      `${g.pick(['TCP', 'UDP', 'SCTP', 'IP', 'XYZ']).padEnd(3)} ${address()} ${hex(g.below(65536), 4)} ${address()} ` +
      `${hex(g.below(65536), 4)} ${dest()} ${hex(g.below(65536), 4)} ` +
      `${g.pick(['ESTABLISHED', 'NONE', 'SYN_RECV', 'CLOSE_WAIT', 'UDP']).padEnd(11)} ` +
      `${String(g.pick([0, 9, 59, 60, 3599, 86400, 2 ** 32 - 1])).padStart(7)}${pe}\n`;
  }
  return out;
}

describe('the addon lists connections as the TypeScript formatter does', () => {
  for (const withPe of [false, true]) {
    it(`-Lnc${withPe ? ' --persistent-conn' : ''}`, () => {
      for (const seed of SEEDS) {
        const text = new TextEncoder().encode(connectionText(seed, 50));
        const b = new ConnectionBatch(native().parseConnections(text, null));
        expect(b.length).toBe(50);
        const got = Buffer.from(numericLines(b, withPe)).toString('utf8');
        expect(got, `seed ${seed}`).toBe(batchLines(b, withPe, NUMERIC));
        // Into a buffer given: the same bytes when they fit, a new Buffer when not.
        const room = Buffer.alloc(got.length + 1);
        expect(numericLines(b, withPe, room)).toBe(Buffer.byteLength(got));
        expect(room.toString('utf8', 0, Buffer.byteLength(got))).toBe(got);
        const made = numericLines(b, withPe, new Uint8Array(10));
        expect(typeof made !== 'number' && Buffer.from(made).toString('utf8')).toBe(got);
      }
    });
  }
});
