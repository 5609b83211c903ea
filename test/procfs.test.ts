// The addon's /proc access (native/procfs.cc) checks its path before anything
// else, the socket included, so refusals need no kernel: only IPVS's own
// files are read, only its sysctls written, each path matched literally.
import { describe, expect, it } from 'vitest';

import { native, type NativeSocket } from '../src/native.js';

// Not a socket: a path that passes its check fails on this instead.
const notASocket = null as unknown as NativeSocket;
const SOCKET = 'expected a socket handle made by open()';

const NET = ['ip_vs', 'ip_vs_stats', 'ip_vs_stats_percpu', 'ip_vs_conn', 'ip_vs_conn_sync'];

describe('readProcFile', () => {
  it.each([
    ...NET.flatMap((f) => [`/proc/net/${f}`, `/proc/thread-self/net/${f}`]),
    '/proc/sys/net/ipv4/vs/conntrack',
    '/proc/sys/net/ipv4/vs/sync_threshold',
    '/proc/sys/net/ipv4/vs/lblc_expiration',
  ])('lets %s through to the socket check', (path) => {
    expect(() => native().readProcFile(notASocket, path)).toThrow(SOCKET);
  });

  it.each([
    '/proc/../etc/shadow',
    '/proc/self/root/etc/passwd',
    '/proc/thread-self/root/etc/passwd',
    '/proc/1/net/ip_vs',
    '/proc/self/net/ip_vs',
    '/proc/net/../../etc/passwd',
    '/proc/net/ip_vs/../../../etc/passwd',
    '/proc/net//ip_vs',
    '/proc/./net/ip_vs',
    '/proc/net/./ip_vs',
    '/proc/net/ip_vs/',
    '/proc/net/ip_vs_statsX',
    '/proc/net/dev',
    '/proc/sys/net/ipv4/vs/',
    '/proc/sys/net/ipv4/vs/..',
    '/proc/sys/net/ipv4/vs/../../../../etc/passwd',
    '/proc/sys/net/ipv4/vs/Conntrack',
    '/proc/sys/net/ipv4/vs/conntrack/',
    '/proc/sys/net/ipv4/vs/conntrack\0/../../kernel/hostname',
    '/proc/sys/kernel/hostname',
    '/etc/passwd',
    'proc/net/ip_vs',
    '',
  ])('refuses %j at once with a TypeError naming it', (path) => {
    let error: unknown;
    try {
      void native().readProcFile(notASocket, path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    const quoted = JSON.stringify(path.slice(0, 64)).replace(/\\u0000/g, '\\x00');
    expect((error as Error).message).toBe(
      "readProcFile reads only IPVS's /proc files (/proc/net/ip_vs, ip_vs_stats, ip_vs_stats_percpu, ip_vs_conn, ip_vs_conn_sync, " +
        `also under /proc/thread-self/net, and /proc/sys/net/ipv4/vs/NAME), not ${quoted}`,
    );
  });

  it('quotes at most 64 characters of a long path, escaping what is not printable', () => {
    const path = `/proc/${'a'.repeat(100)}`;
    expect(() => native().readProcFile(notASocket, path)).toThrow(
      new RegExp(`not "/proc/${'a'.repeat(58)}"\\.\\.\\.$`),
    );
    expect(() => native().readProcFile(notASocket, '/proc/\n\x7f"é')).toThrow(/not "\/proc\/\\x0a\\x7f\\"\\xc3\\xa9"$/);
  });
});

describe('writeProcFile', () => {
  it('lets a sysctl of IPVS through to the socket check', () => {
    expect(() => native().writeProcFile(notASocket, '/proc/sys/net/ipv4/vs/conntrack', '1')).toThrow(SOCKET);
  });

  it.each([
    '/proc/sys/kernel/hostname',
    '/proc/net/ip_vs',
    '/proc/thread-self/net/ip_vs_stats',
    '/proc/sys/net/ipv4/vs/../../../kernel/hostname',
    '/proc/self/root/etc/passwd',
    '/etc/passwd',
  ])('refuses %j at once with a TypeError naming it', (path) => {
    expect(() => native().writeProcFile(notASocket, path, '1')).toThrow(TypeError);
    expect(() => native().writeProcFile(notASocket, path, '1')).toThrow(
      `writeProcFile writes only IPVS's sysctls (/proc/sys/net/ipv4/vs/NAME), not ${JSON.stringify(path)}`,
    );
  });

  it('refuses text with a NUL, which the kernel would stop at', () => {
    expect(() => native().writeProcFile(notASocket, '/proc/sys/net/ipv4/vs/conntrack', '1\0')).toThrow(RangeError);
  });
});
