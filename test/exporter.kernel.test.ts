// The exporter against the kernel, scraped by a real Prometheus (Debian's
// `prometheus`) beside node_exporter's ipvs collector (Debian's
// `prometheus-node-exporter`, its ipvs collector alone) on the same table:
// traffic through TCP, UDP and SCTP services over IPv4 and IPv6 and a
// firewall-mark service; PromQL must return exactly what `ipvsadm -Ln --stats
// --exact` shows; node_exporter must agree where it can, and be shown wrong
// where it is (SCTP, one mark for two families); the series limit; every
// query of the shipped Grafana dashboard; and two namespaces, a sync master
// and its backup, exported by one exporter and summed across.
//
// Everything runs in the guest: the exporters and Prometheus listen on the
// guest's loopback; node_exporter reads the director's /proc/net/ip_vs
// through /proc/PID of a process inside the director's namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { createLab, type Lab } from './helpers/netns.js';
import {
  createTopology,
  MARK_VIP4,
  markAtIngress,
  settle,
  syncLink,
  VIP4,
  VIP6,
  waitFor,
  type Topology,
} from './helpers/topology.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 240_000 });

const EXPORTER = join(process.cwd(), 'dist/ipvs-exporter.cjs');
const PORTS = { ours: 19850, capped: 19851, node: 19100, nodeMixed: 19101, prometheus: 19090 };
const LIMIT = 40;
const SYNC_ID = 9;
const SCTP_PORT = 9;
// A mark the director's tc gives packets to MARK_VIP4.
const MARK = 1;

let topo: Topology;
let backup: Lab;
let mixed: Lab;
let work: string;
const children: ChildProcess[] = [];
let ours: ChildProcess;
let oursStderr = '';
let t0 = 0;

/** Starts a long-lived process; it is ended in afterAll by its PID. */
function start(command: string, args: string[], onStderr?: (text: string) => void): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => onStderr?.(d.toString()));
  children.push(child);
  return child;
}

async function httpOk(port: number, path: string): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).ok;
  } catch {
    return false;
  }
}

interface Sample {
  metric: Record<string, string>;
  value: number;
}

