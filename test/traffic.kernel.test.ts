// Real packets through services this library configured: a client namespace
// sends TCP connections and UDP datagrams to a VIP of the director, real-server
// namespaces answer with their own names, and the counters the library reads
// (and ipvsadm reads, and /proc/net/ip_vs_stats sums) agree with what was sent.
// See helpers/topology.ts for the network.
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { DestinationInfo, Forwarding, ServiceInfo, ServiceKey, Stats, Tunnel } from '../src/index.js';
import { parseList } from './helpers/ipvsadm.js';
import { parseStats } from './helpers/ipvsadm-stats.js';
import {
  createTopology,
  MARK_VIP4,
  MARK_VIP6,
  markAtIngress,
  settle,
  VIP4,
  VIP6,
  waitFor,
  type RealServer,
  type Topology,
} from './helpers/topology.js';

// Packets under emulation on a busy host: a test that takes 3 s alone has been
// seen to take 40 s. Every wait inside is bounded on its own.
vi.setConfig({ testTimeout: 150_000 });

let topo: Topology;
beforeAll(async () => {
  topo = await createTopology({ servers: 2, ports: [8080, 8081, 8082, 8083, 8084, 8085, 8086, 8087] });
}, 120_000);
afterAll(async () => {
  await topo?.close();
});

interface Family {
  family: 'inet' | 'inet6';
  vip: string;
  markVip: string;
  /** IP header length: what IPVS counts in bytes besides the transport. */
  ip: number;
  addr(s: RealServer): string;
  /** ipvsadm's rendering of an address and port. */
  hostPort(address: string, port: number): string;
  clients(): string[];
}

const FAMILIES: Family[] = [
  {
    family: 'inet',
    vip: VIP4,
    markVip: MARK_VIP4,
    ip: 20,
    addr: (s) => s.v4,
    hostPort: (a, p) => `${a}:${p}`,
    clients: () => topo.clientV4,
  },
  {
    family: 'inet6',
    vip: VIP6,
    markVip: MARK_VIP6,
    ip: 40,
    addr: (s) => s.v6,
    hostPort: (a, p) => `[${a}]:${p}`,
    clients: () => topo.clientV6,
  },
];

const PAYLOAD = 'hello'; // UDP: 5 bytes; TCP: the line 'hello\n', 6 bytes
const ANSWER = 3; // 'rs1' over UDP; 'rs1\n' (4 bytes) over TCP

function counters(s: Stats) {
  return { conns: s.conns, inPackets: s.inPackets, outPackets: s.outPackets, inBytes: s.inBytes, outBytes: s.outBytes };
}

function sum(stats: Stats[]) {
  const total = { conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n };
  for (const s of stats) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
  return total;
}

const ZERO = { conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n };

function admName(s: ServiceInfo, F: Family): string {
  if (s.fwmark !== undefined) return `FWM ${s.fwmark}${s.family === 'inet6' ? ' IPv6' : ''}`;
  return `${s.protocol.toUpperCase()} ${F.hostPort(s.address, s.port)}`;
}

/** The library's counters of every service and destination equal what `ipvsadm -Ln --stats --exact` prints. */
async function expectIpvsadmAgrees(F: Family): Promise<void> {
  const ipvs = topo.director.ipvs;
  const mine = [];
  for (const s of await ipvs.listServices()) {
    const dests = await ipvs.listDestinations(s);
    mine.push({
      name: admName(s, F),
      ...counters(s.stats),
      destinations: dests.map((d) => ({ name: F.hostPort(d.address, d.port), ...counters(d.stats) })),
    });
  }
  const r = topo.director.ipvsadm('-Ln', '--stats', '--exact');
  expect(r.status).toBe(0);
  const sortByName = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => a.name.localeCompare(b.name));
  const theirs = parseStats(r.stdout).map((s) => ({ ...s, destinations: sortByName(s.destinations) }));
  expect(sortByName(theirs)).toEqual(sortByName(mine.map((s) => ({ ...s, destinations: sortByName(s.destinations) }))));
}

