// The benchmark, run inside the lab by scripts/bench (root, a guest kernel with
// IPVS, nothing else running in it). Every figure in a table is measured in
// the same run as its floor; each is the median of several runs; the ratio is
// contender time / floor time (lower is better; below 1 beats the floor).
//
//   node bench/bench.mjs [stats] [connections] [memory]   (default: all)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { open } from '../dist/index.js';
import { makeConnections as makeEntries } from './connections.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FLOOR = process.env.BENCH_FLOOR ?? 'build/bench/floor-stats';
// BENCH_CONNECTIONS=10000,50000 picks the connection tables' sizes.
const CONNECTION_SIZES = (process.env.BENCH_CONNECTIONS ?? '10000,50000,200000').split(',').map(Number);
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : ['stats', 'connections', 'memory'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (ns) => ns / 1e6;
async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t);
}

/**
 * Medians of each contender's time, measured side by side: every round runs
 * each contender once, in turn, so that a change in the machine's load (other
 * guests share its cores) falls on all of them alike rather than on whichever
 * ran during it. A contender is timed here around `run`, or, with
 * `ownTime`, its `run` resolves to the nanoseconds it measured itself (a
 * floor that should not pay for its process start). The first round
 * warms up and is not counted unless `warmUp` is false.
 */
async function sideBySide(runs, contenders, warmUp = true) {
  const times = contenders.map(() => []);
  for (let round = warmUp ? -1 : 0; round < runs; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[k];
      if (round >= (c.runs ?? runs)) continue;
      const ns = c.ownTime ? await c.run() : await timed(c.run);
      if (round >= 0) times[k].push(ns);
    }
  }
  return contenders.map((c, k) => ({ name: c.name, ns: median(times[k]) }));
}

function table(title, floorName, rows, notes = []) {
  const floor = rows.find((r) => r.name === floorName).ns;
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n### ${title}\n`);
  console.log(`| ${'contender'.padEnd(w)} | median ms | ratio to floor |`);
  console.log(`| ${'-'.repeat(w)} | --------: | -------------: |`);
  for (const r of rows)
    console.log(
      `| ${r.name.padEnd(w)} | ${ms(r.ns).toFixed(2).padStart(9)} | ${(r.ns / floor).toFixed(2).padStart(14)} |`,
    );
  for (const n of notes) console.log(`\n${n}`);
}

function verdict(ok, text) {
  return `${ok ? 'met' : 'MISSED'}: ${text}`;
}

const ipvs = await open();

async function stats() {
  for (const n of [100, 1000, 5000]) {
    await ipvs.clear();
    // ipvsadm -R builds the table quickly: the library's own calls are not under test here.
    const lines = [];
    for (let i = 0; i < n; i++) {
      const svc = `-t 203.0.${113 + (i >> 16)}.${(i >> 8) & 255}:${1000 + (i & 255)}`;
      lines.push(`-A ${svc} -s rr`);
      for (let j = 1; j <= 10; j++) lines.push(`-a ${svc} -r 198.51.100.${j}:80 -m -w ${j}`);
    }
    execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
    const rows = await sideBySide(RUNS, [
      {
        name: 'C floor (1 + N dumps, one socket, one buffer)',
        ownTime: true,
        // Its own time for its second round: the first opens the socket and warms up.
        run: async () => Number(execFileSync(FLOOR, ['2'], { encoding: 'utf8' }).trim().split('\n')[1].split(' ')[0]),
      },
      { name: 'ipvs packedSnapshot, 1 socket', run: () => ipvs.packedSnapshot({ poolSize: 1 }) },
      { name: `ipvs packedSnapshot, pool of ${Math.min(4, availableParallelism())}`, run: () => ipvs.packedSnapshot() },
      { name: 'ipvs snapshot (objects)', run: () => ipvs.snapshot() },
      {
        name: 'ipvsadm -Ln --stats --exact',
        run: async () =>
          void spawnSync('ipvsadm', ['-Ln', '--stats', '--exact'], { stdio: ['ignore', 'ignore', 'inherit'] }),
      },
      {
        name: 'read + parse /proc/net/ip_vs (no counters)',
        run: async () =>
          void readFileSync('/proc/net/ip_vs', 'latin1')
            .split('\n')
            .filter((l) => l.startsWith('  ->')).length,
      },
    ]);
    const floor = rows[0].ns;
    const best = Math.min(rows[1].ns, rows[2].ns);
    const adm = rows[4].ns;
    table(`stats: ${n} services x 10 destinations`, rows[0].name, rows, [
      verdict(best <= 1.25 * floor, `packed snapshot at most 1.25x the C floor (${(best / floor).toFixed(2)}x)`),
      verdict(adm >= 3 * best, `at least 3x faster than ipvsadm -Ln --stats --exact (${(adm / best).toFixed(1)}x)`),
    ]);
  }
  await ipvs.clear();
}

/** Makes `n` UDP connection entries (distinct source ports and addresses) through a local VIP. */
function makeConnections(n) {
  makeEntries({ link: 'bench0', vip: '192.0.2.1', clients: 64, destinations: 10, udpTimeout: 36000, n });
}

/**
 * dd's own report of its copy time: the floor is the read itself, not dd's
 * process start, which under emulation costs more than a small table's read.
 */
