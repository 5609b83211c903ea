// The connection table reader without a kernel: the addon's parser on texts in
// the kernel's format, its slicing on files read by several threads, the
// counts, and the checks on options.
import { describe, expect, it } from 'vitest';

import { parseAddress } from '../src/address.js';
import { K } from '../src/constants.js';
import {
  ConnectionBatch,
  connectionFilterToRaw,
  readBatches,
  readRequest,
  statsFromRaw,
  type Connection,
  type ConnectionStatsBy,
} from '../src/connections.js';
import {
  AUTO_MIN_BYTES,
  entryBytes,
  PARALLEL_MIN_BYTES,
  rememberTableBytes,
  REMEMBERED_FOR_MS,
  sliceBounds,
  tableBytes,
} from '../src/connection-plan.js';
import type { RawIpvs } from '../src/raw.js';
import { IpvsError } from '../src/errors.js';
import { native, type RawConnectionFilter, type RawConnectionRead } from '../src/native.js';
import { tempFiles } from './helpers/files.js';

const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/** An address as the kernel prints it: %08X of the IPv4 address in host order, or %pI6 (8 full groups). */
function kernelAddr(address: string): string {
  const { family, bytes } = parseAddress(address)!;
  if (family === 'inet') return [...bytes.subarray(0, 4)].map((b) => hex(b, 2)).join('');
  return Array.from({ length: 8 }, (_, i) => hex((bytes[2 * i]! << 8) | bytes[2 * i + 1]!, 4).toLowerCase()).join(':');
}

/** One line in the kernel's format: `%-3s %s %04X %s %04X %s %04X %-11s %7u%s\n`. */
function line(c: Connection, kernelProtocol: string): string {
  const pe = c.persistenceEngine === undefined ? '' : ` ${c.persistenceEngine} ${c.persistenceData}`;
  return (
    `${kernelProtocol.padEnd(3)} ${kernelAddr(c.client.address)} ${hex(c.client.port, 4)} ` +
    `${kernelAddr(c.virtual.address)} ${hex(c.virtual.port, 4)} ${kernelAddr(c.destination.address)} ` +
    `${hex(c.destination.port, 4)} ${c.state.padEnd(11)} ${String(c.expires).padStart(7)}${pe}\n`
  );
}

const v4 = (address: string, port: number) => ({ family: 'inet' as const, address, port });
const v6 = (address: string, port: number) => ({ family: 'inet6' as const, address, port });

// Every shape the kernel prints: IPv4, IPv6, an IPv6 service with an IPv4
// destination (a tunnel), templates, engine data with spaces, SCTP's
// four-letter name, an unknown protocol, long states and expiry times.
const SAMPLES: [Connection, string][] = [
  [
    {
      protocol: 'udp',
      client: v4('203.0.113.1', 29906),
      virtual: v4('192.0.2.1', 53),
      destination: v4('198.51.100.2', 53),
      state: 'UDP',
      expires: 3599,
    },
    'UDP',
  ],
  [
    {
      protocol: 'tcp',
      client: v4('203.0.113.200', 65535),
      virtual: v4('192.0.2.1', 80),
      destination: v4('198.51.100.1', 8080),
      state: 'ESTABLISHED',
      expires: 899,
    },
    'TCP',
  ],
  [
    {
      protocol: 'tcp',
      client: v4('203.0.113.7', 1024),
      virtual: v4('192.0.2.1', 80),
      destination: v4('198.51.100.1', 80),
      state: 'SYN_RECV',
      expires: 59,
    },
    'TCP',
  ],
  [
    {
      protocol: 'sctp',
      client: v6('2001:db8::5', 8080),
      virtual: v6('2001:db8::1', 5060),
      destination: v4('10.1.1.1', 5060),
      state: 'ESTABLISHED',
      expires: 6001,
    },
    'SCTP',
  ],
  [
    {
      protocol: 'udp',
      client: v6('2001:db8:ffff:1:2:3:4:5', 1),
      virtual: v6('2001:db8::1', 53),
      destination: v6('2001:db8:1::1', 53),
      state: 'UDP',
      expires: 0,
    },
    'UDP',
  ],
  [
    {
      protocol: 'ip',
      client: v4('203.0.113.1', 0),
      virtual: v4('192.0.2.3', 0),
      destination: v4('198.51.100.1', 0),
      state: 'NONE',
      expires: 359,
    },
    'IP',
  ],
  [
    {
      protocol: 'ip',
      client: v4('203.0.113.9', 0),
      virtual: v4('0.0.0.5', 0),
      destination: v4('198.51.100.1', 0),
      state: 'ASSURED',
      expires: 4294967295,
    },
    'IP',
  ],
  [
    {
      protocol: 'ip',
      client: v4('203.0.113.1', 0),
      virtual: v4('192.0.2.4', 5060),
      destination: v4('198.51.100.1', 5060),
      state: 'NONE',
      expires: 60,
      persistenceEngine: 'sip',
      persistenceData: 'a84b4c76e66710 @host two  spaces',
    },
    'IP',
  ],
  [
    {
      protocol: 'udp',
      client: v4('203.0.113.1', 5060),
      virtual: v4('192.0.2.4', 5060),
      destination: v4('198.51.100.1', 5060),
      state: 'UDP',
      expires: 299,
      persistenceEngine: 'sip',
      persistenceData: 'a84b4c76e66710',
    },
    'UDP',
  ],
  [
    {
      protocol: 'icmpv6',
      client: v6('::', 0),
      virtual: v6('::1', 0),
      destination: v6('::ffff:192.0.2.1', 0),
      state: 'ERR!',
      expires: 1,
    },
    'ICMPv6',
  ],
  [
    {
      protocol: 'IP_47',
      client: v4('0.0.0.0', 0),
      virtual: v4('255.255.255.255', 1),
      destination: v4('192.0.2.255', 2),
      state: 'SHUTDOWN_ACK_SENT',
      expires: 12,
    },
    'IP_47',
  ],
];
const SAMPLE_TEXT = HEADER + SAMPLES.map(([c, p]) => line(c, p)).join('');

