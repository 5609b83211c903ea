// The cli scenario of the benchmark (bench/bench.mjs): the `ipvs` command
// (node dist/cli.cjs, the package's bin) against ipvsadm, each run as a whole
// process through bench/run-child (output to /dev/null, every run's exit
// status checked), side by side in the same rounds. Each tool's start-up is
// its median time for an empty listing (`-Ln` in a network namespace of its
// own, whose IPVS table is empty), measured in the same rounds as the
// listings, and subtracted from them: what is left is the listing's own work.
//
// BENCH_CLI_SERVICES=1000,5000 picks the service tables' sizes (10
// destinations each), BENCH_CLI_CONNECTIONS=50000,200000 the connection
// tables', BENCH_STARTUP_RUNS the rounds of the start-up table (default 3x
// BENCH_RUNS: node's start-up is noisy under emulation).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

import {
  installPackage,
  buildConnections,
  buildServices,
  countEntries,
  ddCopyTime,
  median,
  ms,
  quiet,
  RUNS,
  runChild,
  sideBySide,
  sizes,
  verdict,
} from './measure.mjs';

const SERVICE_SIZES = sizes('BENCH_CLI_SERVICES', '1000,5000');
const CONNECTION_SIZES = sizes('BENCH_CLI_CONNECTIONS', '50000,200000');
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3 * RUNS);
// A namespace whose IPVS table stays empty (start-up), and one for the
// connection entries, deleted after each size (so are its entries).
const EMPTY = 'ipvs-bench-empty';
const CONNS = 'ipvs-bench-conns';

const NODE = process.execPath;
/** The package as installed, on the guest's tmpfs (measure.mjs says why). */
const INSTALLED = installPackage();
const ipvsCmd = (...args) => [NODE, join(INSTALLED, 'dist', 'cli.cjs'), ...args];
// Every listing mode; ipvsadm has no --json, so its -Ln stands beside ipvs's.
const MODES = [
  ['-Ln'],
  ['-Ln', '--stats'],
  ['-Ln', '--rate'],
  ['-Ln', '--stats', '--exact'],
  ['-Ln', '--thresholds'],
  ['-Ln', '--persistent-conn'],
  ['-Sn'],
  ['-Ln', '--json'],
];
const admArgs = (mode) => mode.filter((a) => a !== '--json');

const child = (name, cmd, netns, more = {}) => ({
  name,
  ownTime: true,
  run: async () => runChild(cmd, netns),
  ...more,
});
const startups = () => [
  child('ipvs -Ln (empty table: start-up)', ipvsCmd('-Ln'), EMPTY),
  child('ipvsadm -Ln (empty table: start-up)', ['ipvsadm', '-Ln'], EMPTY),
];

const f2 = (x) => x.toFixed(2);
const cpu = (r) => `${ms(r.user).toFixed(0)} + ${ms(r.sys).toFixed(0)}`;
const mib = (r) => (r.rssKiB / 1024).toFixed(1);

