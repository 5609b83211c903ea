// The client itself: one socket serving concurrent calls, namespaces kept
// apart, closing, and the permission error for a caller without CAP_NET_ADMIN.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { open, type ServiceKey } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
let other: Lab;
beforeAll(async () => {
  lab = await createLab();
  other = await createLab();
});
afterAll(async () => {
  await lab?.close();
  await other?.close();
});

describe('one client, many calls', () => {
  it('serves 50 concurrent calls with the right results', async () => {
    await lab.ipvs.clear();
    const keys: ServiceKey[] = Array.from({ length: 50 }, (_, i) => ({
      protocol: 'tcp',
      address: `192.0.2.${i + 1}`,
      port: 1000 + i,
    }));
    await Promise.all(keys.map((k, i) => lab.ipvs.addService({ ...k, scheduler: i % 2 ? 'rr' : 'wlc' })));
    const got = await Promise.all(keys.map((k) => lab.ipvs.getService(k)));
    got.forEach((s, i) => {
      expect(s).toMatchObject({ address: `192.0.2.${i + 1}`, port: 1000 + i, scheduler: i % 2 ? 'rr' : 'wlc' });
    });
    // Mixed operations in flight at once, each answered in its own right.
    const results = await Promise.all([
      ...keys.slice(0, 25).map((k, i) => lab.ipvs.addDestination(k, { address: `198.51.100.${i + 1}`, weight: i })),
      ...keys.slice(0, 25).map((k) => lab.ipvs.listDestinations(k)),
      lab.ipvs.listServices(),
      lab.ipvs.info(),
    ]);
    expect(results).toHaveLength(52);
    const lists = await Promise.all(keys.slice(0, 25).map((k) => lab.ipvs.listDestinations(k)));
    lists.forEach((dests, i) => expect(dests.map((d) => [d.address, d.weight])).toEqual([[`198.51.100.${i + 1}`, i]]));
    expect(await lab.ipvs.listServices()).toHaveLength(50);
    expect(
      lab
        .ipvsadm('-Sn')
        .stdout.split('\n')
        .filter((l) => l.startsWith('-A')),
    ).toHaveLength(50);
  });

  it('a failing call does not disturb the calls around it', async () => {
    await lab.ipvs.clear();
    const key = { fwmark: 1 } as const;
    const outcomes = await Promise.allSettled([
      lab.ipvs.addService(key),
      lab.ipvs.addService(key),
      lab.ipvs.getService(key),
      lab.ipvs.deleteService({ fwmark: 2 }),
      lab.ipvs.listServices(),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'EEXIST' });
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'ESRCH' });
  });
});

describe('dumps larger than one netlink datagram', () => {
  it('lists 600 services and 400 destinations of one service completely', async () => {
    await lab.ipvs.clear();
    const keys = Array.from(
      { length: 600 },
      (_, i) => ({ protocol: 'udp', address: `192.0.2.${(i % 250) + 1}`, port: 2000 + i }) as const,
    );
    await Promise.all(keys.map((k) => lab.ipvs.addService(k)));
    const big = keys[0]!;
    await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        lab.ipvs.addDestination(big, {
          address: `198.51.${100 + (i >> 8)}.${i & 255}`,
          port: 1 + i,
          forwarding: 'masq',
        }),
      ),
    );
    const services = await lab.ipvs.listServices();
    expect(services.map((s) => `${s.address}:${s.port}`).sort()).toEqual(
      keys.map((k) => `${k.address}:${k.port}`).sort(),
    );
    const dests = await lab.ipvs.listDestinations(big);
    expect(new Set(dests.map((d) => `${d.address}:${d.port}`)).size).toBe(400);
    const adm = lab.ipvsadm('-Sn').stdout.split('\n');
    expect(adm.filter((l) => l.startsWith('-A'))).toHaveLength(600);
    expect(adm.filter((l) => l.startsWith('-a'))).toHaveLength(400);
    await lab.ipvs.clear();
  });
});

