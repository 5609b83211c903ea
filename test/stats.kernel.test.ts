// How the counters a service reports follow its traffic, on the kernel the lab
// booted. They lag on 6.1 and on 6.12 alike: the per-CPU counters are summed
// into what netlink reports only when the rate estimator visits the service,
// once every 2 s (6.1: a timer for all services at once; 6.2+: kthreads, one
// per namespace here, that spread the services over the 2 s). Tests that read
// counters after traffic wait for that with settle() (test/helpers/topology.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createLab, type Lab } from './helpers/netns.js';
import { settle } from './helpers/topology.js';

const [major, minor] = release().split(/[.-]/).map(Number) as [number, number];
const ESTIMATOR_KTHREADS = major > 6 || (major === 6 && minor >= 2);
// settle()'s default wait: one estimator period and a margin.
const SETTLE_MS = 2600;

/** A process's command name; '' when it ended meanwhile. */
function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return '';
  }
}

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
  lab.exec('ip', 'link', 'add', 'd0', 'type', 'dummy');
  lab.exec('ip', 'addr', 'add', '192.0.2.1/32', 'dev', 'd0');
  lab.exec('ip', 'link', 'set', 'd0', 'up');
  lab.exec('ip', 'route', 'add', '198.51.100.0/24', 'dev', 'd0');
});
afterAll(async () => {
  await lab?.close();
});

const service = { protocol: 'udp', address: '192.0.2.1', port: 53 } as const;

/**
 * `count` datagrams from as many sockets (connections) to the service, from
 * source ports `firstPort` and up. Each port once, in the whole test: a port
 * used again finds the connection entry its earlier datagram made (UDP
 * entries live 300 s, and zeroing the counters leaves them), and two
 * datagrams are one connection. Ports the kernel picked could collide so
 * across rounds (a CI run counted 19 of 20).
 */
function send(count: number, firstPort: number): void {
  lab.exec(
    'python3',
    '-c',
    `import socket\nopen_=[]\nfor i in range(${count}):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',${firstPort}+i)); s.sendto(b'x'*10,('192.0.2.1',53)); open_.append(s)`,
  );
}

it(`counters reach netlink within one estimator period after the traffic, on ${release()}`, async () => {
  await lab.ipvs.addService({ ...service, scheduler: 'rr' });
  await lab.ipvs.addDestination(service, { address: '198.51.100.1', forwarding: 'masq' });
  const lags: number[] = [];
  for (let round = 0; round < 3; round++) {
    await lab.ipvs.zero();
    send(20, 21000 + 100 * round);
    const start = performance.now();
    while ((await lab.ipvs.getService(service)).stats.conns !== 20n && performance.now() - start < 3 * SETTLE_MS) {
      await new Promise((r) => setTimeout(r, 50));
    }
    lags.push(Math.round(performance.now() - start));
    expect((await lab.ipvs.getService(service)).stats.conns).toBe(20n);
    // Unaligned with the estimator's period from one round to the next.
    await new Promise((r) => setTimeout(r, 700 * round));
  }
  console.log(`${release()}: counters folded in after ${lags.join(', ')} ms`);
  for (const lag of lags) expect(lag).toBeLessThanOrEqual(SETTLE_MS);
  // Once folded in, they stay: the next visit does not count the traffic again.
  await settle();
  expect((await lab.ipvs.getService(service)).stats.conns).toBe(20n);
  expect((await lab.ipvs.listDestinations(service))[0]!.stats.conns).toBe(20n);
});

it(`the estimator runs as ${ESTIMATOR_KTHREADS ? 'kthreads (6.2+)' : 'a timer, without kthreads (before 6.2)'} on ${release()}`, () => {
  // 6.2+ names its kthreads ipvs-e:<namespace>:<n>; this namespace has a service, so at least one runs.
  // From /proc, not ps: ps never ends with AddressSanitizer preloaded (scripts/sanitize --kernel).
  const kthreads = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .map((pid) => readComm(pid))
    .filter((c) => c.startsWith('ipvs-e:'));
  if (ESTIMATOR_KTHREADS) expect(kthreads.length).toBeGreaterThan(0);
  else expect(kthreads).toEqual([]);
});
