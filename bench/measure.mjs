// What the benchmark's scenarios share (bench/bench.mjs, bench/cli.mjs): the
// side-by-side rounds and their medians, the tables and verdicts, the tables
// the scenarios build, and the floors that are processes of their own.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { makeConnections } from './connections.mjs';

export const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The helper that runs a command and reports its wall time, CPU and peak RSS (bench/run-child.c). */
export const RUN_CHILD = process.env.BENCH_RUN_CHILD ?? 'build/bench/run-child';

/** A list of sizes from an environment variable ("10000,50000"), or the default. */
/** Table sizes from an environment variable (comma-separated; empty: none, which skips those tables). */
export const sizes = (name, fallback) =>
  (process.env[name] ?? fallback)
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const ms = (ns) => ns / 1e6;
async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t);
}

/** The CPUs' busy and total jiffies so far (/proc/stat's first line). */
function cpuJiffies() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total }; // less idle and iowait
}

/**
 * Resolves once the machine is quiet: two 100 ms windows in a row in which
 * the CPUs were at least 90% idle (at most `limitMs`; resolves to the ms it
 * waited). A network namespace is torn down by a kernel worker after `ip
 * netns del` returns: with tens of thousands of IPVS destinations in it that
 * is a few hundred ms of CPU under emulation, which would otherwise fall on
 * whichever contender runs next.
 */
export async function quiet(limitMs = 10000) {
  const start = Date.now();
  let calm = 0;
  let last = cpuJiffies();
  while (Date.now() - start < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = cpuJiffies();
    const total = now.total - last.total;
    calm = total > 0 && (now.busy - last.busy) / total <= 0.1 ? calm + 1 : 0;
    last = now;
    if (calm >= 2) break;
  }
  return Date.now() - start;
}

/**
 * Medians of each contender's time, measured side by side: every round runs
 * each contender once, in turn, so that a change in the machine's load (other
 * guests share its cores) falls on all of them alike rather than on whichever
 * ran during it. A contender is timed here around `run`, or, with
 * `ownTime`, its `run` resolves to the nanoseconds it measured itself (a
 * floor that should not pay for its process start), or to an object of
 * figures with those nanoseconds as `ns` (each figure's median is kept, under
 * its own name). The first round warms up and is not counted unless `warmUp`
 * is false; a contender with `warmUp: false` skips it, one with `warmUps: n`
 * runs n times in it (code that V8 compiles only after several calls), and
 * one with `runs` runs in only that many rounds.
 */
export async function sideBySide(runs, contenders, warmUp = true) {
  const samples = contenders.map(() => []);
  for (let round = warmUp ? -1 : 0; round < runs; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[k];
      if (round >= (c.runs ?? runs) || (round < 0 && c.warmUp === false)) continue;
      for (let w = 1; round < 0 && w < (c.warmUps ?? 1); w++) await (c.ownTime ? c.run() : timed(c.run));
      const got = c.ownTime ? await c.run() : await timed(c.run);
      if (round >= 0) samples[k].push(typeof got === 'number' ? { ns: got } : got);
    }
  }
  return contenders.map((c, k) => {
    const row = { name: c.name };
    for (const key of Object.keys(samples[k][0])) row[key] = median(samples[k].map((s) => s[key]));
    return row;
  });
}

export function table(title, floorName, rows, notes = []) {
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

export function verdict(ok, text) {
  return `${ok ? 'met' : 'MISSED'}: ${text}`;
}

/**
 * Runs `cmd` (an array) through bench/run-child, in the network namespace
 * named `netns` if given, its stdin the file `stdin` (default /dev/null), its output discarded. Resolves to its wall time
 * `ns`, its CPU `user` and `sys` (ns) and its peak RSS `rssKiB`; throws when it
 * does not exit 0.
 */
export function runChild(cmd, netns, stdin) {
  const args = [...(netns ? ['--netns', `/run/netns/${netns}`] : []), ...(stdin ? ['--stdin', stdin] : []), ...cmd];
  const r = spawnSync(RUN_CHILD, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const f = r.stdout.trim().split(' ').map(Number);
  if (r.status !== 0 || f.length !== 5) throw new Error(`${RUN_CHILD} ${args.join(' ')}: ${r.stdout}`);
  if (f[4] !== 0) throw new Error(`${cmd.join(' ')} exited with status ${f[4]}`);
  return { ns: f[0], user: f[1], sys: f[2], rssKiB: f[3] };
}

/** Builds `n` TCP services of 10 masquerading destinations each, quickly, with ipvsadm -R. */
export function buildServices(n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const svc = `-t 203.0.${113 + (i >> 16)}.${(i >> 8) & 255}:${1000 + (i & 255)}`;
    lines.push(`-A ${svc} -s rr`);
    for (let j = 1; j <= 10; j++) lines.push(`-a ${svc} -r 198.51.100.${j}:80 -m -w ${j}`);
  }
  execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
}

/**
 * Makes `n` UDP connection entries (distinct source ports and addresses)
 * through a local VIP, in the namespace `netns` if given.
 */
export function buildConnections(n, netns) {
  makeConnections({ link: 'bench0', vip: '192.0.2.1', clients: 64, destinations: 10, udpTimeout: 36000, n, netns });
}

const inNetns = (netns, cmd) => (netns ? ['ip', ['netns', 'exec', netns, ...cmd]] : [cmd[0], cmd.slice(1)]);

/**
 * dd's own report of its copy time: the floor is the read itself, not dd's
 * process start, which under emulation costs more than a small table's read.
 */
export function ddCopyTime(netns) {
  const r = spawnSync(...inNetns(netns, ['dd', 'if=/proc/net/ip_vs_conn', 'of=/dev/null', 'bs=1M']), {
    encoding: 'utf8',
  });
  const m = /copied, ([0-9.e+-]+) s/.exec(r.stderr);
  if (!m) throw new Error(`no time in dd's report: ${r.stderr}`);
  return Number(m[1]) * 1e9;
}

/** The connection entries of the namespace `netns` (or our own). */
export function countEntries(netns) {
  if (!netns) return readFileSync('/proc/net/ip_vs_conn', 'latin1').split('\n').length - 2;
  // wc -l: lines, less the header.
  return (
    parseInt(execFileSync('ip', ['netns', 'exec', netns, 'wc', '-l', '/proc/net/ip_vs_conn'], { encoding: 'utf8' })) - 1
  );
}

/**
 * The package as installed: its files copied to the guest's tmpfs, in the
 * layout of the package (dist/, build/Release/, package.json, and the
 * dependencies the command line and the library load: yaml, node-gyp-build).
 * In the lab the project directory is a 9p share without a page cache (every
 * read and every page of the addon's mapping goes to the host), while node,
 * ipvsadm and their libraries come from the cached root share; on a real
 * machine all of them sit in the page cache. The copy puts them on an equal
 * footing. Returns its root.
 */
export function installPackage() {
  const root = mkdtempSync(join(tmpdir(), 'ipvs-bench-package-'));
  const project = new URL('..', import.meta.url).pathname;
  for (const file of ['package.json', 'build/Release/ipvs.node']) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(project, file), join(root, file));
  }
  // Without the command line's code cache: the copy makes its own on its first run.
  cpSync(join(project, 'dist'), join(root, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.cache') });
  for (const dependency of ['yaml', 'node-gyp-build']) {
    cpSync(join(project, 'node_modules', dependency), join(root, 'node_modules', dependency), { recursive: true });
  }
  return root;
}
