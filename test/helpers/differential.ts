// The differential harness: the same command lines run through the real
// ipvsadm and through our `main` (in-process), each in a namespace of its
// own or both in one, with stdout, stderr and exit status captured for a
// byte-for-byte comparison.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

import { main } from '../../src/cli/main.js';
import { open, type Timeouts } from '../../src/index.js';

export interface Result {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** What argv[0] is for both tools, so `Try …` messages compare. */
export const ARGV0 = 'ipvsadm';

/** The environment both tools run in: C locale, sbin on the path. */
const TOOL_ENV = { ...process.env, LC_ALL: 'C', PATH: `/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}` };

/** Runs argv with `stdin`, capturing stdout, stderr and the exit status. */
export function spawnCaptured(argv: readonly string[], stdin = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: TOOL_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ stdout, stderr, status }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

let counter = 0;
const run = promisify(execFile);

export class Netns {
  readonly name: string;
  readonly path: string;
  readonly #owned: boolean;

  /** One made elsewhere (which `delete` leaves alone), or a fresh one when not given (see create). */
  constructor(existing?: string) {
    this.#owned = existing === undefined;
    this.name = existing ?? `ipvs-cli-${process.pid}-${counter++}`;
    this.path = `/run/netns/${this.name}`;
  }

  /** A fresh namespace, lo up (the kernel checks local addresses such as ::1 against it). */
  static async create(): Promise<Netns> {
    const ns = new Netns();
    await run('ip', ['netns', 'add', ns.name]);
    await run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command in the namespace; throws on failure. */
  async exec(command: string, ...args: string[]): Promise<string> {
    return (await run('nsenter', [`--net=${this.path}`, '--', command, ...args], { encoding: 'utf8' })).stdout;
  }

  /** The reference ipvsadm in this namespace, run as `ipvsadm` (argv[0]). */
  ipvsadm(args: readonly string[], stdin = ''): Promise<Result> {
    return spawnCaptured(['nsenter', `--net=${this.path}`, '--', ARGV0, ...args], stdin);
  }

  /** Our command, in-process, working in this namespace. */
  async ipvs(args: readonly string[], stdin = ''): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const status = await main([ARGV0, ...args], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      stdin: () => stdin,
      netns: this.path,
    });
    return { stdout, stderr, status };
  }

  async delete(): Promise<void> {
    if (this.#owned) await run('ip', ['netns', 'del', this.name]);
  }
}

/** Splits a command line on blanks; '…' quotes (so '' is an empty argument). */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!);
  return out;
}

export interface Step {
  args: string[];
  stdin?: string;
}

export interface Case {
  name: string;
  steps: Step[];
  /** Commands (argv) run in each fresh namespace before the steps, such as links for daemons. */
  setup?: string[][];
}

/** A command line that only lists (-L, -l, -S, or nothing at all). */
export function readOnly(args: readonly string[]): boolean {
  const first = args[0];
  return first === undefined || /^-[LlS]/.test(first) || first === '--list' || first === '--save';
}

export interface StepReport {
  step: Step;
  ipvsadm: Result;
  ipvs: Result;
}

/**
 * A table's -Sn, read again (up to twice) while it holds a line twice. One
 * namespace cannot hold a rule twice, but the kernel counts where a dump
 * resumes over the services of every namespace, so a dump that resumes
 * while another case adds a service can repeat one (seen once, on 6.12).
 */
async function saveOf(read: () => Promise<Result>): Promise<Result> {
  let r = await read();
  for (let again = 0; again < 2 && repeatsALine(r.stdout); again++) r = await read();
  return r;
}

/**
 * A listing step through both tools in one namespace, read again (up to
 * twice) while the two differ: the same resumed dump can make ipvsadm list a
 * service twice (ours lists each service once).
 */
async function readBoth(ns: Netns, step: Step): Promise<[Result, Result]> {
  let pair: [Result, Result] = [await ns.ipvsadm(step.args, step.stdin), await ns.ipvs(step.args, step.stdin)];
  for (let again = 0; again < 2 && !sameResult(...pair); again++) {
    pair = [await ns.ipvsadm(step.args, step.stdin), await ns.ipvs(step.args, step.stdin)];
  }
  return pair;
}

const sameResult = (x: Result, y: Result): boolean =>
  x.status === y.status && x.stdout === y.stdout && x.stderr === y.stderr;

function repeatsALine(text: string): boolean {
  const lines = text.split('\n').filter((l) => l !== '');
  return new Set(lines).size !== lines.length;
}

