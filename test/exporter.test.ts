// The exporter without a kernel: fake clients that return known tables. The
// text renderer and the prom-client collector must export the same series;
// the series limit, the filters, failed and slow namespaces, the flags and
// the HTTP server.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { Ipvs } from '../src/client.js';
import { K } from '../src/constants.js';
import { createCollector } from '../src/exporter/collector.js';
import { FlagError, parseDuration, parseFlags } from '../src/exporter/flags.js';
import { render } from '../src/exporter/render.js';
import { startServer } from '../src/exporter/server.js';
import { Metrics, type MetricsOptions, type Target } from '../src/exporter/source.js';
import type { RawStats } from '../src/native.js';
import type { PackedSnapshot } from '../src/snapshot.js';
import type { Stats } from '../src/stats.js';
import { bytes, packSnapshot, rawDest, rawService } from './helpers/raw.js';
import { ZERO_STATS } from './helpers/stats.js';

const stats = (conns: bigint, inPackets = 0n, outPackets = 0n, inBytes = 0n, outBytes = 0n): RawStats => ({
  ...ZERO_STATS,
  conns,
  inpkts: inPackets,
  outpkts: outPackets,
  inbytes: inBytes,
  outbytes: outBytes,
});

const v6 = (...tail: number[]) => bytes(0x20, 0x01, 0x0d, 0xb8, ...new Array(12 - tail.length).fill(0), ...tail);

/** TCP 192.0.2.1:80 (2 real servers), UDP [2001:db8::1]:53 (1), FWM 1 and FWM 1 IPv6 (1 each), SCTP 192.0.2.1:9 (1). */
function table(): PackedSnapshot {
  return packSnapshot([
    {
      service: rawService({ stats: stats(3n, 2n ** 40n, 7n, 2n ** 60n + 1n, 9n) }),
      dests: [
        rawDest({
          weight: 5,
          activeConns: 2,
          inactConns: 1,
          uThreshold: 100,
          lThreshold: 10,
          stats: stats(2n, 2n ** 40n),
        }),
        rawDest({
          addr: bytes(198, 51, 100, 2),
          port: 8080,
          fwdMethod: K.IP_VS_CONN_F_DROUTE,
          persistConns: 4,
          stats: stats(1n),
        }),
      ],
    },
    {
      service: rawService({ af: K.AF_INET6, protocol: K.IPPROTO_UDP, addr: v6(1), port: 53, stats: stats(11n) }),
      dests: [rawDest({ af: K.AF_INET6, addr: v6(2), port: 53, stats: stats(11n) })],
    },
    {
      service: rawService({ fwmark: 1, protocol: K.IPPROTO_TCP, addr: bytes(), port: 0, stats: stats(5n) }),
      dests: [rawDest({ addr: bytes(198, 51, 100, 3), port: 0, stats: stats(5n) })],
    },
    {
      service: rawService({
        af: K.AF_INET6,
        fwmark: 1,
        protocol: K.IPPROTO_TCP,
        addr: bytes(),
        port: 0,
        stats: stats(6n),
      }),
      dests: [rawDest({ af: K.AF_INET6, addr: v6(3), port: 0, stats: stats(6n) })],
    },
    {
      service: rawService({ protocol: K.IPPROTO_SCTP, port: 9, stats: stats(8n) }),
      dests: [rawDest({ port: 9, stats: stats(8n) })],
    },
  ]);
}

const TOTALS: Stats = {
  conns: 33n,
  inPackets: 100n,
  outPackets: 90n,
  inBytes: 5000n,
  outBytes: 4000n,
  cps: 1n,
  inPps: 2n,
  outPps: 3n,
  inBps: 4n,
  outBps: 5n,
};

interface Fake {
  packedSnapshot?: (o: { signal?: AbortSignal }) => Promise<PackedSnapshot>;
  totals?: () => Promise<Stats>;
}

function fake(over: Fake = {}): Ipvs {
  return {
    packedSnapshot: over.packedSnapshot ?? (async () => table()),
    totals: over.totals ?? (async () => TOTALS),
    connectionBatches: async function* () {
      return;
    },
  } as unknown as Ipvs;
}

