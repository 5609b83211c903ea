import { describe, expect, it } from 'vitest';

import { K } from '../src/constants.js';
import { destinationFromRaw } from '../src/destination.js';
import type { RawDest, RawService, RawSnapshot, RawStats } from '../src/native.js';
import { serviceFromRaw } from '../src/service.js';
import { COUNTER_COLUMNS, packed, rates, unpack } from '../src/snapshot.js';
import { bytes, packSnapshot, rawDest, rawService } from './helpers/raw.js';

/** One TCP service on 192.0.2.1:80 with destinations 198.51.100.1 and .2, counters as given. */
function snap(takenAt: bigint, counters: bigint[][], extraDest = false): ReturnType<typeof packed> {
  const addr = (a: number[]) => [...a, ...new Array(12).fill(0)];
  const dests = extraDest ? [1, 2, 3] : [1, 2];
  const raw: RawSnapshot = {
    takenAt,
    counters: new BigUint64Array(counters.flatMap((row) => [...row, 0n, 0n, 0n, 0n, 0n])),
    services: new Uint32Array([K.AF_INET, K.IPPROTO_TCP, 80, 0, K.IP_VS_SVC_F_HASHED, 0, 0xffffffff, 0, 0]),
    serviceAddrs: new Uint8Array(addr([192, 0, 2, 1])),
    destOffsets: new Uint32Array([0, dests.length]),
    dests: new Uint32Array(dests.flatMap((i) => [K.AF_INET, 80, K.IP_VS_CONN_F_MASQ, i, 0, 0, i, 0, 0, 0, 0, 0])),
    destAddrs: new Uint8Array(dests.flatMap((i) => addr([198, 51, 100, i]))),
    schedulers: ['rr'],
    engines: [''],
  };
  return packed(raw);
}

describe('unpack', () => {
  it('gives the shapes of listServices and listDestinations', () => {
    const s = unpack(
      snap(1n, [
        [5n, 6n, 7n, 8n, 9n],
        [2n, 0n, 0n, 0n, 0n],
        [3n, 0n, 0n, 0n, 0n],
      ]),
    );
    expect(s.services).toHaveLength(1);
    expect(s.services[0]).toMatchObject({
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      scheduler: 'rr',
      flags: 0,
      stats: { conns: 5n, inPackets: 6n, outBytes: 9n },
    });
    expect(s.services[0]!.destinations.map((d) => [d.address, d.weight, d.activeConnections, d.stats.conns])).toEqual([
      ['198.51.100.1', 1, 1, 2n],
      ['198.51.100.2', 2, 2, 3n],
    ]);
  });
});

describe('unpack', () => {
  const stats = (n: bigint): RawStats =>
    Object.fromEntries(
      COUNTER_COLUMNS.map((c, k) => [c, k % 2 ? 0n : n + BigInt(k) * 2n ** 40n]),
    ) as unknown as RawStats;
  const dest = (over: Partial<RawDest>): RawDest =>
    rawDest({ activeConns: 3, inactConns: 4, persistConns: 5, stats: stats(9n), ...over });
  const service = (over: Partial<RawService>): RawService => rawService({ stats: stats(1n), ...over });
  const table = [
    { service: service({}), dests: [dest({}), dest({ addr: bytes(198, 51, 100, 2), weight: 0 }), dest({})] },
    {
      service: service({
        af: K.AF_INET6,
        protocol: K.IPPROTO_UDP,
        addr: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        scheduler: 'sh',
        flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_SCHED1,
        timeout: 300,
        netmask: 64,
        pe: 'sip',
      }),
      dests: [
        dest({ af: K.AF_INET6, addr: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), weight: -1 }),
        dest({ fwdMethod: K.IP_VS_CONN_F_TUNNEL, tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE, tunPort: 6080, tunFlags: 1 }),
      ],
    },
    { service: service({ fwmark: 7, addr: bytes(), port: 0, protocol: 0, flags: K.IP_VS_SVC_F_ONEPACKET }), dests: [] },
    { service: service({ flags: K.IP_VS_SVC_F_PERSISTENT, timeout: 360, netmask: 0xffffff00 }), dests: [dest({})] },
  ];

  it('gives exactly what the raw conversions give, field order included', () => {
    const s = unpack(packSnapshot(table));
    const want = table.map((t) => ({ ...serviceFromRaw(t.service), destinations: t.dests.map(destinationFromRaw) }));
    expect(s.takenAt).toBe(7n);
    expect(s.services).toStrictEqual(want);
    expect(JSON.stringify(s.services, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(
      JSON.stringify(want, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  });
});

describe('rates', () => {
  it('divides counter growth by the time between the snapshots', () => {
    const a = snap(1_000_000_000n, [
      [10n, 100n, 50n, 1000n, 500n],
      [4n, 0n, 0n, 0n, 0n],
      [6n, 0n, 0n, 0n, 0n],
    ]);
    const b = snap(1_500_000_000n, [
      [20n, 300n, 50n, 3000n, 500n],
      [9n, 0n, 0n, 0n, 0n],
      [11n, 0n, 0n, 0n, 0n],
    ]);
    expect([...rates(a, b)]).toEqual([20, 400, 0, 4000, 0, 10, 0, 0, 0, 0, 10, 0, 0, 0, 0]);
  });

  it('matches entries by key when the table changed shape, NaN for new ones', () => {
    const a = snap(0n, [
      [10n, 0n, 0n, 0n, 0n],
      [4n, 0n, 0n, 0n, 0n],
      [6n, 0n, 0n, 0n, 0n],
    ]);
    const b = snap(
      2_000_000_000n,
      [
        [20n, 0n, 0n, 0n, 0n],
        [8n, 0n, 0n, 0n, 0n],
        [6n, 0n, 0n, 0n, 0n],
        [1n, 0n, 0n, 0n, 0n],
      ],
      true,
    );
    const r = rates(a, b);
    expect([r[0], r[5], r[10]]).toEqual([5, 2, 0]);
    expect(r[15]).toBeNaN();
  });

  it('gives NaN where counters went down (zeroed in between)', () => {
    const a = snap(0n, [
      [10n, 0n, 0n, 0n, 0n],
      [4n, 0n, 0n, 0n, 0n],
      [6n, 0n, 0n, 0n, 0n],
    ]);
    const b = snap(1_000_000_000n, [
      [1n, 0n, 0n, 0n, 0n],
      [0n, 0n, 0n, 0n, 0n],
      [6n, 0n, 0n, 0n, 0n],
    ]);
    expect(rates(a, b)[0]).toBeNaN();
  });

  it('refuses snapshots in the wrong order', () => {
    const a = snap(5n, [
      [0n, 0n, 0n, 0n, 0n],
      [0n, 0n, 0n, 0n, 0n],
      [0n, 0n, 0n, 0n, 0n],
    ]);
    expect(() => rates(a, a)).toThrow(RangeError);
  });
});

it('reads the packed columns in the order the addon writes them', async () => {
  const { native } = await import('../src/native.js');
  const { COUNTER_COLUMNS, SERVICE_COLUMNS, DEST_COLUMNS } = await import('../src/snapshot.js');
  expect(native().snapshotColumns).toEqual({
    counters: [...COUNTER_COLUMNS],
    services: [...SERVICE_COLUMNS],
    dests: [...DEST_COLUMNS],
  });
});
