// The command line without a kernel: popt's grammar, ipvsadm's checks and
// their order, number and address syntax, scaled numbers, the sort order
// with its 32-bit wrap-around, and the listing formats of ipvsadm-spec.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { main } from '../src/cli/main.js';

import { K } from '../src/constants.js';
import type { RawDest, RawService } from '../src/native.js';
import {
  largenum,
  NUMERIC,
  saveEntry as saveEntryOf,
  serviceEntry as serviceEntryOf,
  title,
  listFormat,
  daemonLine,
  type ListFormat,
} from '../src/cli/format.js';
import { msort, Table } from '../src/cli/table.js';
import { checkCompatibility } from '../src/cli/options.js';
import { Failure } from '../src/cli/failure.js';
import { parse, peekNetns } from '../src/cli/parse.js';
import { Popt } from '../src/cli/popt.js';
import { TABLE } from '../src/cli/options.js';
import { serviceJson, stringify } from '../src/cli/json.js';
import { destinationFromRaw } from '../src/destination.js';
import { serviceFromRaw } from '../src/service.js';
import type { Stats } from '../src/stats.js';
import { restoreWords } from '../src/cli/restore.js';
import { atoi, inetAton, parseHostPort, strtol, toNumber } from '../src/cli/syntax.js';
import { rawDest, rawService } from './helpers/raw.js';
import { ZERO_STATS } from './helpers/stats.js';

const argv = (line: string): string[] => ['ipvsadm', ...line.split(' ').filter((w) => w !== '')];

/** The stderr text and status a command line fails with, or 'ok'. */
async function verdict(line: string | string[]): Promise<string> {
  try {
    await parse(Array.isArray(line) ? ['ipvsadm', ...line] : argv(line));
    return 'ok';
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    return `${e.status}: ${e.stderr}`;
  }
}

describe('popt grammar', () => {
  const events = (line: string) => {
    const p = new Popt(TABLE, argv(line));
    const out: string[] = [];
    for (let ev = p.next(); ev.kind !== 'end'; ev = p.next()) {
      out.push(
        ev.kind === 'option' ? `${ev.def.key}${ev.arg === undefined ? '' : `=${ev.arg}`}` : `${ev.word}: ${ev.error}`,
      );
      if (ev.kind === 'error') break;
    }
    for (let a = p.nextArg(); a !== undefined; a = p.nextArg()) out.push(`arg:${a}`);
    return out;
  };
  it('bundles short options and attaches arguments', () => {
    expect(events('-Ln')).toEqual(['list', 'numeric']);
    expect(events('-At1.2.3.4:80')).toEqual(['add-service', 'tcp-service=1.2.3.4:80']);
    expect(events('-sp rr')).toEqual(['scheduler=p', 'arg:rr']);
    expect(events('-t=1.2.3.4')).toEqual(['tcp-service=1.2.3.4']);
  });
  it('takes an optional argument only when it does not start with a dash', () => {
    expect(events('-p 60')).toEqual(['persistent=60']);
    expect(events('-p -n')).toEqual(['persistent', 'numeric']);
    expect(events('-p60')).toEqual(['persistent=60']);
    expect(events('--persistent=')).toEqual(['persistent=']);
    expect(events('-p')).toEqual(['persistent']);
  });
  it('reports popt errors with the whole word', () => {
    expect(events('-L --foo')).toEqual(['list', '--foo: unknown option']);
    expect(events('-Lq')).toEqual(['list', '-Lq: unknown option']);
    expect(events('-A -t')).toEqual(['add-service', '-t: missing argument']);
    expect(events('-L --numeric=1')).toEqual(['list', '--numeric=1: option does not take an argument']);
    expect(events('--lis')).toEqual(['--lis: unknown option']);
  });
  it('keeps leftovers anywhere and everything after --', () => {
    expect(events('-A foo -t x -- -n')).toEqual(['add-service', 'tcp-service=x', 'arg:foo', 'arg:-n']);
    expect(events('- -L')).toEqual(['list', 'arg:-']);
  });
  it('finds --netns before the command', () => {
    expect(peekNetns(argv('--netns lb -Ln'))).toBe('/run/netns/lb');
    expect(peekNetns(argv('-Ln --netns=/proc/1/ns/net'))).toBe('/proc/1/ns/net');
  });
});

