// Quick side-by-side probes of the library's targets (issue 11), for the lab:
// shorter than bench/bench.mjs, each measuring one target against its floor
// in interleaved rounds. Prints medians and ratios on stdout.
//
//   node bench/lib-probe.mjs stats N [RUNS]      packed (1 socket, pool), objects, C floor; N services x 10
//   node bench/lib-probe.mjs cold N [PROCS]      first snapshot() of fresh processes against a warm one
//   node bench/lib-probe.mjs conns N,M.. [RUNS]  connection readers against dd
//   node bench/lib-probe.mjs table N             build the table only; loop N K: K packed snapshots (for perf)
//   node bench/lib-probe.mjs first N             (internal: one fresh process's timings, as JSON)
//
// PROBE_NOW=DIR measures the build in DIR instead of this tree's (a frozen
// copy, so that the tree can be rebuilt meanwhile); PROBE_BASELINE=DIR adds the same contenders from another build (DIR/dist and
// DIR/build/Release/ipvs.node, say a copy of the tree before a change), run in
// the same rounds.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { makeConnections } from './connections.mjs';
import { buildServices } from './measure.mjs';

const FLOOR = process.env.BENCH_FLOOR ?? 'build/bench/floor-stats';
const [what, sizeArg, runsArg] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint());

async function sideBySide(runs, contenders) {
  const times = contenders.map(() => []);
  for (let round = -1; round < runs; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[k];
      const t = now();
      const own = await c.run();
      const ns = c.ownTime ? own : now() - t;
      if (round >= 0) times[k].push(ns);
    }
  }
  return contenders.map((c, k) => ({ name: c.name, ns: median(times[k]), min: Math.min(...times[k]), all: times[k] }));
}

function print(title, rows) {
  const floor = rows[0].ns;
  console.log(`\n${title}`);
  for (const r of rows)
    console.log(
      `${r.name.padEnd(40)} ${(r.ns / 1e6).toFixed(2).padStart(9)} ms  ${(r.ns / floor).toFixed(2)}x  min ${(r.min / rows[0].min).toFixed(2)}x  [${r.all.map((x) => (x / 1e6).toFixed(1)).join(' ')}]`,
    );
}

function buildTable(n) {
  execFileSync('ipvsadm', ['-C']);
  buildServices(n);
}

const BASELINE = process.env.PROBE_BASELINE;
const NOW = process.env.PROBE_NOW ? `${process.env.PROBE_NOW}/dist/index.js` : '../dist/index.js';
const base =
  BASELINE && what !== 'first' && what !== 'cold'
    ? await (await import(`${BASELINE}/dist/index.js`)).open()
    : undefined;
/** The contenders, and the baseline's of those that have `base`, interleaved. */
const withBase = (list) =>
  list.flatMap((c) => (base && c.base ? [c, { name: `${c.name} (before)`, run: () => c.base(base) }] : [c]));

const floorRun = async () =>
  Number(execFileSync(FLOOR, ['2'], { encoding: 'utf8' }).trim().split('\n')[1].split(' ')[0]);