function ddCopyTime() {
  const r = spawnSync('dd', ['if=/proc/net/ip_vs_conn', 'of=/dev/null', 'bs=1M'], { encoding: 'utf8' });
  const m = /copied, ([0-9.e+-]+) s/.exec(r.stderr);
  if (!m) throw new Error(`no time in dd's report: ${r.stderr}`);
  return Number(m[1]) * 1e9;
}

function countEntries() {
  return readFileSync('/proc/net/ip_vs_conn', 'latin1').split('\n').length - 2;
}

async function connections() {
  for (const n of CONNECTION_SIZES) {
    await ipvs.clear();
    makeConnections(n);
    const have = countEntries();
    // Reads of the largest table take minutes under emulation (the kernel's
    // reader is quadratic): one run each there, and no warm-up.
    const big = n >= 200_000;
    const runs = big ? 1 : RUNS;
    const drain = async (options) => {
      let k = 0;
      for await (const b of ipvs.connectionBatches(options)) k += b.length;
      return k;
    };
    const rows = await sideBySide(
      runs,
      [
        { name: 'dd bs=1M (floor: its own copy time)', ownTime: true, run: async () => ddCopyTime() },
        { name: 'ipvs columnar, 1 reader', run: () => drain({ parallel: 1 }) },
        { name: `ipvs columnar, ${availableParallelism()} readers`, run: () => drain({ parallel: 'auto' }) },
        { name: 'ipvs objects (listConnections), 1 reader', run: () => ipvs.listConnections({ parallel: 1 }) },
        { name: 'ipvs objects, parallel', run: () => ipvs.listConnections({ parallel: 'auto' }) },
        {
          name: 'ipvsadm -lnc',
          runs: Math.min(runs, 3),
          run: async () => void spawnSync('ipvsadm', ['-lnc'], { stdio: 'ignore' }),
        },
      ],
      !big,
    );
    const floor = rows[0].ns;
    table(`connections: ${have} entries (asked for ${n})`, rows[0].name, rows, [
      verdict(
        rows[1].ns <= 1.1 * floor,
        `single reader at most 1.1x the dd floor (${(rows[1].ns / floor).toFixed(2)}x)`,
      ),
      verdict(
        rows[5].ns >= 2 * rows[1].ns,
        `single reader at least 2x faster than ipvsadm -lnc (${(rows[5].ns / rows[1].ns).toFixed(1)}x)`,
      ),
      verdict(
        floor >= 1.6 * rows[2].ns,
        `parallel reader at least 1.6x faster than the dd floor (${(floor / rows[2].ns).toFixed(2)}x)`,
      ),
    ]);
  }
  await ipvs.clear();
  execFileSync('ipvsadm', ['--set', '900', '120', '300']);
}

async function memory() {
  // Bytes per connection, held: columnar batches vs objects.
  const n = countEntries();
  console.log(`\n### memory\n`);
  if (n > 1000) {
    let bytes = 0;
    let k = 0;
    for await (const b of ipvs.connectionBatches()) {
      k += b.length;
      for (const v of Object.values(b)) if (ArrayBuffer.isView(v)) bytes += v.byteLength;
    }
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    const held = await ipvs.listConnections();
    globalThis.gc();
    const objects = (process.memoryUsage().heapUsed - before) / held.length;
    console.log(`| form | bytes per connection (${k} entries) |`);
    console.log(`| ---- | ---: |`);
    console.log(`| columnar (typed arrays) | ${(bytes / k).toFixed(1)} |`);
    console.log(`| objects | ${objects.toFixed(1)} |`);
    console.log(
      `\n${verdict(bytes / k <= 48, `columnar at most 48 bytes per connection (${(bytes / k).toFixed(1)})`)}`,
    );
  } else {
    console.log('(no connection table: run the connections scenario first for bytes per connection)');
  }
  // RSS over 10,000 polling ticks of a 100-service table.
  await ipvs.clear();
  const lines = [];
  for (let i = 0; i < 100; i++) {
    lines.push(`-A -t 192.0.2.${i + 1}:80 -s rr`);
    for (let j = 1; j <= 10; j++) lines.push(`-a -t 192.0.2.${i + 1}:80 -r 198.51.100.${j}:80 -m`);
  }
  execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
  const rss = [];
  let ticks = 0;
  const controller = new AbortController();
  for await (const _ of ipvs.poll({ interval: 1, signal: controller.signal })) {
    ticks++;
    if (ticks % 1000 === 0) {
      globalThis.gc();
      rss.push(process.memoryUsage().rss);
    }
    if (ticks === 10_000) controller.abort();
  }
  const growth = rss[rss.length - 1] - rss[0];
  console.log(
    `\nRSS over ${ticks} polling ticks (100 services x 10 destinations), after each 1,000: ${rss.map((r) => (r / 2 ** 20).toFixed(1)).join(', ')} MiB`,
  );
  console.log(
    verdict(
      growth <= 1 * 2 ** 20,
      `no RSS growth over the polling run (${(growth / 2 ** 20).toFixed(2)} MiB from tick 1,000 to 10,000)`,
    ),
  );
  await ipvs.clear();
}

console.log(
  `ipvs benchmark: ${new Date().toISOString()}, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, ${availableParallelism()} CPUs, median of ${RUNS} runs after a warm-up (one run, no warm-up, for 200,000 connections)`,
);
for (const s of scenarios) {
  if (s === 'stats') await stats();
  else if (s === 'connections') await connections();
  else if (s === 'memory') await memory();
  else throw new Error(`unknown scenario ${s}: stats, connections or memory`);
}
await ipvs.close();