describe('ipvsadm checks, in its order', () => {
  it('wants a command first', async () => {
    const tryHelp = "255: Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
    expect(await verdict('-n -L')).toBe(tryHelp);
    expect(await verdict('--add-serv')).toBe(tryHelp);
    expect(await verdict('foo')).toBe(tryHelp);
  });
  it('reports a second command, repeated options and popt errors', async () => {
    expect(await verdict('-L -Z')).toBe("2: invalid option `-Z'\n");
    expect(await verdict('-L --start-daemon master')).toBe("2: invalid option `master'\n");
    expect(await verdict('-L -n -n')).toBe("2: multiple 'numeric' options specified\n");
    expect(await verdict('-a -t 1.2.3.4:80 -r 5.6.7.8 -g -m')).toBe(
      "2: multiple 'forwarding-method' options specified\n",
    );
    expect(await verdict('-A -f 1 -t 1.2.3.4:80')).toBe("2: multiple 'service-address' options specified\n");
    expect(await verdict('-L --foo')).toBe('255: --foo: unknown option\n');
  });
  it('checks each option as it comes, before popt errors further on', async () => {
    expect(await verdict('-A -t 1.2.3.4:80 -w x --foo')).toBe('2: illegal weight specified\n');
    expect(await verdict('-A -f 0 -w x')).toBe("2: invalid fwmark value `0' specified\n");
  });
  it('checks --set, leftovers, scheduler flags, then the table', async () => {
    expect(await verdict('--set 1 2')).toBe('2: --set option requires 3 timeout values\n');
    expect(await verdict('--set 1 2 x')).toBe("2: invalid timeout value `x' specified\n");
    expect(await verdict('--set 1 2 3 4')).toBe('2: unexpected argument 4\n');
    expect(await verdict('-D -t 1.2.3.4:80 -b foo')).toBe("2: invalid scheduler flag `foo'\n");
    expect(await verdict('-A -t 1.2.3.4:80 -b sh-port')).toBe("2: incompatible scheduler flag `sh-port'\n");
    expect(await verdict('-A -t 1.2.3.4:80 -b sh-port -s sh')).toBe('ok');
    expect(await verdict('-L -t 1.2.3.4:80 -c')).toBe(
      "2: The option 'service-address' conflicts with the 'connection' option in the 'list' command\n",
    );
    expect(await verdict('-a -m')).toBe(
      "2: You need to supply the 'service-address' option for the 'add-server' command\n",
    );
    expect(await verdict('-C -w 1 -n')).toBe("2: Illegal 'numeric' option with the 'flush' command\n");
  });
  it('then the per-command rules', async () => {
    expect(await verdict('-A -t 1.2.3.4')).toBe('2: Zero port specified for non-persistent service\n');
    expect(await verdict('-A -t 1.2.3.4:80 -o')).toBe('2: One-Packet Scheduling is only for UDP virtual services\n');
    expect(await verdict('-a -t 1.2.3.4:80 -r 2001:db8::1')).toBe(
      '2: Different address family is allowed only for tunneling servers\n',
    );
    expect(await verdict('-a -t 1.2.3.4:80 -r 5.6.7.8 --tun-csum')).toBe(
      '2: Tunnel options conflict with forward method\n',
    );
    expect(await verdict('-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-csum')).toBe(
      "2: Illegal 'tun-csum' option with the 'ipip' tunnel type\n",
    );
    expect(await verdict('-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gue')).toBe(
      "2: You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
    );
    expect(await verdict('-a -t 1.2.3.4:80 -r 5.6.7.8 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum')).toBe(
      "2: The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n",
    );
    expect(await verdict('-L -c --stats')).toBe('2: options conflicts in the list command\n');
    expect(await verdict('-L --timeout --persistent-conn')).toBe('2: options conflicts in the list command\n');
    expect(await verdict('--start-daemon primary')).toBe('2: illegal start-daemon parameter specified\n');
    expect(await verdict('--stop-daemon primary')).toBe('2: illegal start_daemon specified\n');
    expect(await verdict('-A -6 -f 1')).toBe('2: -6 used before -f\n\n');
  });
  it('builds the structs ipvsadm sends', async () => {
    const p = await parse(argv('-a -t 1.2.3.4:80 -r 5.6.7.8:8080'));
    if (p.kind !== 'run') throw new Error('expected a command');
    expect(p.entry.dest).toMatchObject({ port: 80, fwdMethod: K.IP_VS_CONN_F_DROUTE, weight: 1 });
    const m = await parse(argv('-a -r 5.6.7.8 -m -t 1.2.3.4:80'));
    if (m.kind !== 'run') throw new Error('expected a command');
    expect(m.entry.dest.port).toBe(0);
    const s = await parse(argv('-A -M 64 -t [2001:db8::1]:80 -p'));
    if (s.kind !== 'run') throw new Error('expected a command');
    expect(s.entry.service).toMatchObject({
      af: K.AF_INET6,
      netmask: 128,
      timeout: 360,
      flags: K.IP_VS_SVC_F_PERSISTENT,
      scheduler: 'wlc',
    });
  });
  it('walks the table in its own order', () => {
    expect(checkCompatibility('list', new Set(['daemon', 'connection']))).toBe(
      "The option 'daemon' conflicts with the 'connection' option in the 'list' command",
    );
  });
});

