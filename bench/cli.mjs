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
  ms,
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
 * (ipvsadm − its start-up) / (ipvs − its start-up), as text, and whether it
 * is at least `target`. A listing whose time is within its tool's start-up
 * noise (zero or less once subtracted) counts as infinitely fast.
 */
function speedup(ipvs, ipvsStart, adm, admStart, target) {
  const a = adm - admStart;
  const b = ipvs - ipvsStart;
  if (b <= 0) return { text: 'inf (ipvs within its start-up noise)', ok: true };
  return { text: `${f2(a / b)}x`, ok: a >= target * b };
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

async function listings(ipvs, n) {
  await ipvs.clear();
  buildServices(n);
  const contenders = startups();
  for (const mode of MODES) {
    contenders.push(child(`ipvs ${mode.join(' ')}`, ipvsCmd(...mode), undefined));
    if (mode.includes('--json')) continue;
    contenders.push(child(`ipvsadm ${mode.join(' ')}`, ['ipvsadm', ...mode], undefined));
  }
  const rows = await sideBySide(RUNS, contenders);
  const by = (name) => rows.find((r) => r.name === name);
  const [ipvsStart, admStart] = rows;
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
    ],
  ];
  const notes = [];
  for (const mode of MODES) {
    const own = by(`ipvs ${mode.join(' ')}`);
    const adm = by(`ipvsadm ${admArgs(mode).join(' ')}`);
    const s = speedup(own.ns, ipvsStart.ns, adm.ns, admStart.ns, 2.5);
    const label = `\`${mode.join(' ')}\`${mode.includes('--json') ? ' (ipvsadm: `-Ln`)' : ''}`;
    lines.push([
      label,
      f2(ms(own.ns)),
      f2(ms(adm.ns)),
      cpu(own),
      cpu(adm),
      f2(ms(own.ns - ipvsStart.ns)),
      f2(ms(adm.ns - admStart.ns)),
      s.text,
    ]);
    notes.push(
      verdict(s.ok, `\`${mode.join(' ')}\` at least 2.5x faster than ipvsadm, start-up subtracted (${s.text})`),
    );
  }
  grid(
    `cli: listings of ${n} services x 10 destinations`,
    [
      'listing',
      'ipvs ms',
      'ipvsadm ms',
      'ipvs CPU ms (user + sys)',
      'ipvsadm CPU ms',
      'ipvs − start-up',
      'ipvsadm − start-up',
      'ipvsadm / ipvs, start-up subtracted',
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
    const s = speedup(own.ns, ownStart.ns, adm.ns, admStart.ns, 3);
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
