// The benchmark, run inside the lab by scripts/bench (root, a guest kernel with
// IPVS, nothing else running in it). Every figure in a table is measured in
// the same run as its floor; each is the median of several runs; the ratio is
// contender time / floor time (lower is better; below 1 beats the floor).
// docs/benchmarks.md says what each table means and its targets.
//
//   node --expose-gc bench/bench.mjs [stats] [cli] [connections] [memory] [apply] [exporter]   (default: all, in that order)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { open } from '../dist/index.js';
import { apply } from './apply.mjs';
import { cli } from './cli.mjs';
import { exporter } from './exporter.mjs';
import {
  buildConnections,
  buildServices,
  countEntries,
  ddCopyTime,
  installPackage,
  RUNS,
  sideBySide,
  sizes,
  table,
  verdict,
} from './measure.mjs';

const FLOOR = process.env.BENCH_FLOOR ?? 'build/bench/floor-stats';
// BENCH_STATS=100,1000 picks the stats tables' sizes (services of 10 destinations).
const STATS_SIZES = sizes('BENCH_STATS', '100,1000,5000');
// BENCH_CONNECTIONS=10000,50000 picks the connection tables' sizes.
const CONNECTION_SIZES = sizes('BENCH_CONNECTIONS', '10000,50000,200000');
// The cli scenario comes before connections: it makes its connection entries in
// a namespace of its own and deletes them, where the connections scenario
// leaves its own for the memory scenario (and every namespace's entries slow
// every reader of /proc/net/ip_vs_conn: the kernel keeps one table).
const scenarios = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['stats', 'cli', 'connections', 'memory', 'apply', 'exporter'];
// The library's default pool of sockets for snapshots (src/client.ts).
const POOL = Math.min(4, availableParallelism());
/** Calls of each in-process snapshot before its runs are counted. */
const WARM = 5;

const ipvs = await open();

/** The C floor's own time for its second round (the first opens the sockets and warms up). */
const floorTime = (sockets) =>
  Number(
    execFileSync(FLOOR, ['2', String(sockets)], { encoding: 'utf8' })
      .trim()
      .split('\n')[1]
      .split(' ')[0],
  );

let installed;

/**
 * The first and the second packedSnapshot() of a fresh `node` process, each
 * as that process timed it, with the package as installed (measure.mjs:
 * from the project's share, the first use of each page of the addon's code
 * would be a round trip to the host).
 */
function firstSnapshot() {
  installed ??= installPackage();
  const out = execFileSync(process.execPath, [new URL('first-snapshot.mjs', import.meta.url).pathname, installed], {
    encoding: 'utf8',
  });
  const { first, second } = JSON.parse(out);
  return { ns: first, second };
}

async function stats() {
  for (const n of STATS_SIZES) {
    await ipvs.clear();
    // ipvsadm -R builds the table quickly: the library's own calls are not under test here.
    buildServices(n);
    const rows = await sideBySide(RUNS, [
      { name: 'C floor, 1 socket (1 + N dumps, one buffer)', ownTime: true, run: async () => floorTime(1) },
      { name: `C floor, ${POOL} sockets (as the pool)`, ownTime: true, run: async () => floorTime(POOL) },
      // Warm: V8 compiles a conversion only after it has run a while (a
      // monitor's snapshots are warm from about the fifth on); a fresh
      // process's first call has its own row.
      { name: 'ipvs packedSnapshot, 1 socket', warmUps: WARM, run: () => ipvs.packedSnapshot({ poolSize: 1 }) },
      { name: `ipvs packedSnapshot, pool of ${POOL}`, warmUps: WARM, run: () => ipvs.packedSnapshot() },
      { name: `ipvs snapshot (objects), pool of ${POOL}`, warmUps: WARM, run: () => ipvs.snapshot() },
      { name: 'ipvs packedSnapshot, first of a fresh process', ownTime: true, run: async () => firstSnapshot() },
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
    const [floor1, floorPool, one, pooled, objects, cold] = rows;
    // The fresh process's second call, beside its first.
    const warm = { name: 'ipvs packedSnapshot, second of that process', ns: cold.second };
    rows.splice(6, 0, warm);
    const adm = rows.find((r) => r.name.startsWith('ipvsadm')).ns;
    const best = Math.min(one.ns, pooled.ns);
    const x = (a, b) => (a / b).toFixed(2);
    table(`stats: ${n} services x 10 destinations`, floor1.name, rows, [
      verdict(
        one.ns <= 1.25 * floor1.ns,
        `one-socket snapshot at most 1.25x the one-socket C floor (${x(one.ns, floor1.ns)}x)`,
      ),
      verdict(
        pooled.ns <= 1.25 * floorPool.ns,
        `pooled snapshot at most 1.25x the ${POOL}-socket C floor (${x(pooled.ns, floorPool.ns)}x)`,
      ),
      verdict(
        objects.ns <= 1.5 * pooled.ns,
        `snapshot() objects at most 1.5x packedSnapshot() (${x(objects.ns, pooled.ns)}x)`,
      ),
      verdict(
        cold.ns <= 1.5 * warm.ns,
        `first snapshot of a fresh process at most 1.5x its second (${x(cold.ns, warm.ns)}x)`,
      ),
      verdict(adm >= 3 * best, `at least 3x faster than ipvsadm -Ln --stats --exact (${(adm / best).toFixed(1)}x)`),
    ]);
  }
  await ipvs.clear();
}

async function connections() {
  for (const n of CONNECTION_SIZES) {
    await ipvs.clear();
    buildConnections(n);
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
        {
          name: `ipvs columnar, parallel 'auto' (${availableParallelism()} CPUs)`,
          run: () => drain({ parallel: 'auto' }),
        },
        { name: 'ipvs objects (listConnections), 1 reader', run: () => ipvs.listConnections({ parallel: 1 }) },
        { name: "ipvs objects, parallel 'auto'", run: () => ipvs.listConnections({ parallel: 'auto' }) },
        {
          name: 'ipvsadm -lnc',
          runs: Math.min(runs, 3),
          run: async () => void spawnSync('ipvsadm', ['-lnc'], { stdio: 'ignore' }),
        },
      ],
      !big,
    );
    const [dd, single, auto] = rows;
    const adm = rows[5].ns;
    const notes = [
      verdict(single.ns <= 1.1 * dd.ns, `single reader at most 1.1x the dd floor (${(single.ns / dd.ns).toFixed(2)}x)`),
      verdict(
        auto.ns <= single.ns,
        `parallel 'auto' never slower than one reader (${(auto.ns / single.ns).toFixed(3)}x its time)`,
      ),
      verdict(
        adm >= 2 * single.ns,
        `single reader at least 2x faster than ipvsadm -lnc (${(adm / single.ns).toFixed(1)}x)`,
      ),
    ];
    // Below 50,000 entries the kernel's work is too small for a second reader to halve.
    if (n >= 50_000)
      notes.push(
        verdict(
          dd.ns >= 1.8 * auto.ns,
          `parallel 'auto' at least 1.8x faster than the dd floor (${(dd.ns / auto.ns).toFixed(2)}x)`,
        ),
      );
    table(`connections: ${have} entries (asked for ${n})`, dd.name, rows, notes);
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
  else if (s === 'cli') await cli(ipvs);
  else if (s === 'connections') await connections();
  else if (s === 'memory') await memory();
  else if (s === 'apply') await apply();
  else if (s === 'exporter') await exporter();
  else throw new Error(`unknown scenario ${s}: stats, cli, connections, memory, apply or exporter`);
}
await ipvs.close();
