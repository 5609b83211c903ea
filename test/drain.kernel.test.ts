// Draining with real traffic between namespaces of the lab guest (a client,
// the director, two real servers; NAT): a held TCP connection keeps its
// destination until it closes, UDP entries and persistence templates until
// they expire; meanwhile the destination has weight 0 and new connections go
// to the other server. A drain that times out or is aborted leaves weight 0;
// `ipvs drain` end to end. Short timeouts keep the waits short: UDP entries
// live 2 s, templates 3 s, and a TCP connection closed with a RST sits in
// CLOSE for 10 s (the kernel's fixed timeout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { IpvsError, type DrainProgress, type Ipvs } from '../src/index.js';
import { Netns } from './helpers/differential.js';
import { expectRefusal, type Lab } from './helpers/netns.js';
import { createTopology, VIP4, type RealServer, type Topology } from './helpers/topology.js';

let topo: Topology;
let lab: Lab;
let ipvs: Ipvs;
let ns: Netns;

beforeAll(async () => {
  topo = await createTopology({ servers: 2, ports: [8080, 8081, 8082, 8083, 8084], deadline: 300 });
  lab = topo.director;
  ipvs = lab.ipvs;
  ns = new Netns(lab.name);
  await ipvs.setTimeouts({ udp: 2 });
  for (const line of [
    ['-A', '-t', `${VIP4}:8080`, '-s', 'rr'],
    ['-A', '-u', `${VIP4}:8081`, '-s', 'rr'],
    ['-A', '-u', `${VIP4}:8082`, '-s', 'rr', '-p', '3'],
    // One server only, and no traffic but the test's: closed connections of
    // other tests would sit in TIME_WAIT (2 minutes) on it.
    ['-A', '-t', `${VIP4}:8083`, '-s', 'rr'],
    ['-a', '-t', `${VIP4}:8083`, '-r', `${topo.servers[0]!.v4}:8083`, '-m'],
    ...[8080, 8081, 8082].flatMap((port) =>
      topo.servers.map((s) => ['-a', port === 8080 ? '-t' : '-u', `${VIP4}:${port}`, '-r', `${s.v4}:${port}`, '-m']),
    ),
  ]) {
    const r = lab.ipvsadm(...line);
    expect(r.status, `${line.join(' ')}: ${r.stderr}`).toBe(0);
  }
}, 600_000);

afterAll(async () => {
  await topo?.close();
});

const tcp = { protocol: 'tcp' as const, address: VIP4, port: 8080 };
const serverOf = (label: string | null): RealServer => topo.servers.find((s) => s.label === label)!;
const other = (s: RealServer): RealServer => topo.servers.find((o) => o !== s)!;
/** The destination's line of `ipvsadm -Sn`, or undefined when it is gone. */
const savedLine = (proto: '-t' | '-u', port: number, s: RealServer) =>
  lab
    .saved()
    .split('\n')
    .find((l) => l.startsWith(`-a ${proto} ${VIP4}:${port} -r ${s.v4}:${port} `));