const encode = (text: string) => new TextEncoder().encode(text);
const parse = (text: string, filter: RawConnectionFilter | null = null) => [
  ...new ConnectionBatch(native().parseConnections(encode(text), filter)),
];

describe('parseConnections', () => {
  it('reads every shape of line the kernel prints', () => {
    expect(parse(SAMPLE_TEXT)).toEqual(SAMPLES.map(([c]) => c));
  });

  it('keeps names once per batch, entries holding indexes', () => {
    const raw = native().parseConnections(encode(SAMPLE_TEXT), null);
    expect(raw.protocols).toEqual(['UDP', 'TCP', 'SCTP', 'IP', 'ICMPv6', 'IP_47']);
    expect(raw.persistenceEngines).toEqual(['', 'sip']);
    expect(raw.persistenceData).toEqual(['', 'a84b4c76e66710 @host two  spaces', 'a84b4c76e66710']);
    expect([...raw.family]).toEqual(SAMPLES.map(([c]) => (c.client.family === 'inet' ? K.AF_INET : K.AF_INET6)));
    expect(raw.addressLength).toBe(16);
    expect([...raw.destination.subarray(0, raw.destinationAddressLength)]).toEqual([
      198,
      51,
      100,
      2,
      ...Array<number>(raw.destinationAddressLength - 4).fill(0),
    ]);
  });

  it('keeps 4 bytes per address while every entry is IPv4, and 16 from the first IPv6 one on', () => {
    const v4 = SAMPLES.filter(([c]) => c.client.family === 'inet' && c.destination.family === 'inet');
    const v6 = SAMPLES.filter(([c]) => c.client.family === 'inet6');
    const v6ToV4 = SAMPLES.find(([c]) => c.client.family === 'inet6' && c.destination.family === 'inet');
    expect(v4.length).toBeGreaterThan(1);
    expect(v6.length).toBeGreaterThan(0);
    expect(v6ToV4).toBeDefined();
    const text = (rows: typeof SAMPLES) => HEADER + rows.map(([c, p]) => line(c, p)).join('');

    const narrow = native().parseConnections(encode(text(v4)), null);
    expect([narrow.addressLength, narrow.destinationAddressLength]).toEqual([4, 4]);
    expect([narrow.client.length, narrow.virtual.length, narrow.destination.length]).toEqual(
      [4, 4, 4].map((w) => w * v4.length),
    );
    const batch = new ConnectionBatch(narrow);
    expect([...batch]).toEqual(v4.map(([c]) => c));
    expect(batch.clientAddress(1)).toEqual(parseAddress(v4[1]![0].client.address)!.bytes.subarray(0, 4));

    // IPv4 entries read before an IPv6 one keep their addresses once the columns widen.
    const widened = native().parseConnections(encode(text([...v4, v6ToV4!, ...v4])), null);
    expect([widened.addressLength, widened.destinationAddressLength]).toEqual([16, 4]);
    expect([...new ConnectionBatch(widened)]).toEqual([...v4, v6ToV4!, ...v4].map(([c]) => c));
    const mixed = [...v4, ...v6, ...v4];
    const wide = native().parseConnections(encode(text(mixed)), null);
    expect(wide.client.length).toBe(16 * mixed.length);
    expect([...new ConnectionBatch(wide)]).toEqual(mixed.map(([c]) => c));
  });

  it('gives an empty batch for the header alone, and for nothing', () => {
    expect(parse(HEADER)).toEqual([]);
    expect(parse('')).toEqual([]);
  });

  it('takes a last line without its newline', () => {
    expect(parse(SAMPLE_TEXT.slice(0, -1))).toEqual(SAMPLES.map(([c]) => c));
  });

  it.each([
    ['a missing field', 'UDP CB007101 74D2 C0000201 0035 C6336402 0035 UDP\n'],
    ['a short IPv4 address', 'UDP CB0071 74D2 C0000201 0035 C6336402 0035 UDP 1\n'],
    ['a port of five digits', 'UDP CB007101 174D2 C0000201 0035 C6336402 0035 UDP 1\n'],
    [
      'mixed client and virtual families',
      'UDP CB007101 74D2 2001:0db8:0000:0000:0000:0000:0000:0001 0035 C6336402 0035 UDP 1\n',
    ],
    ['a negative expiry', 'UDP CB007101 74D2 C0000201 0035 C6336402 0035 UDP -1\n'],
    ['an empty line', '\n'],
  ])('refuses %s, quoting at most 64 bytes of the line', (_, bad) => {
    const line = bad.slice(0, -1);
    const quoted = line.length > 64 ? `${JSON.stringify(line.slice(0, 64))}...` : JSON.stringify(line);
    expect(() => native().parseConnections(encode(HEADER + bad), null)).toThrow(`unexpected line: ${quoted}`);
  });

  it('reads the filter before the text: a getter that detaches the buffer cannot make it read freed memory', () => {
    const text = new Uint8Array(new ArrayBuffer(1 << 20));
    text.set(encode(SAMPLE_TEXT));
    const any = () => ({ af: 0, addr: new Uint8Array(16), port: -1 });
    const filter = {
      state: '',
      client: any(),
      virtual: any(),
      destination: any(),
      get protocol() {
        // Detaches the text's buffer (its memory goes with the transfer).
        structuredClone(text.buffer, { transfer: [text.buffer] });
        return '';
      },
    };
    // Once detached, the text is empty: nothing is parsed, nothing crashes.
    expect(native().parseConnections(text, filter as RawConnectionFilter).length).toBe(0);
  });
});

