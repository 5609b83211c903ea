// What the library does to the process that hosts it, without a kernel: long
// reads hold none of libuv's threads, concurrent next() calls are answered in
// order, readers hold a bounded amount of memory, and threads and descriptors
// go back to where they were. Readers here read files (and FIFOs, which block
// a reader for as long as the test wants) through the addon's own threads.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
  constants as fsConstants,
} from 'node:fs';
import { pbkdf2 } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { addonPath, native, type RawConnectionRead } from '../src/native.js';
import { tempFiles } from './helpers/files.js';

const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
const lines = (n: number) =>
  HEADER +
  Array.from(
    { length: n },
    (_, i) =>
      `UDP CB0071${(i % 256).toString(16).toUpperCase().padStart(2, '0')} ${(i % 65536).toString(16).toUpperCase().padStart(4, '0')} C0000201 0035 C6336402 0035 UDP         ${String(i % 300).padStart(7)}\n`,
  ).join('');

const { dir, file, keep, close } = tempFiles('ipvs-embedding-');

/** A FIFO opened for reading and writing: a reader of it waits until the test writes. */
function fifo(name: string): number {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return keep(openSync(path, fsConstants.O_RDWR));
}

const read = (fd: number, bounds = [0]): RawConnectionRead => ({
  fd,
  bounds,
  batchSize: 4096,
  readSize: 16384,
  filter: null,
});
const pbkdf2Async = promisify(pbkdf2);
const descriptors = () => readdirSync('/proc/self/fd').length;

describe('long reads and the libuv pool', () => {
  it('six reads waiting for data and six counts in flight leave fs and crypto answering at once', async () => {
    const hostWork = () =>
      Promise.all([readFile(fileURLToPath(import.meta.url)), pbkdf2Async('secret', 'salt', 1, 32, 'sha256')]);
    await hostWork(); // loads what the first call of each loads
    const pipes = Array.from({ length: 6 }, (_, i) => fifo(`blocked-${i}`));
    const countPipes = Array.from({ length: 6 }, (_, i) => fifo(`counted-${i}`));
    const opened = descriptors();
    const readers = pipes.map((fd) => native().connectionBatches(null, read(fd)));
    const batches = readers.map((r) => r.next());
    const counts = countPipes.map((fd) => native().connectionStats(null, { ...read(fd), by: 'state' }));
    // Each reader opens a descriptor of its own on its thread: wait for all
    // twelve before closing the test's (threads start slowly under a sanitizer).
    for (let i = 0; i < 100 && descriptors() < opened + 12; i++) await sleep(50);
    // Today's reads wait on the kernel; before, each parked one of libuv's
    // four threads, and fs and crypto calls waited behind them.
    const started = performance.now();
    await hostWork();
    expect(performance.now() - started).toBeLessThan(250);
    // Then the FIFOs get a table, and every read and count completes.
    for (const fd of [...pipes, ...countPipes]) {
      writeSync(fd, lines(10));
    }
    // A reader of a FIFO ends at end of file, which needs every writer gone:
    // the readers' own descriptors are read-only, so close the test's.
    for (const fd of [...pipes, ...countPipes]) close(fd);
    const first = await Promise.all(batches);
    expect(first.map((b) => b?.length)).toEqual([10, 10, 10, 10, 10, 10]);
    expect((await Promise.all(counts)).map((c) => c.counts[0])).toEqual([10, 10, 10, 10, 10, 10]);
    for (const r of readers) r.close();
  });

  it('answers concurrent next() calls in the order they were made', async () => {
    const fd = file('ordered', lines(10_000));
    const reader = native().connectionBatches(null, { ...read(fd), batchSize: 1000 });
    const all = await Promise.all(Array.from({ length: 12 }, () => reader.next()));
    expect(all.map((b) => b?.expires[0] ?? null)).toEqual([
      0,
      1000 % 300,
      2000 % 300,
      3000 % 300,
      4000 % 300,
      5000 % 300,
      6000 % 300,
      7000 % 300,
      8000 % 300,
      9000 % 300,
      null,
      null,
    ]);
    expect(all.map((b) => b?.clientPort[0] ?? null).slice(0, 10)).toEqual([
      0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000,
    ]);
    reader.close();
  });

  it('rejects a next() pending when the reader is closed with ECANCELED, and resolves null after', async () => {
    const fd = fifo('closed-while-waiting');
    const reader = native().connectionBatches(null, read(fd));
    const pending = reader.next();
    reader.close();
    await expect(pending).rejects.toMatchObject({ errno: 125, op: 'connectionBatches' });
    await expect(reader.next()).resolves.toBeNull();
    writeSync(fd, HEADER); // lets the reader thread's read() return, so it ends
  });
});