describe('number and address syntax', () => {
  it('reads numbers as strtol does', () => {
    expect(strtol(' +5')).toBe(5n);
    expect(strtol('5 ')).toBeUndefined();
    expect(strtol('')).toBeUndefined();
    expect(toNumber('0x10', 0, 100)).toBeUndefined();
    expect(toNumber('4294967295', 1, 0xffffffff)).toBe(4294967295);
    expect(atoi('48abc')).toBe(48);
  });
  it('reads IPv4 as inet_aton does', () => {
    expect(inetAton('1234')).toEqual(new Uint8Array([0, 0, 4, 210]));
    expect(inetAton('010.0x10.1')).toEqual(new Uint8Array([8, 16, 0, 1]));
    expect(inetAton('10.1')).toEqual(new Uint8Array([10, 0, 0, 1]));
    expect(inetAton('1.2.3.4 junk')).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(inetAton('1.2.3.256')).toBeUndefined();
    expect(inetAton('08')).toBeUndefined();
    expect(inetAton('1.2.3.4.5')).toBeUndefined();
  });
  it("parses ipvsadm's host[:port] forms", async () => {
    const base = new Uint8Array(16).fill(7);
    expect(await parseHostPort('1234', base, 6)).toBeUndefined();
    expect(await parseHostPort('[2001:db8::1]', base, 6)).toBeUndefined();
    expect(await parseHostPort('[2001:db8::1]:80', base, 6)).toMatchObject({ af: 10, port: 80 });
    expect(await parseHostPort('2001:db8::1', base, 6)).toMatchObject({ af: 10, port: undefined });
    // The port inside brackets is looked for again in the host part: none.
    expect(await parseHostPort('[1.2.3.4]:80', base, 6)).toMatchObject({ af: 2, port: undefined });
    const v4 = await parseHostPort('1.2.3.4:80', base, 6);
    // IPv4 overwrites only the first four of the 16 bytes.
    expect(Array.from(v4!.addr)).toEqual([1, 2, 3, 4, ...Array<number>(12).fill(7)]);
  });
});

describe('scaled numbers', () => {
  it('matches the verified examples', () => {
    expect(largenum(456789n, false)).toBe('   456789');
    // The spec shows these one space shorter; the binary prints %8llu and the unit.
    expect(largenum(100000000n, false)).toBe('  100000K');
    expect(largenum(1234567890n, false)).toBe('    1234M');
    expect(largenum(99999999999999n, false)).toBe('   99999G');
    expect(largenum(100000000000000n, false)).toBe('     100T');
    expect(largenum(2n ** 64n - 1n, false)).toBe('18446744T');
    expect(largenum(123456789n, true)).toBe(' 123456789');
    expect(largenum(12345678n, true)).toBe(' 12345678');
  });
});

