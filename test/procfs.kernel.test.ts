// The addon's /proc access (native/procfs.cc) against a real kernel: IPVS's
// own files of the client's namespace read as `cat` reads them there, by
// either spelling; its sysctls written whole or not at all; and nothing else
// reached, whatever a path resolves to, nor a file mounted over a sysctl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { IpvsError } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab();
  await lab.ipvs.addService({ protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr' });
});
afterAll(async () => {
  await lab?.close();
});

const SYSCTL = '/proc/sys/net/ipv4/vs/expire_nodest_conn';

describe('reads', () => {
  it('reads each IPVS file of the namespace, by either spelling, as cat reads it there', async () => {
    for (const file of ['ip_vs', 'ip_vs_stats', 'ip_vs_stats_percpu', 'ip_vs_conn', 'ip_vs_conn_sync']) {
      const theirs = lab.exec('cat', `/proc/net/${file}`);
      for (const dir of ['/proc/net', '/proc/thread-self/net']) {
        expect([dir, file, (await lab.ipvs.raw.readProcFile(`${dir}/${file}`)).toString('latin1')]).toEqual([
          dir,
          file,
          theirs,
        ]);
      }
    }
  });

  it("reads /proc/net/ip_vs of the client's namespace, not the process's", async () => {
    // /proc/net follows the main thread; the addon opens thread-self's instead.
    const service = 'TCP  C0000201:0050 rr';
    expect((await lab.ipvs.raw.readProcFile('/proc/net/ip_vs')).toString('latin1')).toContain(service);
    expect(readFileSync('/proc/net/ip_vs', 'latin1')).not.toContain(service);
  });

  it('reads a sysctl, and says ENOENT for one this kernel lacks', async () => {
    expect((await lab.ipvs.raw.readProcFile(SYSCTL)).toString('latin1')).toBe(lab.exec('cat', SYSCTL));
    const e = await lab.ipvs.raw.readProcFile('/proc/sys/net/ipv4/vs/nosuch').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IpvsError);
    expect(e).toMatchObject({ code: 'ENOENT', op: 'readProcFile' });
  });
});

describe('writes', () => {
  it('writes a sysctl of the namespace only', async () => {
    const outside = readFileSync(SYSCTL, 'latin1');
    try {
      await lab.ipvs.raw.writeProcFile(SYSCTL, '1');
      expect(lab.exec('sysctl', '-n', 'net.ipv4.vs.expire_nodest_conn')).toBe('1\n');
      expect(readFileSync(SYSCTL, 'latin1')).toBe(outside);
    } finally {
      await lab.ipvs.raw.writeProcFile(SYSCTL, '0');
    }
    expect(lab.exec('cat', SYSCTL)).toBe('0\n');
  });

  it('fails with EIO, naming the file, when the kernel takes only part of the text', async () => {
    // An int sysctl parses "1" and leaves " x" unread: write() returns 2 of 4.
    try {
      const e = await lab.ipvs.raw.writeProcFile(SYSCTL, '1 x\n').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IpvsError);
      expect(e).toMatchObject({
        code: 'EIO',
        op: 'writeProcFile',
        message: `writing ${SYSCTL}: the kernel took 2 of 4 bytes`,
      });
    } finally {
      await lab.ipvs.raw.writeProcFile(SYSCTL, '0');
    }
  });
});

describe('refusals', () => {
  it.each([
    '/proc/../etc/shadow',
    '/proc/self/root/etc/passwd',
    '/proc/thread-self/root/etc/passwd',
    '/proc/1/root/etc/passwd',
    '/proc/net/../../etc/passwd',
    '/proc/self/net/ip_vs',
    '/proc/sys/kernel/hostname',
    '/proc/sys/net/ipv4/vs/../ip_forward',
  ])('refuses to read %s, synchronously, with a TypeError naming it', (path) => {
    expect(() => lab.ipvs.raw.readProcFile(path)).toThrow(TypeError);
    expect(() => lab.ipvs.raw.readProcFile(path)).toThrow(`not ${JSON.stringify(path)}`);
  });

  it.each([
    ['/proc/sys/kernel/hostname', 'pwned'],
    ['/proc/sys/net/ipv4/ip_forward', '1'],
    ['/proc/sys/net/ipv4/vs/../ip_forward', '1'],
    ['/proc/net/ip_vs', '1'],
  ])('refuses to write %s, synchronously, and it keeps its value', (path, text) => {
    const before = lab.exec('cat', path);
    expect(() => lab.ipvs.raw.writeProcFile(path, text)).toThrow(TypeError);
    expect(() => lab.ipvs.raw.writeProcFile(path, text)).toThrow(
      `writeProcFile writes only IPVS's sysctls (/proc/sys/net/ipv4/vs/NAME), not ${JSON.stringify(path)}`,
    );
    expect(lab.exec('cat', path)).toBe(before);
  });

  it('refuses a file mounted over a sysctl: it is not on procfs', async () => {
    // A sysctl's dentry belongs to its namespace: mount inside it, in this
    // process's mount namespace (nsenter --net, unlike ip netns exec, keeps it).
    const target = '/proc/sys/net/ipv4/vs/am_droprate';
    const fake = `/tmp/ipvs-fake-sysctl-${process.pid}`;
    writeFileSync(fake, '7\n');
    const inNs = (...args: string[]) => execFileSync('nsenter', [`--net=${lab.path}`, ...args], { encoding: 'utf8' });
    inNs('mount', '--bind', fake, target);
    try {
      expect(inNs('cat', target)).toBe('7\n');
      for (const call of [() => lab.ipvs.raw.readProcFile(target), () => lab.ipvs.raw.writeProcFile(target, '9')]) {
        const e = await call().catch((x: unknown) => x);
        expect(e).toBeInstanceOf(IpvsError);
        expect(e).toMatchObject({
          code: 'EXDEV',
          message: `${target} is not on procfs (something is mounted over it): refused`,
        });
      }
      expect(readFileSync(fake, 'latin1')).toBe('7\n');
    } finally {
      inNs('umount', target);
    }
    expect((await lab.ipvs.raw.readProcFile(target)).toString('latin1')).toBe(lab.exec('cat', target));
  });
});
