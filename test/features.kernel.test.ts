// Kernel features set through the library and read back through the library
// and through the real ipvsadm: every scheduler the kernel ships, the sip
// persistence engine, scheduler flags, tunnel types (IPIP, GUE, GRE, and IPv6
// real servers behind an IPv4 service) and thresholds.
import { existsSync, readdirSync } from 'node:fs';
import { release } from 'node:os';

import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';

import type { DestinationSpec, SchedulerFlag, Tunnel } from '../src/index.js';
import { parseList } from './helpers/ipvsadm.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
});
afterAll(async () => {
  await lab?.close();
});
beforeEach(async () => {
  await lab.ipvs.clear();
});

function saved(): string[] {
  const r = lab.ipvsadm('-Sn');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

const STANDARD = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
const MODULES = `/lib/modules/${release()}/kernel/net/netfilter/ipvs`;

/** Whether the kernel ships `ip_vs_NAME` as a module; undefined when there is no module tree to look in. */
function shipped(name: string): boolean | undefined {
  if (!existsSync(MODULES)) return undefined;
  return readdirSync(MODULES).some((f) => f.startsWith(`ip_vs_${name}.ko`));
}

it('uses every scheduler the kernel ships, and ipvsadm reads each back', async () => {
  for (const s of STANDARD) expect(shipped(s), `ip_vs_${s}`).not.toBe(false);
  const schedulers = [...STANDARD];
  // twos (random two choices) arrived in Linux 6.x; use it where the kernel has it.
  const twos = shipped('twos');
  if (twos !== false) schedulers.push('twos');
  const key = (i: number) => ({ protocol: 'tcp', address: '192.0.2.1', port: 1000 + i }) as const;
  for (const [i, scheduler] of schedulers.entries()) {
    if (scheduler === 'twos' && twos === undefined) {
      const r = await lab.ipvs.addService({ ...key(i), scheduler }).catch((e: { code?: string }) => e);
      if (r) {
        expect(r).toMatchObject({ code: 'ENOENT' });
        schedulers.pop();
      }
      continue;
    }
    await lab.ipvs.addService({ ...key(i), scheduler });
  }
  const listed = (await lab.ipvs.listServices()).map((s) => [s.port, s.scheduler]).sort();
  expect(listed).toEqual(schedulers.map((s, i) => [1000 + i, s]).sort());
  expect(saved().sort()).toEqual(schedulers.map((s, i) => `-A -t 192.0.2.1:${1000 + i} -s ${s}`).sort());
  if (twos === false) {
    await expect(lab.ipvs.addService({ ...key(99), scheduler: 'twos' })).rejects.toMatchObject({
      code: 'ENOENT',
      op: 'addService',
    });
    expect(await lab.ipvs.listServices()).toHaveLength(schedulers.length);
  }
});

it('persistence engine sip on a persistent UDP service', async () => {
  const v4 = { protocol: 'udp', address: '192.0.2.2', port: 5060 } as const;
  const v6 = { protocol: 'udp', address: '2001:db8::2', port: 5060 } as const;
  await lab.ipvs.addService({ ...v4, persistence: { timeout: 60 }, persistenceEngine: 'sip' });
  await lab.ipvs.addService({
    ...v6,
    scheduler: 'rr',
    persistence: { timeout: 300, netmask: 64 },
    persistenceEngine: 'sip',
  });
  expect(await lab.ipvs.getService(v4)).toMatchObject({
    persistenceEngine: 'sip',
    persistence: { timeout: 60, netmask: '255.255.255.255' },
  });
  expect(await lab.ipvs.getService(v6)).toMatchObject({
    persistenceEngine: 'sip',
    persistence: { timeout: 300, netmask: 64 },
  });
  expect(saved().sort()).toEqual(
    ['-A -u 192.0.2.2:5060 -s wlc -p 60 --pe sip', '-A -u [2001:db8::2]:5060 -s rr -p 300 -M 64 --pe sip'].sort(),
  );
  expect(
    parseList(lab.ipvsadm('-Ln').stdout)
      .map((s) => `${s.name} ${s.scheduler} ${s.rest}`)
      .sort(),
  ).toEqual(
    ['UDP  192.0.2.2:5060 wlc persistent 60 pe sip', 'UDP  [2001:db8::2]:5060 rr persistent 300 mask 64 pe sip'].sort(),
  );
  // Editing without the engine removes it, as ipvsadm -E does.
  await lab.ipvs.editService({ ...v4, persistence: { timeout: 60 } });
  expect((await lab.ipvs.getService(v4)).persistenceEngine).toBeUndefined();
});

it.each<[string, SchedulerFlag[], string]>([
  ['sh', ['sh-fallback', 'sh-port'], '-s sh -b sh-fallback,sh-port'],
  ['sh', ['sh-port'], '-s sh -b sh-port'],
  ['mh', ['mh-fallback', 'mh-port'], '-s mh -b mh-fallback,mh-port'],
  ['mh', ['mh-fallback'], '-s mh -b mh-fallback'],
  ['rr', ['flag-1', 'flag-2', 'flag-3'], '-s rr -b flag-1,flag-2,flag-3'],
  ['wlc', ['flag-3'], '-s wlc -b flag-3'],
])(
  'scheduler %s with flags %j reads back through the library and ipvsadm -Sn',
  async (scheduler, schedulerFlags, adm) => {
    const key = { protocol: 'tcp', address: '192.0.2.3', port: 80 } as const;
    await lab.ipvs.addService({ ...key, scheduler, schedulerFlags });
    expect(await lab.ipvs.getService(key)).toMatchObject({ scheduler, schedulerFlags });
    expect(saved()).toEqual([`-A -t 192.0.2.3:80 ${adm}`]);
    // Edit replaces the flags too.
    await lab.ipvs.editService({ ...key, scheduler });
    expect((await lab.ipvs.getService(key)).schedulerFlags).toEqual([]);
    expect(saved()).toEqual([`-A -t 192.0.2.3:80 -s ${scheduler}`]);
  },
);

const TUNNELS: { address: string; tunnel?: Tunnel; expected: Required<Tunnel>; save: string; info: string }[] = [
  {
    address: '198.51.100.1',
    expected: { type: 'ipip', port: 0, checksum: 'nocsum' },
    save: '--tun-type ipip',
    info: 'ipip',
  },
  {
    address: '198.51.100.2',
    tunnel: { type: 'gue', port: 6080 },
    expected: { type: 'gue', port: 6080, checksum: 'nocsum' },
    save: '--tun-type gue --tun-port 6080 --tun-nocsum',
    info: 'gue:6080:-c',
  },
  {
    address: '198.51.100.3',
    tunnel: { type: 'gue', port: 6081, checksum: 'csum' },
    expected: { type: 'gue', port: 6081, checksum: 'csum' },
    save: '--tun-type gue --tun-port 6081 --tun-csum',
    info: 'gue:6081:+c',
  },
  {
    address: '198.51.100.4',
    tunnel: { type: 'gue', port: 6082, checksum: 'remcsum' },
    expected: { type: 'gue', port: 6082, checksum: 'remcsum' },
    save: '--tun-type gue --tun-port 6082 --tun-remcsum',
    info: 'gue:6082:r+c',
  },
  {
    address: '198.51.100.5',
    tunnel: { type: 'gre' },
    expected: { type: 'gre', port: 0, checksum: 'nocsum' },
    save: '--tun-type gre --tun-nocsum',
    info: 'gre:-c',
  },
  {
    address: '198.51.100.6',
    tunnel: { type: 'gre', checksum: 'csum' },
    expected: { type: 'gre', port: 0, checksum: 'csum' },
    save: '--tun-type gre --tun-csum',
    info: 'gre:+c',
  },
  // IPv6 real servers behind an IPv4 service: the kernel allows mixed families for tunnels.
  {
    address: '2001:db8::10',
    tunnel: { type: 'ipip' },
    expected: { type: 'ipip', port: 0, checksum: 'nocsum' },
    save: '--tun-type ipip',
    info: 'ipip',
  },
  {
    address: '2001:db8::11',
    tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
    expected: { type: 'gue', port: 6080, checksum: 'csum' },
    save: '--tun-type gue --tun-port 6080 --tun-csum',
    info: 'gue:6080:+c',
  },
  {
    address: '2001:db8::12',
    tunnel: { type: 'gre', checksum: 'csum' },
    expected: { type: 'gre', port: 0, checksum: 'csum' },
    save: '--tun-type gre --tun-csum',
    info: 'gre:+c',
  },
];

it('tunnel types IPIP, GUE and GRE with their checksum options, IPv4 and IPv6 real servers, read back equal', async () => {
  const svc = { protocol: 'tcp', address: '192.0.2.7', port: 80 } as const;
  await lab.ipvs.addService({ ...svc, scheduler: 'rr' });
  for (const t of TUNNELS) {
    const spec: DestinationSpec = { address: t.address, forwarding: 'tunnel', weight: 2 };
    if (t.tunnel) spec.tunnel = t.tunnel;
    await lab.ipvs.addDestination(svc, spec);
  }
  const dests = await lab.ipvs.listDestinations(svc);
  const hostPort = (a: string) => (a.includes(':') ? `[${a}]:80` : `${a}:80`);
  expect(dests.map((d) => [d.address, d.family, d.port, d.forwarding, d.weight, d.tunnel]).sort()).toEqual(
    TUNNELS.map((t) => [t.address, t.address.includes(':') ? 'inet6' : 'inet', 80, 'tunnel', 2, t.expected]).sort(),
  );
  expect(
    saved()
      .filter((l) => l.startsWith('-a'))
      .sort(),
  ).toEqual(TUNNELS.map((t) => `-a -t 192.0.2.7:80 -r ${hostPort(t.address)} -i -w 2 ${t.save}`).sort());
  // `-Ln --tun-info`: address, Tunnel, the tunnel's summary, weight, active, inactive.
  const info = lab
    .ipvsadm('-Ln', '--tun-info')
    .stdout.split('\n')
    .filter((l) => l.startsWith('  -> ') && !l.includes('RemoteAddress'));
  expect(info.map((l) => l.slice(5).trim().split(/\s+/).join(' ')).sort()).toEqual(
    TUNNELS.map((t) => `${hostPort(t.address)} Tunnel ${t.info} 2 0 0`).sort(),
  );

  // Editing a destination changes its tunnel, read back the same way.
  await lab.ipvs.editDestination(svc, {
    address: '198.51.100.1',
    forwarding: 'tunnel',
    tunnel: { type: 'gre', checksum: 'csum' },
  });
  const edited = (await lab.ipvs.listDestinations(svc)).find((d) => d.address === '198.51.100.1')!;
  expect(edited.tunnel).toEqual({ type: 'gre', port: 0, checksum: 'csum' });
  expect(saved()).toContain('-a -t 192.0.2.7:80 -r 198.51.100.1:80 -i -w 1 --tun-type gre --tun-csum');
});

it('upper and lower thresholds read back through the library and ipvsadm -Ln --thresholds', async () => {
  const v4 = { protocol: 'tcp', address: '192.0.2.8', port: 80 } as const;
  const v6 = { protocol: 'udp', address: '2001:db8::8', port: 53 } as const;
  await lab.ipvs.addService(v4);
  await lab.ipvs.addService(v6);
  await lab.ipvs.addDestination(v4, {
    address: '198.51.100.1',
    forwarding: 'masq',
    upperThreshold: 100,
    lowerThreshold: 10,
  });
  await lab.ipvs.addDestination(v4, { address: '198.51.100.2', forwarding: 'masq', upperThreshold: 2147483647 });
  await lab.ipvs.addDestination(v4, {
    address: '2001:db8::20',
    forwarding: 'tunnel',
    upperThreshold: 50,
    lowerThreshold: 50,
  });
  await lab.ipvs.addDestination(v6, {
    address: '2001:db8::21',
    forwarding: 'route',
    upperThreshold: 7,
    lowerThreshold: 3,
  });
  const mine = [];
  for (const key of [v4, v6]) {
    for (const d of await lab.ipvs.listDestinations(key))
      mine.push(`${d.address} ${d.upperThreshold} ${d.lowerThreshold}`);
  }
  expect(mine.sort()).toEqual(
    ['198.51.100.1 100 10', '198.51.100.2 2147483647 0', '2001:db8::20 50 50', '2001:db8::21 7 3'].sort(),
  );
  const theirs = parseList(lab.ipvsadm('-Ln', '--thresholds').stdout).flatMap((s) =>
    s.destinations.map((d) => `${d.address} ${d.upperThreshold} ${d.lowerThreshold}`),
  );
  expect(theirs.sort()).toEqual(
    [
      '198.51.100.1:80 100 10',
      '198.51.100.2:80 2147483647 0',
      '[2001:db8::20]:80 50 50',
      '[2001:db8::21]:53 7 3',
    ].sort(),
  );
  // A lower threshold above the upper one is refused before anything is sent.
  await expect(
    lab.ipvs.editDestination(v4, { address: '198.51.100.1', forwarding: 'masq', upperThreshold: 5, lowerThreshold: 6 }),
  ).rejects.toThrow(RangeError);
  expect((await lab.ipvs.listDestinations(v4)).find((d) => d.address === '198.51.100.1')).toMatchObject({
    upperThreshold: 100,
    lowerThreshold: 10,
  });
});