const v4 = (a: string): Uint8Array => {
  const b = new Uint8Array(16);
  a.split('.').forEach((p, i) => (b[i] = Number(p)));
  return b;
};
const dest = (a: string, port: number, extra: Partial<RawDest> = {}): RawDest =>
  rawDest({ addr: v4(a), port, ...extra });
const service = (extra: Partial<RawService>): RawService =>
  rawService({ addr: v4('192.168.1.10'), scheduler: 'wlc', ...extra });

/** A service and its destinations as a listing prints them (from a table packed as a snapshot is). */
function serviceEntry(s: RawService, dests: RawDest[], f: ListFormat, names = NUMERIC): string {
  const t = Table.of([s], [dests]);
  return serviceEntryOf(t, 0, t.destOrder(0, false), f, names);
}
function saveEntry(s: RawService, dests: RawDest[], names = NUMERIC): string {
  const t = Table.of([s], [dests]);
  return saveEntryOf(t, 0, t.destOrder(0, false), names);
}

describe('sort order', () => {
  it('reproduces the int32 wrap-around of the spec example', () => {
    const dump = ['192.168.1.1', '10.0.0.2', '10.0.0.1', '127.0.0.1', '200.1.1.1'].map((a) => dest(a, 80));
    const t = Table.of([service({})], [dump]);
    const sorted = Array.from(t.destOrder(0, true), (j) => Array.from(t.destAddr(j).subarray(0, 4)).join('.'));
    expect(sorted).toEqual(['192.168.1.1', '10.0.0.1', '10.0.0.2', '127.0.0.1', '200.1.1.1']);
  });
  it('puts fwmark 3000000000 before ordinary services', () => {
    const list = [service({}), service({ fwmark: 3000000000 }), service({ fwmark: 5 })];
    const t = Table.of(list, [[], [], []]);
    expect(Array.from(t.serviceOrder(true), (i) => t.service(i, 'fwmark'))).toEqual([3000000000, 0, 5]);
  });
  it('is a stable merge sort', () => {
    const items = [3, 1, 2, 1, 3, 0].map((v, i) => ({ v, i }));
    expect(msort(items, (a, b) => a.v - b.v).map((x) => x.i)).toEqual([5, 1, 3, 2, 0, 4]);
  });
});