// Runs `script` in a fresh node with --expose-gc, the addon at hand as `addon`,
// and returns what it printed as JSON.
function child(script: string): Record<string, unknown> {
  const preamble = `
    const addon = require(${JSON.stringify(addonPath())});
    const fs = require('node:fs');
    const threads = () => fs.readdirSync('/proc/self/task').length;
    const descriptors = () => fs.readdirSync('/proc/self/fd').length;
    const rss = () => process.memoryUsage().rss;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const settle = async () => { for (let i = 0; i < 5; i++) { global.gc(); await sleep(100); } };
  `;
  const out = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      `${preamble}\n(async () => {\n${script}\n})().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`,
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (out.status !== 0) throw new Error(`child failed (${out.status ?? out.signal}): ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

// Under scripts/sanitize (a sanitizer's addon variant) the resident size is
// mostly AddressSanitizer's: freed memory waits in its quarantine, and shadow
// memory grows with the heap. There LeakSanitizer checks what is given back.
const measuresMemory = !process.env.IPVS_ADDON_VARIANT;

describe('bounds and the host process resources', { timeout: 60_000 }, () => {
  it('holds a bounded amount of memory for readers nobody consumes', () => {
    const path = join(dir, 'large');
    writeFileSync(path, lines(400_000)); // 31 MB, 400,000 entries
    const result = child(`
      const fd = fs.openSync(${JSON.stringify(path)}, 'r');
      await settle();
      const before = rss();
      const readers = [];
      for (let i = 0; i < 10; i++) {
        const size = fs.fstatSync(fd).size;
        const bounds = Array.from({ length: 8 }, (_, k) => Math.floor((size * k) / 8));
        const r = addon.connectionBatches(null, { fd, bounds, batchSize: 4096, readSize: 16384, filter: null, prefetch: false });
        await r.next();
        readers.push(r);
      }
      await sleep(3000);
      const held = rss() - before;
      for (const r of readers) r.close();
      return { held };
    `);
    // Ten readers of eight slices each: before, each held every slice's
    // batches (the whole table: 400,000 entries of 34 bytes and more, about
    // 150 MB for the ten); now a few batches of the first slice and 4 MiB of
    // the others per read.
    if (measuresMemory) expect(result.held).toBeLessThan(80 * 2 ** 20);
  });

  it('gives back threads, descriptors and memory after readers drained, abandoned, closed or failed', () => {
    const good = join(dir, 'resources');
    writeFileSync(good, lines(30_000));
    const bad = join(dir, 'resources-bad');
    writeFileSync(bad, lines(5_000) + 'UDP nonsense\n' + lines(100).slice(HEADER.length));
    const result = child(`
      const good = fs.openSync(${JSON.stringify(good)}, 'r');
      const bad = fs.openSync(${JSON.stringify(bad)}, 'r');
      const read = (fd, n) => ({ fd, bounds: n === 1 ? [0] : [0, 500000, 1000000, 1500000].slice(0, n), batchSize: 1000, readSize: 16384, filter: null });
      // Warm up: the first read loads what stays loaded.
      for (let r = addon.connectionBatches(null, read(good, 2)); await r.next(); );
      await settle();
      const base = { threads: threads(), descriptors: descriptors(), rss: rss() };
      for (let i = 0; i < 100; i++) {
        const r = addon.connectionBatches(null, read(i % 2 ? bad : good, 1 + (i % 4)));
        switch (i % 4) {
          case 0: while (await r.next()); break;                        // drained
          case 1: try { while (await r.next()); } catch {} break;       // failed (the bad file)
          case 2: await r.next(); r.close(); break;                     // closed mid-table
          case 3: await r.next(); break;                                // abandoned mid-table
        }
      }
      await settle();
      await sleep(500);
      await settle();
      return { base, after: { threads: threads(), descriptors: descriptors(), rss: rss() } };
    `) as {
      base: { threads: number; descriptors: number; rss: number };
      after: { threads: number; descriptors: number; rss: number };
    };
    expect(result.after.threads).toBe(result.base.threads);
    expect(result.after.descriptors).toBe(result.base.descriptors);
    if (measuresMemory) expect(result.after.rss - result.base.rss).toBeLessThan(20 * 2 ** 20);
  });

  it('refuses raw read sizes and batch sizes outside their bounds instead of allocating them', () => {
    const fd = file('sizes', lines(10));
    expect(() => native().connectionBatches(null, { ...read(fd), readSize: -1 })).toThrow(/readSize/);
    expect(() => native().connectionBatches(null, { ...read(fd), readSize: 2 ** 32 - 1 })).toThrow(/readSize/);
    expect(() => native().connectionBatches(null, { ...read(fd), batchSize: 0 })).toThrow(/batchSize/);
    expect(readFileSync(join(dir, 'sizes'), 'latin1')).toContain('UDP');
  });
});

describe('open()', () => {
  it('refuses at once a netns that is not a network namespace, without blocking on a FIFO', async () => {
    const { open } = await import('../src/index.js');
    const path = join(dir, 'netns-fifo');
    execFileSync('mkfifo', [path]);
    for (const backend of ['netlink', 'sockopt'] as const) {
      const started = performance.now();
      await expect(open({ netns: path, backend })).rejects.toMatchObject({
        code: 'EINVAL',
        message: expect.stringContaining('is not a network namespace'),
      });
      await expect(open({ netns: '/etc/hostname', backend })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(open({ netns: '/proc/self/ns/uts', backend })).rejects.toMatchObject({ code: 'EINVAL' });
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('refuses unknown options, a NUL in the namespace path, and timeouts out of range, before anything is opened', async () => {
    const { open } = await import('../src/index.js');
    await expect(open({ netsn: '/run/netns/lb' } as never)).rejects.toThrow(TypeError);
    await expect(open({ netsn: '/run/netns/lb' } as never)).rejects.toThrow(/options\.netsn is not a field of options/);
    await expect(open({ netns: '/proc/self/ns/net\0/x' })).rejects.toThrow(/without NUL/);
    await expect(open({ timeout: 0 })).rejects.toThrow(RangeError);
    await expect(open({ timeout: 1.5 })).rejects.toThrow(TypeError);
    await expect(open({ modprobe: 'no' as never })).rejects.toThrow(/options\.modprobe must be a boolean/);
    // Node's codes for argument errors.
    await expect(open({ netsn: '/run/netns/lb' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(open({ timeout: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(open({ timeout: 'soon' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  // This host's kernel has no IPVS, so open() tries modprobe: seen with strace.
  const noIpvs = !existsSync('/proc/net/ip_vs');
  it.runIf(noIpvs && existsSync('/usr/bin/strace'))(
    "runs the system's modprobe with a fixed environment, and not at all with modprobe: false",
    () => {
      const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
      // A modprobe earlier on PATH, and a variable of the caller's: neither may reach the child.
      const fake = join(dir, 'fake-bin');
      execFileSync('mkdir', ['-p', fake]);
      writeFileSync(join(fake, 'modprobe'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const run = (modprobe: boolean) =>
        spawnSync(
          'strace',
          [
            '-f',
            '-qq',
            '-e',
            'trace=execve',
            '-v',
            '-s',
            '256',
            process.execPath,
            '--input-type=module',
            '-e',
            `import { open } from ${JSON.stringify(entry)}; await open({ modprobe: ${modprobe} }).catch(() => {});`,
          ],
          {
            encoding: 'utf8',
            // LeakSanitizer cannot run under ptrace: scripts/sanitize's leak check skips this child.
            env: {
              ...process.env,
              PATH: `${fake}:${process.env.PATH}`,
              IPVS_SECRET_OF_THE_CALLER: 'x',
              ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:detect_leaks=0`,
            },
          },
        ).stderr;
      const modprobes = (trace: string) => trace.split('\n').filter((l) => /execve\("[^"]*modprobe"/.test(l));
      const calls = modprobes(run(true));
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(
        /execve\("\/(usr\/)?sbin\/modprobe", \["modprobe", "-q", "--", "ip_vs"\], \["PATH=\/usr\/sbin:\/usr\/bin:\/sbin:\/bin"\]\)/,
      );
      expect(modprobes(run(false))).toEqual([]);
    },
  );
});
