// The exporter scenario of the benchmark (bench/bench.mjs): `ipvs-exporter`
// and node_exporter's ipvs collector (Debian's prometheus-node-exporter, its
// ipvs collector alone) serving the same table, scraped in turn in the same
// rounds. What counts is each exporter process's CPU time (user + system,
// from /proc/PID/stat) per scrape, and per exported series:
//  - ipvs-exporter as it starts by default (services, real servers with their
//    traffic counters, totals; its own process metrics too);
//  - ipvs-exporter exporting node_exporter's series (totals, and active,
//    inactive and weight per real server): CPU per scrape against
//    node_exporter's for the same series;
// then the exporter's RSS over 10,000 scrapes of a small table (no growth past
// its warm-up).
//
// BENCH_EXPORTER_SERVICES=1000,5000 (10 real servers each), BENCH_EXPORTER_SCRAPES
// (scrapes per contender per round, default 3), BENCH_EXPORTER_SOAK=10,10000
// (the services and scrapes of the RSS run; empty skips it).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { RUNS, sideBySide, sizes, verdict } from './measure.mjs';

const SIZES = sizes('BENCH_EXPORTER_SERVICES', '1000,5000');
const SCRAPES = Number(process.env.BENCH_EXPORTER_SCRAPES ?? 3);
const [SOAK_SERVICES, SOAK_SCRAPES] = (process.env.BENCH_EXPORTER_SOAK ?? '10,10000').split(',').map(Number);
const EXPORTER = new URL('../dist/ipvs-exporter.cjs', import.meta.url).pathname;
const TICK_NS = 1e9 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
// The series node_exporter's ipvs collector exports, by our names.
const NODE_SERIES =
  'ipvs_(connections_total|packets_total|bytes_total|destination_connections_active|destination_connections_inactive|destination_weight)';

/** A namespace with `n` TCP services of 10 masquerading real servers each, and a process that lives in it. */
function table(n) {
  const ns = `ipvs-bench-exporter-${n}`;
  execFileSync('ip', ['netns', 'add', ns]);
  // lo up: with it down, the kernel refuses masquerading real servers (EINVAL).
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const lines = [];
  for (let i = 0; i < n; i++) {
    const svc = `-t 203.0.${113 + (i >> 16)}.${(i >> 8) & 255}:${1000 + (i & 255)}`;
    lines.push(`-A ${svc} -s rr`);
    for (let j = 1; j <= 10; j++) lines.push(`-a ${svc} -r 198.51.100.${j}:80 -m -w ${j}`);
  }
  execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-R'], { input: lines.join('\n') + '\n' });
  const holder = spawn('ip', ['netns', 'exec', ns, 'sleep', '36000'], { stdio: 'ignore' });
  return {
    ns,
    holder,
    close() {
      process.kill(holder.pid, 'SIGTERM');
      execFileSync('ip', ['netns', 'del', ns]);
    },
  };
}

/** CPU time (ns) the process has used so far. */
function cpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_NS;
}

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))[1]) * 1024;

async function waitReady(port) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`nothing answers on port ${port}`);
}

/** One scrape, its body read and dropped; resolves to the sample lines when `count`. */
async function scrape(port, count = false) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`port ${port}: HTTP ${res.status}`);
  if (!count) {
    for await (const chunk of res.body) void chunk;
    return 0;
  }
  const text = await res.text();
  let series = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) series++;
  return series;
}

function startExporter(name, port, args) {
  const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  return { name, port, child };
}

function stop(contenders) {
  for (const c of contenders) if (c.child.exitCode === null) c.child.kill('SIGTERM');
}