describe('filters', () => {
  const filtered = (filter: Parameters<typeof connectionFilterToRaw>[0]) =>
    parse(SAMPLE_TEXT, connectionFilterToRaw(filter));
  const all = SAMPLES.map(([c]) => c);

  it.each([
    [{ protocol: 'tcp' as const }, (c: Connection) => c.protocol === 'tcp'],
    [{ protocol: 'ip' as const }, (c: Connection) => c.protocol === 'ip'],
    [{ state: 'UDP' }, (c: Connection) => c.state === 'UDP'],
    [{ virtual: { address: '192.0.2.1' } }, (c: Connection) => c.virtual.address === '192.0.2.1'],
    [
      { virtual: { address: '2001:db8::1', port: 53 } },
      (c: Connection) => c.virtual.address === '2001:db8::1' && c.virtual.port === 53,
    ],
    [{ virtual: { port: 5060 } }, (c: Connection) => c.virtual.port === 5060],
    [{ destination: { address: '198.51.100.1' } }, (c: Connection) => c.destination.address === '198.51.100.1'],
    [{ destination: { port: 53 } }, (c: Connection) => c.destination.port === 53],
    [
      { client: { address: '203.0.113.1', port: 0 } },
      (c: Connection) => c.client.address === '203.0.113.1' && c.client.port === 0,
    ],
    [{ protocol: 'udp' as const, destination: { address: '10.1.1.1' } }, () => false],
    [{}, () => true],
  ])('%j keeps what the same test in TypeScript keeps', (filter, keep) => {
    expect(filtered(filter)).toEqual(all.filter(keep));
  });

  it('tells an IPv4 address from the IPv6 one with the same first bytes', () => {
    // 0.0.0.0 is 16 zero bytes, as is ::.
    expect(filtered({ client: { address: '0.0.0.0' } }).map((c) => c.client)).toEqual([v4('0.0.0.0', 0)]);
    expect(filtered({ client: { address: '::' } }).map((c) => c.client)).toEqual([v6('::', 0)]);
  });

  it.each([
    [
      { proto: 'tcp' },
      TypeError,
      /filter.proto is not a field of filter \(it has protocol, state, client, virtual, destination\)/,
    ],
    [
      { protocol: 'gre' },
      RangeError,
      /filter.protocol must be one of 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'ip', got "gre"/,
    ],
    [{ state: 3 }, TypeError, /filter.state must be a string, got 3/],
    [{ state: 'SYN RECV' }, RangeError, /filter.state must be a state name/],
    [
      { virtual: { address: '192.0.2.300' } },
      TypeError,
      /filter.virtual.address must be a numeric IPv4 or IPv6 address, got "192.0.2.300"/,
    ],
    [
      { destination: { address: 5 } },
      TypeError,
      /filter.destination.address must be a numeric IPv4 or IPv6 address, got 5/,
    ],
    [{ client: { port: 65536 } }, RangeError, /filter.client.port must be an integer from 0 to 65535, got 65536/],
    [{ client: { host: 'x' } }, TypeError, /filter.client.host is not a field of filter.client/],
    [{ virtual: '192.0.2.1' }, TypeError, /filter.virtual must be an object/],
    ['tcp', TypeError, /filter must be an object/],
  ])('refuses %j', (filter, type, message) => {
    expect(() => connectionFilterToRaw(filter as never)).toThrow(type);
    expect(() => connectionFilterToRaw(filter as never)).toThrow(message);
  });
});

