// A service and a destination as the addon returns them, for unit tests:
// TCP 192.0.2.1:80 with rr, and 198.51.100.1:80 masqueraded with weight 1,
// zero counters; `over` changes any field.
import { K } from '../../src/constants.js';
import type { RawDest, RawService, RawStats } from '../../src/native.js';
import { COUNTER_COLUMNS, packed, type PackedSnapshot } from '../../src/snapshot.js';
import { ZERO_STATS } from './stats.js';

/** 16 address bytes: `b` first, zeros after. */
export const bytes = (...b: number[]): Uint8Array => {
  const out = new Uint8Array(16);
  out.set(b);
  return out;
};

export const rawService = (over: Partial<RawService> = {}): RawService => ({
  af: K.AF_INET,
  protocol: K.IPPROTO_TCP,
  addr: bytes(192, 0, 2, 1),
  port: 80,
  fwmark: 0,
  scheduler: 'rr',
  pe: '',
  flags: K.IP_VS_SVC_F_HASHED,
  timeout: 0,
  netmask: 0xffffffff,
  stats: ZERO_STATS,
  ...over,
});

export const rawDest = (over: Partial<RawDest> = {}): RawDest => ({
  af: K.AF_INET,
  addr: bytes(198, 51, 100, 1),
  port: 80,
  fwdMethod: K.IP_VS_CONN_F_MASQ,
  weight: 1,
  uThreshold: 0,
  lThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
  activeConns: 0,
  inactConns: 0,
  persistConns: 0,
  stats: ZERO_STATS,
  ...over,
});

/** Packs services (each with its destinations) as the addon does (native/snapshot.cc's columns). */
export function packSnapshot(services: { service: RawService; dests: RawDest[] }[]): PackedSnapshot {
  const schedulers: string[] = [];
  const engines = [''];
  const index = (table: string[], name: string) => {
    if (!table.includes(name)) table.push(name);
    return table.indexOf(name);
  };
  const counters = (s: RawStats) => COUNTER_COLUMNS.map((c) => s[c]);
  const all = services.flatMap((s) => s.dests);
  const offsets = [0];
  for (const s of services) offsets.push(offsets[offsets.length - 1]! + s.dests.length);
  const addr = (a: Uint8Array) => [...a];
  return packed({
    takenAt: 7n,
    counters: new BigUint64Array(
      [...services.map((s) => s.service.stats), ...all.map((d) => d.stats)].flatMap(counters),
    ),
    services: new Uint32Array(
      services.flatMap(({ service: s }) => [
        s.af,
        s.protocol,
        s.port,
        s.fwmark,
        s.flags,
        s.timeout,
        s.netmask,
        index(schedulers, s.scheduler),
        index(engines, s.pe),
      ]),
    ),
    serviceAddrs: new Uint8Array(services.flatMap((s) => addr(s.service.addr))),
    destOffsets: new Uint32Array(offsets),
    dests: new Uint32Array(
      all.flatMap((d) => [
        d.af,
        d.port,
        d.fwdMethod,
        d.weight >>> 0,
        d.uThreshold,
        d.lThreshold,
        d.activeConns,
        d.inactConns,
        d.persistConns,
        d.tunType,
        d.tunPort,
        d.tunFlags,
      ]),
    ),
    destAddrs: new Uint8Array(all.flatMap((d) => addr(d.addr))),
    schedulers,
    engines,
  });
}