describe('network namespaces', () => {
  it('keeps two namespaces apart, each client in its own', async () => {
    await lab.ipvs.clear();
    await other.ipvs.clear();
    await lab.ipvs.addService({ fwmark: 11 });
    await other.ipvs.addService({ fwmark: 22 });
    expect((await lab.ipvs.listServices()).map((s) => s.fwmark)).toEqual([11]);
    expect((await other.ipvs.listServices()).map((s) => s.fwmark)).toEqual([22]);
    expect(lab.ipvsadm('-Sn').stdout).toBe('-A -f 11 -s wlc\n');
    expect(other.ipvsadm('-Sn').stdout).toBe('-A -f 22 -s wlc\n');
  });

  it('lists each service once while another namespace changes its table', async () => {
    // The kernel resumes a dump by its position in one table shared by every
    // namespace: services added meanwhile elsewhere can repeat one of ours.
    await lab.ipvs.clear();
    await other.ipvs.clear();
    const ours: ServiceKey[] = [{ fwmark: 7 }, { protocol: 'tcp', address: '192.0.2.7', port: 80 }, { fwmark: 8 }];
    for (const k of ours) await lab.ipvs.addService(k);
    let stop = false;
    const churn = (async () => {
      // Bounded: at most 40 rounds of 40 services added and deleted.
      for (let round = 0; round < 40 && !stop; round++) {
        const keys = Array.from(
          { length: 40 },
          (_, i) => ({ protocol: 'udp', address: `203.0.113.${i + 1}`, port: 53 }) as const,
        );
        await Promise.all(keys.map((k) => other.ipvs.addService(k)));
        await Promise.all(keys.map((k) => other.ipvs.deleteService(k)));
      }
    })();
    try {
      for (let i = 0; i < 150; i++) {
        const [listed, snap] = await Promise.all([lab.ipvs.listServices(), lab.ipvs.snapshot()]);
        expect(listed).toHaveLength(3);
        expect(snap.services).toHaveLength(3);
      }
    } finally {
      stop = true;
      await churn;
    }
  });

  it('fails clearly for a path that is not a namespace', async () => {
    await expect(open({ netns: '/nonexistent/netns' })).rejects.toMatchObject({ code: 'ENOENT', op: 'open' });
  });
});

describe('the two back-ends', () => {
  it('read the same IPv4 table identically, each seeing what the other wrote', async () => {
    await lab.ipvs.clear();
    const legacy = await open({ netns: lab.path, backend: 'sockopt' });
    try {
      const web = { protocol: 'tcp', address: '192.0.2.80', port: 80 } as const;
      await lab.ipvs.addService({ ...web, scheduler: 'wrr', persistence: { timeout: 99, netmask: '255.255.0.0' } });
      await legacy.addService({ fwmark: 42, scheduler: 'sh', schedulerFlags: ['sh-port'] });
      await legacy.addService({ protocol: 'udp', address: '192.0.2.53', port: 53, onePacket: true });
      await lab.ipvs.addDestination(web, {
        address: '198.51.100.1',
        forwarding: 'masq',
        weight: 3,
        upperThreshold: 50,
        lowerThreshold: 5,
      });
      await legacy.addDestination(web, { address: '198.51.100.2', port: 8080, forwarding: 'masq' });
      await legacy.addDestination({ fwmark: 42 }, { address: '198.51.100.3', forwarding: 'tunnel' });
      const byKey = (a: { fwmark?: number; port?: number }, b: { fwmark?: number; port?: number }) =>
        (a.fwmark ?? 0) - (b.fwmark ?? 0) || (a.port ?? 0) - (b.port ?? 0);
      const viaNetlink = (await lab.ipvs.listServices()).sort(byKey);
      const viaLegacy = (await legacy.listServices()).sort(byKey);
      expect(viaLegacy).toEqual(viaNetlink);
      expect(viaLegacy).toHaveLength(3);
      for (const svc of viaNetlink) {
        const sort = (x: { address: string }, y: { address: string }) => x.address.localeCompare(y.address);
        expect((await legacy.listDestinations(svc)).sort(sort)).toEqual(
          (await lab.ipvs.listDestinations(svc)).sort(sort),
        );
        expect(await legacy.getService(svc)).toEqual(await lab.ipvs.getService(svc));
      }
      expect(await legacy.info()).toEqual(await lab.ipvs.info());
      await legacy.setTimeouts({ tcp: 1234 });
      expect(await lab.ipvs.getTimeouts()).toEqual(await legacy.getTimeouts());
      await legacy.deleteService({ fwmark: 42 });
      expect((await lab.ipvs.listServices()).map((s) => s.fwmark)).toEqual([undefined, undefined]);
      await legacy.clear();
      expect(await lab.ipvs.listServices()).toEqual([]);
    } finally {
      await legacy.close();
    }
  });
});

describe('closing', () => {
  it('ends calls not yet answered at once (EBADF), then refuses new ones alike', async () => {
    const client = await open({ netns: lab.path });
    const pending = client.info();
    const closing = client.close();
    await expect(pending).rejects.toMatchObject({
      name: 'IpvsError',
      code: 'EBADF',
      op: 'info',
      message: 'this IPVS client is closed',
    });
    await closing;
    await expect(client.info()).rejects.toMatchObject({ code: 'EBADF', op: 'info' });
    await client.close();
  });

  it('closes with `await using`', async () => {
    let seen: string | undefined;
    {
      await using client = await open({ netns: lab.path });
      seen = (await client.info()).version;
    }
    expect(seen).toBe('1.2.1');
  });
});

describe('permissions', () => {
  it('says "you must be root" to a caller without CAP_NET_ADMIN, and changes nothing', () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { open } from ${JSON.stringify(entry)};
      const c = await open({});
      try { await c.addService({ fwmark: 1 }); console.log('added'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, op: e.op, message: e.message })); }
      await c.close();`;
    const before = spawnSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }).stdout;
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'IpvsError',
      code: 'EPERM',
      op: 'addService',
      message: 'Permission denied (you must be root)',
    });
    expect(spawnSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }).stdout).toBe(before);
  });
});