describe('read options', () => {
  it('defaults to one reader and batches of 4096', () => {
    expect(readRequest(undefined)).toEqual({ filter: null, auto: false, readers: 1, batchSize: 4096 });
  });

  it("takes 'auto' as one reader per CPU", () => {
    expect(readRequest({ parallel: 'auto' }).readers).toBeGreaterThanOrEqual(1);
    expect(readRequest({ parallel: 'auto' }).auto).toBe(true);
    expect(readRequest({ parallel: 2 }).auto).toBe(false);
  });

  it.each([
    [{ parallel: 0 }, RangeError, /options.parallel must be an integer from 1 to 256, got 0/],
    [{ parallel: 'all' }, TypeError, /options.parallel must be an integer/],
    [{ batchSize: 1.5 }, TypeError, /options.batchSize must be an integer from 1 to 1048576/],
    [{ paralel: 2 }, TypeError, /options.paralel is not a field of options/],
    [{ filter: { vip: '192.0.2.1' } }, TypeError, /options.filter.vip is not a field/],
  ])('refuses %j', (options, type, message) => {
    expect(() => readRequest(options as never)).toThrow(type);
    expect(() => readRequest(options as never)).toThrow(message);
  });
});

describe('sliceBounds', () => {
  // The cost model sliceBounds balances (see SHOW_COST in src/connections.ts).
  const cost = (a: number, b: number) => b * b - a * a + 2 * 4096 * 100 * b;

  it('reads small tables with one reader', () => {
    expect(sliceBounds(100_000, 4)).toEqual([0]);
    expect(sliceBounds(10_000_000, 1)).toEqual([0]);
  });

  it.each([2, 3, 4, 8])('splits a large table into %i slices of equal cost, later slices shorter', (readers) => {
    const size = 100_000 * 66;
    const bounds = sliceBounds(size, readers);
    expect(bounds).toHaveLength(readers);
    expect(bounds[0]).toBe(0);
    const ends = [...bounds.slice(1), size];
    const costs = bounds.map((a, k) => cost(a, ends[k]!));
    for (const c of costs) expect(Math.abs(c / costs[0]! - 1)).toBeLessThan(1e-3);
    const lengths = bounds.map((a, k) => ends[k]! - a);
    for (let k = 1; k < readers; k++) expect(lengths[k]!).toBeLessThan(lengths[k - 1]!);
  });

  it('puts the split of two readers near 70% for large tables, as measured by hand in the lab', () => {
    const at = (entries: number) => sliceBounds(entries * 66, 2)[1]! / (entries * 66);
    expect(at(1_000_000)).toBeGreaterThan(0.7);
    expect(at(1_000_000)).toBeLessThan(0.72);
    expect(at(20_000)).toBeGreaterThan(at(100_000));
  });

  it("chooses one reader for 'auto' up to about 16,000 IPv4 entries, where slices do not pay", () => {
    expect(sliceBounds(10_000 * 66, 2, AUTO_MIN_BYTES)).toEqual([0]);
    expect(sliceBounds(AUTO_MIN_BYTES - 1, 2, AUTO_MIN_BYTES)).toEqual([0]);
    expect(sliceBounds(20_000 * 66, 2, AUTO_MIN_BYTES)).toHaveLength(2);
    // Readers asked for by number: from 256 KiB on.
    expect(sliceBounds(10_000 * 66, 2)).toHaveLength(2);
    expect(sliceBounds(PARALLEL_MIN_BYTES - 1, 2)).toEqual([0]);
  });

  it('plans from the size the last whole read found while it is recent, then estimates again', async () => {
    let estimates = 0;
    // The socket-option back-end's estimate: a service dump, then a destination dump per service.
    const raw = {
      backend: 'sockopt',
      listServices: async () => {
        estimates++;
        return [];
      },
      listDestinations: async () => [],
    } as unknown as RawIpvs;
    expect(await tableBytes(raw, undefined, 1000)).toBe(81);
    expect(estimates).toBe(1);
    rememberTableBytes(raw, 5_000_000, 1000);
    expect(await tableBytes(raw, undefined, 1000 + REMEMBERED_FOR_MS)).toBe(5_000_081);
    expect(estimates).toBe(1);
    expect(await tableBytes(raw, undefined, 1001 + REMEMBERED_FOR_MS)).toBe(81);
    expect(estimates).toBe(2);
  });

  it('estimates entry sizes of each family', () => {
    expect(entryBytes(K.AF_INET, K.AF_INET)).toBe(line(SAMPLES[0]![0], 'UDP').length);
    expect(entryBytes(K.AF_INET6, K.AF_INET6)).toBe(line(SAMPLES[4]![0], 'UDP').length);
  });
});

