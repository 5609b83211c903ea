// The connection table of a real kernel: entries made by known packets,
// compared field by field with what was sent, with the raw file and with
// `ipvsadm -Lnc`; filters and counts against the same computed in TypeScript
// from the full list; parallel reads against a single one on 20,000 entries.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  formatAddress,
  open,
  type Connection,
  type ConnectionFilter,
  type ConnectionStatsBy,
  type Endpoint,
} from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';
import { flood, prepare, sendDatagrams, sendSyns } from './helpers/traffic.js';

const v4 = (address: string, port: number): Endpoint => ({ family: 'inet', address, port });
const v6 = (address: string, port: number): Endpoint => ({ family: 'inet6', address, port });

const CALL_ID = 'a84b4c76e66710@pc33.example.com';
const INVITE =
  'INVITE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1:5070\r\n' +
  `Call-ID: ${CALL_ID}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;

type Expected = Omit<Connection, 'expires'>;
const udp = (client: Endpoint, virtual: Endpoint, destination: Endpoint): Expected => ({
  protocol: 'udp',
  client,
  virtual,
  destination,
  state: 'UDP',
});

const key = (c: Expected) => JSON.stringify([c.protocol, c.client, c.virtual, c.state]);
const sorted = <T extends Expected>(list: T[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
const withoutExpires = (list: Connection[]): Expected[] => list.map(({ expires: _, ...c }) => c);

/** The namespace's /proc/net/ip_vs_conn, read by `cat` (megabytes for large tables). */
function procFile(lab: Lab): string {
  return execFileSync('ip', ['netns', 'exec', lab.name, 'cat', '/proc/net/ip_vs_conn'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
}

/** The raw file, parsed here in TypeScript on its own: `%-3s %s %04X %s %04X %s %04X %-11s %7u%s`. */
function parseProcFile(text: string): Connection[] {
  const endpoint = (addr: string, port: string): Endpoint => {
    if (!addr.includes(':')) {
      const n = parseInt(addr, 16);
      return v4(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, parseInt(port, 16));
    }
    const bytes = new Uint8Array(addr.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
    return v6(formatAddress('inet6', bytes), parseInt(port, 16));
  };
  const names: Record<string, string> = {
    TCP: 'tcp',
    UDP: 'udp',
    SCTP: 'sctp',
    ICMP: 'icmp',
    ICMPv6: 'icmpv6',
    IP: 'ip',
  };
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\S+) +(\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) +(\d+)(?: (\S+) (.*))?$/.exec(l);
      if (!m) throw new Error(`unexpected line ${l}`);
      const c: Connection = {
        protocol: names[m[1]!] ?? m[1]!,
        client: endpoint(m[2]!, m[3]!),
        virtual: endpoint(m[4]!, m[5]!),
        destination: endpoint(m[6]!, m[7]!),
        state: m[8]!,
        expires: Number(m[9]),
      };
      if (m[10] !== undefined) Object.assign(c, { persistenceEngine: m[10], persistenceData: m[11] });
      return c;
    });
}

/** `ipvsadm -Lnc` rows as [pro, state, source, virtual, destination]. */
function admRows(text: string): string[][] {
  return text
    .split('\n')
    .slice(2)
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(/ +/);
      return [f[0]!, f[2]!, f[3]!, f[4]!, f[5]!];
    })
    .sort();
}

function asAdm(c: Connection): string[] {
  const at = (e: Endpoint) => (e.family === 'inet6' ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);
  const pro = c.protocol === 'icmpv6' ? 'ICMPv6' : c.protocol.toUpperCase();
  return [pro, c.state, at(c.client), at(c.virtual), at(c.destination)];
}

// First in the file (and the file first in the run): the table must hold
// nothing but this describe's entries while it compares reads (vitest.config.ts).
describe('20,000 entries', () => {
  let lab: Lab;
  const N = 20_000;

  beforeAll(async () => {
    lab = await createLab();
    await prepare(lab, ['192.0.2.1']);
    const service = { protocol: 'udp', address: '192.0.2.1', port: 53 } as const;
    await lab.ipvs.addService({ ...service, scheduler: 'rr' });
    for (const address of ['198.51.100.1', '198.51.100.2'])
      await lab.ipvs.addDestination(service, { address, forwarding: 'masq' });
    await flood(lab, '203.0.113.10', 1024, '192.0.2.1', 53, N);
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await f();
    console.log(`connections: ${label}: ${(performance.now() - start).toFixed(0)} ms`);
    return result;
  }

  it('reads the same table with 1, 2, 4 and auto readers, in the same order', async () => {
    const single = await timed('listConnections, 1 reader', () => lab.ipvs.listConnections());
    expect(single).toHaveLength(N);
    expect(new Set(single.map((c) => `${c.client.address}:${c.client.port}`)).size).toBe(N);
    for (const parallel of [2, 4, 'auto'] as const) {
      const got = await timed(`listConnections, parallel ${parallel}`, () => lab.ipvs.listConnections({ parallel }));
      expect(withoutExpires(got)).toEqual(withoutExpires(single));
    }
    const raw = parseProcFile(procFile(lab));
    expect(withoutExpires(single)).toEqual(withoutExpires(raw));
  }, 300_000);

  it('counts alike with 1 and 2 readers', async () => {
    const one = await timed('connectionStats by destination, 1 reader', () =>
      lab.ipvs.connectionStats({ by: 'destination' }),
    );
    const two = await timed('connectionStats by destination, 2 readers', () =>
      lab.ipvs.connectionStats({ by: 'destination', parallel: 2 }),
    );
    expect(two).toEqual(one);
    expect(one.map((s) => s.count)).toEqual([N / 2, N / 2]);
  }, 300_000);

  it('stops early without reading the rest', async () => {
    let seen = 0;
    for await (const batch of lab.ipvs.connectionBatches({ batchSize: 100, parallel: 2 })) {
      seen += batch.length;
      if (seen >= 200) break;
    }
    expect(seen).toBe(200);
    expect(
      await lab.ipvs.listConnections({ filter: { client: { address: '203.0.113.10', port: 1024 } } }),
    ).toHaveLength(1);
  }, 300_000);
});

describe('a table of known entries', () => {
  let lab: Lab;
  const spread = ['198.51.100.21', '198.51.100.22', '198.51.100.23'];
  // Everything sent, and the entries it makes (persistence templates
  // included), except for the service with three destinations, whose
  // scheduler picks them.
  const expected: Expected[] = [
    ...[40001, 40002, 40003, 40004, 40005].map((p) =>
      udp(v4('203.0.113.1', p), v4('192.0.2.1', 53), v4('198.51.100.1', 53)),
    ),
    ...[40011, 40012, 40013].map((p) => udp(v6('2001:db8:c::1', p), v6('2001:db8::1', 53), v6('2001:db8:1::1', 53))),
    // An IPv6 service tunnelled to an IPv4 destination.
    ...[40021, 40022].map((p) => udp(v6('2001:db8:c::1', p), v6('2001:db8::2', 53), v4('198.51.100.9', 53))),
    // A persistent service: its template has the client's port 0.
    ...[40031, 40032].map((p) => udp(v4('203.0.113.1', p), v4('192.0.2.3', 53), v4('198.51.100.3', 53))),
    { ...udp(v4('203.0.113.1', 0), v4('192.0.2.3', 53), v4('198.51.100.3', 53)), state: 'NONE' },
    // The sip engine: its data, the Call-ID, is on the template.
    udp(v4('203.0.113.1', 5070), v4('192.0.2.4', 5060), v4('198.51.100.4', 5060)),
    {
      ...udp(v4('203.0.113.1', 0), v4('192.0.2.4', 5060), v4('198.51.100.4', 5060)),
      state: 'NONE',
      persistenceEngine: 'sip',
      persistenceData: CALL_ID,
    },
    // A persistent service by firewall mark: its template has protocol IP
    // and the mark in place of the virtual address.
    udp(v4('203.0.113.1', 40041), v4('192.0.2.5', 53), v4('198.51.100.5', 53)),
    {
      protocol: 'ip',
      client: v4('203.0.113.1', 0),
      virtual: v4('0.0.0.5', 0),
      destination: v4('198.51.100.5', 0),
      state: 'NONE',
    },
  ];
  const spreadClients = Array.from({ length: 9 }, (_, i) => 40051 + i);

  beforeAll(async () => {
    lab = await createLab();
    await prepare(lab, [
      '192.0.2.1',
      '192.0.2.3',
      '192.0.2.4',
      '192.0.2.5',
      '203.0.113.1',
      '2001:db8::1',
      '2001:db8::2',
      '2001:db8:c::1',
    ]);
    const ipvs = lab.ipvs;
    const services = [
      [{ protocol: 'udp', address: '192.0.2.1', port: 53 }, [{ address: '198.51.100.1', forwarding: 'masq' }]],
      [{ protocol: 'udp', address: '2001:db8::1', port: 53 }, [{ address: '2001:db8:1::1', forwarding: 'masq' }]],
      [{ protocol: 'udp', address: '2001:db8::2', port: 53 }, [{ address: '198.51.100.9', forwarding: 'tunnel' }]],
      [
        { protocol: 'udp', address: '192.0.2.3', port: 53, persistence: { timeout: 3600 } },
        [{ address: '198.51.100.3', forwarding: 'masq' }],
      ],
      [
        { protocol: 'udp', address: '192.0.2.4', port: 5060, persistence: { timeout: 3600 }, persistenceEngine: 'sip' },
        [{ address: '198.51.100.4', forwarding: 'masq' }],
      ],
      [{ fwmark: 5, persistence: { timeout: 3600 } }, [{ address: '198.51.100.5', forwarding: 'route' }]],
      [
        { protocol: 'udp', address: '192.0.2.1', port: 54, scheduler: 'rr' },
        spread.map((address) => ({ address, forwarding: 'masq' as const })),
      ],
    ] as const;
    for (const [service, dests] of services) {
      await ipvs.addService(service);
      for (const d of dests) await ipvs.addDestination(service, d);
    }
    await sendDatagrams(lab, [
      ...[40001, 40002, 40003, 40004, 40005].map((sport) => ({
        src: '203.0.113.1',
        sport,
        dst: '192.0.2.1',
        dport: 53,
      })),
      ...[40011, 40012, 40013].map((sport) => ({ src: '2001:db8:c::1', sport, dst: '2001:db8::1', dport: 53 })),
      ...[40021, 40022].map((sport) => ({ src: '2001:db8:c::1', sport, dst: '2001:db8::2', dport: 53 })),
      ...[40031, 40032].map((sport) => ({ src: '203.0.113.1', sport, dst: '192.0.2.3', dport: 53 })),
      { src: '203.0.113.1', sport: 5070, dst: '192.0.2.4', dport: 5060, payload: INVITE },
      { src: '203.0.113.1', sport: 40041, dst: '192.0.2.5', dport: 53, mark: 5 },
      ...spreadClients.map((sport) => ({ src: '203.0.113.1', sport, dst: '192.0.2.1', dport: 54 })),
    ]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('reads every entry as sent: IPv4, IPv6, mixed families, templates, engine data', async () => {
    const all = await lab.ipvs.listConnections();
    const [spreadOut, rest] = [all.filter((c) => c.virtual.port === 54), all.filter((c) => c.virtual.port !== 54)];
    expect(sorted(withoutExpires(rest))).toEqual(sorted(expected));
    for (const c of all) {
      expect(c.expires).toBeGreaterThan(3000);
      expect(c.expires).toBeLessThanOrEqual(3600);
    }
    // rr gives each of the three destinations three of the nine clients.
    const row = (c: Expected) =>
      [c.protocol, c.state, c.client.address, c.client.port, c.virtual.address, c.virtual.port].join(' ');
    expect(spreadOut.map(row).sort()).toEqual(spreadClients.map((p) => `udp UDP 203.0.113.1 ${p} 192.0.2.1 54`).sort());
    expect(
      spread.map((d) => spreadOut.filter((c) => c.destination.address === d && c.destination.port === 54).length),
    ).toEqual([3, 3, 3]);
  });

  it('agrees with the raw file and with ipvsadm -Lnc', async () => {
    const text = procFile(lab);
    const mine = await lab.ipvs.listConnections();
    const raw = parseProcFile(text);
    // In the kernel's order, which a still table keeps.
    expect(withoutExpires(mine)).toEqual(withoutExpires(raw));
    mine.forEach((c, i) => expect(Math.abs(c.expires - raw[i]!.expires)).toBeLessThanOrEqual(2));
    expect(mine.map(asAdm).sort()).toEqual(admRows(lab.ipvsadm('-Lnc').stdout));
  });

  it('gives the same entries in batches, by one or as a list', async () => {
    const list = withoutExpires(await lab.ipvs.listConnections());
    const one: Connection[] = [];
    for await (const c of lab.ipvs.connections()) one.push(c);
    const batches: Connection[] = [];
    const sizes: number[] = [];
    for await (const batch of lab.ipvs.connectionBatches({ batchSize: 4 })) {
      sizes.push(batch.length);
      batches.push(...batch);
    }
    expect(withoutExpires(one)).toEqual(list);
    expect(withoutExpires(batches)).toEqual(list);
    expect(sizes.every((n) => n <= 4)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(list.length);
  });

  const filters: [ConnectionFilter, (c: Expected) => boolean][] = [
    [{ protocol: 'udp' }, (c) => c.protocol === 'udp'],
    [{ protocol: 'ip' }, (c) => c.protocol === 'ip'],
    [{ state: 'NONE' }, (c) => c.state === 'NONE'],
    [{ virtual: { address: '192.0.2.1' } }, (c) => c.virtual.address === '192.0.2.1'],
    [
      { virtual: { address: '192.0.2.1', port: 54 } },
      (c) => c.virtual.address === '192.0.2.1' && c.virtual.port === 54,
    ],
    [{ virtual: { address: '2001:db8::2' } }, (c) => c.virtual.address === '2001:db8::2'],
    [
      { destination: { address: '198.51.100.9', port: 53 } },
      (c) => c.destination.address === '198.51.100.9' && c.destination.port === 53,
    ],
    [{ destination: { address: '2001:db8:1::1' } }, (c) => c.destination.address === '2001:db8:1::1'],
    [{ client: { address: '203.0.113.1', port: 0 } }, (c) => c.client.address === '203.0.113.1' && c.client.port === 0],
    [
      { protocol: 'udp', state: 'UDP', destination: { port: 54 } },
      (c) => c.state === 'UDP' && c.destination.port === 54,
    ],
    [{ virtual: { address: '192.0.2.99' } }, () => false],
  ];

  it.each(filters)('filters %j as TypeScript does over the full list', async (filter, keep) => {
    const all = withoutExpires(await lab.ipvs.listConnections());
    const got = withoutExpires(await lab.ipvs.listConnections({ filter }));
    expect(got).toEqual(all.filter(keep));
  });

  const keyOf: Record<ConnectionStatsBy, (c: Expected) => unknown> = {
    state: (c) => c.state,
    destination: (c) => c.destination,
    service: (c) => ({ protocol: c.protocol, ...c.virtual }),
  };

  function countInTypeScript(list: Expected[], by: ConnectionStatsBy) {
    const counts = new Map<string, { key: unknown; count: number }>();
    for (const c of list) {
      const k = keyOf[by](c);
      const id = JSON.stringify(k);
      counts.set(id, { key: k, count: (counts.get(id)?.count ?? 0) + 1 });
    }
    return [...counts.values()].sort((a, b) => b.count - a.count);
  }

  it.each(['state', 'destination', 'service'] as const)(
    'counts by %s as TypeScript counts the full list',
    async (by) => {
      const all = withoutExpires(await lab.ipvs.listConnections());
      expect(await lab.ipvs.connectionStats({ by })).toEqual(countInTypeScript(all, by));
      const filter: ConnectionFilter = { state: 'UDP', virtual: { address: '192.0.2.1' } };
      const kept = withoutExpires(await lab.ipvs.listConnections({ filter }));
      expect(await lab.ipvs.connectionStats({ by, filter })).toEqual(countInTypeScript(kept, by));
    },
  );

  it('counts the three destinations of the rr service three times each', async () => {
    const stats = await lab.ipvs.connectionStats({ by: 'destination', filter: { virtual: { port: 54 } } });
    expect(stats.map((s) => [s.key.address, s.key.port, s.count]).sort()).toEqual(spread.map((a) => [a, 54, 3]));
  });

  it('reads the table of its own namespace only', async () => {
    const other = await createLab();
    try {
      expect(await other.ipvs.listConnections()).toEqual([]);
      expect(await other.ipvs.connectionStats({ by: 'state' })).toEqual([]);
      // The lab's guest root namespace has no entries either.
      await using root = await open();
      expect(await root.listConnections()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses bad options before reading, and reads nothing once closed', async () => {
    expect(() => lab.ipvs.connectionBatches({ filter: { vip: '192.0.2.1' } as never })).toThrow(TypeError);
    await expect(lab.ipvs.listConnections({ filter: { virtual: { address: 'nonsense' } } })).rejects.toThrow(
      /filter.virtual.address/,
    );
    await expect(lab.ipvs.connectionStats({ by: 'port' as never })).rejects.toThrow(
      /options.by must be one of 'state', 'destination', 'service'/,
    );
    const client = await open({ netns: lab.path });
    await client.close();
    await expect(client.listConnections()).rejects.toThrow(/closed/);
  });
});

describe('TCP entries', () => {
  // Their own namespace: SYN_RECV entries expire after 60 s, which would make
  // the other tests' table move under them.
  it('reads SYN_RECV entries made by SYNs', async () => {
    const lab = await createLab();
    try {
      await prepare(lab, ['192.0.2.1', '203.0.113.2']);
      await lab.ipvs.addService({ protocol: 'tcp', address: '192.0.2.1', port: 80 });
      await lab.ipvs.addDestination(
        { protocol: 'tcp', address: '192.0.2.1', port: 80 },
        { address: '198.51.100.1', port: 8080, forwarding: 'masq' },
      );
      const ports = [40101, 40102, 40103];
      await sendSyns(
        lab,
        ports.map((sport) => ({ src: '203.0.113.2', sport, dst: '192.0.2.1', dport: 80 })),
      );
      const got = await lab.ipvs.listConnections();
      expect(sorted(withoutExpires(got))).toEqual(
        sorted(
          ports.map((p) => ({
            protocol: 'tcp',
            client: v4('203.0.113.2', p),
            virtual: v4('192.0.2.1', 80),
            destination: v4('198.51.100.1', 8080),
            state: 'SYN_RECV',
          })),
        ),
      );
      for (const c of got) expect(c.expires).toBeLessThanOrEqual(60);
      expect(await lab.ipvs.connectionStats({ by: 'state' })).toEqual([{ key: 'SYN_RECV', count: 3 }]);
    } finally {
      await lab.close();
    }
  });
});