/** A markdown table: the first column left-aligned, the others right-aligned. */
function grid(title, head, lines, notes = []) {
  const w = head.map((h, k) => Math.max(h.length, ...lines.map((l) => String(l[k]).length)));
  const row = (cells) =>
    `| ${cells.map((c, k) => (k ? String(c).padStart(w[k]) : String(c).padEnd(w[k]))).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(row(head));
  console.log(`| ${w.map((n, k) => (k ? '-'.repeat(n - 1) + ':' : '-'.repeat(n))).join(' | ')} |`);
  for (const l of lines) console.log(row(l));
  for (const n of notes) console.log(`\n${n}`);
}

/**
 * ipvsadm's own time / ipvs's (each less its start-up), as text, and whether
 * it is at least `target`. A listing whose own time is within its tool's
 * start-up noise (zero or less) counts as infinitely fast.
 */
function speedup(ipvsOwn, admOwn, target) {
  if (ipvsOwn <= 0) return { text: 'inf (ipvs within its start-up noise)', ok: true };
  return { text: `${f2(admOwn / ipvsOwn)}x`, ok: admOwn >= target * ipvsOwn };
}

/** An empty listing's time against node's own start-up. */
async function startup() {
  const rows = await sideBySide(STARTUP_RUNS, [
    child('node -e 0', [NODE, '-e', '0'], EMPTY),
    ...startups(),
    child(
      'ipvs -Ln, from the project share (no page cache)',
      [NODE, new URL('../dist/cli.cjs', import.meta.url).pathname, '-Ln'],
      EMPTY,
    ),
  ]);
  const [node, ipvs] = rows;
  grid(
    `cli: start-up, an empty table (median of ${STARTUP_RUNS} runs)`,
    ['command', 'median ms', 'CPU ms (user + sys)', 'peak RSS MiB', 'ratio to node -e 0'],
    rows.map((r) => [r.name, f2(ms(r.ns)), cpu(r), mib(r), f2(r.ns / node.ns)]),
    [
      verdict(
        ipvs.ns <= 1.1 * node.ns,
        `ipvs -Ln on an empty table at most 1.1x node -e 0 (${f2(ipvs.ns / node.ns)}x)`,
      ),
    ],
  );
}

/**
 * Rounds of the listings of `n` services: at least 7 up to 2,000, where a
 * listing takes a few tenths of its tool's start-up and the start-up's
 * noise decides a median of 3; BENCH_CLI_RUNS sets them for every size.
 */
const listingRuns = (n) => Number(process.env.BENCH_CLI_RUNS ?? (n > 2000 ? RUNS : Math.max(RUNS, 7)));
/** Listing modes between two measures of the start-ups, in a round. */
const STARTUP_EVERY = 2;

/**
 * The listings of a table side by side with their tools' start-ups, paired
 * by round. Each round (after one that warms up) runs the modes in an order
 * that rotates from round to round, both start-ups before every
 * STARTUP_EVERY modes, and each mode of each tool once, the two tools taking
 * turns to go first; every process starts once the CPUs are quiet (the last
 * one's exit is not the next one's to pay). A listing's own time in a round
 * is its time less the median of its tool's start-ups in that round, so
 * that a round the lab runs slow in is slow for both terms; its row has the
 * medians, over rounds, of its time, CPU, peak RSS and own time, and its
 * fastest round's own time (`bestOwn`: the lab only ever adds time, so the
 * table shows that ratio beside the median's, which the verdict uses).
 */
async function listingRounds(runs) {
  const samples = new Map();
  const add = (name, sample) => {
    if (!samples.has(name)) samples.set(name, []);
    samples.get(name).push(sample);
  };
  const run = async (cmd, netns) => {
    await quiet(2000);
    return runChild(cmd, netns);
  };
  const [ipvsStart, admStart] = startups();
  for (let round = -1; round < runs; round++) {
    const starts = { ipvs: [], adm: [] };
    const got = [];
    for (let m = 0; m < MODES.length; m++) {
      const mode = MODES[(m + round + 1) % MODES.length];
      if (m % STARTUP_EVERY === 0) {
        starts.ipvs.push(await run(ipvsCmd('-Ln'), EMPTY));
        starts.adm.push(await run(['ipvsadm', '-Ln'], EMPTY));
      }
      const pair = [[`ipvs ${mode.join(' ')}`, 'ipvs', ipvsCmd(...mode)]];
      if (!mode.includes('--json')) pair.push([`ipvsadm ${mode.join(' ')}`, 'adm', ['ipvsadm', ...mode]]);
      if (round % 2 !== 0) pair.reverse();
      for (const [name, tool, cmd] of pair) got.push({ name, tool, r: await run(cmd) });
    }
    if (round < 0) continue;
    const start = { ipvs: median(starts.ipvs.map((r) => r.ns)), adm: median(starts.adm.map((r) => r.ns)) };
    for (const r of starts.ipvs) add(ipvsStart.name, { ...r, own: 0 });
    for (const r of starts.adm) add(admStart.name, { ...r, own: 0 });
    for (const { name, tool, r } of got) add(name, { ...r, own: r.ns - start[tool] });
  }
  const rows = new Map();
  for (const [name, list] of samples) {
    const row = { name };
    for (const key of Object.keys(list[0])) row[key] = median(list.map((x) => x[key]));
    row.bestOwn = Math.min(...list.map((x) => x.own));
    rows.set(name, row);
  }
  return { rows, ipvsStart: rows.get(ipvsStart.name), admStart: rows.get(admStart.name) };
}

async function listings(ipvs, n) {
  await ipvs.clear();
  buildServices(n);
  const runs = listingRuns(n);
  const { rows, ipvsStart, admStart } = await listingRounds(runs);
  const lines = [
    [
      'start-up (`-Ln`, empty table)',
      f2(ms(ipvsStart.ns)),
      f2(ms(admStart.ns)),
      cpu(ipvsStart),
      cpu(admStart),
      '',
      '',
      '',
      '',
    ],
  ];
  const notes = [];
  for (const mode of MODES) {
    const own = rows.get(`ipvs ${mode.join(' ')}`);
    const adm = rows.get(`ipvsadm ${admArgs(mode).join(' ')}`);
    const s = speedup(own.own, adm.own, 2.5);
    const label = `\`${mode.join(' ')}\`${mode.includes('--json') ? ' (ipvsadm: `-Ln`)' : ''}`;
    const best = speedup(own.bestOwn, adm.bestOwn, 2.5);
    lines.push([
      label,
      f2(ms(own.ns)),
      f2(ms(adm.ns)),
      cpu(own),
      cpu(adm),
      f2(ms(own.own)),
      f2(ms(adm.own)),
      s.text,
      best.text,
    ]);
    notes.push(
      verdict(s.ok, `\`${mode.join(' ')}\` at least 2.5x faster than ipvsadm, start-up subtracted (${s.text})`),
    );
  }
  grid(
    `cli: listings of ${n} services x 10 destinations (medians of ${runs} rounds, start-ups paired by round)`,
    [
      'listing',
      'ipvs ms',
      'ipvsadm ms',
      'ipvs CPU ms (user + sys)',
      'ipvsadm CPU ms',
      'ipvs − start-up',
      'ipvsadm − start-up',
      'ipvsadm / ipvs, start-up subtracted',
      'the same, each in its fastest round',
    ],
    lines,
    notes,
  );
  await ipvs.clear();
}

