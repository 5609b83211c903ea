// The apply scenario of the benchmark (bench/bench.mjs): programming a table
// from a desired state, side by side in the same rounds, against
//  - the C floor (bench/floor-apply.c): the same changes, pipelined as the
//    library sends them, from a program that does nothing else; and the same
//    with the read-back's dumps after (bench/floor-stats.c, on as many
//    sockets as the library's pool): every request the library's apply sends;
//  - `ipvsadm -R` of the same table as rules;
//  - for a 1% change of a large table, `ipvsadm -C` + `ipvsadm -R` of the
//    whole new table (what a tool without plans does);
// and the time to undo a failed apply against the apply's own time; and the
// longest the event loop of the library's process waits during an apply.
// Command lines run as whole processes (bench/run-child), each with its
// tool's start-up (an empty listing, in the same rounds) subtracted. Every
// contender starts from the same table, made before its clock starts.
//
// BENCH_APPLY_SERVICES=1000,5000 picks the tables' sizes (10 destinations each).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { open } from '../dist/index.js';
import { installPackage, ms, quiet, RUNS, runChild, sideBySide, sizes, verdict } from './measure.mjs';

const SIZES = sizes('BENCH_APPLY_SERVICES', '1000,5000');
const FLOOR = process.env.BENCH_APPLY_FLOOR ?? 'build/bench/floor-apply';
// The read-back's floor: the same 1 + N dumps as the library's snapshot, on as many sockets as its pool.
const READ_FLOOR = process.env.BENCH_FLOOR ?? 'build/bench/floor-stats';
const POOL = Math.min(4, availableParallelism());
const NODE = process.execPath;
const EMPTY = 'ipvs-bench-apply-empty';
const DESTS = 10;

/** The package as installed, on the guest's tmpfs (measure.mjs says why). */
const INSTALLED = installPackage();
const ipvsCmd = (...args) => [NODE, join(INSTALLED, 'dist', 'cli.cjs'), ...args];
const files = mkdtempSync(join(tmpdir(), 'ipvs-bench-apply-'));

/** The table bench/floor-apply.c and buildServices make, as a desired state; `change` varies it. */
function desired(n, change = () => {}) {
  const services = [];
  for (let i = 0; i < n; i++) {
    const service = {
      protocol: 'tcp',
      address: `203.0.${113 + (i >> 16)}.${(i >> 8) & 255}`,
      port: 1000 + (i & 255),
      scheduler: 'rr',
      destinations: [],
    };
    for (let j = 1; j <= DESTS; j++) {
      service.destinations.push({ address: `198.51.100.${j}`, port: 80, forwarding: 'masq', weight: j });
    }
    change(service, i);
    services.push(service);
  }
  return { services };
}