/** Samples of an exposition, `name{labels sorted}` to value; comments checked for each family. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels = (m[2] ?? '')
      .split(/,(?=[a-z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    const key = `${m[1]}{${labels}}`;
    if (out.has(key)) throw new Error(`duplicate series ${key}`);
    out.set(key, Number(m[3]));
  }
  return out;
}

/** Without the read durations, which differ from one read to the next. */
const steady = (s: Map<string, number>) => new Map([...s].filter(([k]) => !k.includes('_duration_seconds')));

async function text(metrics: Metrics): Promise<string> {
  return [...render(metrics, await metrics.scrape())].join('');
}

async function exported(
  options: MetricsOptions = {},
  targets: Target[] = [{ ipvs: fake() }],
): Promise<Map<string, number>> {
  const m = new Metrics(targets, options);
  try {
    return samples(await text(m));
  } finally {
    m.close();
  }
}

const TCP = 'local_address="192.0.2.1",local_mark="",local_port="80",proto="TCP"';

describe('the series', () => {
  it('exports services, real servers and totals with node_exporter’s labels and the 64-bit counters exactly', async () => {
    const s = await exported();
    expect(s.get(`ipvs_service_connections_total{${TCP}}`)).toBe(3);
    // Over 2^53: the text is the exact decimal; as a double it is what Prometheus stores.
    const m = new Metrics([{ ipvs: fake() }]);
    const raw = await text(m);
    expect(raw).toContain(
      `ipvs_service_bytes_total{local_address="192.0.2.1",local_port="80",local_mark="",proto="TCP",direction="in"} ${2n ** 60n + 1n}\n`,
    );
    expect(raw).toContain(
      `ipvs_service_packets_total{local_address="192.0.2.1",local_port="80",local_mark="",proto="TCP",direction="in"} ${2 ** 40}\n`,
    );
    expect(s.get(`ipvs_destination_connections_active{${TCP},remote_address="198.51.100.1",remote_port="80"}`)).toBe(2);
    expect(s.get(`ipvs_destination_connections_inactive{${TCP},remote_address="198.51.100.1",remote_port="80"}`)).toBe(
      1,
    );
    expect(
      s.get(`ipvs_destination_connections_persistent{${TCP},remote_address="198.51.100.2",remote_port="8080"}`),
    ).toBe(4);
    expect(s.get(`ipvs_destination_weight{${TCP},remote_address="198.51.100.1",remote_port="80"}`)).toBe(5);
    expect(s.get(`ipvs_destination_upper_threshold{${TCP},remote_address="198.51.100.1",remote_port="80"}`)).toBe(100);
    expect(s.get(`ipvs_destination_lower_threshold{${TCP},remote_address="198.51.100.1",remote_port="80"}`)).toBe(10);
    expect(s.get(`ipvs_service_connections_active{${TCP}}`)).toBe(2);
    expect(s.get(`ipvs_service_destinations{${TCP}}`)).toBe(2);
    expect(
      s.get('ipvs_service_connections_total{local_address="2001:db8::1",local_mark="",local_port="53",proto="UDP"}'),
    ).toBe(11);
    expect(
      s.get('ipvs_service_connections_total{local_address="192.0.2.1",local_mark="",local_port="9",proto="SCTP"}'),
    ).toBe(8);
    // One mark, two families: two services, told apart by `family`.
    expect(
      s.get(
        'ipvs_service_connections_total{family="ipv4",local_address="",local_mark="00000001",local_port="0",proto="FWM"}',
      ),
    ).toBe(5);
    expect(
      s.get(
        'ipvs_service_connections_total{family="ipv6",local_address="",local_mark="00000001",local_port="0",proto="FWM"}',
      ),
    ).toBe(6);
    expect(
      s.get(
        'ipvs_destination_connections_total{family="ipv6",local_address="",local_mark="00000001",local_port="0",proto="FWM",remote_address="2001:db8::3",remote_port="0"}',
      ),
    ).toBe(6);
    expect(s.get('ipvs_connections_total{}')).toBe(33);
    expect(s.get('ipvs_packets_total{direction="out"}')).toBe(90);
    expect(s.get('ipvs_up{}')).toBe(1);
    expect(s.get('ipvs_exporter_scrapes_total{}')).toBe(1);
    expect(s.get('ipvs_exporter_series_dropped_total{}')).toBe(0);
    // 5 services x 8 series, 6 real servers x 11.
    expect(s.get('ipvs_exporter_series{}')).toBe(5 * 8 + 6 * 11);
    // No rates unless asked for.
    expect([...s.keys()].some((k) => k.includes('per_second'))).toBe(false);
  });

  it('passes promtool check metrics', async () => {
    if (!existsSync('/usr/bin/promtool'))
      throw new Error('promtool is missing: apt-get install prometheus (scripts/setup installs it)');
    const m = new Metrics([{ ipvs: fake(), netns: 'a"b\\c' }], { rates: true });
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await text(m), encoding: 'utf8' });
    m.close();
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('the prom-client collector exports the same series as the exporter’s text', async () => {
    for (const options of [{}, { rates: true }, { destinations: false }, { maxSeries: 30 }] as MetricsOptions[]) {
      const targets = [
        { ipvs: fake(), netns: 'one' },
        { ipvs: fake(), netns: 'two' },
      ];
      const registry = new Registry();
      const collector = createCollector({ ipvs: targets, registry, ...options });
      const fromCollector = samples(await registry.metrics());
      collector.close();
      const fromText = await exported(options, targets);
      // Each read its own tables once: the same count of scrapes.
      expect(steady(fromCollector)).toEqual(steady(fromText));
    }
  });

  it('labels each namespace, and a failed one is ipvs_up 0 with its error counted while the other is exported', async () => {
    const failing = fake({
      packedSnapshot: () => Promise.reject(Object.assign(new Error('gone'), { code: 'ENOENT' })),
    });
    const m = new Metrics([
      { ipvs: fake(), netns: 'good' },
      { ipvs: failing, netns: 'bad' },
    ]);
    await m.scrape();
    const s = samples(await text(m));
    m.close();
    expect(s.get('ipvs_up{netns="good"}')).toBe(1);
    expect(s.get('ipvs_up{netns="bad"}')).toBe(0);
    expect(s.get('ipvs_exporter_scrape_errors_total{netns="bad"}')).toBe(2);
    expect(s.get('ipvs_exporter_scrape_errors_total{netns="good"}')).toBe(0);
    expect(
      s.get(
        'ipvs_service_connections_total{local_address="192.0.2.1",local_mark="",local_port="80",netns="good",proto="TCP"}',
      ),
    ).toBe(3);
    expect([...s.keys()].some((k) => k.startsWith('ipvs_service') && k.includes('netns="bad"'))).toBe(false);
  });

  it('gives up on a read that takes longer than the timeout', async () => {
    const slow = fake({
      packedSnapshot: ({ signal }) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error))),
    });
    const m = new Metrics([{ ipvs: slow }], { timeout: 50 });
    const started = performance.now();
    const s = samples(await text(m));
    m.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(s.get('ipvs_up{}')).toBe(0);
  });

  it('concurrent scrapes share one read', async () => {
    let reads = 0;
    const counted = fake({
      packedSnapshot: async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 20));
        return table();
      },
    });
    const m = new Metrics([{ ipvs: counted }]);
    const [a, b] = await Promise.all([m.scrape(), m.scrape()]);
    expect(a).toBe(b);
    expect(reads).toBe(1);
    await m.scrape();
    expect(reads).toBe(2);
    m.close();
  });
});