async function addService(key: ServiceKey, forwarding: Forwarding, F: Family, extra: object = {}): Promise<void> {
  await topo.director.ipvs.addService({ ...key, scheduler: 'rr', ...extra });
  for (const s of topo.servers) await topo.director.ipvs.addDestination(key, { address: F.addr(s), forwarding });
}

function dest(dests: DestinationInfo[], s: RealServer, F: Family): DestinationInfo {
  const d = dests.find((x) => x.address === F.addr(s));
  if (!d) throw new Error(`no destination ${F.addr(s)}`);
  return d;
}

/**
 * Lets the closing packets of held connections be counted before the next
 * test zeroes the counters: the estimator folds them in on its next run.
 */
function quiesce(): Promise<void> {
  return settle();
}

function tally(answers: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[String(a)] = (out[String(a)] ?? 0) + 1;
  return out;
}

/** rr over two servers: every answer given, alternating, half each. */
function expectRoundRobin(answers: (string | null)[]): void {
  expect(answers.every((a) => a === 'rs1' || a === 'rs2')).toBe(true);
  expect(tally(answers)).toEqual({ rs1: answers.length / 2, rs2: answers.length / 2 });
  for (let i = 1; i < answers.length; i++) expect(answers[i]).not.toBe(answers[i - 1]);
}