async function query(expr: string): Promise<Sample[]> {
  const url = `http://127.0.0.1:${PORTS.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  if (body.data.resultType === 'scalar') throw new Error(`${expr}: a scalar`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

const IGNORED = new Set(['__name__', 'job', 'instance', 'netns', 'direction']);
/** A series' identity without the labels a comparison ignores (and, as Prometheus stores them, without empty ones). */
function keyOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k, v]) => !IGNORED.has(k) && v !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

async function byKey(expr: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of await query(expr)) {
    const k = keyOf(s.metric);
    if (out.has(k)) throw new Error(`${expr}: two series ${k}`);
    out.set(k, s.value);
  }
  return out;
}

/** Splits `192.0.2.1:80` and `[2001:db8::1]:80`. */
function hostPort(text: string): [string, string] {
  const colon = text.lastIndexOf(':');
  return [text.slice(0, colon).replace(/^\[|\]$/g, ''), text.slice(colon + 1)];
}

const COLUMNS = ['connections', 'packets in', 'packets out', 'bytes in', 'bytes out'] as const;
type Counters = Record<(typeof COLUMNS)[number], number>;

/** `ipvsadm -Ln --stats --exact` in the namespace, by the exporter's labels: services and destinations. */
function ipvsadmStats(lab: Lab): { services: Map<string, Counters>; destinations: Map<string, Counters> } {
  const r = lab.ipvsadm('-Ln', '--stats', '--exact');
  expect(r.status).toBe(0);
  const services = new Map<string, Counters>();
  const destinations = new Map<string, Counters>();
  let service: Record<string, string> | undefined;
  const numbers = (xs: string[]) => Object.fromEntries(COLUMNS.map((c, i) => [c, Number(xs[i])])) as Counters;
  for (const line of r.stdout.split('\n').slice(3)) {
    if (line.trim() === '') continue;
    const dest = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (dest !== null) {
      const [address, port] = hostPort(dest[1]!);
      destinations.set(keyOf({ ...service!, remote_address: address, remote_port: port }), numbers(dest.slice(2)));
      continue;
    }
    const m = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (m === null) throw new Error(`ipvsadm line not understood: ${line}`);
    if (m[1] === 'FWM') {
      const mark = Number(m[2]).toString(16).toUpperCase().padStart(8, '0');
      service = { local_address: '', local_port: '0', local_mark: mark, proto: 'FWM', family: m[3] ? 'ipv6' : 'ipv4' };
    } else {
      const [address, port] = hostPort(m[2]!);
      service = { local_address: address, local_port: port, local_mark: '', proto: m[1]! };
    }
    services.set(keyOf(service), numbers(m.slice(4)));
  }
  return { services, destinations };
}

/** Connection attempts to an SCTP service: each INIT is a connection, each ABORT that answers it a packet out. */
function sctpAttempts(count: number): void {
  topo.client.exec(
    'python3',
    '-c',
    `import socket
for i in range(${count}):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    s.settimeout(3)
    try:
        s.connect(('${VIP4}', ${SCTP_PORT}))
    except OSError:
        pass
    s.close()`,
  );
}

/** Waits until every exporter has been scraped after now, and returns. */
async function scrapedAfterNow(): Promise<void> {
  const now = Date.now() / 1000;
  const fresh = async () => {
    const stamps = await query('timestamp(up)');
    return stamps.length === 4 && stamps.every((s) => s.value > now) && (await query('up == 0')).length === 0;
  };
  expect(await waitFor(fresh, 60, 500)).toBe(true);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ipvs-exporter-'));
  execFileSync('modprobe', ['-a', 'sctp']);
  topo = await createTopology({ servers: 2, ports: [8080] });
  const d = topo.director;
  // The sync daemon's backup: another namespace, the TCP IPv4 service alike.
  backup = await createLab();
  syncLink(d, backup);
  await d.ipvs.startDaemon({ state: 'master', interface: 'sync0', syncId: SYNC_ID });
  await backup.ipvs.startDaemon({ state: 'backup', interface: 'sync0', syncId: SYNC_ID });

  const [rs1, rs2] = topo.servers as [Topology['servers'][0], Topology['servers'][0]];
  // The services: TCP and UDP over IPv4 and IPv6, SCTP, and one mark for two families.
  for (const [protocol, address] of [
    ['tcp', VIP4],
    ['udp', VIP4],
    ['tcp', VIP6],
    ['udp', VIP6],
  ] as const) {
    const key = { protocol, address, port: 8080 };
    await d.ipvs.addService({ ...key, scheduler: 'rr' });
    for (const s of [rs1, rs2]) {
      await d.ipvs.addDestination(key, { address: address === VIP4 ? s.v4 : s.v6, forwarding: 'masq', weight: 2 });
    }
  }
  const tcp4 = { protocol: 'tcp', address: VIP4, port: 8080 } as const;
  await backup.ipvs.addService({ ...tcp4, scheduler: 'rr' });
  for (const s of [rs1, rs2]) await backup.ipvs.addDestination(tcp4, { address: s.v4, forwarding: 'masq', weight: 2 });
  const sctp = { protocol: 'sctp', address: VIP4, port: SCTP_PORT } as const;
  await d.ipvs.addService({ ...sctp, scheduler: 'rr' });
  await d.ipvs.addDestination(sctp, { address: rs2.v4, forwarding: 'masq' });
  await d.ipvs.addService({ fwmark: MARK, scheduler: 'rr' });
  await d.ipvs.addDestination({ fwmark: MARK }, { address: rs1.v4, port: 0, forwarding: 'masq', weight: 3 });
  // One mark for an IPv4 and an IPv6 service, one IPv4 real server for both (through a tunnel
  // for IPv6): in a namespace of its own, since the kernel refuses real servers of another
  // family than their service's while a sync daemon runs (EINVAL), as the director's does.
  mixed = await createLab();
  await mixed.ipvs.addService({ fwmark: MARK, scheduler: 'rr' });
  await mixed.ipvs.addDestination({ fwmark: MARK }, { address: rs1.v4, port: 0, forwarding: 'masq', weight: 3 });
  await mixed.ipvs.addService({ fwmark: MARK, family: 'inet6', scheduler: 'rr' });
  await mixed.ipvs.addDestination(
    { fwmark: MARK, family: 'inet6' },
    { address: rs1.v4, port: 0, forwarding: 'tunnel', weight: 4 },
  );
  markAtIngress(d, 'cli0', 'inet', MARK_VIP4, MARK);

  // The exporters and Prometheus, in the guest's own namespace.
  const node = process.execPath;
  ours = start(
    node,
    [
      EXPORTER,
      `--web.listen-address=127.0.0.1:${PORTS.ours}`,
      `--netns=${d.name}`,
      `--netns=${backup.path}`,
      `--netns=${mixed.name}`,
      '--collector.rates',
      '--collector.connections',
      '--collector.connections.interval=3s',
    ],
    (t) => (oursStderr += t),
  );
  start(node, [
    EXPORTER,
    `--web.listen-address=127.0.0.1:${PORTS.capped}`,
    `--netns=${d.name}`,
    `--series.limit=${LIMIT}`,
  ]);
  for (const [lab, port] of [
    [d, PORTS.node],
    [mixed, PORTS.nodeMixed],
  ] as const) {
    const holder = start('ip', ['netns', 'exec', lab.name, 'sleep', '900']);
    start('prometheus-node-exporter', [
      '--collector.disable-defaults',
      '--collector.ipvs',
      `--path.procfs=/proc/${holder.pid}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
  }
  const config = join(work, 'prometheus.yml');
  writeFileSync(
    config,
    `global:
  scrape_interval: 3s
  scrape_timeout: 3s
scrape_configs:
  - job_name: ipvs
    static_configs: [{ targets: ['127.0.0.1:${PORTS.ours}'] }]
  - job_name: capped
    static_configs: [{ targets: ['127.0.0.1:${PORTS.capped}'] }]
  - job_name: node
    static_configs: [{ targets: ['127.0.0.1:${PORTS.node}'] }]
  - job_name: node_mixed
    static_configs: [{ targets: ['127.0.0.1:${PORTS.nodeMixed}'] }]
`,
  );
  start('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(work, 'data')}`,
    `--web.listen-address=127.0.0.1:${PORTS.prometheus}`,
    '--log.level=warn',
  ]);
  expect(await waitFor(() => httpOk(PORTS.prometheus, '/-/ready'), 90, 500)).toBe(true);
  t0 = Date.now() / 1000;

  // Known traffic (the counters are compared with ipvsadm's, not predicted).
  await d.ipvs.zero();
  sctpAttempts(3);
  for (const proto of ['tcp', 'udp'] as const) {
    for (const dst of [VIP4, VIP6]) {
      await topo.request({ proto, dst, port: 8080, count: 4 });
    }
    await topo.request({ proto, dst: MARK_VIP4, port: 8080, count: 2 });
  }
  await settle();
  await scrapedAfterNow();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGTERM');
  for (const ipvs of [topo?.director.ipvs, backup?.ipvs]) {
    for (const daemon of (await ipvs?.listDaemons().catch(() => [])) ?? []) await ipvs!.stopDaemon(daemon.state);
  }
  await backup?.close();
  await mixed?.close();
  await topo?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scraped by Prometheus', () => {
  // Every target's last scrape succeeded (a scrape that fails under load, as under a
  // sanitizer, leaves its series without a current value until the next one).
  beforeEach(async () => {
    expect(await waitFor(async () => (await query('up == 1')).length === 4, 60, 500)).toBe(true);
  });

  it('PromQL returns exactly the counters ipvsadm -Ln --stats --exact shows, per service and per real server', async () => {
    const { services, destinations } = ipvsadmStats(topo.director);
    // Every kind of service had traffic.
    for (const proto of ['TCP', 'UDP', 'SCTP', 'FWM']) {
      expect([...services].some(([k, c]) => k.includes(`proto=${proto}`) && c.connections > 0)).toBe(true);
    }
    const ns = `job="ipvs",netns="${topo.director.name}"`;
    const families = [
      ['connections', 'connections_total', ''],
      ['packets in', 'packets_total', ',direction="in"'],
      ['packets out', 'packets_total', ',direction="out"'],
      ['bytes in', 'bytes_total', ',direction="in"'],
      ['bytes out', 'bytes_total', ',direction="out"'],
    ] as const;
    for (const [column, name, direction] of families) {
      const expected = (m: Map<string, Counters>) => new Map([...m].map(([k, c]) => [k, c[column]]));
      expect(await byKey(`ipvs_service_${name}{${ns}${direction}}`)).toEqual(expected(services));
      expect(await byKey(`ipvs_destination_${name}{${ns}${direction}}`)).toEqual(expected(destinations));
    }
    // The namespace's totals are the sums over its services.
    const total = (column: (typeof COLUMNS)[number]) => [...services.values()].reduce((a, c) => a + c[column], 0);
    expect((await query(`ipvs_connections_total{${ns}}`))[0]!.value).toBe(total('connections'));
    expect((await query(`ipvs_bytes_total{${ns},direction="out"}`))[0]!.value).toBe(total('bytes out'));
    expect((await query(`ipvs_up{job="ipvs"}`)).map((s) => s.value)).toEqual([1, 1, 1]);
  });

  it('agrees with node_exporter where node_exporter is right', async () => {
    const ns = `job="ipvs",netns="${topo.director.name}"`;
    // Totals.
    for (const [theirs, mine] of [
      ['node_ipvs_connections_total{job="node"}', `ipvs_connections_total{${ns}}`],
      ['node_ipvs_incoming_packets_total{job="node"}', `ipvs_packets_total{${ns},direction="in"}`],
      ['node_ipvs_outgoing_packets_total{job="node"}', `ipvs_packets_total{${ns},direction="out"}`],
      ['node_ipvs_incoming_bytes_total{job="node"}', `ipvs_bytes_total{${ns},direction="in"}`],
      ['node_ipvs_outgoing_bytes_total{job="node"}', `ipvs_bytes_total{${ns},direction="out"}`],
    ]) {
      // Both scraped, and equal (a scrape that failed under load leaves no current value).
      const same = async () => {
        const [x, y] = [await query(theirs!), await query(mine!)];
        return x.length === 1 && JSON.stringify(x.map((s) => s.value)) === JSON.stringify(y.map((s) => s.value));
      };
      expect(await waitFor(same, 30, 1000), `${theirs} = ${mine}`).toBe(true);
    }
    // Real servers of the TCP and UDP services: the same labels, the same values (gauges that
    // move as entries expire: compared once both exporters have been scraped with the same table).
    const agree = async () => {
      for (const [theirs, mine] of [
        ['node_ipvs_backend_connections_active', 'ipvs_destination_connections_active'],
        ['node_ipvs_backend_connections_inactive', 'ipvs_destination_connections_inactive'],
        ['node_ipvs_backend_weight', 'ipvs_destination_weight'],
      ]) {
        // Port 8080: node_exporter lists the SCTP service's real server (port 9) under another service.
        const node = await byKey(`${theirs}{job="node",proto=~"TCP|UDP",remote_port="8080"}`);
        const mineNow = await byKey(`${mine}{${ns},proto=~"TCP|UDP"}`);
        if (node.size !== 8 || JSON.stringify([...node].sort()) !== JSON.stringify([...mineNow].sort())) return false;
      }
      return true;
    };
    expect(await waitFor(agree, 60, 1000)).toBe(true);
  });

  it('is right where node_exporter is not: SCTP services and one mark for two families', async () => {
    const ns = `job="ipvs",netns="${topo.director.name}"`;
    const { destinations } = ipvsadmStats(topo.director);
    const sctpKey = [...destinations.keys()].find((k) => k.includes('proto=SCTP'))!;
    expect(sctpKey).toBeDefined();
    // Ours: the SCTP real server under its SCTP service, with its connections.
    const mine = await byKey(`ipvs_destination_connections_total{${ns},proto="SCTP"}`);
    expect(mine).toEqual(new Map([[sctpKey, destinations.get(sctpKey)!.connections]]));
    // node_exporter: no SCTP service at all; its real server, if listed, under another service.
    const node = await query(`node_ipvs_backend_weight{job="node",remote_port="${SCTP_PORT}"}`);
    expect(await query('node_ipvs_backend_weight{proto="SCTP"}')).toEqual([]);
    for (const s of node) expect(s.metric.proto).not.toBe('SCTP');
    // One mark, two families, one real server address: two series of ours (weights 3 and 4),
    // one of node_exporter's, which mixes both.
    const weights = await byKey(`ipvs_destination_weight{job="ipvs",netns="${mixed.name}",proto="FWM"}`);
    expect([...weights.values()].sort()).toEqual([3, 4]);
    expect([...weights.keys()].map((k) => /family=(\w+)/.exec(k)![1]).sort()).toEqual(['ipv4', 'ipv6']);
    const theirs = await query('node_ipvs_backend_weight{job="node_mixed",proto="FWM"}');
    expect(theirs).toHaveLength(1);
    expect([3, 4]).not.toContain(theirs[0]!.value);
  });

  it('counts what the series limit drops', async () => {
    // The table in the kernel's order, kept as the exporter keeps it: 8 series a service, 11 a real server.
    const p = await topo.director.ipvs.packedSnapshot();
    let budget = LIMIT;
    let kept = 0;
    let possible = 0;
    for (let i = 0; i < p.serviceCount; i++) {
      const n = p.destOffsets[i + 1]! - p.destOffsets[i]!;
      possible += 8 + 11 * n;
      if (budget < 8) {
        budget = -1;
        continue;
      }
      const fits = Math.min(n, Math.floor((budget - 8) / 11));
      kept += 8 + 11 * fits;
      budget = fits < n ? -1 : budget - 8 - 11 * fits;
    }
    expect(possible - kept).toBeGreaterThan(0);
    expect((await query('ipvs_exporter_series{job="capped"}'))[0]!.value).toBe(kept);
    const [dropped] = await query(
      'ipvs_exporter_series_dropped_total{job="capped"} / ipvs_exporter_scrapes_total{job="capped"}',
    );
    expect(dropped!.value).toBe(possible - kept);
    const [exported] = await query('count({job="capped",__name__=~"ipvs_(service|destination)_.*"})');
    expect(exported!.value).toBe(kept);
  });

  it('every query of the Grafana dashboard returns data', async () => {
    const dashboard = JSON.parse(readFileSync('dashboards/ipvs.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { name: string; query?: { query: string } }[] };
    };
    // Rates need two samples in their window: at least 30 s of scrapes.
    await new Promise((r) => setTimeout(r, Math.max(0, (t0 + 32 - Date.now() / 1000) * 1000)));
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$__rate_interval', '30s').replaceAll('$netns', '.*');
        if ((await query(expr)).length === 0) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
    // The namespace variable lists both namespaces.
    const netns = dashboard.templating.list.find((v) => v.name === 'netns')!;
    expect(netns.query!.query).toBe('label_values(ipvs_up, netns)');
    expect((await query('ipvs_up{job="ipvs"}')).map((s) => s.metric.netns).sort()).toEqual(
      [topo.director.name, backup.path, mixed.name].sort(),
    );
  });

  it('two directors, a sync master and its backup, summed across namespaces by one exporter', async () => {
    // The backup holds the master's connections, bound to its own real servers.
    const tcp4 = { protocol: 'tcp', address: VIP4, port: 8080 } as const;
    const labels = 'proto,local_address,local_port,remote_address,remote_port';
    const sumsMatch = async () => {
      const [a, b] = [await topo.director.ipvs.listDestinations(tcp4), await backup.ipvs.listDestinations(tcp4)];
      if (b.every((d) => d.inactiveConnections + d.activeConnections === 0)) return false;
      const expected = new Map(
        a.map((d, i) => [
          keyOf({
            proto: 'TCP',
            local_address: VIP4,
            local_port: '8080',
            remote_address: d.address,
            remote_port: String(d.port),
          }),
          d.activeConnections + d.inactiveConnections + b[i]!.activeConnections + b[i]!.inactiveConnections,
        ]),
      );
      const got = await byKey(
        `sum by (${labels}) (ipvs_destination_connections_active{job="ipvs",proto="TCP",local_address="${VIP4}"} + ipvs_destination_connections_inactive)`,
      );
      return JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort());
    };
    expect(await waitFor(sumsMatch, 90, 1000)).toBe(true);
    // Each namespace is its own series.
    const perNs = await query(
      `count by (netns) (ipvs_destination_weight{job="ipvs",proto="TCP",local_address="${VIP4}"})`,
    );
    expect(perNs.map((s) => s.value)).toEqual([2, 2]);
  });

  it('counts the connection table by real server and state in the background; the kernel’s rates on request', async () => {
    const d = topo.director;
    const ns = `job="ipvs",netns="${d.name}"`;
    // Entries expire meanwhile: compared until a count and the table agree.
    const agree = async () => {
      const states = await d.ipvs.connectionStats({ by: 'state' });
      const expected = new Map(states.map((s) => [`state=${s.key}`, s.count]));
      const got = await byKey(`sum by (state) (ipvs_connection_table_entries{${ns}})`);
      return got.size > 0 && JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort());
    };
    expect(await waitFor(agree, 90, 1000)).toBe(true);
    const byDestination = await query(`sum by (remote_address) (ipvs_connection_table_entries{${ns}})`);
    expect(byDestination.map((s) => s.metric.remote_address).sort()).toEqual(
      expect.arrayContaining(topo.servers.map((s) => s.v4)),
    );
    const [age] = await query(`time() - ipvs_connection_table_last_count_timestamp_seconds{${ns}}`);
    expect(age!.value).toBeLessThan(30);
    // One rate series per service of each namespace: 6, 1 and 2.
    const rates = await query('count by (netns) (ipvs_service_connections_per_second{job="ipvs"})');
    expect(rates.map((r) => r.value).sort()).toEqual([1, 2, 6]);
  });

  it('ends gracefully on SIGTERM', async () => {
    process.kill(ours.pid!, 'SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      if (ours.exitCode !== null) resolve(ours.exitCode);
      else ours.once('exit', (c) => resolve(c));
    });
    expect(code).toBe(0);
    expect(oursStderr).toContain('SIGTERM');
  });
});