/** `-Lnc` of `n` entries against dd's copy of the same file and ipvsadm -Lnc; resolves to ipvs's row. */
async function connectionListing(ipvs, n) {
  spawnSync('ip', ['netns', 'del', CONNS]);
  execFileSync('ip', ['netns', 'add', CONNS]);
  try {
    buildConnections(n, CONNS);
    const have = countEntries(CONNS);
    // Reads of the largest table take minutes under emulation (the kernel's
    // reader is quadratic): one run each there, and no warm-up (the start-ups
    // still take every round).
    const big = n >= 200_000 ? { runs: 1, warmUp: false } : {};
    const rows = await sideBySide(RUNS, [
      { name: 'dd bs=1M (floor: its own copy time)', ownTime: true, run: async () => ddCopyTime(CONNS), ...big },
      child('ipvs -Lnc', ipvsCmd('-Lnc'), CONNS, big),
      child('ipvsadm -Lnc', ['ipvsadm', '-Lnc'], CONNS, { runs: Math.min(RUNS, 3), ...big }),
      ...startups(),
    ]);
    const [dd, own, adm, ownStart, admStart] = rows;
    const ownNet = own.ns - ownStart.ns;
    const s = speedup(ownNet, adm.ns - admStart.ns, 3);
    const start = [ownStart.ns, ownStart.ns, admStart.ns, 0, 0];
    grid(
      `cli: -Lnc of ${have} connection entries (asked for ${n})${n >= 200_000 ? ', one run' : ''}`,
      [
        'contender',
        'median ms',
        'CPU ms (user + sys)',
        'peak RSS MiB',
        '− start-up',
        'ratio to dd, start-up subtracted',
      ],
      rows.map((r, k) =>
        k === 0
          ? [r.name, f2(ms(r.ns)), '', '', '', '1.00']
          : [
              r.name,
              f2(ms(r.ns)),
              cpu(r),
              mib(r),
              k < 3 ? f2(ms(r.ns - start[k])) : '',
              k < 3 ? f2((r.ns - start[k]) / dd.ns) : '',
            ],
      ),
      [
        verdict(ownNet <= 1.15 * dd.ns, `ipvs -Lnc, start-up subtracted, at most 1.15x dd (${f2(ownNet / dd.ns)}x)`),
        verdict(s.ok, `ipvs -Lnc at least 3x faster than ipvsadm -Lnc, start-up subtracted (${s.text})`),
      ],
    );
    return { n: have, rssKiB: own.rssKiB, adm: adm.rssKiB };
  } finally {
    spawnSync('ip', ['netns', 'del', CONNS]);
  }
}

/** The scenario: start-up, the service tables' listings, the connection tables' listings and their memory. */
export async function cli(ipvs) {
  spawnSync('ip', ['netns', 'del', EMPTY]);
  execFileSync('ip', ['netns', 'add', EMPTY]);
  try {
    await startup();
    for (const n of SERVICE_SIZES) await listings(ipvs, n);
    const rss = [];
    for (const n of CONNECTION_SIZES) rss.push(await connectionListing(ipvs, n));
    if (rss.length >= 2) {
      const [first, last] = [rss[0], rss[rss.length - 1]];
      grid(
        'cli: peak RSS of -Lnc',
        ['entries', 'ipvs -Lnc MiB', 'ipvsadm -Lnc MiB'],
        rss.map((r) => [r.n, (r.rssKiB / 1024).toFixed(1), (r.adm / 1024).toFixed(1)]),
        [
          verdict(
            last.rssKiB <= 1.2 * first.rssKiB,
            `peak RSS of ipvs -Lnc at ${last.n} entries at most 1.2x that at ${first.n} (${f2(last.rssKiB / first.rssKiB)}x)`,
          ),
        ],
      );
    }
  } finally {
    spawnSync('ip', ['netns', 'del', EMPTY]);
  }
}