if (what === 'first') {
  // One fresh process: the time to import, open, the first snapshot() and the warm ones after.
  const t0 = now();
  const { open } = await import(process.env.PROBE_DIST ?? NOW);
  const t1 = now();
  const ipvs = await open();
  // PROBE_PACKED=1: packed snapshots only (the addon's cold path without the objects').
  const take = process.env.PROBE_PACKED ? () => ipvs.packedSnapshot() : () => ipvs.snapshot();
  const t2 = now();
  await take();
  const t3 = now();
  const warm = [];
  for (let i = 0; i < 5; i++) {
    const t = now();
    await take();
    warm.push(now() - t);
  }
  await ipvs.close();
  console.log(JSON.stringify({ import: t1 - t0, open: t2 - t1, first: t3 - t2, warm: median(warm) }));
} else if (what === 'loop') {
  // For profilers: K packed snapshots of one socket, of a table built beforehand (stats N).
  const { open } = await import(NOW);
  const ipvs = await open();
  for (let i = 0; i < Number(runsArg ?? 20); i++) await ipvs.packedSnapshot({ poolSize: 1 });
  await ipvs.close();
} else if (what === 'table') {
  buildTable(Number(sizeArg ?? 1000));
} else if (what === 'stats') {
  const { open } = await import(NOW);
  const ipvs = await open();
  const n = Number(sizeArg ?? 1000);
  buildTable(n);
  const contenders = [
    { name: 'C floor (1 socket)', ownTime: true, run: floorRun },
    ['packedSnapshot poolSize 1', (c) => c.packedSnapshot({ poolSize: 1 })],
    ['packedSnapshot default pool', (c) => c.packedSnapshot()],
    ['snapshot objects (default pool)', (c) => c.snapshot()],
    ['snapshot objects poolSize 1', (c) => c.snapshot({ poolSize: 1 })],
  ].map((c) => (Array.isArray(c) ? { name: c[0], run: () => c[1](ipvs), base: c[1] } : c));
  const rows = await sideBySide(Number(runsArg ?? 7), withBase(contenders));
  print(`stats ${n} x 10`, rows);
  const at = (name) => rows.find((r) => r.name === name)?.ns;
  for (const suffix of ['', ' (before)']) {
    if (!at(`packedSnapshot poolSize 1${suffix}`)) continue;
    console.log(
      `${suffix || '(now)'}: pool1/floor ${(at(`packedSnapshot poolSize 1${suffix}`) / rows[0].ns).toFixed(2)}x, objects/packed ${(at(`snapshot objects (default pool)${suffix}`) / at(`packedSnapshot default pool${suffix}`)).toFixed(2)}x (pool 1: ${(at(`snapshot objects poolSize 1${suffix}`) / at(`packedSnapshot poolSize 1${suffix}`)).toFixed(2)}x)`,
    );
  }
  await ipvs.close();
  await base?.close();
} else if (what === 'cold') {
  const n = Number(sizeArg ?? 1000);
  buildTable(n);
  const procs = Number(runsArg ?? 3);
  const builds = BASELINE
    ? [
        ['now', undefined],
        ['before', `${BASELINE}/dist/index.js`],
      ]
    : [['now', NOW]];
  const results = builds.map(() => []);
  for (let i = 0; i < procs; i++) {
    builds.forEach(([, dist], b) => {
      const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, 'first', String(n)], {
        encoding: 'utf8',
        env: dist ? { ...process.env, PROBE_DIST: dist } : process.env,
      });
      results[b].push(JSON.parse(out.trim().split('\n').pop()));
    });
  }
  builds.forEach(([name], b) => {
    for (const r of results[b])
      console.log(
        `${name}: import ${(r.import / 1e6).toFixed(1)} ms, open ${(r.open / 1e6).toFixed(1)} ms, first snapshot() ${(r.first / 1e6).toFixed(1)} ms, warm ${(r.warm / 1e6).toFixed(1)} ms: first/warm ${(r.first / r.warm).toFixed(2)}x`,
      );
    console.log(
      `${name}: median first/warm ${median(results[b].map((r) => r.first / r.warm)).toFixed(2)}x (${n} x 10, ${procs} processes)`,
    );
  });
} else if (what === 'conns') {
  const { open } = await import(NOW);
  const ipvs = await open();
  const runs = Number(runsArg ?? 5);
  for (const n of (sizeArg ?? '10000').split(',').map(Number)) {
    execFileSync('ipvsadm', ['-C']);
    makeConnections({ link: 'probe0', vip: '192.0.2.1', clients: 64, destinations: 10, udpTimeout: 36000, n });
    const have = readFileSync('/proc/net/ip_vs_conn', 'latin1').split('\n').length - 2;
    const dd = () => {
      const r = spawnSync('dd', ['if=/proc/net/ip_vs_conn', 'of=/dev/null', 'bs=1M'], { encoding: 'utf8' });
      return Number(/copied, ([0-9.e+-]+) s/.exec(r.stderr)[1]) * 1e9;
    };
    const drain = async (options) => {
      let k = 0;
      for await (const b of ipvs.connectionBatches(options)) k += b.length;
      return k;
    };
    const drainWith = (c, options) => async () => {
      let k = 0;
      for await (const b of c.connectionBatches(options)) k += b.length;
      return k;
    };
    const rows = await sideBySide(
      runs,
      withBase([
        { name: 'dd bs=1M', ownTime: true, run: async () => dd() },
        {
          name: 'columnar, parallel 1',
          run: () => drain({ parallel: 1 }),
          base: (c) => drainWith(c, { parallel: 1 })(),
        },
        {
          name: "columnar, parallel 'auto'",
          run: () => drain({ parallel: 'auto' }),
          base: (c) => drainWith(c, { parallel: 'auto' })(),
        },
      ]),
    );
    print(`connections: ${have} entries`, rows);
    const at = (name) => rows.find((r) => r.name === name)?.ns;
    for (const suffix of ['', ' (before)']) {
      const one = at(`columnar, parallel 1${suffix}`);
      const auto = at(`columnar, parallel 'auto'${suffix}`);
      if (!one) continue;
      console.log(
        `${suffix || '(now)'}: 1 reader/dd ${(one / rows[0].ns).toFixed(2)}x; dd/auto ${(rows[0].ns / auto).toFixed(2)}x faster; auto/1 ${(auto / one).toFixed(2)}x`,
      );
    }
  }
  execFileSync('ipvsadm', ['-C']);
  await ipvs.close();
  await base?.close();
} else {
  throw new Error(`unknown probe ${what}`);
}
