// The differential suite: every case of cli-cases.ts runs through the real
// ipvsadm in one fresh namespace and through `ipvs` (in-process main) in
// another; each step's stdout, stderr and exit status must be equal byte for
// byte, and so must the resulting tables (ipvsadm -Sn of both, and our -Sn).
// Then: saves that restore through the other tool, and the built executable
// run as a real process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { cases } from './cli-cases.js';
import { deletePooled, Netns, runCase, spawnCaptured, words, type Result } from './helpers/differential.js';

const show = (r: Result): string => `status ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

const lines = (text: string): string[] => text.split('\n').sort();
const crashes: string[] = [];

/** CLI_PROGRESS=1: a line per case on stderr as it ends (vitest prints only at the end of a file). */
let done = 0;
function progress(name: string, ok: boolean): void {
  if (process.env.CLI_PROGRESS) writeSync(2, `[cli ${++done}/${cases.length}] ${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
}

// Cases run a few at a time (each in namespaces of its own): most of a case's
// time is spent starting ipvsadm processes.
describe.concurrent('ipvs against ipvsadm, step by step', () => {
  it(`has at least 300 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
  });

  for (const c of cases) {
    it(
      c.name,
      async ({ expect }) => {
        let ok = false;
        try {
          const { steps, saved } = await runCase(c);
          let crashed = false;
          for (const [i, s] of steps.entries()) {
            const label = `step ${i + 1}: ipvsadm ${s.step.args.map((a) => (a === '' || /\s/.test(a) ? `'${a}'` : a)).join(' ')}`;
            if (s.ipvsadm.status === null) {
              // ipvsadm died of a signal (a crash): nothing to match byte for
              // byte. Ours must end normally; the case is listed in the report.
              crashes.push(label);
              crashed = true;
              expect(s.ipvs.status, label).not.toBeNull();
              continue;
            }
            expect(show(s.ipvs), label).toBe(show(s.ipvsadm));
          }
          // Equal tables: the same rules. (Their order may differ between two
          // namespaces: the kernel's hash order differs, and ipvsadm's sort is
          // not a total order when addresses are 2^31 or more apart.)
          if (!crashed) {
            expect(lines(saved.oursByIpvsadm.stdout), 'the table ipvs left, read by ipvsadm -Sn').toEqual(
              lines(saved.ipvsadm.stdout),
            );
          }
          expect(show(saved.ipvs), 'our -Sn of our table').toBe(show(saved.oursByIpvsadm));
          ok = true;
        } finally {
          progress(c.name, ok);
        }
      },
      60_000 + 10_000 * c.steps.length,
    );
  }

  afterAll(async () => {
    if (crashes.length && process.env.CLI_PROGRESS) writeSync(2, `[cli] ipvsadm crashed on: ${crashes.join('; ')}\n`);
    await deletePooled();
  });
});

const MIXED = [
  '-A -t 192.0.2.10:80 -s wlc',
  '-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 5',
  '-a -t 192.0.2.10:80 -r 127.0.0.1:80 -g -w 2',
  '-A -u 192.0.2.10:53 -s rr -p 360 -M 255.255.255.0 -o',
  '-a -u 192.0.2.10:53 -r 198.51.100.3:53 -g -w 0',
  '-A --sctp-service [2001:db8::10]:5060 -s mh -p 3600 -M 64 --pe sip -b mh-fallback,mh-port',
  '-a --sctp-service [2001:db8::10]:5060 -r 198.51.100.1:5060 -i -w 3',
  '-a --sctp-service [2001:db8::10]:5060 -r [::1]:5060 -m -w 1',
  '-A -f 5 -s sh -p 300 -b sh-fallback,sh-port',
  '-a -f 5 -r 198.51.100.9:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum',
  '-A -f 7 -6 -s rr',
  '-A -t 127.0.0.1:443 -s rr',
  '-a -t 127.0.0.1:443 -r 127.0.0.1:443',
];

describe('a save from one tool restores through the other', () => {
  for (const save of ['-S', '-Sn']) {
    it(`ipvsadm ${save} | ipvs -R and ipvs ${save} | ipvsadm -R give the same table`, async () => {
      const [a, b, c] = await Promise.all([Netns.create(), Netns.create(), Netns.create()]);
      try {
        for (const line of MIXED) expect(await a.ipvsadm(words(line)), line).toMatchObject({ status: 0 });
        const fromAdm = await a.ipvsadm([save]);
        expect(fromAdm.status).toBe(0);
        const restored = await b.ipvs(['-R'], fromAdm.stdout);
        expect(show(restored)).toBe(show({ stdout: '', stderr: '', status: 0 }));
        const original = (await a.ipvsadm(['-Sn'])).stdout;
        expect((await b.ipvsadm(['-Sn'])).stdout).toBe(original);

        const fromOurs = await b.ipvs([save]);
        expect(fromOurs).toEqual(await b.ipvsadm([save]));
        const back = await c.ipvsadm(['-R'], fromOurs.stdout);
        expect(back.status).toBe(0);
        expect((await c.ipvsadm(['-Sn'])).stdout).toBe(original);
      } finally {
        await Promise.all([a.delete(), b.delete(), c.delete()]);
      }
    });
  }
});

describe('the built executable, as a process', () => {
  const bin = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
  /**
   * Both run with the same argv[0]: the executable's path, as a shell passes
   * it. `prefix`: a command that runs the tool (setpriv, unshare …). bash
   * gives ipvsadm our argv[0]; --norc, as its stdin is a socket (bash would
   * read ~/.bashrc as if started by rshd).
   */
  const run = (
    ns: Netns,
    tool: 'ipvs' | 'ipvsadm',
    args: string[],
    stdin = '',
    prefix: string[] = [],
  ): Promise<Result> => {
    const argv = tool === 'ipvs' ? [bin, ...args] : ['bash', '--norc', '-c', 'exec -a "$0" ipvsadm "$@"', bin, ...args];
    return spawnCaptured(['nsenter', `--net=${ns.path}`, '--', ...prefix, ...argv], stdin);
  };
  const lines: [string[], string?][] = [
    [['-A', '-t', '192.0.2.1:80', '-s', 'rr']],
    [['-a', '-t', '192.0.2.1:80', '-r', '198.51.100.1:8080', '-m', '-w', '3']],
    [['-A', '-t', '192.0.2.1:80']],
    [['-Ln']],
    [['-L', '-n', '--stats', '--exact']],
    [['-S']],
    [['-n', '-L']],
    [['--foo']],
    [['-L', '--foo']],
    [['-A', '-t', 'bogus']],
    [['-R'], '-A -u 192.0.2.1:53\n-A -u 192.0.2.1:53\n'],
    // Which words restore drops: the literal `ipvsadm`, or argv[0]?
    [['-R'], 'ipvsadm -A -u 192.0.2.1:54\n'],
    [['-R'], `${bin} -A -u 192.0.2.1:55\n`],
    [['-Sn']],
    [['-L', '--timeout']],
    // The executable runs the library's calls inline (bin.ts): every kind of read.
    [['-Ln', '--rate']],
    [['-L', '-n', '-t', '192.0.2.1:80', '--thresholds']],
    [['-L', '-n', '-t', '192.0.2.9:80']],
    [['-Lnc']],
    [['-Z', '-t', '192.0.2.1:80']],
    [['-D', '-t', '192.0.2.9:80']],
    [[]],
  ];
  // Each line starts node under emulation: seconds each.
  it('prints and exits as ipvsadm does, argv[0] included', { timeout: 600_000 }, async () => {
    const [a, b] = await Promise.all([Netns.create(), Netns.create()]);
    try {
      for (const [args, stdin] of lines) {
        const [theirs, ours] = await Promise.all([run(a, 'ipvsadm', args, stdin), run(b, 'ipvs', args, stdin)]);
        expect(show(ours), args.join(' ')).toBe(show(theirs));
      }
    } finally {
      await Promise.all([a.delete(), b.delete()]);
    }
  });

  it('fails to initialise as ipvsadm does without CAP_NET_ADMIN', { timeout: 120_000 }, async () => {
    const ns = await Netns.create();
    try {
      const nobody = [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
      ];
      const [theirs, ours] = await Promise.all([
        run(ns, 'ipvsadm', ['-Ln'], '', nobody),
        run(ns, 'ipvs', ['-Ln'], '', nobody),
      ]);
      expect(theirs.stderr).toContain('Permission denied (you must be root)');
      expect(show(ours)).toBe(show(theirs));
    } finally {
      await ns.delete();
    }
  });

  it('never waits on a resolver that does not answer', { timeout: 300_000 }, async () => {
    // A name server that reads queries and never answers, for a resolver
    // configured to wait 30 s, 5 times: ipvsadm would sit minutes per address.
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-dns-'));
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:30 attempts:5\n');
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n');
    const ns = await Netns.create();
    const sink = spawn(
      'nsenter',
      [
        `--net=${ns.path}`,
        '--',
        existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
        '-c',
        'import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("127.0.0.1",53))\nprint("ready",flush=True)\nend=time.time()+240\nwhile time.time()<end:\n  s.settimeout(1)\n  try: s.recv(512)\n  except OSError: pass\n',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve, reject) => {
      sink.stdout!.once('data', resolve);
      sink.once('exit', () => reject(new Error('the silent name server did not start')));
    });
    try {
      for (const line of [
        '-A -t 192.0.2.1:80',
        '-a -t 192.0.2.1:80 -r 198.51.100.1 -m',
        '-a -t 192.0.2.1:80 -r 198.51.100.2 -m',
        '-A -u [2001:db8::1]:53',
      ]) {
        expect((await ns.ipvsadm(words(line))).status).toBe(0);
      }
      const mounts = [
        'unshare',
        '--mount',
        'sh',
        '-c',
        `mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/hosts /etc/hosts && exec "$@"`,
        'sh',
      ];
      const started = Date.now();
      const ours = await run(ns, 'ipvs', ['-L'], '', mounts);
      const seconds = (Date.now() - started) / 1000;
      // Numeric hosts, named ports: what ipvsadm prints when lookups fail.
      const expected = (await ns.ipvsadm(['-L'])).stdout.replace(/.*\n/, '');
      expect(ours.status).toBe(0);
      expect(ours.stdout.replace(/.*\n/, '')).toBe(expected);
      expect(ours.stdout).toContain('192.0.2.1:http');
      expect(seconds).toBeLessThan(60);
    } finally {
      sink.kill();
      await ns.delete();
    }
  });

  it(
    'cuts long host names where ipvsadm does (IPv4 services 33, servers 28; IPv6 never)',
    { timeout: 600_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ipvs-hosts-'));
      writeFileSync(
        join(dir, 'hosts'),
        [
          '127.0.0.1 localhost',
          '192.0.2.50 a-rather-long-name-for-a-virtual-service.example.net',
          '198.51.100.50 a-rather-long-name-for-a-real-server.example.net',
          '198.51.100.51 short',
          '2001:db8::50 an-ipv6-virtual-service-with-a-long-name.example.net',
          '2001:db8:1::50 an-ipv6-real-server-with-a-long-name.example.net',
        ].join('\n') + '\n',
      );
      const hosts = ['unshare', '--mount', 'sh', '-c', `mount --bind ${dir}/hosts /etc/hosts && exec "$@"`, 'sh'];
      const [a, b] = await Promise.all([Netns.create(), Netns.create()]);
      try {
        const setup = [
          '-A -t 192.0.2.50:443 -s rr',
          '-a -t 192.0.2.50:443 -r 198.51.100.50:8443 -m',
          '-a -t 192.0.2.50:443 -r 198.51.100.51:8443 -m',
          '-a -t 192.0.2.50:443 -r [2001:db8:1::50]:443 -i',
          '-A -u [2001:db8::50]:53 -s rr',
          '-a -u [2001:db8::50]:53 -r [2001:db8:1::50]:53 -m',
          '-a -u [2001:db8::50]:53 -r 198.51.100.50:53 -i',
        ];
        for (const line of setup) expect((await a.ipvsadm(words(line))).status, line).toBe(0);
        for (const line of setup) expect((await b.ipvsadm(words(line))).status, line).toBe(0);
        for (const args of [
          ['-L'],
          ['-L', '--stats'],
          ['-L', '--thresholds'],
          ['-S'],
          ['-L', '-t', 'a-rather-long-name-for-a-virtual-service.example.net:https'],
        ]) {
          const [theirs, ours] = await Promise.all([
            run(a, 'ipvsadm', args, '', hosts),
            run(b, 'ipvs', args, '', hosts),
          ]);
          expect(show(ours), args.join(' ')).toBe(show(theirs));
        }
      } finally {
        await Promise.all([a.delete(), b.delete()]);
      }
    },
  );

  it('answers -h and -v with its own text, on stdout, exit 0', { timeout: 120_000 }, async () => {
    const a = await Netns.create();
    try {
      const help = await run(a, 'ipvs', ['-h']);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^ipvs .*\nUsage:\n/);
      expect(help.stdout).toContain(`  ${bin} -L|l [virtual-service] [options]`);
      const version = await run(a, 'ipvs', ['--version']);
      expect(version.status).toBe(0);
      expect(version.stdout).toMatch(/^ipvs \d+\.\d+\.\d+/);
    } finally {
      await a.delete();
    }
  });
});
