// What `ipvs` does beyond ipvsadm: --json listings (checked against what
// ipvsadm prints for the same table), --netns, -R --atomic (all or nothing,
// undone in reverse on the first failure) and -R --comments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/main.js';
import { ARGV0, Netns, words, type Result } from './helpers/differential.js';

/** Our command without a namespace given by the harness: --netns must do it. */
async function bare(args: string[], stdin = ''): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const status = await main([ARGV0, ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => stdin,
  });
  return { stdout, stderr, status };
}

const TABLE = [
  '-A -t 192.0.2.10:80 -s rr',
  '-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 5 -x 100 -y 10',
  '-a -t 192.0.2.10:80 -r 198.51.100.2 -i --tun-type gue --tun-port 6080 --tun-csum',
  '-A -u [2001:db8::10]:53 -s sh -b sh-port -p 600 -M 64 --pe sip -o',
  '-a -u [2001:db8::10]:53 -r [2001:db8:1::1]:53 -m',
  '-A -f 3000000000 -6 -s wlc',
];

describe('--json', () => {
  let ns: Netns;
  beforeAll(async () => {
    ns = await Netns.create();
    for (const line of TABLE) expect((await ns.ipvsadm(words(line))).status, line).toBe(0);
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('lists services and destinations with every field, in the table order', async () => {
    const r = await ns.ipvs(['-L', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      version: string;
      connectionTableSize: number;
      services: Record<string, unknown>[];
    };
    expect(doc.version).toBe('1.2.1');
    expect(doc.connectionTableSize).toBeGreaterThan(0);
    const stats = { connections: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 };
    const rates = {
      connectionsPerSecond: 0,
      inPacketsPerSecond: 0,
      outPacketsPerSecond: 0,
      inBytesPerSecond: 0,
      outBytesPerSecond: 0,
    };
    expect(doc.services).toEqual([
      // ipvsadm's order: fwmark 3000000000 - 0 is negative in 32 bits.
      expect.objectContaining({
        family: 'inet6',
        protocol: null,
        address: null,
        port: null,
        fwmark: 3000000000,
        destinations: [],
      }),
      {
        family: 'inet',
        protocol: 'tcp',
        address: '192.0.2.10',
        port: 80,
        fwmark: null,
        scheduler: 'rr',
        schedulerFlags: [],
        persistence: null,
        persistenceEngine: null,
        onePacket: false,
        stats,
        rates,
        destinations: [
          {
            family: 'inet',
            address: '198.51.100.1',
            port: 8080,
            forwarding: 'masq',
            weight: 5,
            upperThreshold: 100,
            lowerThreshold: 10,
            tunnel: null,
            activeConnections: 0,
            inactiveConnections: 0,
            persistentConnections: 0,
            stats,
            rates,
          },
          {
            family: 'inet',
            address: '198.51.100.2',
            port: 80,
            forwarding: 'tunnel',
            weight: 1,
            upperThreshold: 0,
            lowerThreshold: 0,
            tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
            activeConnections: 0,
            inactiveConnections: 0,
            persistentConnections: 0,
            stats,
            rates,
          },
        ],
      },
      {
        family: 'inet6',
        protocol: 'udp',
        address: '2001:db8::10',
        port: 53,
        fwmark: null,
        scheduler: 'sh',
        schedulerFlags: ['sh-port'],
        persistence: { timeout: 600, netmask: 64 },
        persistenceEngine: 'sip',
        onePacket: true,
        stats,
        rates,
        destinations: [
          expect.objectContaining({
            family: 'inet6',
            address: '2001:db8:1::1',
            port: 53,
            forwarding: 'masq',
            weight: 1,
          }),
        ],
      },
    ]);
    // Counters are plain JSON integers.
    expect(r.stdout).toMatch(/"inBytes": 0,/);
  });

  it('lists one service, timeouts and daemons as ipvsadm has them', async () => {
    const one = JSON.parse((await ns.ipvs(['-L', '-t', '192.0.2.10:80', '--json'])).stdout) as {
      destinations: unknown[];
    };
    expect(one.destinations).toHaveLength(2);
    expect(await ns.ipvsadm(['--set', '100', '20', '30'])).toMatchObject({ status: 0 });
    expect(JSON.parse((await ns.ipvs(['-L', '--timeout', '--json'])).stdout)).toEqual({
      tcp: 100,
      tcpFin: 20,
      udp: 30,
    });
    expect(JSON.parse((await ns.ipvs(['-L', '--daemon', '--json'])).stdout)).toEqual([]);
    expect(JSON.parse((await ns.ipvs(['-L', '-c', '--json'])).stdout)).toEqual([]);
    const missing = await ns.ipvs(['-L', '-t', '192.0.2.10:81', '--json']);
    expect(missing).toEqual(await ns.ipvsadm(['-L', '-t', '192.0.2.10:81']));
  });

  it('is refused by commands that do not list', async () => {
    expect(await ns.ipvs(['-A', '-t', '192.0.2.1:1', '--json'])).toEqual({
      stdout: '',
      stderr: "Illegal 'json' option with the 'add-service' command\n",
      status: 2,
    });
  });
});

describe('--netns', () => {
  let ns: Netns;
  beforeAll(async () => {
    ns = await Netns.create();
    expect((await ns.ipvsadm(words('-A -t 192.0.2.77:80 -s rr'))).status).toBe(0);
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('works in a namespace given by name or path, before or after the command', async () => {
    const expected = await ns.ipvsadm(['-Ln']);
    expect(expected.stdout).toContain('192.0.2.77:80');
    expect(await bare(['--netns', ns.name, '-Ln'])).toEqual(expected);
    expect(await bare(['-Ln', `--netns=${ns.path}`])).toEqual(expected);
    // Our options alone: ipvsadm's "no arguments", a listing with names.
    expect(await bare(['--netns', ns.name])).toEqual(await ns.ipvsadm([]));
    expect(await bare(['--netns', ns.name, '-A', '-u', '192.0.2.77:53'])).toEqual({
      stdout: '',
      stderr: '',
      status: 0,
    });
    expect((await ns.ipvsadm(['-Sn'])).stdout).toContain('-A -u 192.0.2.77:53 -s wlc');
  });

  it('says so when the namespace does not exist', async () => {
    const r = await bare(['--netns', 'ipvs-no-such-namespace', '-Ln']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/ipvs-no-such-namespace/);
  });
});

describe('-R --atomic and --comments', () => {
  let ns: Netns;
  const BEFORE = [
    '-A -t 192.0.2.20:80 -s wlc',
    '-a -t 192.0.2.20:80 -r 198.51.100.1:80 -m -w 3',
    '-A -u 192.0.2.20:53 -s rr -p 60',
  ];
  beforeAll(async () => {
    ns = await Netns.create();
  });
  afterAll(async () => {
    await ns?.delete();
  });
  const reset = async () => {
    await ns.ipvsadm(['-C']);
    await ns.ipvsadm(['--set', '900', '120', '300']);
    for (const line of BEFORE) expect((await ns.ipvsadm(words(line))).status).toBe(0);
    return { table: (await ns.ipvsadm(['-Sn'])).stdout, timeouts: (await ns.ipvsadm(['-L', '--timeout'])).stdout };
  };

  it('applies everything when every line succeeds', async () => {
    await reset();
    const r = await ns.ipvs(
      ['-R', '--atomic'],
      '-A -t 192.0.2.21:80\n-a -t 192.0.2.21:80 -r 198.51.100.5 -g\n-E -t 192.0.2.20:80 -s rr\n',
    );
    expect(r).toEqual({ stdout: '', stderr: '', status: 0 });
    const table = (await ns.ipvsadm(['-Sn'])).stdout;
    expect(table).toContain('-A -t 192.0.2.21:80 -s wlc');
    expect(table).toContain('-A -t 192.0.2.20:80 -s rr');
  });

  it('undoes every change, in reverse, when the kernel refuses a line', async () => {
    const before = await reset();
    const input = [
      '-A -t 192.0.2.22:80 -s rr',
      '-a -t 192.0.2.22:80 -r 198.51.100.9:80 -m',
      '-E -t 192.0.2.20:80 -s lc -p 100',
      '-e -t 192.0.2.20:80 -r 198.51.100.1:80 -m -w 9',
      '-d -t 192.0.2.20:80 -r 198.51.100.1:80',
      '-D -t 192.0.2.20:53',
      '-D -u 192.0.2.20:53',
      '--set 10 20 30',
      '-A -t 192.0.2.22:80',
      '-A -t 192.0.2.23:80',
    ].join('\n');
    const r = await ns.ipvs(['-R', '--atomic'], input);
    expect(r.status).toBe(255);
    expect(r.stderr).toBe('ipvsadm: line 6: No such service\nipvsadm: restore rolled back: 5 changes undone\n');
    expect((await ns.ipvsadm(['-Sn'])).stdout).toBe(before.table);
    expect((await ns.ipvsadm(['-L', '--timeout'])).stdout).toBe(before.timeouts);

    const late = input.replace('-D -t 192.0.2.20:53\n', '');
    const r2 = await ns.ipvs(['-R', '--atomic'], late);
    expect(r2.stderr).toBe('ipvsadm: line 8: Service already exists\nipvsadm: restore rolled back: 7 changes undone\n');
    expect((await ns.ipvsadm(['-Sn'])).stdout).toBe(before.table);
    expect((await ns.ipvsadm(['-L', '--timeout'])).stdout).toBe(before.timeouts);
  });

  it('changes nothing when a line would not parse', async () => {
    const before = await reset();
    const r = await ns.ipvs(['-R', '--atomic'], '-A -t 192.0.2.30:80\n-A -t 192.0.2.31\n');
    expect(r).toEqual({
      stdout: '',
      stderr: 'ipvsadm: line 2: Zero port specified for non-persistent service; nothing was changed\n',
      status: 2,
    });
    expect((await ns.ipvsadm(['-Sn'])).stdout).toBe(before.table);
  });

  it('skips comments with --comments, which ipvsadm refuses', async () => {
    await reset();
    const input =
      '# web servers\n-A -t 192.0.2.40:80 -s rr # the VIP\n\n  # indented\n-a -t 192.0.2.40:80 -r 198.51.100.4 -g\n';
    expect((await ns.ipvsadm(['-R'], input)).status).toBe(255);
    expect(await ns.ipvs(['-R', '--comments'], input)).toEqual({ stdout: '', stderr: '', status: 0 });
    expect((await ns.ipvsadm(['-Sn'])).stdout).toContain('-a -t 192.0.2.40:80 -r 198.51.100.4:80 -g -w 1');
    expect(await ns.ipvs(['-R', '--atomic', '--comments'], '# again\n-A -t 192.0.2.41:80 # x\n')).toEqual({
      stdout: '',
      stderr: '',
      status: 0,
    });
  });

  it('refuses --atomic and --comments without -R', async () => {
    expect(await ns.ipvs(['-L', '--atomic'])).toEqual({
      stdout: '',
      stderr: "Illegal 'atomic' option with the 'list' command\n",
      status: 2,
    });
  });
});