describe('cardinality', () => {
  it('keeps services in order with their real servers up to the limit, and counts the rest as dropped', async () => {
    // 8 per service, 11 per real server: the first service and its 2 (30), the second (8) and its 1 (11) = 49;
    // at 50 the third service (8) does not fit: it and all after are dropped (106 - 49 = 57).
    const m = new Metrics([{ ipvs: fake() }], { maxSeries: 50 });
    await m.scrape();
    const s = samples(await text(m));
    m.close();
    expect(s.get('ipvs_exporter_series{}')).toBe(49);
    expect(s.get('ipvs_exporter_series_dropped_total{}')).toBe(2 * 57);
    expect(s.get('ipvs_exporter_scrapes_total{}')).toBe(2);
    expect([...s.keys()].filter((k) => k.startsWith('ipvs_service_connections_total'))).toHaveLength(2);
    // A limit inside a service's real servers keeps those that fit.
    const t = await exported({ maxSeries: 8 + 11 });
    expect([...t.keys()].filter((k) => k.startsWith('ipvs_destination_weight'))).toHaveLength(1);
    expect(t.get('ipvs_exporter_series_dropped_total{}')).toBe(106 - 19);
    // Totals and the exporter's own series are never dropped.
    expect(t.get('ipvs_connections_total{}')).toBe(33);
  });

  it('without destination labels: service-level series only', async () => {
    const s = await exported({ destinations: false });
    expect([...s.keys()].some((k) => k.includes('remote_address'))).toBe(false);
    expect(s.get(`ipvs_service_connections_active{${TCP}}`)).toBe(2);
    expect(s.get('ipvs_exporter_series{}')).toBe(5 * 8);
  });

  it('includes and excludes services by key', async () => {
    const only = await exported({ include: /^FWM 1( IPv6)?$/ });
    expect([...only.keys()].filter((k) => k.startsWith('ipvs_service_connections_total{'))).toEqual([
      'ipvs_service_connections_total{family="ipv4",local_address="",local_mark="00000001",local_port="0",proto="FWM"}',
      'ipvs_service_connections_total{family="ipv6",local_address="",local_mark="00000001",local_port="0",proto="FWM"}',
    ]);
    const not = await exported({ exclude: /^(TCP|UDP|SCTP) .*/ });
    expect(steady(not)).toEqual(steady(only));
  });

  it('selects metric families by name; the exporter’s own always stay', async () => {
    const s = await exported({
      services: false,
      metricInclude: /ipvs_(connections_total|destination_connections_(active|inactive)|destination_weight)/,
    });
    const names = new Set([...s.keys()].map((k) => k.slice(0, k.indexOf('{'))));
    expect([...names].sort()).toEqual([
      'ipvs_connections_total',
      'ipvs_destination_connections_active',
      'ipvs_destination_connections_inactive',
      'ipvs_destination_weight',
      'ipvs_exporter_scrape_duration_seconds',
      'ipvs_exporter_scrape_errors_total',
      'ipvs_exporter_scrapes_total',
      'ipvs_exporter_series',
      'ipvs_exporter_series_dropped_total',
      'ipvs_up',
    ]);
    expect(s.get('ipvs_exporter_series{}')).toBe(6 * 3);
    const t = await exported({ metricExclude: /ipvs_.*_threshold/ });
    expect([...t.keys()].some((k) => k.includes('threshold'))).toBe(false);
    expect(t.get('ipvs_exporter_series{}')).toBe(5 * 8 + 6 * 9);
  });

  it('refuses options it does not know or of the wrong type', () => {
    expect(() => new Metrics([{ ipvs: fake() }], { maxSeries: -1 })).toThrow(RangeError);
    expect(() => new Metrics([{ ipvs: fake() }], { include: 'TCP' as unknown as RegExp })).toThrow(
      /options.include must be a RegExp/,
    );
    expect(() => new Metrics([{ ipvs: fake() }], { destination: false } as MetricsOptions)).toThrow(/destination/);
    expect(() => new Metrics([])).toThrow(/no IPVS client/);
    expect(
      () =>
        new Metrics([
          { ipvs: fake(), netns: 'a' },
          { ipvs: fake(), netns: 'a' },
        ]),
    ).toThrow(/collide/);
    expect(() => createCollector({ ipvs: {} as Ipvs, registry: new Registry() })).toThrow(/options.ipvs/);
  });
});

