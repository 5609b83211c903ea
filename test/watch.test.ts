// Watching without a kernel: the events between two tables (and that applied
// in order they make the second), the events of a stream of canned packed
// snapshots (counters are no events; the first snapshot is a baseline unless
// `initial`), and `ipvs watch`'s options and lines.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { eventLine, parseWatchArgs } from '../src/cli/watch.js';
import { UsageError } from '../src/cli/subcommand.js';
import { K } from '../src/constants.js';
import { destinationSpecToRaw, type DestinationSpec } from '../src/destination.js';
import type { RawDest, RawDestSpec, RawService, RawServiceSpec } from '../src/native.js';
import { serviceSpecToRaw, type ServiceSpec } from '../src/service.js';
import type { PackedSnapshot } from '../src/snapshot.js';
import {
  destinationDifferences,
  destinationId,
  serviceDifferences,
  serviceId,
  tableFromPacked,
  type Table,
} from '../src/table.js';
import { sameConfiguration, tableChanges, tableEvents, type WatchEvent } from '../src/watch.js';
import { packSnapshot } from './helpers/raw.js';
import { ZERO_STATS } from './helpers/stats.js';

interface Entry {
  service: ServiceSpec;
  destinations?: DestinationSpec[];
  /** Connection counts of each destination, in order. */
  counts?: number[];
}

/** A packed snapshot of services given as the facade's specs. */
function snapshot(entries: Entry[], conns = 0n): PackedSnapshot {
  return packSnapshot(
    entries.map(({ service, destinations = [], counts = [] }) => {
      const raw = serviceSpecToRaw(service);
      const svc: RawService = { ...raw, flags: raw.flags | K.IP_VS_SVC_F_HASHED, stats: { ...ZERO_STATS, conns } };
      const dests = destinations.map((d, i): RawDest => ({
        ...destinationSpecToRaw(d, raw),
        activeConns: counts[i] ?? 0,
        inactConns: counts[i] ?? 0,
        persistConns: 0,
        stats: { ...ZERO_STATS, conns },
      }));
      return { service: svc, dests };
    }),
  );
}