describe.each(FAMILIES)('$family', (F) => {
  it.each(['masq', 'route', 'tunnel'] as const)(
    '%s: 10 TCP connections and 10 UDP datagrams split 5/5 by rr, counted exactly (UDP) and consistently (TCP)',
    async (forwarding) => {
      const ipvs = topo.director.ipvs;
      await ipvs.clear();
      const tcp = { protocol: 'tcp', address: F.vip, port: 8080 } as const;
      const udp = { protocol: 'udp', address: F.vip, port: 8080 } as const;
      await addService(tcp, forwarding, F);
      await addService(udp, forwarding, F);
      await ipvs.zero();
      expect(counters(await ipvs.totals())).toEqual(ZERO);

      const [tcpAnswers, udpAnswers] = await Promise.all([
        topo.request({ proto: 'tcp', dst: F.vip, port: 8080, count: 10, payload: PAYLOAD }),
        topo.request({ proto: 'udp', dst: F.vip, port: 8080, count: 10, payload: PAYLOAD }),
      ]);
      expectRoundRobin(tcpAnswers);
      expectRoundRobin(udpAnswers);
      await settle();

      // NAT sees the replies; with direct routing and tunnels they bypass the director.
      const replies = forwarding === 'masq';
      const udpSvc = await ipvs.getService(udp);
      const udpIn = BigInt(F.ip + 8 + PAYLOAD.length);
      const udpOut = BigInt(F.ip + 8 + ANSWER);
      expect(counters(udpSvc.stats)).toEqual({
        conns: 10n,
        inPackets: 10n,
        outPackets: replies ? 10n : 0n,
        inBytes: 10n * udpIn,
        outBytes: replies ? 10n * udpOut : 0n,
      });
      const udpDests = await ipvs.listDestinations(udp);
      for (const s of topo.servers) {
        expect(counters(dest(udpDests, s, F).stats)).toEqual({
          conns: 5n,
          inPackets: 5n,
          outPackets: replies ? 5n : 0n,
          inBytes: 5n * udpIn,
          outBytes: replies ? 5n * udpOut : 0n,
        });
      }

      // TCP: connections exactly; packets and bytes within what 10 short
      // exchanges can take (handshake, one line each way, close).
      const tcpSvc = await ipvs.getService(tcp);
      const tcpDests = await ipvs.listDestinations(tcp);
      const t = tcpSvc.stats;
      expect(t.conns).toBe(10n);
      for (const s of topo.servers) expect(dest(tcpDests, s, F).stats.conns).toBe(5n);
      expect(t.inPackets).toBeGreaterThanOrEqual(10n * 4n); // SYN, ACK, data, FIN at least
      expect(t.inPackets).toBeLessThanOrEqual(10n * 10n);
      const headers = (n: bigint, min: boolean) => n * BigInt(F.ip + (min ? 20 : 60));
      expect(t.inBytes).toBeGreaterThanOrEqual(headers(t.inPackets, true) + 10n * BigInt(PAYLOAD.length + 1));
      expect(t.inBytes).toBeLessThanOrEqual(headers(t.inPackets, false) + 10n * BigInt(PAYLOAD.length + 1));
      if (replies) {
        expect(t.outPackets).toBeGreaterThanOrEqual(10n * 2n); // SYN-ACK, data at least
        expect(t.outPackets).toBeLessThanOrEqual(10n * 10n);
        expect(t.outBytes).toBeGreaterThanOrEqual(headers(t.outPackets, true) + 10n * BigInt(ANSWER + 1));
        expect(t.outBytes).toBeLessThanOrEqual(headers(t.outPackets, false) + 10n * BigInt(ANSWER + 1));
      } else {
        expect([t.outPackets, t.outBytes]).toEqual([0n, 0n]);
      }
      // A service's counters are its destinations' sums.
      expect(counters(t)).toEqual(sum(tcpDests.map((d) => d.stats)));
      expect(counters(udpSvc.stats)).toEqual(sum(udpDests.map((d) => d.stats)));

      // The namespace's totals (/proc/net/ip_vs_stats) since the zero: both services.
      expect(counters(await ipvs.totals())).toEqual(sum([t, udpSvc.stats]));
      await expectIpvsadmAgrees(F);
    },
  );

  it('persistence keeps a client on one server; with a netmask, clients of one network share one', async () => {
    const ipvs = topo.director.ipvs;
    await ipvs.clear();
    const [a, b, c] = F.clients() as [string, string, string];
    const plain = { protocol: 'tcp', address: F.vip, port: 8082 } as const;
    await addService(plain, 'masq', F, { persistence: { timeout: 120 } });
    const fromA = await topo.request({ proto: 'tcp', dst: F.vip, port: 8082, count: 6, src: a });
    const fromB = await topo.request({ proto: 'tcp', dst: F.vip, port: 8082, count: 6, src: b });
    expect(new Set(fromA).size).toBe(1);
    expect(new Set(fromB).size).toBe(1);
    // rr placed the two clients' persistence templates on different servers.
    expect(new Set([fromA[0], fromB[0]])).toEqual(new Set(['rs1', 'rs2']));
    let dests = await ipvs.listDestinations(plain);
    expect(dests.map((d) => d.persistentConnections)).toEqual([1, 1]);

    await ipvs.clear();
    const masked = { protocol: 'tcp', address: F.vip, port: 8083 } as const;
    const netmask = F.family === 'inet' ? '255.255.255.0' : 64;
    await addService(masked, 'masq', F, { persistence: { timeout: 120, netmask } });
    const answers = [
      ...(await topo.request({ proto: 'tcp', dst: F.vip, port: 8083, count: 4, src: a })),
      ...(await topo.request({ proto: 'tcp', dst: F.vip, port: 8083, count: 4, src: b })),
      ...(await topo.request({ proto: 'tcp', dst: F.vip, port: 8083, count: 4, src: c })),
    ];
    expect(answers.every((x) => x === answers[0] && x !== null)).toBe(true);
    const chosen = topo.servers.find((s) => s.label === answers[0])!;
    dests = await ipvs.listDestinations(masked);
    // One template for the whole network, on the chosen server.
    expect(dests.map((d) => [d.address, d.persistentConnections]).sort()).toEqual(
      topo.servers.map((s) => [F.addr(s), s === chosen ? 1 : 0]).sort(),
    );
    expect((await ipvs.getService(masked)).persistence).toEqual({
      timeout: 120,
      netmask: F.family === 'inet' ? '255.255.255.0' : 64,
    });
    expect(topo.director.ipvsadm('-Sn').stdout).toContain(`-p 120 -M ${F.family === 'inet' ? '255.255.255.0' : '64'}`);
    await settle();
    expect((await ipvs.listDestinations(masked)).map((d) => d.stats.conns).sort()).toEqual([0n, 12n]);
  });

  it('weight 0 stops new connections to a server while its open connection keeps working', async () => {
    const ipvs = topo.director.ipvs;
    await ipvs.clear();
    const svc = { protocol: 'tcp', address: F.vip, port: 8084 } as const;
    await addService(svc, 'masq', F);
    const held = await topo.hold({ dst: F.vip, port: 8084 });
    try {
      const first = await held.send('one');
      const quiesced = topo.servers.find((s) => s.label === first)!;
      const other = topo.servers.find((s) => s !== quiesced)!;
      await ipvs.editDestination(svc, { address: F.addr(quiesced), forwarding: 'masq', weight: 0 });
      expect(dest(await ipvs.listDestinations(svc), quiesced, F).weight).toBe(0);
      const [adm] = parseList(topo.director.ipvsadm('-Ln').stdout);
      expect(adm!.destinations.find((d) => d.address === F.hostPort(F.addr(quiesced), 8084))).toMatchObject({
        weight: 0,
        active: 1,
      });

      const answers = await topo.request({ proto: 'tcp', dst: F.vip, port: 8084, count: 6 });
      expect(answers).toEqual(Array(6).fill(other.label));
      // The connection made before still reaches its server.
      expect(await held.send('two')).toBe(first);
      expect(await held.send('three')).toBe(first);
      const dests = await ipvs.listDestinations(svc);
      expect(dest(dests, quiesced, F).activeConnections).toBe(1);
      expect(dest(dests, other, F).activeConnections).toBe(0);
    } finally {
      await held.close();
    }
    await quiesce();
  });

  it('reports active and inactive connections per destination while connections are open (direct routing)', async () => {
    const ipvs = topo.director.ipvs;
    await ipvs.clear();
    const tcp = { protocol: 'tcp', address: F.vip, port: 8085 } as const;
    const udp = { protocol: 'udp', address: F.vip, port: 8085 } as const;
    await addService(tcp, 'route', F);
    await addService(udp, 'route', F);
    const connState = async (key: ServiceKey) =>
      (await ipvs.listDestinations(key)).map((d) => [d.address, d.activeConnections, d.inactiveConnections]).sort();
    const expected = (active: number, inactive: number) =>
      topo.servers.map((s) => [F.addr(s), active, inactive]).sort();
    const admState = () =>
      parseList(topo.director.ipvsadm('-Ln').stdout)
        .flatMap((s) => s.destinations.map((d) => `${s.name} ${d.address} ${d.active} ${d.inactive}`))
        .sort();

    const h1 = await topo.hold({ dst: F.vip, port: 8085 });
    const h2 = await topo.hold({ dst: F.vip, port: 8085 });
    try {
      expect(new Set([await h1.send('x'), await h2.send('y')])).toEqual(new Set(['rs1', 'rs2']));
      expect(await connState(tcp)).toEqual(expected(1, 0));

      await topo.request({ proto: 'tcp', dst: F.vip, port: 8085, count: 4 });
      await topo.request({ proto: 'udp', dst: F.vip, port: 8085, count: 4 });
      // Closed TCP connections linger inactive (FIN_WAIT, TIME_WAIT); UDP entries are never active.
      expect(
        await waitFor(async () => JSON.stringify(await connState(tcp)) === JSON.stringify(expected(1, 2)), 10),
      ).toBe(true);
      expect(await connState(udp)).toEqual(expected(0, 2));
      const p = (port: number) => F.hostPort(F.vip, port);
      expect(admState()).toEqual(
        [
          ...topo.servers.map((s) => `TCP  ${p(8085)} ${F.hostPort(F.addr(s), 8085)} 1 2`),
          ...topo.servers.map((s) => `UDP  ${p(8085)} ${F.hostPort(F.addr(s), 8085)} 0 2`),
        ].sort(),
      );
    } finally {
      await h1.close();
      await h2.close();
    }
    expect(await waitFor(async () => JSON.stringify(await connState(tcp)) === JSON.stringify(expected(0, 3)), 10)).toBe(
      true,
    );
    await quiesce();
  });

  describe('a service by firewall mark (marked by tc on the director, since the guest has neither nft nor iptables)', () => {
    const mark = F.family === 'inet' ? 1 : 2;
    beforeAll(() => markAtIngress(topo.director, 'cli0', F.family, F.markVip, mark));

    it('balances TCP and UDP to the marked VIP over the servers, counted per destination', async () => {
      const ipvs = topo.director.ipvs;
      await ipvs.clear();
      const key = { fwmark: mark, family: F.family } as const;
      await addService(key, 'masq', F);
      const dests = await ipvs.listDestinations(key);
      expect(dests.map((d) => d.port)).toEqual([0, 0]); // port 0: the packet's own port is kept
      await ipvs.zero();
      const tcpAnswers = await topo.request({ proto: 'tcp', dst: F.markVip, port: 8086, count: 4 });
      const udpAnswers = await topo.request({ proto: 'udp', dst: F.markVip, port: 8086, count: 4 });
      expectRoundRobin([...tcpAnswers, ...udpAnswers]);
      await settle();
      const svc = await ipvs.getService(key);
      expect(svc.stats.conns).toBe(8n);
      expect((await ipvs.listDestinations(key)).map((d) => d.stats.conns)).toEqual([4n, 4n]);
      expect(counters(await ipvs.totals())).toEqual(counters(svc.stats));
      await expectIpvsadmAgrees(F);
    });
  });
});