describe('flags', () => {
  it('reads Prometheus-style flags', () => {
    const f = parseFlags([
      '--web.listen-address=127.0.0.1:9999',
      '--web.telemetry-path',
      '/m',
      '--netns=a',
      '--netns',
      '/proc/1/ns/net',
      '--no-collector.destination',
      '--collector.connections',
      '--collector.connections.interval=30s',
      '--series.limit=1000',
      '--scrape.timeout=1m30s',
      '--service.include=TCP .*',
    ]);
    expect(f).toMatchObject({
      host: '127.0.0.1',
      port: 9999,
      path: '/m',
      namespaces: [
        { label: 'a', path: '/run/netns/a' },
        { label: '/proc/1/ns/net', path: '/proc/1/ns/net' },
      ],
      metrics: {
        destinations: false,
        connections: { interval: 30_000 },
        maxSeries: 1000,
        timeout: 90_000,
        rates: false,
      },
    });
    expect(f.metrics.include?.test('TCP 192.0.2.1:80')).toBe(true);
    expect(f.metrics.include?.test('xTCP 1')).toBe(false);
    expect(parseFlags(['--web.listen-address=[::1]:80'])).toMatchObject({ host: '::1', port: 80 });
    expect(parseFlags([])).toMatchObject({ host: '', port: 9850, path: '/metrics', processMetrics: true });
    expect(parseDuration('x', '500ms')).toBe(500);
    expect(parseDuration('x', '2h')).toBe(7_200_000);
  });

  it('names what is wrong', () => {
    const wrong = (args: string[], message: RegExp) => {
      expect(() => parseFlags(args)).toThrow(FlagError);
      expect(() => parseFlags(args)).toThrow(message);
    };
    wrong(['--web.listen-address=9100'], /is not \[HOST\]:PORT/);
    wrong(['--web.listen-address=:70000'], /is not \[HOST\]:PORT/);
    wrong(['--collector.nope'], /no such collector/);
    wrong(['--scrape.timeout=10'], /not a duration/);
    wrong(['--series.limit=-1'], /not a whole number/);
    wrong(['--service.include=('], /not a regular expression/);
    wrong(['--netns=a', '--netns=a'], /given twice/);
    wrong(['--netns'], /needs a value/);
    wrong(['--bogus'], /unknown flag/);
    wrong(['--web.telemetry-path=metrics'], /must be a path/);
  });
});

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the server', () => {
  it('serves a landing page, the metrics (plain and gzip), 404 and 405, and closes gracefully', async () => {
    const metrics = new Metrics([{ ipvs: fake() }]);
    const server = await startServer({ metrics, host: '127.0.0.1', port: 0, version: '9.9.9' });
    const port = server.address.port;
    try {
      const page = await get(port, '/');
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain('<a href="/metrics">');
      const plain = await get(port, '/metrics');
      expect(plain.status).toBe(200);
      expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = plain.body.toString();
      expect(body).toContain(
        `ipvs_service_connections_total{local_address="192.0.2.1",local_port="80",local_mark="",proto="TCP"} 3\n`,
      );
      // The process's own metrics follow.
      expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
      const zipped = await get(port, '/metrics', { 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      const unzipped = samples(gunzipSync(zipped.body).toString());
      expect(unzipped.get(`ipvs_service_connections_total{${TCP}}`)).toBe(3);
      expect((await get(port, '/nope')).status).toBe(404);
      expect((await get(port, '/metrics', {}, 'POST')).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('answers within Prometheus’s scrape timeout when a read hangs', async () => {
    const hung = fake({ packedSnapshot: () => new Promise(() => undefined) });
    const metrics = new Metrics([{ ipvs: hung }], { timeout: 60_000 });
    const server = await startServer({
      metrics,
      host: '127.0.0.1',
      port: 0,
      processMetrics: false,
      log: () => undefined,
    });
    try {
      const started = performance.now();
      const r = await get(server.address.port, '/metrics', { 'x-prometheus-scrape-timeout-seconds': '0.5' });
      expect(r.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      await server.close(100);
    }
  });
});