const web: ServiceSpec = { protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' };
const rs1: DestinationSpec = { address: '198.51.100.1', port: 80, forwarding: 'masq', weight: 1 };
const rs2: DestinationSpec = { address: '198.51.100.2', port: 80, forwarding: 'masq', weight: 2 };
const webKey = { protocol: 'tcp', address: '192.0.2.1', port: 80 };
const table = (entries: Entry[]) => tableFromPacked(snapshot(entries));

describe('the events between two tables', () => {
  it('a service added, then its destinations', () => {
    expect(tableChanges(new Map(), table([{ service: web, destinations: [rs1] }]))).toEqual([
      { type: 'service-added', service: webKey, after: web },
      { type: 'destination-added', service: webKey, destination: { address: '198.51.100.1', port: 80 }, after: rs1 },
    ]);
  });

  it('a service removed after its destinations', () => {
    expect(tableChanges(table([{ service: web, destinations: [rs1] }]), new Map())).toEqual([
      { type: 'destination-removed', service: webKey, destination: { address: '198.51.100.1', port: 80 }, before: rs1 },
      { type: 'service-removed', service: webKey, before: web },
    ]);
  });

  it('settings changed, named in the facade’s words, with the specs before and after', () => {
    const persistent: ServiceSpec = { ...web, scheduler: 'wlc', persistence: { timeout: 60 } };
    const heavier = { ...rs1, weight: 0, upperThreshold: 10 };
    const events = tableChanges(
      table([{ service: web, destinations: [rs1, rs2] }]),
      table([{ service: persistent, destinations: [heavier, { ...rs2, address: '198.51.100.3' }] }]),
    );
    expect(events).toEqual([
      {
        type: 'service-changed',
        service: webKey,
        fields: ['scheduler', 'persistence'],
        before: web,
        after: persistent,
      },
      {
        type: 'destination-removed',
        service: webKey,
        destination: { address: '198.51.100.2', port: 80 },
        before: rs2,
      },
      {
        type: 'destination-changed',
        service: webKey,
        destination: { address: '198.51.100.1', port: 80 },
        fields: ['weight', 'upperThreshold'],
        before: rs1,
        after: heavier,
      },
      {
        type: 'destination-added',
        service: webKey,
        destination: { address: '198.51.100.3', port: 80 },
        after: { ...rs2, address: '198.51.100.3' },
      },
    ]);
  });

  it('keys fwmark and IPv6 services as the facade does', () => {
    const fwm: ServiceSpec = { fwmark: 5, family: 'inet6', scheduler: 'sh', schedulerFlags: ['sh-port'] };
    const dns: ServiceSpec = { protocol: 'udp', address: '2001:db8::1', port: 53, scheduler: 'rr', onePacket: true };
    const [a, b] = tableChanges(new Map(), table([{ service: fwm }, { service: dns }]));
    expect(a).toEqual({ type: 'service-added', service: { fwmark: 5, family: 'inet6' }, after: fwm });
    expect(b).toMatchObject({ service: { protocol: 'udp', address: '2001:db8::1', port: 53 }, after: dns });
  });

  it('nothing for equal tables', () => {
    const t = [{ service: web, destinations: [rs1] }];
    expect(tableChanges(table(t), table(t))).toEqual([]);
  });

  // Random pairs of tables over a few keys, so that they share some entries.
  const services: ServiceSpec[] = [
    { protocol: 'tcp', address: '192.0.2.1', port: 80 },
    { protocol: 'udp', address: '2001:db8::1', port: 53 },
    { fwmark: 7 },
  ];
  const tables = fc.array(
    fc.record({
      present: fc.boolean(),
      scheduler: fc.constantFrom('rr', 'wlc'),
      persistence: fc.constantFrom<{ timeout: number } | undefined>(undefined, { timeout: 60 }, { timeout: 300 }),
      destinations: fc.subarray([1, 2, 3]).chain((ns) =>
        fc.tuple(
          ...ns.map((n) =>
            fc.record({
              n: fc.constant(n),
              weight: fc.integer({ min: 0, max: 2 }),
              forwarding: fc.constantFrom<'masq' | 'route'>('masq', 'route'),
              upperThreshold: fc.constantFrom(0, 5),
            }),
          ),
        ),
      ),
    }),
    { minLength: 3, maxLength: 3 },
  );
  const entriesOf = (t: typeof tables extends fc.Arbitrary<infer T> ? T : never): Entry[] =>
    t
      .map((s, i) => ({ ...s, key: services[i]! }))
      .filter((s) => s.present)
      .map((s) => ({
        service: { ...s.key, scheduler: s.scheduler, ...(s.persistence ? { persistence: s.persistence } : {}) },
        destinations: s.destinations.map(({ n, ...d }) => ({
          address: 'address' in s.key ? s.key.address.replace(/1$/, `${n + 1}`) : `198.51.100.${n}`,
          ...d,
        })),
      }));

  /** Applies events to a table, converting their specs back as the facade would send them. */
  function apply(start: Table, events: WatchEvent[]): Table {
    const t: Table = new Map([...start].map(([id, s]) => [id, { raw: s.raw, destinations: new Map(s.destinations) }]));
    for (const e of events) {
      const svc = serviceSpecToRaw(e.service as ServiceSpec);
      const id = serviceId(svc);
      if (e.type === 'service-added') t.set(id, { raw: serviceSpecToRaw(e.after), destinations: new Map() });
      else if (e.type === 'service-removed') {
        expect(t.get(id)!.destinations.size, 'destinations removed first').toBe(0);
        t.delete(id);
      } else if (e.type === 'service-changed') t.get(id)!.raw = serviceSpecToRaw(e.after);
      else if (e.type === 'destination-removed')
        t.get(id)!.destinations.delete(destinationId(destinationSpecToRaw(e.before, svc)));
      else {
        const d = destinationSpecToRaw(e.after, svc);
        t.get(id)!.destinations.set(destinationId(d), d);
      }
    }
    return t;
  }

  const same = (a: Table, b: Table) => {
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [id, s] of a) {
      const o = b.get(id)!;
      expect(serviceDifferences(s.raw as RawServiceSpec, o.raw)).toEqual([]);
      expect([...s.destinations.keys()].sort()).toEqual([...o.destinations.keys()].sort());
      for (const [k, d] of s.destinations)
        expect(destinationDifferences(d as RawDestSpec, o.destinations.get(k)!)).toEqual([]);
    }
  };

  it('applied in order, the events make the first table the second', () => {
    fc.assert(
      fc.property(tables, tables, (x, y) => {
        const a = table(entriesOf(x));
        const b = table(entriesOf(y));
        same(apply(a, tableChanges(a, b)), b);
      }),
    );
  });
});

