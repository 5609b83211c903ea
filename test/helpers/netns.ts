// A fresh network namespace for one kernel test file, with the IPVS client
// opened inside it and the reference ipvsadm run inside it too.
import { execFileSync, spawnSync } from 'node:child_process';

import { expect } from 'vitest';

import { IpvsError, open, type Backend, type Ipvs } from '../../src/index.js';

export interface Lab {
  /** The namespace's name, for `ip netns exec`. */
  name: string;
  /** The namespace's path, for open({ netns }). */
  path: string;
  ipvs: Ipvs;
  /** Runs the reference ipvsadm in the namespace. */
  ipvsadm(...args: string[]): { stdout: string; stderr: string; status: number | null };
  /** The table as the reference tool saves it (`ipvsadm -Sn`): what must not change on errors. */
  saved(): string;
  /** Runs a command in the namespace; throws on failure. */
  exec(command: string, ...args: string[]): string;
  close(): Promise<void>;
}

let counter = 0;

/**
 * A command the lab runs synchronously ends within this, or is killed and
 * fails naming itself: a child that never ends (ps under AddressSanitizer did)
 * would otherwise hold the test file, and its timeout, forever.
 */
const SYNC_LIMIT = { timeout: 300_000, killSignal: 'SIGKILL' } as const;

export async function createLab(options: { backend?: Backend } = {}): Promise<Lab> {
  const name = `ipvs-test-${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const path = `/run/netns/${name}`;
  const ipvs = await open({ netns: path, ...options });
  return {
    name,
    path,
    ipvs,
    ipvsadm(...args) {
      const r = spawnSync('ip', ['netns', 'exec', name, 'ipvsadm', ...args], { encoding: 'utf8', ...SYNC_LIMIT });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    },
    saved() {
      const r = spawnSync('ip', ['netns', 'exec', name, 'ipvsadm', '-Sn'], { encoding: 'utf8', ...SYNC_LIMIT });
      if (r.status !== 0) throw new Error(`ipvsadm -Sn failed: ${r.stderr}`);
      return r.stdout;
    },
    exec(command, ...args) {
      return execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8', ...SYNC_LIMIT });
    },
    async close() {
      await ipvs.close();
      execFileSync('ip', ['netns', 'del', name]);
    },
  };
}

/**
 * Expects `call` to be refused by the kernel with an IpvsError carrying these
 * fields, and the table to be as it was before.
 */
export async function expectRefusal(
  lab: Lab,
  call: () => Promise<unknown>,
  expected: { op: string; code: string; errno: number; message: string },
): Promise<void> {
  const before = lab.saved();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IpvsError);
  expect(error).toMatchObject(expected);
  expect(lab.saved()).toBe(before);
}