export async function exporter() {
  console.log('\n## Exporter: CPU per scrape against node_exporter (its ipvs collector alone)\n');
  console.log(
    `CPU is the exporter process's user + system time over ${SCRAPES} scrapes, divided by them; series are the sample lines of one scrape (process metrics included, both sides).`,
  );
  let port = 19900;
  for (const n of SIZES) {
    const t = table(n);
    const node = process.execPath;
    const contenders = [
      startExporter('node_exporter (ipvs collector)', port++, [
        'prometheus-node-exporter',
        '--collector.disable-defaults',
        '--collector.ipvs',
        `--path.procfs=/proc/${t.holder.pid}`,
        `--web.listen-address=127.0.0.1:${port - 1}`,
      ]),
      startExporter('ipvs-exporter (default)', port++, [
        node,
        EXPORTER,
        `--netns=${t.ns}`,
        `--web.listen-address=127.0.0.1:${port - 1}`,
      ]),
      startExporter("ipvs-exporter (node_exporter's series)", port++, [
        node,
        EXPORTER,
        `--netns=${t.ns}`,
        '--no-collector.service',
        `--metric.include=${NODE_SERIES}`,
        `--web.listen-address=127.0.0.1:${port - 1}`,
      ]),
    ];
    try {
      for (const c of contenders) await waitReady(c.port);
      for (const c of contenders) c.series = await scrape(c.port, true);
      const rows = await sideBySide(
        RUNS,
        contenders.map((c) => ({
          name: c.name,
          ownTime: true,
          async run() {
            const before = cpu(c.child.pid);
            const start = process.hrtime.bigint();
            for (let k = 0; k < SCRAPES; k++) await scrape(c.port);
            const wall = Number(process.hrtime.bigint() - start) / SCRAPES;
            return { ns: (cpu(c.child.pid) - before) / SCRAPES, wall };
          },
        })),
      );
      const byName = Object.fromEntries(rows.map((r, i) => [r.name, { ...r, series: contenders[i].series }]));
      const theirs = byName['node_exporter (ipvs collector)'];
      console.log(`\n### ${n} services x 10 real servers\n`);
      console.log(
        '| exporter | series | wall ms/scrape | CPU ms/scrape | CPU µs/series | per series, to node_exporter |',
      );
      console.log(
        '| -------- | -----: | -------------: | ------------: | ------------: | ---------------------------: |',
      );
      for (const r of Object.values(byName)) {
        const perSeries = r.ns / r.series;
        console.log(
          `| ${r.name} | ${r.series} | ${(r.wall / 1e6).toFixed(1)} | ${(r.ns / 1e6).toFixed(1)} | ${(perSeries / 1e3).toFixed(2)} | ${(perSeries / (theirs.ns / theirs.series)).toFixed(2)} |`,
        );
      }
      const def = byName['ipvs-exporter (default)'];
      const same = byName["ipvs-exporter (node_exporter's series)"];
      const ratio = def.ns / def.series / (theirs.ns / theirs.series);
      console.log('');
      console.log(verdict(ratio <= 0.5, `CPU per series at most half node_exporter's (${ratio.toFixed(2)}x)`));
      console.log(
        verdict(
          same.ns <= theirs.ns,
          `node_exporter's series: CPU per scrape at most node_exporter's (${(same.ns / theirs.ns).toFixed(2)}x, ${same.series} series against ${theirs.series})`,
        ),
      );
    } finally {
      stop(contenders);
      t.close();
    }
  }
  if (SOAK_SCRAPES > 0) await soak();
}

/**
 * The exporter's RSS over SOAK_SCRAPES scrapes of a small table, read after
 * every twentieth of them. Flat means no growth past the warm-up: at the end,
 * at most 2 MiB above the highest RSS of the first half. A process's RSS
 * settles over its first thousands of scrapes (V8 sizes its heap, the
 * allocator its arenas) and then moves up and down with the collector by a
 * few MiB; a leak keeps growing through the second half.
 */
async function soak() {
  const t = table(SOAK_SERVICES);
  const c = startExporter('ipvs-exporter', 19990, [
    process.execPath,
    EXPORTER,
    `--netns=${t.ns}`,
    '--web.listen-address=127.0.0.1:19990',
  ]);
  try {
    await waitReady(c.port);
    const marks = [];
    const every = Math.max(1, Math.floor(SOAK_SCRAPES / 20));
    for (let k = 1; k <= SOAK_SCRAPES; k++) {
      await scrape(c.port);
      if (k % every === 0 || k === SOAK_SCRAPES) marks.push({ k, rss: rss(c.child.pid) });
    }
    const mib = (b) => (b / 2 ** 20).toFixed(1);
    console.log(`\n### RSS of ipvs-exporter over ${SOAK_SCRAPES} scrapes (${SOAK_SERVICES} services x 10)\n`);
    console.log(`| scrapes | ${marks.map((m) => m.k).join(' | ')} |`);
    console.log(`| ------- | ${marks.map(() => '---:').join(' | ')} |`);
    console.log(`| RSS MiB | ${marks.map((m) => mib(m.rss)).join(' | ')} |`);
    const firstHalf = marks.filter((m) => m.k <= SOAK_SCRAPES / 2);
    const peak = Math.max(...firstHalf.map((m) => m.rss));
    const end = marks[marks.length - 1].rss;
    console.log('');
    console.log(
      verdict(
        end - peak <= 2 * 2 ** 20,
        `RSS flat: ${mib(end)} MiB at scrape ${SOAK_SCRAPES}, ${mib(end - peak)} MiB above the first half's highest (${mib(peak)} MiB; at most 2 MiB); ${mib(end - marks[0].rss)} MiB above scrape ${marks[0].k}`,
      ),
    );
  } finally {
    stop([c]);
    t.close();
  }
}