/** The same table as ipvsadm -R rules. */
function rules(state) {
  const lines = [];
  for (const s of state.services) {
    const svc = `-t ${s.address}:${s.port}`;
    lines.push(`-A ${svc} -s ${s.scheduler}`);
    for (const d of s.destinations) lines.push(`-a ${svc} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return lines.join('\n') + '\n';
}

// Every run works in a network namespace of its own, made (and its table
// filled) before the clock starts and deleted after. IPVS keeps a deleted
// destination in its namespace's trash for a minute or more and looks
// through the whole trash for every destination added: a run after a flush
// of 55,000 destinations pays for that flush, whoever made it (the first
// run of this scenario measured a 1.5x swing from it). A fresh namespace
// each time gives every contender the same kernel state.
let counter = 0;

/** A fresh namespace holding `state` (or nothing), and a client of the library in it. */
async function fresh(state) {
  const name = `ipvs-bench-apply-${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const ipvs = await open({ netns: `/run/netns/${name}` });
  if (state) {
    const changes = [];
    for (const { destinations, ...service } of state.services) {
      changes.push({ action: 'add', service });
      for (const destination of destinations) changes.push({ action: 'add', service, destination });
    }
    await ipvs.batch(changes);
  }
  return {
    name,
    ipvs,
    async done() {
      await ipvs.close();
      execFileSync('ip', ['netns', 'del', name]);
      await quiet(); // the namespace's teardown is not the next contender's to pay
    },
  };
}

/** Runs `run(ns)` in a fresh namespace holding `state`; resolves to what it returns (its own time, in ns). */
async function inFresh(state, run) {
  const ns = await fresh(state);
  try {
    return await run(ns);
  } finally {
    await ns.done();
  }
}

/** The nanoseconds `f` takes. */
async function timed(f) {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t);
}

/** The longest a 1 ms interval timer waited beyond its period while `f` ran, in ms. */
async function longestWait(f) {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 1);
    last = now;
  }, 1);
  try {
    await f();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

const f2 = (x) => x.toFixed(2);

function grid(title, lines, notes) {
  console.log(`\n### ${title}\n`);
  console.log('| contender | median ms | less start-up ms |');
  console.log('| --------- | --------: | ---------------: |');
  for (const [name, total, own] of lines)
    console.log(`| ${name} | ${f2(total)} | ${own === undefined ? '' : f2(own)} |`);
  for (const n of notes) console.log(`\n${n}`);
}

export async function apply() {
  execFileSync('ip', ['netns', 'add', EMPTY]);
  try {
    for (const n of SIZES) {
      const state = desired(n);
      const json = join(files, `table-${n}.json`);
      const rulesFile = join(files, `table-${n}.rules`);
      writeFileSync(json, JSON.stringify(state));
      writeFileSync(rulesFile, rules(state));
      const changes = n * (DESTS + 1);
      const startups = [
        { name: 'ipvs start-up', ownTime: true, run: async () => runChild(ipvsCmd('-Ln'), EMPTY).ns },
        { name: 'ipvsadm start-up', ownTime: true, run: async () => runChild(['ipvsadm', '-Ln'], EMPTY).ns },
      ];

      // 1. An empty table to n x 10.
      const floorApply = (ns) =>
        Number(execFileSync('ip', ['netns', 'exec', ns.name, FLOOR, String(n), String(DESTS)], { encoding: 'utf8' }));
      const floorRead = (ns) =>
        Number(
          execFileSync('ip', ['netns', 'exec', ns.name, READ_FLOOR, '1', String(POOL)], { encoding: 'utf8' }).split(
            ' ',
          )[0],
        );
      const rows = await sideBySide(RUNS, [
        { name: 'floor', ownTime: true, run: () => inFresh(undefined, floorApply) },
        {
          name: 'floor+read',
          ownTime: true,
          run: () => inFresh(undefined, (ns) => floorApply(ns) + floorRead(ns)),
        },
        { name: 'lib', ownTime: true, run: () => inFresh(undefined, (ns) => timed(() => ns.ipvs.apply(state))) },
        {
          name: 'cli',
          ownTime: true,
          run: () => inFresh(undefined, (ns) => runChild(ipvsCmd('apply', json), ns.name).ns),
        },
        {
          name: 'adm',
          ownTime: true,
          run: () => inFresh(undefined, (ns) => runChild(['ipvsadm', '-R'], ns.name, rulesFile).ns),
        },
        ...startups,
      ]);
      const t = Object.fromEntries(rows.map((r) => [r.name, r.ns]));
      const cliOwn = t.cli - t['ipvs start-up'];
      const admOwn = t.adm - t['ipvsadm start-up'];
      grid(
        `apply: an empty table to ${n} x ${DESTS} (${changes} requests; median of ${RUNS})`,
        [
          ['C floor (the same changes, pipelined)', ms(t.floor)],
          [`C floor (the same changes, then the read-back's dumps on ${POOL} sockets)`, ms(t['floor+read'])],
          ['library apply() (plan, apply, read back)', ms(t.lib)],
          ['ipvs apply FILE', ms(t.cli), ms(cliOwn)],
          ['ipvsadm -R', ms(t.adm), ms(admOwn)],
          ['ipvs start-up (-Ln, empty)', ms(t['ipvs start-up'])],
          ['ipvsadm start-up (-Ln, empty)', ms(t['ipvsadm start-up'])],
        ],
        [
          verdict(
            admOwn >= 5 * cliOwn,
            `ipvs apply at least 5x faster than ipvsadm -R, start-up subtracted (${f2(admOwn / cliOwn)}x)`,
          ),
          verdict(
            t.lib <= 1.3 * t['floor+read'],
            `the library's apply within 1.3x a C floor that sends the same requests: the changes and the ` +
              `read-back's dumps (${f2(t.lib / t['floor+read'])}x; ${f2(t.lib / t.floor)}x the changes alone)`,
          ),
        ],
      );

      // 2. A 1% change of the table: plan + apply, against a flush and a restore of the whole.
      const next = desired(n, (s, i) => {
        if (i % 100 === 0) s.scheduler = 'wrr';
        if (i % 10 === 5) s.destinations[i % DESTS].weight += 100;
      });
      const nextJson = join(files, `next-${n}.json`);
      const nextRules = join(files, `next-${n}.rules`);
      writeFileSync(nextJson, JSON.stringify(next));
      writeFileSync(nextRules, rules(next));
      const planned = await inFresh(state, async (ns) => (await ns.ipvs.plan(next)).changes.length);
      const small = await sideBySide(RUNS, [
        { name: 'lib', ownTime: true, run: () => inFresh(state, (ns) => timed(() => ns.ipvs.apply(next))) },
        {
          name: 'cli',
          ownTime: true,
          run: () => inFresh(state, (ns) => runChild(ipvsCmd('apply', nextJson), ns.name).ns),
        },
        {
          name: 'adm',
          ownTime: true,
          run: () =>
            inFresh(
              state,
              (ns) => runChild(['ipvsadm', '-C'], ns.name).ns + runChild(['ipvsadm', '-R'], ns.name, nextRules).ns,
            ),
        },
        ...startups,
      ]);
      const s = Object.fromEntries(small.map((r) => [r.name, r.ns]));
      const admWhole = s.adm - 2 * s['ipvsadm start-up'];
      const cliSmall = s.cli - s['ipvs start-up'];
      grid(
        `apply: a 1% change of ${n} x ${DESTS} (${planned} changes of ${changes} entries; median of ${RUNS})`,
        [
          ['library apply() (plan, apply, read back)', ms(s.lib)],
          ['ipvs apply FILE', ms(s.cli), ms(cliSmall)],
          ['ipvsadm -C + ipvsadm -R of the whole table', ms(s.adm), ms(admWhole)],
        ],
        [
          verdict(
            admWhole >= 25 * s.lib,
            `the library at least 25x faster than ipvsadm -C + -R (${f2(admWhole / s.lib)}x)`,
          ),
          verdict(
            admWhole >= 10 * cliSmall,
            `ipvs apply at least 10x faster, start-up subtracted (${f2(admWhole / cliSmall)}x)`,
          ),
        ],
      );

      // 3. Undoing a failed apply: its last request refused (a multicast destination).
      const failing = desired(n, (svc, i) => {
        if (i === n - 1) svc.destinations[DESTS - 1] = { address: '224.0.0.1', port: 80, forwarding: 'masq' };
      });
      const undo = await sideBySide(RUNS, [
        { name: 'ok', ownTime: true, run: () => inFresh(undefined, (ns) => timed(() => ns.ipvs.apply(state))) },
        {
          name: 'failed',
          ownTime: true,
          run: () =>
            inFresh(undefined, (ns) =>
              timed(() =>
                ns.ipvs.apply(failing).then(
                  () => {
                    throw new Error('the failing apply went through');
                  },
                  (e) => {
                    if (!e.restored) throw e;
                  },
                ),
              ),
            ),
        },
      ]);
      const [ok, failed] = undo.map((r) => r.ns);
      const undoTime = failed - ok;
      grid(
        `apply: undoing a failed apply of ${changes} requests (median of ${RUNS})`,
        [
          ['apply() that goes through', ms(ok)],
          ['apply() refused at its last request, then undone', ms(failed)],
          ['the undo (the difference)', ms(undoTime)],
        ],
        [verdict(undoTime <= 2 * ok, `the undo within 2x the apply's own time (${f2(undoTime / ok)}x)`)],
      );

      // 4. What a host's event loop sees during the library's apply(): the longest wait of a 1 ms timer.
      const waits = [];
      for (let r = 0; r < RUNS; r++)
        waits.push(await inFresh(undefined, (ns) => longestWait(() => ns.ipvs.apply(state))));
      waits.sort((a, b) => a - b);
      console.log(`\n### apply: the event loop during apply() of an empty table to ${n} x ${DESTS} (${RUNS} runs)\n`);
      console.log('| the longest a 1 ms timer waited | ms |');
      console.log('| ------------------------------- | -: |');
      console.log(`| median of the runs | ${f2(waits[waits.length >> 1])} |`);
      console.log(`| longest of the runs | ${f2(waits[waits.length - 1])} |`);
    }
  } finally {
    execFileSync('ip', ['netns', 'del', EMPTY]);
  }
}
