// The fault-injection library (test/faults/faults.c) against what runs on any
// host, IPVS or not: opening a client (the netlink socket, libnl's resolve of
// the family, the thread that enters a namespace), the legacy back-end's raw
// socket, the connection-table readers and counts (one slice, several, with
// and without read-ahead) over a file of the test's own standing in for the
// table, and the parser that runs on the main thread. Each case runs in a
// child node with the library preloaded and asserts: EINTR is retried (the
// call comes to what it comes to unfaulted), every other fault rejects with a
// coded error, nothing crashes, the next call works, and threads and
// descriptors go back to where they were. test/faults.kernel.test.ts does the
// same against the kernel, in the lab.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { expectEnomem, runChild, type Sweep } from './helpers/faults.js';
import { tempFiles } from './helpers/files.js';

describe('opening a client', () => {
  it('retries EINTR, rejects EMFILE, EIO, ENOBUFS, short sends, lost replies and each failed allocation coded, and leaks nothing', async () => {
    const r = await runChild<{
      baseline: string;
      faults: Record<string, string>;
      netns: Record<string, string>;
      sweeps: Record<string, Sweep>;
      after: string;
      leaks: number[][];
    }>(
      `
      // libuv's pool and the first open's one-time allocations, before counting.
      const opening = (extra = {}) => async () => { const c = await open({ modprobe: false, timeout: 500, ...extra }); await c.close(); };
      await outcome(opening());
      await settle();
      const base = [descriptors(), threads()];
      const baseline = await outcome(opening());
      const faults = {};
      for (const spec of ['socket:0:1:EMFILE', 'sendmsg:0:3:EINTR', 'recvmsg:0:3:EINTR', 'sendmsg:0:1:EIO',
                          'recvmsg:0:1:EIO', 'recvmsg:0:1:ENOBUFS', 'sendmsg:0:1:short', 'recvmsg:0:1:drop', 'recvmsg:0:1:short']) {
        fault(spec);
        faults[spec] = await outcome(opening());
        fault('');
      }
      // A namespace: the client's socket is made by a thread that enters it.
      const netns = {};
      const inNetns = opening({ netns: '/proc/self/ns/net' });
      netns.baseline = await outcome(inNetns);
      fault('pthread_create:0:1:EAGAIN');
      netns.EAGAIN = await outcome(inNetns);
      fault('');
      const sweeps = {
        new: await sweep('new', opening()),
        malloc: await sweep('malloc', opening()),
        netnsNew: await sweep('new', inNetns),
      };
      const after = await outcome(opening());
      await settle();
      return { baseline, faults, netns, sweeps, after, leaks: [base, [descriptors(), threads()]] };
    `,
      { faults: true },
    );
    // Without IPVS (this host): ENOPROTOOPT; with it: a client.
    expect(['ok', 'ENOPROTOOPT']).toContain(r.baseline);
    expect(r.faults).toEqual({
      'socket:0:1:EMFILE': 'EMFILE',
      'sendmsg:0:3:EINTR': r.baseline,
      'recvmsg:0:3:EINTR': r.baseline,
      'sendmsg:0:1:EIO': 'EIO',
      'recvmsg:0:1:EIO': 'EIO',
      'recvmsg:0:1:ENOBUFS': 'ENOBUFS',
      // The request never reached the kernel: no answer within the timeout.
      'sendmsg:0:1:short': 'ETIMEDOUT',
      'recvmsg:0:1:drop': 'ETIMEDOUT',
      // libnl peeks at each datagram and grows its buffer to fit.
      'recvmsg:0:1:short': r.baseline,
    });
    // Entering the namespace needs CAP_SYS_ADMIN; the thread comes first.
    expect(['ok', 'ENOPROTOOPT', 'EPERM']).toContain(r.netns.baseline);
    expect(r.netns.EAGAIN).toBe('EAGAIN');
    expectEnomem(r.sweeps.new!, 'ENOMEM', 'open new');
    expectEnomem(r.sweeps.malloc!, 'ENOMEM', 'open malloc');
    expectEnomem(r.sweeps.netnsNew!, 'ENOMEM', 'open in a namespace new');
    expect(r.after).toBe(r.baseline);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  });

  it('the legacy back-end: its raw socket rejects EMFILE, each failed allocation ENOMEM, and nothing leaks', async () => {
    const r = await runChild<{ baseline: string; emfile: string; sweep: Sweep; after: string; leaks: number[][] }>(
      `
      const opening = async () => { const c = await open({ backend: 'sockopt', modprobe: false }); await c.close(); };
      await outcome(opening);
      await settle();
      const base = [descriptors(), threads()];
      const baseline = await outcome(opening);
      fault('socket:0:1:EMFILE');
      const emfile = await outcome(opening);
      fault('');
      const swept = await sweep('new', opening);
      const after = await outcome(opening);
      await settle();
      return { baseline, emfile, sweep: swept, after, leaks: [base, [descriptors(), threads()]] };
    `,
      { faults: true },
    );
    // A raw socket needs CAP_NET_RAW; IPVS must answer its socket options.
    expect(['ok', 'ENOPROTOOPT', 'EPERM']).toContain(r.baseline);
    expect(r.emfile).toBe('EMFILE');
    expectEnomem(r.sweep, 'ENOMEM', 'legacy open new');
    expect(r.after).toBe(r.baseline);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  });
});