/** Resolves once `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('drain', () => {
  it('a held TCP connection keeps its destination, at weight 0, until it closes', async () => {
    const held = await topo.hold({ dst: VIP4, port: 8080 });
    const drained = serverOf(await held.send('hello'));
    const progress: DrainProgress[] = [];
    let settled = false;
    const drain = ipvs
      .drain(tcp, { address: drained.v4 }, { interval: 200, timeout: 60_000, onProgress: (p) => progress.push(p) })
      .finally(() => (settled = true));
    await until(() => progress.length > 0, 10_000);
    expect(progress[0]).toMatchObject({ active: 1, inactive: 0, persistent: 0, total: 1 });
    expect(savedLine('-t', 8080, drained)).toMatch(/ -m -w 0$/);
    // New connections go to the other server; the held one still reaches its own.
    const answers = await topo.request({ proto: 'tcp', dst: VIP4, port: 8080, count: 3 });
    expect(answers).toEqual(new Array(3).fill(other(drained).label));
    expect(await held.send('still there?')).toBe(drained.label);
    expect(settled).toBe(false);

    const closedAt = Date.now();
    await held.close({ reset: true });
    const result = await drain;
    // CLOSE lasts 10 s; the drain ends within a poll of it.
    expect(Date.now() - closedAt).toBeGreaterThan(8_000);
    expect(result).toMatchObject({ removed: true, vanished: false, previousWeight: 1 });
    expect(progress.at(-1)).toMatchObject({ total: 0 });
    expect(savedLine('-t', 8080, drained)).toBeUndefined();
    expect(savedLine('-t', 8080, other(drained))).toMatch(/ -m -w 1$/);
  });

  it('UDP entries until they expire; remove: false only quiesces', async () => {
    const udp = { protocol: 'udp' as const, address: VIP4, port: 8081 };
    const answers = await topo.request({ proto: 'udp', dst: VIP4, port: 8081, count: 4 });
    expect(answers.filter((a) => a !== null)).toHaveLength(4);
    const [rs1, rs2] = topo.servers as [RealServer, RealServer];
    const progress: DrainProgress[] = [];
    const kept = await ipvs.drain(
      udp,
      { address: rs1.v4 },
      { interval: 200, timeout: 30_000, remove: false, onProgress: (p) => progress.push(p) },
    );
    expect(progress[0]!.inactive).toBeGreaterThan(0);
    expect(kept).toMatchObject({ removed: false, vanished: false, previousWeight: 1 });
    expect(kept.waited).toBeLessThan(10_000);
    expect(savedLine('-u', 8081, rs1)).toMatch(/ -m -w 0$/);
    await expect(ipvs.drain(udp, { address: rs2.v4 }, { interval: 200, timeout: 30_000 })).resolves.toMatchObject({
      removed: true,
    });
    expect(savedLine('-u', 8081, rs2)).toBeUndefined();
  });

  it('persistence templates until they expire', async () => {
    const persistent = { protocol: 'udp' as const, address: VIP4, port: 8082 };
    const [answer] = await topo.request({ proto: 'udp', dst: VIP4, port: 8082, count: 1 });
    const drained = serverOf(answer!);
    const progress: DrainProgress[] = [];
    const result = await ipvs.drain(
      persistent,
      { address: drained.v4 },
      { interval: 200, timeout: 30_000, onProgress: (p) => progress.push(p) },
    );
    expect(progress[0]).toMatchObject({ persistent: 1 });
    // The template (3 s) outlives its connection (2 s).
    expect(progress.some((p) => p.persistent === 1 && p.inactive === 0)).toBe(true);
    expect(result.removed).toBe(true);
    expect(savedLine('-u', 8082, drained)).toBeUndefined();
  });

  it('a timeout or an abort leaves weight 0 and says so; `ipvs drain` times out, then drains', async () => {
    const held = await topo.hold({ dst: VIP4, port: 8083 });
    const server = serverOf(await held.send('hello'));
    const alone = { ...tcp, port: 8083 };
    const timedOut = await ipvs
      .drain(alone, { address: server.v4 }, { interval: 200, timeout: 1500 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(IpvsError);
    expect(timedOut).toMatchObject({ op: 'drain', code: 'ETIMEDOUT' });
    expect((timedOut as Error).message).toBe(
      `the drain of TCP ${VIP4}:8083 -> ${server.v4}:8083 timed out after 1500 ms: 1 entry remains ` +
        '(1 active, 0 inactive, 0 persistent); its weight was left at 0 (it was 1)',
    );
    expect(savedLine('-t', 8083, server)).toMatch(/ -m -w 0$/);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(ipvs.drain(alone, { address: server.v4 }, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
      message: `the drain of TCP ${VIP4}:8083 -> ${server.v4}:8083 was aborted; its weight was left at 0`,
    });
    expect(savedLine('-t', 8083, server)).toMatch(/ -m -w 0$/);

    const args = ['drain', '-t', `${VIP4}:8083`, '-r', `${server.v4}:8083`, '--interval', '200'];
    const late = await ns.ipvs([...args, '--timeout', '1']);
    expect(late.status).toBe(1);
    const [first, counts, ...rest] = late.stdout.split('\n');
    expect(first).toBe(`draining TCP ${VIP4}:8083 -> ${server.v4}:8083: weight 0`);
    expect(counts).toMatch(/^1 active, 0 inactive, 0 persistent after 0\.\d s$/);
    expect(rest).toEqual(['']);
    expect(late.stderr).toBe(
      `ipvs drain: the drain of TCP ${VIP4}:8083 -> ${server.v4}:8083 timed out after 1000 ms: 1 entry remains ` +
        '(1 active, 0 inactive, 0 persistent); its weight was left at 0\n',
    );

    await held.close({ reset: true });
    const done = await ns.ipvs([...args, '--timeout', '40']);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    const lines = done.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`draining TCP ${VIP4}:8083 -> ${server.v4}:8083: weight 0`);
    expect(lines.slice(1, -1).at(-1)).toMatch(/^0 active, 0 inactive, 0 persistent after \d+\.\d s$/);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^removed TCP ${VIP4.replaceAll('.', '\\.')}:8083 -> ${server.v4}:8083 after \\d+\\.\\d s \\(its weight was 0\\)$`,
      ),
    );
    expect(savedLine('-t', 8083, server)).toBeUndefined();
  });

  it('a destination or service that does not exist: what editDestination says, nothing changed', async () => {
    await expectRefusal(lab, () => ipvs.drain(tcp, { address: '198.51.100.99' }), {
      op: 'editDestination',
      code: 'ENOENT',
      errno: 2,
      message: 'No such destination',
    });
    await expectRefusal(lab, () => ipvs.drain({ ...tcp, port: 9999 }, { address: '198.51.100.99' }), {
      op: 'editDestination',
      code: 'ESRCH',
      errno: 3,
      message: 'Service not defined',
    });
    const r = await ns.ipvs(['drain', '-t', `${VIP4}:9999`, '-r', '198.51.100.99']);
    expect(r).toEqual({
      stdout: '',
      stderr: `ipvs drain: TCP ${VIP4}:9999 -> 198.51.100.99:9999: Service not defined\n`,
      status: 1,
    });
    const usage = await ns.ipvs(['drain', '-t', `${VIP4}:8080`]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(
      /^ipvs drain: You need to supply the 'real-server' option for the 'drain' command\nUsage:/,
    );
  });
});

describe('apply with drain', () => {
  it('quiesces the destinations a plan removes, and deletes each once its connections are gone', async () => {
    const service = { protocol: 'tcp' as const, address: VIP4, port: 8084 };
    const dest = (s: RealServer) => ({ address: s.v4, forwarding: 'masq' as const });
    // onlyListed: the other tests' services stay.
    await ipvs.apply(
      { services: [{ ...service, scheduler: 'rr', destinations: topo.servers.map(dest) }] },
      { onlyListed: true },
    );
    const held = await topo.hold({ dst: VIP4, port: 8084 });
    const holder = serverOf(await held.send('hello'));
    const next = { services: [{ ...service, scheduler: 'wrr', destinations: [dest(other(holder))] }] };
    // Too short a wait: the held connection keeps its destination, at weight
    // 0, and apply says so; every other change is made.
    const error = await ipvs.apply(next, { onlyListed: true, drain: { timeout: 1500, interval: 200 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IpvsError);
    expect(error).toMatchObject({ op: 'apply', code: 'ETIMEDOUT' });
    expect((error as Error).message).toContain(`${holder.v4}:8084`);
    expect(savedLine('-t', 8084, holder)).toMatch(/ -m -w 0$/);
    expect(lab.saved()).toContain(`-A -t ${VIP4}:8084 -s wrr`);
    // Once it closes (a RST: 10 s in CLOSE), the same apply removes it.
    await held.close({ reset: true });
    const done = await ipvs.apply(next, { onlyListed: true, drain: { timeout: 60_000, interval: 200 } });
    expect(done.drift).toEqual([]);
    expect(savedLine('-t', 8084, holder)).toBeUndefined();
    expect(savedLine('-t', 8084, other(holder))).toBeDefined();
  }, 120_000);
});
