// The IPVS sysctls of a namespace (/proc/sys/net/ipv4/vs/*) through the
// library, against `cat` and `sysctl` run in the same namespace.
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { SysctlName, Sysctls } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
});
afterAll(async () => {
  await lab?.close();
});

/**
 * Every file of /proc/sys/net/ipv4/vs as read in the namespace (by grep, one
 * process: a process per file costs seconds under emulation), whitespace collapsed.
 */
function catAll(): Record<string, string> {
  const text = lab.exec('grep', '-r', '-H', '', '/proc/sys/net/ipv4/vs');
  const out: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^\/proc\/sys\/net\/ipv4\/vs\/([^:]+):(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected grep line ${JSON.stringify(line)}`);
    out[m[1]!] = m[2]!.trim().replace(/\s+/g, ' ');
  }
  return out;
}

function render(value: unknown): string {
  return Array.isArray(value) ? value.join(' ') : String(value);
}

function sysctlTool(name: string): string {
  return lab.exec('sysctl', '-n', `net.ipv4.vs.${name}`).trim().replace(/\s+/g, ' ');
}

it('lists every sysctl the kernel has, with the values cat reads', async () => {
  const mine = await lab.ipvs.listSysctls();
  const theirs = catAll();
  expect(Object.keys(theirs).length).toBeGreaterThan(20);
  expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
  for (const [name, value] of Object.entries(mine)) expect([name, render(value)]).toEqual([name, theirs[name]]);
  // Typed: numbers, and sync_threshold as [threshold, period].
  expect(mine.sync_threshold).toEqual(theirs.sync_threshold!.split(' ').map(Number));
  expect(typeof mine.expire_nodest_conn).toBe('number');
});

it('sets sysctls and reads them back through the library, sysctl and cat, in its own namespace only', async () => {
  const present = catAll();
  const changes: [SysctlName, Sysctls[SysctlName]][] = [
    ['expire_nodest_conn', 1],
    ['sync_threshold', [5, 60]],
    ['sync_ports', 4],
    ['drop_entry', 3], // 2 is 'automatic', which the kernel shows as 1 or 2 by memory pressure
    ['lblc_expiration', 3600],
  ];
  if ('conntrack' in present) changes.push(['conntrack', 1]);
  const before = await lab.ipvs.listSysctls();
  const paths = changes.map(([n]) => `/proc/sys/net/ipv4/vs/${n}`);
  const outside = execFileSync('cat', paths, { encoding: 'utf8' });
  try {
    for (const [name, value] of changes) {
      expect(render(before[name])).not.toBe(render(value));
      await lab.ipvs.setSysctl(name, value);
      expect(await lab.ipvs.getSysctl(name)).toEqual(value);
      expect(sysctlTool(name)).toBe(render(value));
      expect(catAll()[name]).toBe(render(value));
    }
    // The caller's own namespace is untouched.
    expect(execFileSync('cat', paths, { encoding: 'utf8' })).toBe(outside);
    // A value written with sysctl reads back through the library.
    lab.exec('sysctl', '-q', '-w', 'net.ipv4.vs.sync_threshold=7 70');
    expect(await lab.ipvs.getSysctl('sync_threshold')).toEqual([7, 70]);
  } finally {
    for (const [name] of changes) await lab.ipvs.setSysctl(name, before[name]!);
  }
  expect(await lab.ipvs.listSysctls()).toEqual(before);
});

it('refuses out-of-range values with RangeError and changes nothing', async () => {
  const before = catAll();
  const bad: [SysctlName, unknown][] = [
    ['expire_nodest_conn', 2],
    ['conntrack', -1],
    ['drop_entry', 4],
    ['sync_ports', 3],
    ['sync_ports', 0],
    ['sync_threshold', [50, 10]],
    ['sync_threshold', [-1, 0]],
    ['amemthresh', 2 ** 31],
    ['sync_retries', 4],
  ];
  for (const [name, value] of bad) {
    await expect(lab.ipvs.setSysctl(name, value as never), `${name} = ${JSON.stringify(value)}`).rejects.toThrow(
      RangeError,
    );
  }
  await expect(lab.ipvs.setSysctl('expire_nodest_conn', 0.5 as never)).rejects.toThrow(TypeError);
  await expect(lab.ipvs.setSysctl('sync_threshold', 3 as never)).rejects.toThrow(TypeError);
  expect(catAll()).toEqual(before);
});