describe('the connection-table readers, over a file standing in for the table', () => {
  const { dir } = tempFiles('ipvs-faults-');
  const N = 5000;
  const table =
    'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n' +
    Array.from(
      { length: N },
      (_, i) =>
        `TCP CB0071${(i % 256).toString(16).toUpperCase().padStart(2, '0')} ${(i % 65536).toString(16).toUpperCase().padStart(4, '0')} C0000201 0050 C6336402 0050 ESTABLISHED ${String(i % 900).padStart(7)}\n`,
    ).join('');
  const path = join(dir, 'ip_vs_conn');
  writeFileSync(path, table);

  // What every case below runs in its child: the four kinds of read, as raw
  // calls of the addon (null socket: the file, no namespace).
  const READERS = `
    const { openSync, fstatSync } = await import('node:fs');
    const fd = openSync(process.env.TABLE, 'r');
    const size = fstatSync(fd).size;
    const plans = {
      single: { fd, bounds: [0], batchSize: 500, readSize: 16384, filter: null, prefetch: false },
      singleReadAhead: { fd, bounds: [0], batchSize: 500, readSize: 16384, filter: null, prefetch: true },
      parallel: { fd, bounds: [0, Math.floor(size / 3), Math.floor((2 * size) / 3)], batchSize: 500, readSize: 16384, filter: null, prefetch: false },
      parallelReadAhead: { fd, bounds: [0, Math.floor(size / 2)], batchSize: 500, readSize: 16384, filter: null, prefetch: true },
    };
    // Reads every batch (entries counted), or counts by state (entries summed).
    const drain = (plan) => async () => {
      const reader = addon.connectionBatches(null, plan);
      let n = 0;
      try { for (let b; (b = await reader.next()); ) n += b.length; } finally { reader.close(); }
      return n;
    };
    const count = (plan) => async () => (await addon.connectionStats(null, { ...plan, by: 'state' })).counts.reduce((a, b) => a + b, 0);
    // Its result, or what it came to.
    const result = async (call) => { try { return await call(); } catch (e) { return await outcome(() => Promise.reject(e)); } };
    // The reader threads end a moment after a failed read: wait for them.
    const quiet = async (base) => { for (let i = 0; i < 100 && threads() > base; i++) await sleep(20); };
  `;
  const env = () => ({ TABLE: path, IPVS_FAULT_DIR: dir });

  it('retries EINTR, survives short reads, and rejects EIO, EMFILE and threads that cannot start, coded', async () => {
    const r = await runChild<{ results: Record<string, Record<string, number | string>>; leaks: number[][] }>(
      `${READERS}
      for (const plan of Object.values(plans)) { await drain(plan)(); await count(plan)(); }
      await settle();
      const base = [descriptors(), threads()];
      const results = {};
      for (const [name, plan] of Object.entries(plans)) {
        for (const [kind, call] of [['read', drain(plan)], ['count', count(plan)]]) {
          const out = (results[name + ' ' + kind] = {});
          const specs = ['read:0:5:EINTR', 'read:0:1000000:short', 'read:3:1:EIO', 'openat:0:1:EMFILE', 'openat:1:1:EMFILE'];
          for (let k = 0; k < 6; k++) specs.push('pthread_create:' + k + ':1:EAGAIN');
          for (const spec of specs) {
            fault(spec);
            out[spec] = await result(call);
            fault('');
            await quiet(base[1]);
          }
          out.after = await result(call);
        }
      }
      await settle();
      return { results, leaks: [base, [descriptors(), threads()]] };
    `,
      { faults: true, env: env() },
    );
    for (const [name, out] of Object.entries(r.results)) {
      const slices = name.startsWith('parallel') ? 2 : 1;
      expect({ name, ...out }).toMatchObject({
        name,
        'read:0:5:EINTR': N,
        'read:0:1000000:short': N,
        'read:3:1:EIO': 'errno 5',
        'openat:0:1:EMFILE': 'errno 24',
        after: N,
      });
      // The second open is a later slice's (or nothing, with one slice).
      expect(out['openat:1:1:EMFILE']).toBe(slices > 1 ? 'errno 24' : N);
      // Each thread the call starts, in turn: the task's, the readers', the
      // read-ahead's; the ones past its last start change nothing.
      const threadOutcomes = Object.entries(out)
        .filter(([spec]) => spec.startsWith('pthread_create'))
        .map(([, o]) => o);
      expect(threadOutcomes[0]).toBe('errno 11');
      expect(threadOutcomes.every((o) => o === 'errno 11' || o === N)).toBe(true);
    }
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  });

  it('rejects each failed allocation of a read and a count with ENOMEM, and reads on afterwards', async () => {
    const r = await runChild<{ sweeps: Record<string, Sweep>; after: number[]; leaks: number[][] }>(
      `${READERS}
      for (const plan of Object.values(plans)) { await drain(plan)(); await count(plan)(); }
      await settle();
      const base = [descriptors(), threads()];
      const sweeps = {};
      for (const [name, plan] of Object.entries(plans)) {
        // Wrapped so that a sweep's 'ok' is the whole table.
        const whole = (call) => async () => { const n = await call(); if (n !== ${N}) throw new Error('read ' + n + ' entries'); };
        // Large batches: fewer allocations per read, so the sweep reaches its end.
        sweeps[name + ' read'] = await sweep('new', whole(drain({ ...plan, batchSize: 2500 })), { max: 1000 });
        await quiet(base[1]);
        sweeps[name + ' count'] = await sweep('new', whole(count(plan)));
        await quiet(base[1]);
      }
      const after = [await drain(plans.parallel)(), await count(plans.parallelReadAhead)()];
      await settle();
      return { sweeps, after, leaks: [base, [descriptors(), threads()]] };
    `,
      { faults: true, env: env(), timeout: 300_000 },
    );
    for (const [name, s] of Object.entries(r.sweeps)) {
      expect({ name, baseline: s.baseline }).toEqual({ name, baseline: 'ok' });
      expectEnomem(s, 'errno 12', name);
    }
    expect(r.after).toEqual([N, N]);
    expect(r.leaks[1]).toEqual(r.leaks[0]);
  }, 300_000);

  it('parses on the main thread: each failed allocation throws ENOMEM, and the next parse works', async () => {
    const r = await runChild<{ sweep: Sweep; after: number }>(
      `${READERS}
      const text = new Uint8Array(readFileSync(process.env.TABLE));
      const parse = () => { const n = addon.parseConnections(text, null).length; if (n !== ${N}) throw new Error('parsed ' + n); };
      parse();
      const swept = await sweep('new', parse);
      return { sweep: swept, after: addon.parseConnections(text, null).length };
    `,
      { faults: true, env: env() },
    );
    expect(r.sweep.baseline).toBe('ok');
    expectEnomem(r.sweep, 'errno 12', 'parseConnections');
    expect(r.after).toBe(N);
  });
});