/**
 * Runs a case: the steps through ipvsadm in one fresh namespace and through
 * ours in another, then both tables read back with `ipvsadm -Sn` (and ours
 * with our own -Sn). Returns everything for the assertions.
 */
export async function runCase(
  c: Case,
): Promise<{ steps: StepReport[]; saved: { ipvsadm: Result; ipvs: Result; oursByIpvsadm: Result } }> {
  // A case with setup commands changes its namespaces beyond IPVS (links): fresh ones.
  const fresh = c.setup !== undefined && c.setup.length > 0;
  const [a, b] = await Promise.all(fresh ? [Netns.create(), Netns.create()] : [take(), take()]);
  let reusable = !fresh;
  try {
    for (const argv of c.setup ?? []) {
      await a.exec(argv[0]!, ...argv.slice(1));
      await b.exec(argv[0]!, ...argv.slice(1));
    }
    const steps: StepReport[] = [];
    for (const step of c.steps) {
      // A listing changes nothing, so ipvsadm reads our namespace too: the
      // kernel's dump order (--nosort) depends on the namespace.
      const [ipvsadm, ipvs] = readOnly(step.args)
        ? await readBoth(b, step)
        : await Promise.all([a.ipvsadm(step.args, step.stdin), b.ipvs(step.args, step.stdin)]);
      steps.push({ step, ipvsadm, ipvs });
    }
    const [admSaved, oursByIpvsadm, oursSaved] = await Promise.all([
      saveOf(() => a.ipvsadm(['-Sn'])),
      saveOf(() => b.ipvsadm(['-Sn'])),
      saveOf(() => b.ipvs(['-Sn'])),
    ]);
    const saved = { ipvsadm: admSaved, oursByIpvsadm, ipvs: oursSaved };
    return { steps, saved };
  } catch (e) {
    reusable = false;
    throw e;
  } finally {
    await Promise.all(reusable ? [give(a), give(b)] : [a.delete(), b.delete()]);
  }
}

// Namespaces of finished cases, emptied and used again: making and deleting
// two namespaces per case (six `ip` processes, and the kernel's teardown of
// each namespace's IPVS) took much of the suite's time under emulation.
const pool: { ns: Netns; timeouts: Timeouts }[] = [];
const defaults = new Map<Netns, Timeouts>();

async function take(): Promise<Netns> {
  const reused = pool.pop();
  if (reused) return reused.ns;
  const ns = await Netns.create();
  const ipvs = await open({ netns: ns.path });
  try {
    defaults.set(ns, await ipvs.getTimeouts());
  } finally {
    await ipvs.close();
  }
  return ns;
}

/**
 * Empties a namespace as a fresh one is (no services, no sync daemon, the
 * timeouts it started with) and puts it back in the pool; deletes it when
 * that fails, or when it is not empty afterwards.
 */
async function give(ns: Netns): Promise<void> {
  const timeouts = defaults.get(ns)!;
  try {
    const ipvs = await open({ netns: ns.path });
    try {
      for (const d of await ipvs.listDaemons()) await ipvs.stopDaemon(d.state);
      await ipvs.clear();
      await ipvs.setTimeouts(timeouts);
      const empty =
        (await ipvs.listServices()).length === 0 &&
        (await ipvs.listDaemons()).length === 0 &&
        JSON.stringify(await ipvs.getTimeouts()) === JSON.stringify(timeouts);
      if (!empty) throw new Error(`namespace ${ns.name} is not empty after its reset`);
    } finally {
      await ipvs.close();
    }
    pool.push({ ns, timeouts });
  } catch {
    defaults.delete(ns);
    await ns.delete();
  }
}

/** Deletes the pooled namespaces (at the end of a test file). */
export async function deletePooled(): Promise<void> {
  await Promise.all(pool.splice(0).map(({ ns }) => ns.delete()));
}

/**
 * Reads the same moment through both tools in one namespace: ipvsadm, ours,
 * ipvsadm again; when the two ipvsadm reads differ (counters, rates or
 * expiry times moved in between), it tries again. Returns the last triple.
 */
export async function sameMoment(
  ns: Netns,
  args: readonly string[],
  tries = 8,
): Promise<{ before: Result; ipvs: Result; after: Result }> {
  let last: { before: Result; ipvs: Result; after: Result } | undefined;
  for (let i = 0; i < tries; i++) {
    const before = await ns.ipvsadm(args);
    const ipvs = await ns.ipvs(args);
    const after = await ns.ipvsadm(args);
    last = { before, ipvs, after };
    if (before.stdout === after.stdout && before.stderr === after.stderr) return last;
  }
  return last!;
}
