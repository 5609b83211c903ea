// Connection synchronisation with real traffic: a master daemon on the director
// and a backup daemon in another namespace, joined by a veth link that carries
// the multicast sync messages. Connections made through the master show up in
// the backup's connection table, bound to the backup's copy of the service.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

import { formatAddress, type Ipvs, type ServiceKey } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';
import { createTopology, syncLink, VIP4, VIP6, waitFor, type Topology } from './helpers/topology.js';

// Packets under emulation on a busy host: a test that takes 3 s alone has been
// seen to take 40 s. Every wait inside is bounded on its own.
vi.setConfig({ testTimeout: 150_000 });

let topo: Topology;
let backup: Lab;
const SYNC_ID = 7;

beforeAll(async () => {
  topo = await createTopology({ servers: 1, ports: [8080] });
  backup = await createLab();
  syncLink(topo.director, backup);
  await topo.director.ipvs.startDaemon({ state: 'master', interface: 'sync0', syncId: SYNC_ID });
  await backup.ipvs.startDaemon({ state: 'backup', interface: 'sync0', syncId: SYNC_ID });
}, 120_000);

afterAll(async () => {
  for (const ipvs of [topo?.director.ipvs, backup?.ipvs]) {
    for (const d of (await ipvs?.listDaemons()) ?? []) await ipvs!.stopDaemon(d.state);
  }
  await backup?.close();
  await topo?.close();
});

interface ProcConn {
  protocol: string;
  client: string;
  virtual: string;
  destination: string;
  state: string;
}

function endpoint(hexAddr: string, hexPort: string): string {
  const port = parseInt(hexPort, 16);
  if (!hexAddr.includes(':')) {
    const n = parseInt(hexAddr, 16);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}:${port}`;
  }
  const bytes = Uint8Array.from(Buffer.from(hexAddr.replaceAll(':', ''), 'hex'));
  return `[${formatAddress('inet6', bytes)}]:${port}`;
}

/** The backup's /proc/net/ip_vs_conn, read with `cat` in its namespace. */
function backupTable(): ProcConn[] {
  const text = backup.exec('cat', '/proc/net/ip_vs_conn');
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return {
        protocol: f[0]!,
        client: endpoint(f[1]!, f[2]!),
        virtual: endpoint(f[3]!, f[4]!),
        destination: endpoint(f[5]!, f[6]!),
        state: f[7]!,
      };
    });
}

async function sameService(key: ServiceKey, destination: string): Promise<void> {
  for (const ipvs of [topo.director.ipvs, backup.ipvs] as Ipvs[]) {
    await ipvs.addService({ ...key, scheduler: 'rr' });
    await ipvs.addDestination(key, { address: destination, forwarding: 'masq' });
  }
}

it('runs a master on the director and a backup in the other namespace', async () => {
  expect(await topo.director.ipvs.listDaemons()).toMatchObject([
    { state: 'master', interface: 'sync0', syncId: SYNC_ID },
  ]);
  expect(await backup.ipvs.listDaemons()).toMatchObject([{ state: 'backup', interface: 'sync0', syncId: SYNC_ID }]);
  expect(backup.ipvsadm('-L', '--daemon').stdout).toMatch(
    new RegExp(`^backup sync daemon \\(mcast=sync0, syncid=${SYNC_ID},`),
  );
});

it('TCP connections established through the master appear in the backup, active on its destination', async () => {
  const rs = topo.servers[0]!;
  const key = { protocol: 'tcp', address: VIP4, port: 8080 } as const;
  await sameService(key, rs.v4);
  const held = [
    await topo.hold({ dst: VIP4, port: 8080 }),
    await topo.hold({ dst: VIP4, port: 8080, src: topo.clientV4[1] }),
  ];
  try {
    // SYN, ACK and a data segment: the third packet reaches the default
    // sync_threshold (3), and the connection is sent to the backup.
    for (const h of held) expect(await h.send('hello')).toBe(rs.label);
    const wanted = held.map((h) => ({
      protocol: 'TCP',
      client: `${h.src}:${h.sport}`,
      virtual: `${VIP4}:8080`,
      destination: `${rs.v4}:8080`,
      state: 'ESTABLISHED',
    }));
    const synced = () => wanted.every((w) => backupTable().some((c) => JSON.stringify(c) === JSON.stringify(w)));
    expect(await waitFor(synced, 20, 500)).toBe(true);
    // Synced entries are bound to the backup's own destination, as active connections.
    expect((await backup.ipvs.listDestinations(key)).map((d) => [d.address, d.activeConnections])).toEqual([
      [rs.v4, 2],
    ]);
    // The library reads the backup's table as cat does.
    const listed = await backup.ipvs.listConnections({
      filter: { protocol: 'tcp', virtual: { address: VIP4, port: 8080 } },
    });
    for (const w of wanted) {
      expect(listed).toContainEqual(
        expect.objectContaining({
          protocol: 'tcp',
          client: expect.objectContaining({ address: w.client.split(':')[0], port: Number(w.client.split(':')[1]) }),
          destination: expect.objectContaining({ address: rs.v4, port: 8080 }),
          state: 'ESTABLISHED',
        }),
      );
    }
  } finally {
    for (const h of held) await h.close();
  }
});

it('IPv6 UDP entries are synced once the master syncs from the first packet (sync_threshold [1, 0])', async () => {
  const rs = topo.servers[0]!;
  const key = { protocol: 'udp', address: VIP6, port: 8080 } as const;
  await sameService(key, rs.v6);
  const before = await topo.director.ipvs.getSysctl('sync_threshold');
  // UDP entries see one packet each here, below the default threshold of 3.
  await topo.director.ipvs.setSysctl('sync_threshold', [1, 0]);
  try {
    const answers = await topo.request({ proto: 'udp', dst: VIP6, port: 8080, count: 4 });
    expect(answers).toEqual(Array(4).fill(rs.label));
    const synced = () =>
      backupTable().filter(
        (c) => c.protocol === 'UDP' && c.virtual === `[${VIP6}]:8080` && c.destination === `[${rs.v6}]:8080`,
      ).length === 4;
    expect(await waitFor(synced, 20, 500)).toBe(true);
    const [d] = await backup.ipvs.listDestinations(key);
    expect([d!.activeConnections, d!.inactiveConnections]).toEqual([0, 4]);
  } finally {
    await topo.director.ipvs.setSysctl('sync_threshold', before);
  }
});
