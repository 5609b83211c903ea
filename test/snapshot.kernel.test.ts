// Snapshots against the real kernel: equal to the separate listings, the same
// with and without a socket pool, equal to what ipvsadm --stats --exact shows,
// and polling that stops by itself.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { rates, type ServiceKey } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
});
afterAll(async () => {
  await lab?.close();
});

/** What listServices + listDestinations give, in the snapshot's shape. */
async function listed() {
  const services = await lab.ipvs.listServices();
  return Promise.all(services.map(async (s) => ({ ...s, destinations: await lab.ipvs.listDestinations(s) })));
}

describe('snapshot', () => {
  it('of an empty table has no services', async () => {
    await lab.ipvs.clear();
    const p = await lab.ipvs.packedSnapshot();
    expect([p.serviceCount, p.destinationCount]).toEqual([0, 0]);
    expect((await lab.ipvs.snapshot()).services).toEqual([]);
  });

  it('equals the separate listings, with one socket and with a pool', async () => {
    await lab.ipvs.clear();
    const keys: ServiceKey[] = [];
    // Over the snapshot's pool threshold (256 services).
    for (let i = 0; i < 300; i++)
      keys.push({ protocol: i % 2 ? 'udp' : 'tcp', address: `192.0.2.${(i % 200) + 1}`, port: 1000 + i });
    keys.push({ fwmark: 7, family: 'inet6' }, { protocol: 'tcp', address: '2001:db8::1', port: 443 });
    await Promise.all(keys.map((k, i) => lab.ipvs.addService({ ...k, scheduler: i % 3 ? 'rr' : 'wlc' })));
    await Promise.all(
      keys.flatMap((k, i) =>
        Array.from({ length: i % 4 }, (_, j) =>
          lab.ipvs.addDestination(
            k,
            'fwmark' in k || k.address.includes(':')
              ? { address: `2001:db8:1::${j + 1}`, forwarding: 'masq', weight: j }
              : { address: `198.51.100.${j + 1}`, forwarding: 'masq', weight: j },
          ),
        ),
      ),
    );
    const expected = await listed();
    const single = await lab.ipvs.snapshot({ poolSize: 1 });
    const pooled = await lab.ipvs.snapshot({ poolSize: 4 });
    expect(single.services).toEqual(expected);
    expect(pooled.services).toEqual(expected);
    expect(pooled.takenAt).toBeGreaterThan(single.takenAt);
    const p = await lab.ipvs.packedSnapshot();
    expect(p.serviceCount).toBe(302);
    expect(p.destinationCount).toBe(expected.reduce((n, s) => n + s.destinations.length, 0));
  });

  it('agrees with ipvsadm -Ln --stats --exact, counters included', async () => {
    await lab.ipvs.clear();
    lab.exec('ip', 'link', 'add', 'vip0', 'type', 'dummy');
    lab.exec('ip', 'link', 'set', 'vip0', 'up');
    lab.exec('ip', 'addr', 'add', '192.0.2.1/32', 'dev', 'vip0');
    lab.exec('ip', 'route', 'add', '198.51.100.0/24', 'dev', 'vip0');
    const svc = { protocol: 'udp', address: '192.0.2.1', port: 53 } as const;
    await lab.ipvs.addService({ ...svc, scheduler: 'rr' });
    await lab.ipvs.addDestination(svc, { address: '198.51.100.1', forwarding: 'masq' });
    await lab.ipvs.addDestination(svc, { address: '198.51.100.2', forwarding: 'masq' });
    // 20 datagrams from 20 source ports of their own (a port used again, here or in the next
    // test, finds its earlier connection entry: two datagrams, one connection; a run once
    // counted 19): locally sent traffic passes IPVS too.
    lab.exec(
      'python3',
      '-c',
      "import socket\nopen_=[]\nfor i in range(20):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',21000+i)); s.sendto(b'x'*10,('192.0.2.1',53)); open_.append(s)",
    );
    await new Promise((r) => setTimeout(r, 2500)); // the estimator folds per-CPU counters in every 2 s
    const [s] = (await lab.ipvs.snapshot()).services;
    expect(s!.stats.conns).toBe(20n);
    const adm = lab.ipvsadm('-Ln', '--stats', '--exact').stdout.split('\n');
    const row = (prefix: string) =>
      adm
        .find((l) => l.startsWith(prefix))!
        .slice(prefix.length)
        .trim()
        .split(/\s+/)
        .map(BigInt);
    const fields = (x: {
      stats: { conns: bigint; inPackets: bigint; outPackets: bigint; inBytes: bigint; outBytes: bigint };
    }) => [x.stats.conns, x.stats.inPackets, x.stats.outPackets, x.stats.inBytes, x.stats.outBytes];
    expect(fields(s!)).toEqual(row('UDP  192.0.2.1:53'));
    for (const d of s!.destinations) expect(fields(d)).toEqual(row(`  -> ${d.address}:53`));
    expect(s!.destinations.map((d) => d.stats.conns)).toEqual([10n, 10n]);
  });

  it('gives client-side rates between two snapshots', async () => {
    const a = await lab.ipvs.packedSnapshot();
    lab.exec(
      'python3',
      '-c',
      "import socket\nopen_=[]\nfor i in range(10):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',21100+i)); s.sendto(b'x',('192.0.2.1',53)); open_.append(s)",
    );
    await new Promise((r) => setTimeout(r, 2500));
    const b = await lab.ipvs.packedSnapshot();
    const r = rates(a, b);
    const seconds = Number(b.takenAt - a.takenAt) / 1e9;
    expect(r[0]! * seconds).toBeCloseTo(10, 6); // the service's connections
    expect(r[5]! * seconds + r[10]! * seconds).toBeCloseTo(10, 6); // split over its two destinations
  });

  it('polls no faster than the interval, and ends when aborted from the loop', async () => {
    const controller = new AbortController();
    const taken: bigint[] = [];
    for await (const p of lab.ipvs.poll({ interval: 10, signal: controller.signal })) {
      taken.push(p.takenAt);
      if (taken.length === 20) controller.abort();
      if (taken.length > 21) throw new Error('polling went on after abort');
    }
    expect(taken).toHaveLength(20);
    // Snapshots start an interval apart (takenAt marks their ends, which vary with
    // the dump's duration), so 20 of them span at least about 19 intervals.
    expect(Number(taken[19]! - taken[0]!) / 1e6).toBeGreaterThan(19 * 10 - 10);
  });

  it('ends while waiting for the next tick when aborted', async () => {
    const controller = new AbortController();
    let ticks = 0;
    const done = (async () => {
      for await (const _ of lab.ipvs.poll({ interval: 3_600_000, signal: controller.signal })) ticks++;
    })();
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await done; // would hang for an hour if the wait ignored the signal
    expect(ticks).toBe(1);
  });

  it('is refused by the legacy back-end with a clear error', async () => {
    const { open } = await import('../src/index.js');
    const legacy = await open({ netns: lab.path, backend: 'sockopt' });
    await expect(legacy.snapshot()).rejects.toThrow(/snapshots need the netlink back-end/);
    await legacy.close();
  });
});
