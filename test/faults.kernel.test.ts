// The fault-injection library (test/faults/faults.c) against the kernel, one
// child node per class of native entry point: the doit commands (add, edit,
// delete) and the dumps (list), the snapshot with its pool of sockets, the
// connection-table readers (one slice and several) and counts, the procfs and
// sysctl files, and the legacy socket-option back-end. Each asserts: EINTR is
// retried (the call succeeds), every other fault rejects with a coded
// IpvsError, a short transfer is either completed or rejected, every
// allocation made on the addon's behalf failing in turn rejects ENOMEM,
// nothing crashes, the client goes on working, and threads and descriptors
// go back to where they were. test/faults.test.ts does what runs without a
// kernel, on any host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectEnomem, runChild, type Sweep } from './helpers/faults.js';
import { createLab, type Lab } from './helpers/netns.js';
import { flood, prepare } from './helpers/traffic.js';

const SERVICES = 260; // over the snapshot's pool threshold (256)
const CONNECTIONS = 3000;

describe('faults against the kernel (child processes)', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab();
    await prepare(lab, ['192.0.2.1']);
    for (let i = 0; i < SERVICES; i++) {
      const service = { protocol: 'tcp', address: '192.0.2.1', port: 1000 + i } as const;
      await lab.ipvs.addService(service);
      await lab.ipvs.addDestination(service, { address: '198.51.100.1', forwarding: 'masq' });
    }
    const udp = { protocol: 'udp', address: '192.0.2.1', port: 53 } as const;
    await lab.ipvs.addService(udp);
    await lab.ipvs.addDestination(udp, { address: '198.51.100.2', forwarding: 'masq' });
    await flood(lab, '203.0.113.30', 1024, '192.0.2.1', 53, CONNECTIONS);
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
  });

  const env = () => ({ NETNS: lab.path });
  // Counts before and after, in the child: [descriptors, threads].
  const LEAKS = `
    const counts = () => [descriptors(), threads()];
    // Threads of a failed read end a moment after it rejects.
    const quiet = async (base) => { for (let i = 0; i < 100 && threads() > base[1]; i++) await sleep(20); };
  `;

  it('doit commands and dumps: EINTR retried; EIO, ENOBUFS, short sends and truncated dumps coded; every allocation failing in turn ENOMEM', async () => {
    const r = await runChild<{
      faults: Record<string, Record<string, string>>;
      sweeps: Record<string, Sweep>;
      after: number;
      leaks: number[][];
    }>(
      `${LEAKS}
      const ipvs = await open({ netns: process.env.NETNS, timeout: 2000 });
      const svc = { protocol: 'tcp', address: '192.0.2.50', port: 8080 };
      const present = async () => { await ipvs.addService({ ...svc, scheduler: 'rr' }).catch(() => {}); };
      const absent = async () => { await ipvs.deleteService(svc).catch(() => {}); };
      // Each operation with what puts the table where it can succeed.
      const ops = {
        addService: [absent, () => ipvs.addService({ ...svc, scheduler: 'rr' })],
        editService: [present, () => ipvs.editService({ ...svc, scheduler: 'wrr' })],
        addDestination: [async () => { await present(); await ipvs.deleteDestination(svc, { address: '198.51.100.9' }).catch(() => {}); },
                         () => ipvs.addDestination(svc, { address: '198.51.100.9', forwarding: 'masq' })],
        deleteService: [present, () => ipvs.deleteService(svc)],
        info: [async () => {}, () => ipvs.info()],
        listServices: [absent, async () => { const n = (await ipvs.listServices()).length; if (n !== ${SERVICES + 1}) throw new Error('listed ' + n); }],
        listDestinations: [async () => {}, () => ipvs.listDestinations({ protocol: 'tcp', address: '192.0.2.1', port: 1000 })],
      };
      for (const [setup, call] of Object.values(ops)) { await setup(); await call(); }
      await settle();
      const base = counts();
      const specs = ['sendto:0:3:EINTR', 'recvmmsg:0:3:EINTR', 'sendto:0:1:EIO', 'sendto:0:1:ENOBUFS', 'sendto:0:1:short',
                     'recvmmsg:0:1:EIO', 'recvmmsg:0:1:ENOBUFS', 'recvmmsg:0:1:short', 'recvmmsg:0:1:stall'];
      const faults = {};
      for (const [name, [setup, call]] of Object.entries(ops)) {
        faults[name] = {};
        for (const spec of specs) {
          await setup();
          fault(spec);
          faults[name][spec] = await outcome(call);
          fault('');
          // The client works at once after each (a broken socket is replaced).
          faults[name][spec + ' then'] = await outcome(() => ipvs.info());
        }
      }
      const sweeps = {};
      for (const [name, [setup, call]] of Object.entries(ops)) {
        sweeps[name + ' new'] = await sweep('new', call, { setup });
        sweeps[name + ' malloc'] = await sweep('malloc', call, { setup });
      }
      await absent();
      const after = (await ipvs.listServices()).length;
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { faults, sweeps, after, leaks };
    `,
      { faults: true, env: env(), timeout: 600_000 },
    );
    for (const [name, out] of Object.entries(r.faults)) {
      const dump = name.startsWith('list');
      expect({ name, ...out }).toEqual({
        name,
        'sendto:0:3:EINTR': 'ok',
        'recvmmsg:0:3:EINTR': 'ok',
        'sendto:0:1:EIO': 'EIO',
        'sendto:0:1:ENOBUFS': 'ENOBUFS',
        // Half a datagram claimed sent: the request is refused, not half-sent.
        'sendto:0:1:short': 'EIO',
        'recvmmsg:0:1:EIO': 'EIO',
        'recvmmsg:0:1:ENOBUFS': 'ENOBUFS',
        // An ACK fits half the buffer; a dump's page-sized datagrams do not.
        'recvmmsg:0:1:short': dump && name !== 'listDestinations' ? 'EMSGSIZE' : 'ok',
        'recvmmsg:0:1:stall': 'ok',
        ...Object.fromEntries(
          [
            'sendto:0:3:EINTR',
            'recvmmsg:0:3:EINTR',
            'sendto:0:1:EIO',
            'sendto:0:1:ENOBUFS',
            'sendto:0:1:short',
            'recvmmsg:0:1:EIO',
            'recvmmsg:0:1:ENOBUFS',
            'recvmmsg:0:1:short',
            'recvmmsg:0:1:stall',
          ].map((spec) => [`${spec} then`, 'ok']),
        ),
      });
    }
    for (const [name, sweep] of Object.entries(r.sweeps)) {
      expect({ name, baseline: sweep.baseline }).toEqual({ name, baseline: 'ok' });
      // libnl is not called for every operation (a dump's decoding is ours).
      if (name.endsWith('malloc') && sweep.failed.length === 0) continue;
      expectEnomem(sweep, 'ENOMEM', name);
    }
    expect(r.after).toBe(SERVICES + 1);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 600_000);

  it('snapshots with a pool of sockets: sockets, threads, receives and allocations that fail reject coded; the next snapshot is whole', async () => {
    const r = await runChild<{
      faults: Record<string, string>;
      sweeps: Record<string, Sweep>;
      after: number;
      leaks: number[][];
    }>(
      `${LEAKS}
      const ipvs = await open({ netns: process.env.NETNS, timeout: 2000 });
      const snap = async () => { const n = (await ipvs.packedSnapshot({ poolSize: 4 })).serviceCount; if (n !== ${SERVICES + 1}) throw new Error('snapshot of ' + n); };
      const faults = {};
      // The pool's siblings are opened by the first snapshot that needs them.
      fault('socket:1:1:EMFILE');
      faults['socket:1:1:EMFILE'] = await outcome(snap);
      fault('');
      await snap();
      await settle();
      const base = counts();
      const specs = ['recvmmsg:0:20:EINTR', 'sendto:0:20:EINTR', 'recvmmsg:30:1:EIO', 'sendto:30:1:ENOBUFS', 'recvmmsg:0:1:short'];
      for (let k = 0; k < 6; k++) specs.push('pthread_create:' + k + ':1:EAGAIN');
      for (const spec of specs) {
        fault(spec);
        faults[spec] = await outcome(snap);
        fault('');
        await quiet(base);
        faults[spec + ' then'] = await outcome(snap);
      }
      const sweeps = {
        'packedSnapshot new': await sweep('new', snap, { max: 2000 }),
        'snapshot new': await sweep('new', async () => { const n = (await ipvs.snapshot({ poolSize: 4 })).services.length; if (n !== ${SERVICES + 1}) throw new Error('snapshot of ' + n); }, { max: 2000 }),
      };
      await quiet(base);
      const after = (await ipvs.packedSnapshot({ poolSize: 4 })).serviceCount;
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { faults, sweeps, after, leaks };
    `,
      { faults: true, env: env(), timeout: 600_000 },
    );
    const thens = Object.entries(r.faults).filter(([spec]) => spec.endsWith(' then'));
    expect(thens.every(([, o]) => o === 'ok')).toBe(true);
    expect(r.faults).toMatchObject({
      'socket:1:1:EMFILE': 'EMFILE',
      'recvmmsg:0:20:EINTR': 'ok',
      'sendto:0:20:EINTR': 'ok',
      'recvmmsg:30:1:EIO': 'EIO',
      'sendto:30:1:ENOBUFS': 'ENOBUFS',
      'recvmmsg:0:1:short': 'EMSGSIZE',
      // The snapshot's own thread, then its pool's.
      'pthread_create:0:1:EAGAIN': 'EAGAIN',
      'pthread_create:1:1:EAGAIN': 'EAGAIN',
    });
    for (let k = 2; k < 6; k++) expect(['EAGAIN', 'ok']).toContain(r.faults[`pthread_create:${k}:1:EAGAIN`]);
    for (const [name, sweep] of Object.entries(r.sweeps)) {
      expect({ name, baseline: sweep.baseline }).toEqual({ name, baseline: 'ok' });
      expectEnomem(sweep, 'ENOMEM', name);
    }
    expect(r.after).toBe(SERVICES + 1);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 600_000);

  it('apply: pipelined changes under faults: EINTR retried; a send or an answer that fails or is lost rejects coded with the table restored; each allocation failing in turn too', async () => {
    const r = await runChild<{
      faults: Record<string, string>;
      tables: Record<string, string>;
      sweep: Sweep;
      sweepTables: string[];
      leaks: number[][];
    }>(
      `${LEAKS}
      const ipvs = await open({ netns: process.env.NETNS, timeout: 2000 });
      const web = (i) => ({ protocol: 'tcp', address: '192.0.2.60', port: 2000 + i });
      // 20 services of 9 destinations: 200 requests, 4 datagrams of 64 and the rest.
      const state = { services: Array.from({ length: 20 }, (_, i) => ({ ...web(i), scheduler: 'rr',
        destinations: Array.from({ length: 9 }, (_, j) => ({ address: '198.51.100.' + (j + 10), forwarding: 'masq' })) })) };
      const ours = async () => (await ipvs.export()).services.filter((s) => s.address === '192.0.2.60').length;
      const empty = async () => { for (let i = 0; i < 20; i++) await ipvs.deleteService(web(i)).catch(() => {}); };
      // 'none' (as before), 'all' (as asked), or how many of ours are there.
      const table = async () => { const n = await ours(); return n === 0 ? 'none' : n === 20 ? 'all' : String(n); };
      let plan;
      // The plan is made unfaulted: the faults count the apply's own calls.
      // Each setup first notes what the call before it left, once the sweep has begun.
      const sweepTables = [];
      let noting = false;
      const setup = async () => {
        if (noting) sweepTables.push(await table());
        await empty();
        plan = await ipvs.plan(state, { onlyListed: true });
      };
      const call = () => ipvs.apply(plan);
      await setup(); await call(); await setup();
      await settle();
      const base = counts();
      const specs = ['sendto:0:2:EINTR', 'recvmmsg:0:2:EINTR', 'sendto:2:1:EIO', 'sendto:1:1:ENOBUFS', 'sendto:1:1:short',
                     'recvmmsg:1:1:EIO', 'recvmmsg:1:1:ENOBUFS', 'recvmmsg:1:1:drop'];
      const faults = {};
      const tables = {};
      for (const spec of specs) {
        await setup();
        fault(spec);
        faults[spec] = await outcome(call);
        fault('');
        tables[spec] = await table();
        faults[spec + ' then'] = await outcome(async () => { await setup(); await call(); });
      }
      noting = true;
      const sweepResult = await sweep('new', call, { setup, max: 3000, step: 7 });
      sweepTables.push(await table());
      await empty();
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { faults, tables, sweep: sweepResult, sweepTables, leaks };
    `,
      { faults: true, env: env(), timeout: 600_000 },
    );
    expect(r.faults).toEqual({
      'sendto:0:2:EINTR': 'ok',
      'recvmmsg:0:2:EINTR': 'ok',
      'sendto:2:1:EIO': 'EIO',
      'sendto:1:1:ENOBUFS': 'ENOBUFS',
      'sendto:1:1:short': 'EIO',
      'recvmmsg:1:1:EIO': 'EIO',
      'recvmmsg:1:1:ENOBUFS': 'ENOBUFS',
      // An answer lost: the client's deadline passes.
      'recvmmsg:1:1:drop': 'ETIMEDOUT',
      ...Object.fromEntries(
        [
          'sendto:0:2:EINTR',
          'recvmmsg:0:2:EINTR',
          'sendto:2:1:EIO',
          'sendto:1:1:ENOBUFS',
          'sendto:1:1:short',
          'recvmmsg:1:1:EIO',
          'recvmmsg:1:1:ENOBUFS',
          'recvmmsg:1:1:drop',
        ].map((spec) => [`${spec} then`, 'ok']),
      ),
    });
    // Each refusal undid every change made, even those whose answers were lost.
    expect(r.tables).toEqual({
      'sendto:0:2:EINTR': 'all',
      'recvmmsg:0:2:EINTR': 'all',
      'sendto:2:1:EIO': 'none',
      'sendto:1:1:ENOBUFS': 'none',
      'sendto:1:1:short': 'none',
      'recvmmsg:1:1:EIO': 'none',
      'recvmmsg:1:1:ENOBUFS': 'none',
      'recvmmsg:1:1:drop': 'none',
    });
    expect(r.sweep.baseline).toBe('ok');
    expectEnomem(r.sweep, 'ENOMEM', 'apply new');
    // All or nothing, whichever allocation failed (a failed read-back leaves everything made).
    expect(r.sweepTables.every((t) => t === 'none' || t === 'all')).toBe(true);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 600_000);

  it('connection reads and counts, one slice and two: EINTR and short reads read it all; EIO, EMFILE, EAGAIN and ENOMEM reject coded', async () => {
    const r = await runChild<{
      results: Record<string, Record<string, string | number>>;
      sweeps: Record<string, Sweep>;
      leaks: number[][];
    }>(
      `${LEAKS}
      const ipvs = await open({ netns: process.env.NETNS, timeout: 2000 });
      const readers = {
        single: async () => (await ipvs.listConnections({ parallel: 1 })).length,
        parallel: async () => (await ipvs.listConnections({ parallel: 2 })).length,
        batches: async () => { let n = 0; for await (const b of ipvs.connectionBatches({ parallel: 2, batchSize: 500 })) n += b.length; return n; },
        count: async () => (await ipvs.connectionStats({ by: 'state', parallel: 2 })).reduce((a, s) => a + s.count, 0),
      };
      const result = async (call) => { try { return await call(); } catch (e) { return await outcome(() => Promise.reject(e)); } };
      for (const call of Object.values(readers)) await call();
      await settle();
      const base = counts();
      const results = {};
      for (const [name, call] of Object.entries(readers)) {
        const out = (results[name] = { baseline: await call() });
        const specs = ['read:0:5:EINTR', 'read:0:1000000:short', 'read:2:1:EIO', 'openat:0:1:EMFILE'];
        for (let k = 0; k < 8; k++) specs.push('pthread_create:' + k + ':1:EAGAIN');
        for (const spec of specs) {
          fault(spec);
          out[spec] = await result(call);
          fault('');
          await quiet(base);
        }
        out.after = await call();
      }
      const sweeps = {};
      for (const [name, call] of Object.entries(readers)) {
        const whole = async () => { const n = await call(); if (n !== results[name].baseline) throw new Error('read ' + n); };
        sweeps[name + ' new'] = await sweep('new', whole, { max: 3000 });
        await quiet(base);
      }
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { results, sweeps, leaks };
    `,
      { faults: true, env: env(), timeout: 900_000 },
    );
    for (const [name, out] of Object.entries(r.results)) {
      const n = out.baseline as number;
      expect(n).toBeGreaterThanOrEqual(CONNECTIONS);
      expect({ name, ...out }).toMatchObject({
        name,
        'read:0:5:EINTR': n,
        'read:0:1000000:short': n,
        'read:2:1:EIO': 'EIO',
        'openat:0:1:EMFILE': 'EMFILE',
        after: n,
      });
      const threads = Object.entries(out)
        .filter(([spec]) => spec.startsWith('pthread_create'))
        .map(([, o]) => o);
      expect(threads).toContain('EAGAIN');
      expect(threads.every((o) => o === 'EAGAIN' || o === n)).toBe(true);
    }
    for (const [name, sweep] of Object.entries(r.sweeps)) {
      expect({ name, baseline: sweep.baseline }).toEqual({ name, baseline: 'ok' });
      expectEnomem(sweep, 'ENOMEM', name);
    }
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 900_000);

  it('procfs and sysctl files: EINTR and short reads retried, a short sysctl write refused, EIO, EMFILE, EAGAIN and ENOMEM coded', async () => {
    const r = await runChild<{
      faults: Record<string, string>;
      sweeps: Record<string, Sweep>;
      after: unknown[];
      leaks: number[][];
    }>(
      `${LEAKS}
      const ipvs = await open({ netns: process.env.NETNS, timeout: 2000 });
      const original = await ipvs.getSysctl('amemthresh');
      const ops = {
        getSysctl: () => ipvs.getSysctl('amemthresh'),
        setSysctl: () => ipvs.setSysctl('amemthresh', 2048),
        listSysctls: () => ipvs.listSysctls(),
        totals: () => ipvs.totals(),
      };
      for (const call of Object.values(ops)) await call();
      await settle();
      const base = counts();
      const faults = {};
      const specs = {
        getSysctl: ['read:0:3:EINTR', 'read:0:100:short', 'read:0:1:EIO', 'openat:0:1:EMFILE', 'pthread_create:0:1:EAGAIN'],
        setSysctl: ['write:0:3:EINTR', 'write:0:1:short', 'write:0:1:EIO', 'openat:0:1:EMFILE', 'pthread_create:0:1:EAGAIN'],
        listSysctls: ['read:0:10:EINTR', 'read:0:100:short', 'read:3:1:EIO', 'openat:2:1:EMFILE'],
        totals: ['read:0:3:EINTR', 'read:0:100:short', 'read:0:1:EIO', 'openat:0:1:EMFILE'],
      };
      for (const [name, call] of Object.entries(ops)) {
        for (const spec of specs[name]) {
          fault(spec);
          faults[name + ' ' + spec] = await outcome(call);
          fault('');
        }
      }
      const sweeps = {};
      for (const [name, call] of Object.entries(ops)) sweeps[name + ' new'] = await sweep('new', call);
      const after = [await ipvs.getSysctl('amemthresh'), (await ipvs.totals()) !== null];
      await ipvs.setSysctl('amemthresh', original);
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { faults, sweeps, after, leaks };
    `,
      { faults: true, env: env(), timeout: 600_000 },
    );
    expect(r.faults).toEqual({
      'getSysctl read:0:3:EINTR': 'ok',
      'getSysctl read:0:100:short': 'ok',
      'getSysctl read:0:1:EIO': 'EIO',
      'getSysctl openat:0:1:EMFILE': 'EMFILE',
      'getSysctl pthread_create:0:1:EAGAIN': 'EAGAIN',
      'setSysctl write:0:3:EINTR': 'ok',
      // A sysctl parses the one write it gets: half a value is refused.
      'setSysctl write:0:1:short': 'EIO',
      'setSysctl write:0:1:EIO': 'EIO',
      'setSysctl openat:0:1:EMFILE': 'EMFILE',
      'setSysctl pthread_create:0:1:EAGAIN': 'EAGAIN',
      'listSysctls read:0:10:EINTR': 'ok',
      'listSysctls read:0:100:short': 'ok',
      'listSysctls read:3:1:EIO': 'EIO',
      'listSysctls openat:2:1:EMFILE': 'EMFILE',
      'totals read:0:3:EINTR': 'ok',
      'totals read:0:100:short': 'ok',
      'totals read:0:1:EIO': 'EIO',
      'totals openat:0:1:EMFILE': 'EMFILE',
    });
    for (const [name, sweep] of Object.entries(r.sweeps)) {
      expect({ name, baseline: sweep.baseline }).toEqual({ name, baseline: 'ok' });
      expectEnomem(sweep, 'ENOMEM', name);
    }
    expect(r.after).toEqual([2048, true]);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 600_000);

  it('the legacy socket-option back-end: EMFILE at open, each failed allocation of its commands ENOMEM, and it goes on working', async () => {
    const r = await runChild<{ emfile: string; sweeps: Record<string, Sweep>; after: number; leaks: number[][] }>(
      `${LEAKS}
      const opening = () => open({ backend: 'sockopt', netns: process.env.NETNS });
      fault('socket:0:1:EMFILE');
      const emfile = await outcome(opening);
      fault('');
      const ipvs = await opening();
      const svc = { protocol: 'tcp', address: '192.0.2.60', port: 8080 };
      const present = async () => { await ipvs.addService({ ...svc, scheduler: 'rr' }).catch(() => {}); };
      const absent = async () => { await ipvs.deleteService(svc).catch(() => {}); };
      await present();
      await absent();
      await settle();
      const base = counts();
      const sweeps = {
        'addService new': await sweep('new', () => ipvs.addService({ ...svc, scheduler: 'rr' }), { setup: absent }),
        'editService new': await sweep('new', () => ipvs.editService({ ...svc, scheduler: 'wrr' }), { setup: present }),
        'deleteService new': await sweep('new', () => ipvs.deleteService(svc), { setup: present }),
        'listServices new': await sweep('new', () => ipvs.listServices(), { setup: absent }),
        'info new': await sweep('new', () => ipvs.info()),
      };
      const after = (await ipvs.listServices()).length;
      await settle();
      const leaks = [base, counts()];
      await ipvs.close();
      return { emfile, sweeps, after, leaks };
    `,
      { faults: true, env: env(), timeout: 600_000 },
    );
    expect(r.emfile).toBe('EMFILE');
    for (const [name, sweep] of Object.entries(r.sweeps)) {
      expect({ name, baseline: sweep.baseline }).toEqual({ name, baseline: 'ok' });
      expectEnomem(sweep, 'ENOMEM', name);
    }
    expect(r.after).toBe(SERVICES + 1);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 600_000);
});