describe('reading a file in slices', () => {
  // A descriptor of a new file holding `text`: the readers reopen it.
  const { file } = tempFiles('ipvs-connections-');

  async function read(fd: number, bounds: number[], options: Partial<RawConnectionRead> = {}): Promise<Connection[]> {
    const out: Connection[] = [];
    for await (const batch of readBatches(null, {
      fd,
      bounds,
      batchSize: 4096,
      readSize: 65536,
      filter: null,
      ...options,
    }))
      out.push(...batch);
    return out;
  }

  // n lines: the samples over and over, with distinct clients.
  const many = (n: number) =>
    HEADER +
    Array.from({ length: n }, (_, i) => {
      const [sample, protocol] = SAMPLES[i % SAMPLES.length]!;
      const client =
        sample.client.family === 'inet'
          ? v4(`203.0.113.${i % 256}`, i % 65536)
          : v6(`2001:db8::${i.toString(16)}`, i % 65536);
      return line({ ...sample, client, expires: i }, protocol);
    }).join('');

  // A few hundred reads, each starting threads: slow on a loaded machine.
  it.each([false, true])(
    'gives each line once, wherever one slice boundary falls (prefetch: %s)',
    async (prefetch) => {
      const fd = file('small', SAMPLE_TEXT);
      const whole = parse(SAMPLE_TEXT);
      for (let b = 0; b <= SAMPLE_TEXT.length + 2; b++) {
        expect(await read(fd, b === 0 ? [0] : [0, b], { prefetch })).toEqual(whole);
      }
    },
    30_000,
  );

  it.each([false, true])(
    'gives each line once with three slices, tiny reads and tiny batches (prefetch: %s)',
    async (prefetch) => {
      const text = many(40);
      const fd = file('three', text);
      const whole = parse(text);
      for (let i = 0; i < 150; i++) {
        const a = (i * 7919) % text.length;
        const b = a + ((i * 104729) % (text.length - a + 3));
        expect(
          await read(
            fd,
            [0, a, b].sort((x, y) => x - y),
            { readSize: 1 + (i % 97), batchSize: 1 + (i % 5), prefetch },
          ),
        ).toEqual(whole);
      }
    },
    30_000,
  );

  it.each([false, true])(
    'reads a large file in 1, 2, 4 and 7 slices alike, in file order (prefetch: %s)',
    async (prefetch) => {
      const text = many(30_000);
      const fd = file('large', text);
      const whole = parse(text);
      expect(whole).toHaveLength(30_000);
      for (const readers of [1, 2, 4, 7]) {
        const bounds = Array.from({ length: readers }, (_, k) => Math.floor((text.length * k) / readers));
        expect(await read(fd, bounds, { batchSize: 1000, prefetch })).toEqual(whole);
      }
    },
    // 2 s alone; CI runs it beside the fuzzers on two cores, where it took 5.1 s once.
    30_000,
  );

  it('filters in the reader', async () => {
    const text = many(500);
    const fd = file('filtered', text);
    const filter = { protocol: 'udp', virtual: { port: 53 } } as const;
    expect(await read(fd, [0, 9000], { filter: connectionFilterToRaw(filter) })).toEqual(
      parse(text).filter((c) => c.protocol === 'udp' && c.virtual.port === 53),
    );
  });

  it('stops its threads when the loop ends early', async () => {
    const fd = file('early', many(20_000));
    let seen = 0;
    for await (const batch of readBatches(null, {
      fd,
      bounds: [0, 500_000],
      batchSize: 100,
      readSize: 4096,
      filter: null,
    })) {
      seen += batch.length;
      if (seen >= 300) break;
    }
    expect(seen).toBe(300);
  });

  it('rejects with IpvsError naming connectionBatches when the descriptor is not open', async () => {
    const error = await read(987_654, [0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpvsError);
    expect(error).toMatchObject({ op: 'connectionBatches', code: 'ENOENT' });
  });

  it('rejects on a malformed line, naming the descriptor and quoting a short prefix of the line', async () => {
    const fd = file('bad', HEADER + 'UDP nonsense\n');
    await expect(read(fd, [0])).rejects.toThrow(`unexpected line in descriptor ${fd}: "UDP nonsense"`);
    const long = file('long', HEADER + 'X'.repeat(300) + '\n');
    await expect(read(long, [0])).rejects.toThrow(`unexpected line in descriptor ${long}: "${'X'.repeat(64)}"...`);
  });

  it('refuses a line longer than any the kernel prints instead of buffering it', async () => {
    const fd = file('endless', HEADER + 'Y'.repeat(100_000));
    await expect(read(fd, [0], { readSize: 4096 })).rejects.toMatchObject({
      code: 'EBADMSG',
      message: expect.stringContaining('longer than 4096 bytes'),
    });
  });

  it.each(['state', 'destination', 'service'] as ConnectionStatsBy[])(
    'counts by %s as TypeScript counts the full list',
    async (by) => {
      const text = many(5000);
      const fd = file(`stats-${by}`, text);
      const filter = connectionFilterToRaw({ state: 'UDP' });
      const keyOf = (c: Connection) =>
        by === 'state' ? c.state : by === 'destination' ? c.destination : { protocol: c.protocol, ...c.virtual };
      for (const [bounds, f] of [
        [[0], null],
        [[0, 100_000, 200_000], null],
        [[0, 150_000], filter],
      ] as const) {
        const expected = new Map<string, { key: unknown; count: number }>();
        for (const c of parse(text, f)) {
          const key = keyOf(c);
          const id = JSON.stringify(key);
          expected.set(id, { key, count: (expected.get(id)?.count ?? 0) + 1 });
        }
        const got = statsFromRaw(
          by,
          await native().connectionStats(null, {
            fd,
            bounds: [...bounds],
            batchSize: 1,
            readSize: 65536,
            filter: f,
            by,
          }),
        );
        expect(got).toEqual([...expected.values()].sort((a, b) => b.count - a.count));
      }
    },
  );
});
