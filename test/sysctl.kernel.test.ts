// The IPVS sysctls of a namespace (/proc/sys/net/ipv4/vs/*) through the
// library, against `cat` and `sysctl` run in the same namespace.
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { IpvsError, type SysctlName, type Sysctls } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

// The estimator's kthreads and their two sysctls came with 6.2: the lab boots
// 6.1 (without them) or 6.12 (with them), and each side is tested.
const [major, minor] = release().split(/[.-]/).map(Number) as [number, number];
const ESTIMATOR_KTHREADS = major > 6 || (major === 6 && minor >= 2);

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

if (ESTIMATOR_KTHREADS) {
  it(`est_nice and est_cpulist (${release()}, 6.2+): read, written and validated like the rest`, async () => {
    const present = catAll();
    expect(present).toHaveProperty('est_nice');
    expect(present).toHaveProperty('est_cpulist');
    const before = { nice: await lab.ipvs.getSysctl('est_nice'), cpus: await lab.ipvs.getSysctl('est_cpulist') };
    expect(before.nice).toBe(Number(present.est_nice));
    expect(before.cpus).toBe(present.est_cpulist);
    expect(before.cpus).toMatch(/^[\d,-]+$/);
    try {
      for (const nice of [5, -20, 19, 0]) {
        await lab.ipvs.setSysctl('est_nice', nice);
        expect(await lab.ipvs.getSysctl('est_nice')).toBe(nice);
        expect(sysctlTool('est_nice')).toBe(String(nice));
      }
      // Written as the kernel reads them, read back as it prints them (strides expanded).
      for (const [list, printed] of [
        ['0', '0'],
        ['0,1', '0-1'],
        ['0-1:1/2', '0'],
        ['', ''],
        ['0-1', '0-1'],
      ]) {
        await lab.ipvs.setSysctl('est_cpulist', list!);
        expect(await lab.ipvs.getSysctl('est_cpulist'), list).toBe(printed);
        expect(catAll().est_cpulist, list).toBe(printed);
      }
      // Out of the library's ranges: refused before anything is written.
      const now = catAll();
      for (const [name, value] of [
        ['est_nice', 20],
        ['est_nice', -21],
        ['est_cpulist', '0-'],
        ['est_cpulist', '0\n1'],
      ] as const) {
        await expect(lab.ipvs.setSysctl(name, value as never), `${name} = ${JSON.stringify(value)}`).rejects.toThrow(
          RangeError,
        );
      }
      await expect(lab.ipvs.setSysctl('est_nice', '5' as never)).rejects.toThrow(TypeError);
      await expect(lab.ipvs.setSysctl('est_cpulist', 0 as never)).rejects.toThrow(TypeError);
      expect(catAll()).toEqual(now);
      // CPUs this machine lacks are the kernel's to refuse: ERANGE.
      await expect(lab.ipvs.setSysctl('est_cpulist', '4095')).rejects.toMatchObject({
        name: 'IpvsError',
        code: 'ERANGE',
        op: 'setSysctl',
      });
      expect(catAll()).toEqual(now);
    } finally {
      await lab.ipvs.setSysctl('est_nice', before.nice);
      await lab.ipvs.setSysctl('est_cpulist', before.cpus);
    }
    expect(catAll()).toEqual(present);
  });
} else {
  it(`est_nice and est_cpulist (${release()}, before 6.2): absent, and refused with ENOENT`, async () => {
    const present = catAll();
    expect(present).not.toHaveProperty('est_nice');
    expect(present).not.toHaveProperty('est_cpulist');
    const listed = await lab.ipvs.listSysctls();
    expect(listed).not.toHaveProperty('est_nice');
    expect(listed).not.toHaveProperty('est_cpulist');
    for (const name of ['est_nice', 'est_cpulist'] as const) {
      const read = await lab.ipvs.getSysctl(name).catch((e: unknown) => e);
      expect(read).toBeInstanceOf(IpvsError);
      expect(read).toMatchObject({ code: 'ENOENT', op: 'getSysctl' });
    }
    for (const [name, value] of [
      ['est_nice', 0],
      ['est_cpulist', '0'],
    ] as const) {
      const write = await lab.ipvs.setSysctl(name, value).catch((e: unknown) => e);
      expect(write).toBeInstanceOf(IpvsError);
      expect(write).toMatchObject({ code: 'ENOENT', op: 'setSysctl' });
    }
    // Still refused for a bad value first: checks come before the kernel.
    await expect(lab.ipvs.setSysctl('est_nice', 20)).rejects.toThrow(RangeError);
    expect(catAll()).toEqual(present);
  });
}
