// Child processes for tests about the host process: a fresh node (with
// --expose-gc) that runs a script against the built package, optionally with
// the fault-injection library (test/faults/faults.c) preloaded, and prints a
// JSON result. Faults are armed from the script: process.env.IPVS_FAULT.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

const SOURCE = fileURLToPath(new URL('../faults/faults.c', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../build/faults.so', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const ADDON = fileURLToPath(new URL('../../build/Release/ipvs.node', import.meta.url));

/** The fault-injection library, built on first use (cc, from the test's source). */
export function faultsLibrary(): string {
  if (!existsSync(LIBRARY) || statSync(LIBRARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(fileURLToPath(new URL('../../build', import.meta.url)), { recursive: true });
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-fexceptions',
      '-O1',
      '-Wall',
      '-o',
      LIBRARY,
      SOURCE,
      '-ldl',
      '-lpthread',
    ]);
  }
  return LIBRARY;
}

// What every script has at hand.
const PREAMBLE = `
import * as ipvs from ${JSON.stringify(ENTRY)};
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
const { open, IpvsError } = ipvs;
// The addon itself (the same module the package loads), for its raw exports.
const addon = createRequire(import.meta.url)(${JSON.stringify(ADDON)});
// A thread's name; '' for one that ended meanwhile.
const comm = (t) => { try { return readFileSync('/proc/self/task/' + t + '/comm', 'latin1').trim(); } catch { return ''; } };
// The process's threads, less the addon's idle ones (kept for the next call: native/executor.h).
const threads = () => readdirSync('/proc/self/task').map(comm).filter((n) => n !== '' && n !== 'ipvs-idle').length;
const threadNames = () => readdirSync('/proc/self/task').map(comm).sort().join(',');
const descriptors = () => readdirSync('/proc/self/fd').length;
const rss = () => process.memoryUsage().rss;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Collects garbage, and starts libuv's pool (its threads start on first use).
const settle = async () => { await stat('/'); for (let i = 0; i < 5; i++) { globalThis.gc(); await sleep(100); } };
const fault = (spec) => { process.env.IPVS_FAULT = spec; };
const failure = (e) => ({ name: e?.name, code: e?.code, errno: e?.errno, op: e?.op, message: e?.message, isIpvsError: e instanceof IpvsError });
// What call() came to (whether it threw or rejected): 'ok', or its error's
// code (the addon's raw errors carry an errno: 'errno N'), or 'uncoded: MESSAGE'.
const outcome = (call) => Promise.resolve().then(call).then(
  () => 'ok',
  (e) => e?.code ?? (typeof e?.errno === 'number' ? 'errno ' + e.errno : 'uncoded: ' + e?.message),
);
// Runs call() with the k-th allocation of kind ('new' or 'malloc') made on the
// addon's behalf failing, for k = 0, 1, ... until it comes to what it comes to
// unfaulted (its baseline, run first) 'enough' times in a row (those
// allocations are past its last), or 'max' is reached; 'step' > 1 fails
// every step-th allocation only, for calls that make many. setup() runs
// before each call, unfaulted (to put the kernel's table back).
const sweep = async (kind, call, { enough = 3, max = 400, step = 1, setup = async () => {} } = {}) => {
  await setup();
  const baseline = await outcome(call);
  const outcomes = [];
  for (let k = 0, same = 0; k < max && same < enough; k += step) {
    await setup();
    fault(kind + ':' + k + ':1:ENOMEM');
    const o = await outcome(call);
    fault('');
    outcomes.push(o);
    same = o === baseline ? same + 1 : 0;
  }
  return { baseline, outcomes, failed: outcomes.filter((o) => o !== baseline) };
};
`;

/** This process's threads, less the addon's idle ones (what the scripts' threads() counts). */
export function busyThreads(): number {
  let n = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim() !== 'ipvs-idle') n++;
    } catch {
      // ended meanwhile
    }
  }
  return n;
}

export interface ChildOptions {
  /** Preload the fault-injection library. */
  faults?: boolean;
  env?: Record<string, string>;
  timeout?: number;
}

/**
 * Runs `body` (the inside of an async function whose return value is
 * printed as JSON) in a fresh node and returns that value; throws with the
 * child's stderr when it fails, is killed by a signal (a crash) or times out.
 */
export async function runChild<T = Record<string, unknown>>(body: string, options: ChildOptions = {}): Promise<T> {
  // Under faults each call starts its own threads (none kept idle between
  // calls), so that a sweep of thread starts meets the same starts each time.
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...(options.faults ? { IPVS_THREAD_IDLE_MS: '0' } : {}),
    ...options.env,
    IPVS_FAULT: '',
  };
  // After what is preloaded already (scripts/sanitize's runtime, which must come first).
  if (options.faults) env.LD_PRELOAD = [process.env.LD_PRELOAD, faultsLibrary()].filter(Boolean).join(' ');
  const script = `${PREAMBLE}\nconst result = await (async () => {\n${body}\n})();\nconsole.log(JSON.stringify(result));\n`;
  // Asynchronous: a test process blocked for a minute (a child under the
  // sanitizer, in the lab) misses vitest's own call to its runner.
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      { encoding: 'utf8', env, timeout: options.timeout ?? 120_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (error, out, err) => {
        if (!error) return resolve(out);
        const e = error as { code?: unknown; signal?: string | null; killed?: boolean };
        const how = e.signal ? `killed by ${e.signal}` : `exited ${String(e.code)}`;
        reject(new Error(`child ${how}${e.killed ? ' (timed out)' : ''}: ${err}`));
      },
    );
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** What a script's sweep() returns. */
export interface Sweep {
  baseline: string;
  outcomes: string[];
  failed: string[];
}

/**
 * Whether allocations can be failed: not under a sanitizer (scripts/sanitize
 * sets IPVS_ADDON_VARIANT), whose runtime, preloaded first, owns malloc and
 * operator new, so the fault library's never see a call. The plain unit and
 * kernel suites run the allocation sweeps.
 */
export const ALLOCATIONS_FAIL = !process.env.IPVS_ADDON_VARIANT;

/**
 * Every allocation that failed the call in `sweep` failed it with `enomem`
 * ('ENOMEM' from the facade, 'errno 12' from the addon's raw exports), and
 * some did (the faults reached the addon). Logs the counts under `name`.
 * Under a sanitizer none can fail (ALLOCATIONS_FAIL), and none did.
 */
export function expectEnomem(sweep: Sweep, enomem: string, name: string): void {
  console.log(
    `${name}: allocations failed in turn: ${sweep.outcomes.length}; calls that failed: ${sweep.failed.length}`,
  );
  if (!ALLOCATIONS_FAIL) {
    expect(sweep.failed).toEqual([]);
    return;
  }
  expect(sweep.failed.length).toBeGreaterThan(0);
  expect([...new Set(sweep.failed)]).toEqual([enomem]);
}