describe('GUE and GRE tunnels, and IPIP to IPv6 real servers behind an IPv4 VIP, carry traffic', () => {
  beforeAll(() => {
    execFileSync('modprobe', ['-a', 'fou', 'ip_gre']);
    for (const s of topo.servers) {
      // GUE on UDP 6080 hands the inner IPIP packet to tunl0; gre0 takes
      // GRE from anyone; t46 takes IPv4 in IPv6 addressed to the server.
      s.exec('ip', 'fou', 'add', 'port', '6080', 'gue');
      s.exec('ip', 'link', 'set', 'gre0', 'up');
      s.exec('ip', 'link', 'add', 't46', 'type', 'ip6tnl', 'mode', 'any', 'local', s.v6);
      s.exec('ip', 'link', 'set', 't46', 'up');
      s.exec('sysctl', '-q', '-w', 'net.ipv4.conf.gre0.rp_filter=0', 'net.ipv4.conf.t46.rp_filter=0');
    }
  });

  it.each<[string, Tunnel, 'v4' | 'v6']>([
    ['GUE', { type: 'gue', port: 6080 }, 'v4'],
    ['GUE with checksums', { type: 'gue', port: 6080, checksum: 'csum' }, 'v4'],
    ['GUE with remote checksum offload', { type: 'gue', port: 6080, checksum: 'remcsum' }, 'v4'],
    ['GRE', { type: 'gre' }, 'v4'],
    ['GRE with checksums', { type: 'gre', checksum: 'csum' }, 'v4'],
    ['IPIP to IPv6 real servers', { type: 'ipip' }, 'v6'],
  ])('%s: 6 UDP datagrams split 3/3, counted exactly', async (_, tunnel, family) => {
    const ipvs = topo.director.ipvs;
    await ipvs.clear();
    const udp = { protocol: 'udp', address: VIP4, port: 8087 } as const;
    await ipvs.addService({ ...udp, scheduler: 'rr' });
    for (const s of topo.servers) await ipvs.addDestination(udp, { address: s[family], forwarding: 'tunnel', tunnel });
    expect((await ipvs.listDestinations(udp)).map((d) => d.tunnel)).toEqual(
      topo.servers.map(() => ({ port: 0, checksum: 'nocsum', ...tunnel })),
    );
    // A GRE device takes checksummed packets only if it expects them (icsum),
    // and then only those: the servers get one for this case alone.
    const greCsum = tunnel.type === 'gre' && tunnel.checksum === 'csum';
    if (greCsum)
      for (const s of topo.servers) s.exec('ip', 'link', 'add', 'grec', 'up', 'type', 'gre', 'local', s.v4, 'icsum');
    try {
      const answers = await topo.request({ proto: 'udp', dst: VIP4, port: 8087, count: 6, payload: PAYLOAD });
      expectRoundRobin(answers);
    } finally {
      if (greCsum) for (const s of topo.servers) s.exec('ip', 'link', 'del', 'grec');
    }
    await settle();
    // Counted as the client sent it, before encapsulation; the answers bypass the director.
    const each = {
      conns: 3n,
      inPackets: 3n,
      outPackets: 0n,
      inBytes: 3n * BigInt(20 + 8 + PAYLOAD.length),
      outBytes: 0n,
    };
    expect((await ipvs.listDestinations(udp)).map((d) => counters(d.stats))).toEqual([each, each]);
  });
});