describe('listing formats', () => {
  it('prints the verified -Ln and -Sn lines', () => {
    const s = service({ stats: ZERO_STATS });
    const d = dest('10.0.0.1', 8080, { weight: 5, activeConns: 1, inactConns: 2 });
    expect(serviceEntry(s, [d], listFormat(new Set()), NUMERIC)).toBe(
      'TCP  192.168.1.10:80 wlc\n  -> 10.0.0.1:8080                Masq    5      1          2         \n',
    );
    const u = service({
      protocol: K.IPPROTO_UDP,
      port: 53,
      scheduler: 'rr',
      flags: 0x7,
      timeout: 360,
      netmask: 0xffffff00,
    });
    expect(serviceEntry(u, [], listFormat(new Set()), NUMERIC)).toBe(
      'UDP  192.168.1.10:53 rr persistent 360 mask 255.255.255.0 ops\n',
    );
    expect(saveEntry(u, [dest('10.0.0.3', 53, { fwdMethod: 3, weight: 0 })], NUMERIC)).toBe(
      '-A -u 192.168.1.10:53 -s rr -p 360 -M 255.255.255.0 -o\n-a -u 192.168.1.10:53 -r 10.0.0.3:53 -g -w 0\n',
    );
    const fwm = service({ fwmark: 5, protocol: 0, scheduler: 'sh', flags: 0x1 | 0x8 | 0x10, timeout: 300 });
    expect(serviceEntry(fwm, [], listFormat(new Set()), NUMERIC)).toBe(
      'FWM  5 sh (sh-fallback,sh-port) persistent 300\n',
    );
    const gue = dest('10.0.0.9', 0, { fwdMethod: 2, weight: 2, tunType: 1, tunPort: 6080, tunFlags: 1 });
    expect(saveEntry(fwm, [gue], NUMERIC)).toBe(
      '-A -f 5 -s sh -p 300 -b sh-fallback,sh-port\n-a -f 5 -r 10.0.0.9:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum\n',
    );
  });
  it('prints the titles', () => {
    expect(title(listFormat(new Set(['stats'])))).toBe(
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n',
    );
    expect(title(listFormat(new Set(['thresholds'])))).toBe(
      'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n',
    );
  });
  it('shows only the low 32 bits of destination counters other than bytes', () => {
    const s = service({});
    const big = { ...ZERO_STATS, conns: 5_000_000_000n, inbytes: 5_000_000_000n };
    const out = serviceEntry(
      s,
      [dest('10.0.0.1', 80, { stats: big })],
      listFormat(new Set(['stats', 'exact'])),
      NUMERIC,
    );
    expect(out.split('\n')[1]).toBe(`  -> ${'10.0.0.1:80'.padEnd(28)} 705032704        0        0 5000000000        0`);
  });
  it('prints daemons', () => {
    const group = new Uint8Array(16);
    group.set([224, 0, 0, 81]);
    expect(
      daemonLine({ state: 1, ifname: 'eth0', syncId: 3, maxLen: 1472, groupAf: 2, group, port: 8848, ttl: 1 }),
    ).toBe('master sync daemon (mcast=eth0, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
  });
});

describe('restore input', () => {
  it('splits on blanks and drops ipvsadm words', () => {
    expect(restoreWords('ipvsadm -A\t-t  1.2.3.4:80\r', false)).toEqual(['-A', '-t', '1.2.3.4:80']);
    expect(restoreWords('# x', false)).toEqual(['#', 'x']);
    expect(restoreWords('# x', true)).toEqual([]);
    expect(restoreWords('-A -t 1.2.3.4:80 # web', true)).toEqual(['-A', '-t', '1.2.3.4:80']);
  });
});

describe('--json text', () => {
  it("writes each service as the library's info types have it, as JSON.stringify lays it out", () => {
    const v6 = new Uint8Array(16);
    v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
    v6[15] = 0x10;
    const services = [
      service({ stats: { ...ZERO_STATS, conns: 7n, inbytes: 123456789n, outbps: 9n } }),
      service({
        af: K.AF_INET6,
        addr: v6,
        protocol: K.IPPROTO_UDP,
        port: 53,
        scheduler: 'sh',
        flags: 0x1 | 0x8 | 0x10,
        timeout: 600,
        netmask: 64,
        pe: 'sip',
      }),
      service({ fwmark: 3000000000, protocol: 0, flags: 0x1 | 0x4, timeout: 300, netmask: 0xffffff00 }),
    ];
    const dests = [
      [
        dest('198.51.100.1', 8080, { weight: 5, uThreshold: 100, lThreshold: 10, activeConns: 3 }),
        dest('198.51.100.2', 80, { fwdMethod: K.IP_VS_CONN_F_TUNNEL, tunType: 1, tunPort: 6080, tunFlags: 1 }),
        dest('198.51.100.3', 80, { fwdMethod: K.IP_VS_CONN_F_TUNNEL, tunType: 2, tunFlags: 2, weight: -1 }),
      ],
      [],
      [dest('198.51.100.4', 0, { fwdMethod: K.IP_VS_CONN_F_DROUTE, stats: { ...ZERO_STATS, outbytes: 5n } })],
    ];
    const t = Table.of(services, dests);
    const stats = (s: Stats) => ({
      connections: Number(s.conns),
      inPackets: Number(s.inPackets),
      outPackets: Number(s.outPackets),
      inBytes: Number(s.inBytes),
      outBytes: Number(s.outBytes),
    });
    const rates = (s: Stats) => ({
      connectionsPerSecond: Number(s.cps),
      inPacketsPerSecond: Number(s.inPps),
      outPacketsPerSecond: Number(s.outPps),
      inBytesPerSecond: Number(s.inBps),
      outBytesPerSecond: Number(s.outBps),
    });
    services.forEach((raw, i) => {
      const text = serviceJson(t, i, t.destOrder(i, false), 0);
      // The layout JSON.stringify(…, null, 2) gives the same value.
      expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
      const s = serviceFromRaw(raw);
      expect(JSON.parse(text)).toEqual({
        family: s.family,
        protocol: s.protocol ?? null,
        address: s.address ?? null,
        port: s.port ?? null,
        fwmark: s.fwmark ?? null,
        scheduler: s.scheduler,
        schedulerFlags: s.schedulerFlags,
        persistence: s.persistence ?? null,
        persistenceEngine: s.persistenceEngine ?? null,
        onePacket: s.onePacket,
        stats: stats(s.stats),
        rates: rates(s.stats),
        destinations: dests[i]!.map((rawDest) => {
          const d = destinationFromRaw({ ...rawDest, weight: rawDest.weight });
          const tunnel = d.tunnel;
          return {
            family: d.family,
            address: d.address,
            port: d.port,
            forwarding: d.forwarding,
            weight: d.weight,
            upperThreshold: d.upperThreshold,
            lowerThreshold: d.lowerThreshold,
            tunnel: tunnel
              ? { type: tunnel.type, port: tunnel.type === 'gue' ? tunnel.port : null, checksum: tunnel.checksum }
              : null,
            activeConnections: d.activeConnections,
            inactiveConnections: d.inactiveConnections,
            persistentConnections: d.persistentConnections,
            stats: stats(d.stats),
            rates: rates(d.stats),
          };
        }),
      });
    });
  });

  it('writes counters past 2^53 exactly, in the table as in JSON', () => {
    const big = 2n ** 60n + 3n;
    const t = Table.of([service({ stats: { ...ZERO_STATS, inbytes: big } })], [[]]);
    expect(t.counter(0, 3)).toBe(big);
    expect(serviceJson(t, 0, [], 0)).toContain(`"inBytes": ${big},`);
    const line = serviceEntryOf(t, 0, [], listFormat(new Set(['stats', 'exact'])), NUMERIC).split('\n')[0]!;
    expect(line.endsWith(`        0 ${big}        0`)).toBe(true);
    expect(serviceEntryOf(t, 0, [], listFormat(new Set(['stats'])), NUMERIC)).toContain(' 1152921T');
  });

  it('writes 64-bit counters as exact integers', () => {
    expect(stringify({ a: 2n ** 64n - 1n, b: 'x', c: [1n], d: null }, 0)).toBe(
      '{"a":18446744073709551615,"b":"x","c":[1],"d":null}',
    );
  });
});

// Where this kernel has no IPVS (the usual development machine), both tools
// fail to initialise: the same modprobe output, message and exit status.
const noIpvsHere =
  !existsSync('/proc/net/ip_vs') &&
  existsSync('/usr/sbin/ipvsadm') &&
  existsSync(new URL('../build/Release/ipvs.node', import.meta.url));
describe.runIf(noIpvsHere)('on a kernel without IPVS', () => {
  it("prints ipvsadm's initialisation failure", async () => {
    for (const args of [['-Ln'], ['--foo'], []]) {
      const theirs = spawnSync('/usr/sbin/ipvsadm', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
      let stdout = '';
      let stderr = '';
      const status = await main(['/usr/sbin/ipvsadm', ...args], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
      });
      expect({ stdout, stderr, status }).toEqual({
        stdout: theirs.stdout,
        stderr: theirs.stderr,
        status: theirs.status,
      });
    }
  });
});

describe('names', () => {
  it('reads /etc/hosts and /etc/services as the C library does', async () => {
    const { HostNames, hostToAddr, portToService, serviceToPort } = await import('../src/cli/names.js');
    expect(await hostToAddr('localhost')).toEqual(new Uint8Array([127, 0, 0, 1]));
    expect(await hostToAddr('LOCALHOST')).toEqual(new Uint8Array([127, 0, 0, 1]));
    const names = new HostNames();
    const lo = new Uint8Array(16);
    lo.set([127, 0, 0, 1]);
    await names.prepare([{ family: 'inet', addr: lo }]);
    expect(names.host('inet', lo)).toBe('localhost');
    expect(portToService(80, K.IPPROTO_TCP)).toBe('http');
    expect(portToService(53, K.IPPROTO_UDP)).toBe('domain');
    expect(portToService(80, 0)).toBeUndefined();
    expect(serviceToPort('www', K.IPPROTO_TCP)).toBe(80);
    expect(serviceToPort('http', 0)).toBeUndefined();
  });
});