describe('the events of a stream of snapshots', () => {
  async function* stream(...snapshots: PackedSnapshot[]): AsyncGenerator<PackedSnapshot> {
    for (const s of snapshots) yield await Promise.resolve(s);
  }
  const collect = async (g: AsyncIterable<WatchEvent>) => {
    const out: WatchEvent[] = [];
    for await (const e of g) out.push(e);
    return out;
  };
  const one = [{ service: web, destinations: [rs1], counts: [0] }];
  const busy = [{ service: web, destinations: [rs1], counts: [7] }];
  const two = [{ service: web, destinations: [rs1, rs2] }];

  it('counters and connection counts are no change', () => {
    expect(sameConfiguration(snapshot(one), snapshot(busy, 99n))).toBe(true);
    expect(sameConfiguration(snapshot(one), snapshot([{ service: web, destinations: [{ ...rs1, weight: 3 }] }]))).toBe(
      false,
    );
    expect(sameConfiguration(snapshot(one), snapshot(two))).toBe(false);
    expect(
      sameConfiguration(snapshot(one), snapshot([{ service: { ...web, scheduler: 'wlc' }, destinations: [rs1] }])),
    ).toBe(false);
  });

  it('the first snapshot is the baseline; then each change once', async () => {
    const events = await collect(
      tableEvents(stream(snapshot(one), snapshot(busy, 5n), snapshot(two), snapshot(two), snapshot(one)), false),
    );
    expect(events.map((e) => e.type)).toEqual(['destination-added', 'destination-removed']);
  });

  it('initial: the first table as additions first', async () => {
    const events = await collect(tableEvents(stream(snapshot(two), snapshot(one)), true));
    expect(events.map((e) => e.type)).toEqual([
      'service-added',
      'destination-added',
      'destination-added',
      'destination-removed',
    ]);
  });

  it('stops yielding once the signal aborts', async () => {
    const controller = new AbortController();
    const out: WatchEvent[] = [];
    for await (const e of tableEvents(stream(snapshot(two), snapshot([])), true, controller.signal)) {
      out.push(e);
      controller.abort();
    }
    expect(out).toHaveLength(1);
  });
});

describe('ipvs watch: its command line', () => {
  it('reads its options', () => {
    expect(parseWatchArgs([])).toEqual({
      json: false,
      interval: 1000,
      initial: false,
      count: undefined,
      duration: undefined,
    });
    expect(parseWatchArgs(['--json', '--interval', '100', '--initial', '--count', '3', '--duration=5000'])).toEqual({
      json: true,
      interval: 100,
      initial: true,
      count: 3,
      duration: 5000,
    });
    for (const args of [['--count', '0'], ['--interval', 'x'], ['--bogus'], ['extra'], ['--interval']]) {
      expect(() => parseWatchArgs(args), args.join(' ')).toThrow(UsageError);
    }
  });

  it('writes one line per event', () => {
    const dns: ServiceSpec = { protocol: 'udp', address: '2001:db8::1', port: 53, scheduler: 'rr', onePacket: true };
    const fwm: ServiceSpec = { fwmark: 5, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'] };
    const tunnel: DestinationSpec = {
      address: '198.51.100.9',
      port: 80,
      forwarding: 'tunnel',
      weight: 1,
      tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
    };
    const lines = [
      ...tableChanges(
        new Map(),
        table([
          {
            service: { ...web, persistence: { timeout: 60, netmask: '255.255.255.0' }, persistenceEngine: 'sip' },
            destinations: [{ ...rs1, upperThreshold: 9, lowerThreshold: 3 }],
          },
        ]),
      ),
      ...tableChanges(
        new Map(),
        table([
          { service: dns, destinations: [{ address: '2001:db8::2', port: 53, forwarding: 'route', weight: 1 }] },
          { service: fwm, destinations: [tunnel] },
        ]),
      ),
      ...tableChanges(
        table([{ service: web, destinations: [rs1, tunnel] }]),
        table([
          {
            service: { ...web, persistence: { timeout: 300 } },
            destinations: [
              { ...rs1, weight: 0, forwarding: 'route' },
              { ...tunnel, tunnel: { type: 'ipip' } },
            ],
          },
        ]),
      ),
      ...tableChanges(table([{ service: web, destinations: [rs1] }]), new Map()),
    ].map(eventLine);
    expect(lines.join('')).toBe(
      [
        '+ service TCP 192.0.2.1:80 scheduler rr persistence 60s/255.255.255.0 engine sip',
        '+ destination TCP 192.0.2.1:80 -> 198.51.100.1:80 masq weight 1 thresholds 3-9',
        '+ service UDP [2001:db8::1]:53 scheduler rr one-packet',
        '+ destination UDP [2001:db8::1]:53 -> [2001:db8::2]:53 route weight 1',
        '+ service FWM 5 scheduler sh flags sh-fallback,sh-port',
        '+ destination FWM 5 -> 198.51.100.9:80 tunnel weight 1 tunnel gue:6080,csum',
        '~ service TCP 192.0.2.1:80 persistence none -> 300s',
        '~ destination TCP 192.0.2.1:80 -> 198.51.100.1:80 forwarding masq -> route, weight 1 -> 0',
        '~ destination TCP 192.0.2.1:80 -> 198.51.100.9:80 tunnel gue:6080,csum -> ipip',
        '- destination TCP 192.0.2.1:80 -> 198.51.100.1:80',
        '- service TCP 192.0.2.1:80',
        '',
      ].join('\n'),
    );
    // JSON: the events as they are.
    const [e] = tableChanges(new Map(), table([{ service: web }]));
    expect(JSON.parse(JSON.stringify(e))).toEqual({ type: 'service-added', service: webKey, after: web });
  });
});