it('zero() clears one service, then all services and the totals, and the counts stay cleared', async () => {
  const F = FAMILIES[0]!;
  const ipvs = topo.director.ipvs;
  await ipvs.clear();
  const tcp = { protocol: 'tcp', address: F.vip, port: 8081 } as const;
  const udp = { protocol: 'udp', address: F.vip, port: 8081 } as const;
  await addService(tcp, 'masq', F);
  await addService(udp, 'masq', F);
  await Promise.all([
    topo.request({ proto: 'tcp', dst: F.vip, port: 8081, count: 4 }),
    topo.request({ proto: 'udp', dst: F.vip, port: 8081, count: 4 }),
  ]);
  await settle();
  const tcpBefore = counters((await ipvs.getService(tcp)).stats);
  const totalsBefore = counters(await ipvs.totals());
  expect(tcpBefore.conns).toBe(4n);
  expect((await ipvs.getService(udp)).stats.conns).toBe(4n);

  await ipvs.zero(udp);
  expect(counters((await ipvs.getService(udp)).stats)).toEqual(ZERO);
  expect((await ipvs.listDestinations(udp)).map((d) => counters(d.stats))).toEqual([ZERO, ZERO]);
  expect(counters((await ipvs.getService(tcp)).stats)).toEqual(tcpBefore);
  expect(counters(await ipvs.totals())).toEqual(totalsBefore);
  await expectIpvsadmAgrees(F);
  await settle(); // the next estimator run does not bring the old counts back
  expect(counters((await ipvs.getService(udp)).stats)).toEqual(ZERO);

  await ipvs.zero();
  for (const key of [tcp, udp]) {
    expect(counters((await ipvs.getService(key)).stats)).toEqual(ZERO);
    expect((await ipvs.listDestinations(key)).map((d) => counters(d.stats))).toEqual([ZERO, ZERO]);
  }
  expect(counters(await ipvs.totals())).toEqual(ZERO);
  await expectIpvsadmAgrees(F);
  // The totals file itself reads zero in the namespace.
  const text = execFileSync('ip', ['netns', 'exec', topo.director.name, 'cat', '/proc/net/ip_vs_stats'], {
    encoding: 'utf8',
  });
  expect(text.split('\n')[2]!.trim().split(/\s+/)).toEqual(['0', '0', '0', '0', '0']);
});
