// Watching a namespace while the real ipvsadm, another process, changes its
// table: every kind of change comes as its event (service and destination
// added, edited, deleted; a clear: destinations before their service), through the library and through
// `ipvs watch` run as a process (--json, and the readable lines until
// SIGTERM). Traffic between changes moves counters and connection counts,
// which are not events. Each change waits for its event before the next, so
// no two fall between the same two snapshots.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { WatchEvent } from '../src/index.js';
import { createLab, type Lab } from './helpers/netns.js';
import { prepare, sendDatagrams } from './helpers/traffic.js';

let lab: Lab;

beforeAll(async () => {
  lab = await createLab();
  await prepare(lab, ['192.0.2.1', '203.0.113.1']);
}, 120_000);

afterAll(async () => {
  await lab?.close();
});

function ipvsadm(line: string): void {
  const r = lab.ipvsadm(...line.split(' '));
  expect(r.status, `ipvsadm ${line}: ${r.stderr}`).toBe(0);
}

const web = { protocol: 'tcp' as const, address: '192.0.2.1', port: 80 };
const dns = { protocol: 'udp' as const, address: '192.0.2.1', port: 53 };
const rs1 = { address: '198.51.100.1', port: 80 };

/** Each change by ipvsadm, and the events it must give (in order). */
const CHANGES: [string, Partial<WatchEvent>[]][] = [
  ['-A -t 192.0.2.1:80 -s rr', [{ type: 'service-added', service: web, after: { ...web, scheduler: 'rr' } }]],
  [
    '-E -t 192.0.2.1:80 -s wlc -p 60',
    [
      {
        type: 'service-changed',
        service: web,
        fields: ['scheduler', 'persistence'],
        before: { ...web, scheduler: 'rr' },
        after: { ...web, scheduler: 'wlc', persistence: { timeout: 60 } },
      },
    ],
  ],
  [
    '-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2',
    [
      {
        type: 'destination-added',
        service: web,
        destination: rs1,
        after: { ...rs1, forwarding: 'masq', weight: 2 },
      },
    ],
  ],
  [
    '-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 0 -x 10',
    [
      {
        type: 'destination-changed',
        service: web,
        destination: rs1,
        fields: ['weight', 'upperThreshold'],
        before: { ...rs1, forwarding: 'masq', weight: 2 },
        after: { ...rs1, forwarding: 'masq', weight: 0, upperThreshold: 10 },
      },
    ],
  ],
  ['-d -t 192.0.2.1:80 -r 198.51.100.1:80', [{ type: 'destination-removed', service: web, destination: rs1 }]],
  ['-D -t 192.0.2.1:80', [{ type: 'service-removed', service: web }]],
  [
    '-A -f 5 -6 -s sh -b sh-port',
    [
      {
        type: 'service-added',
        service: { fwmark: 5, family: 'inet6' },
        after: { fwmark: 5, family: 'inet6', scheduler: 'sh', schedulerFlags: ['sh-port'] },
      },
    ],
  ],
  ['-D -f 5 -6', [{ type: 'service-removed', service: { fwmark: 5, family: 'inet6' } }]],
  // Its destinations first, then the service.
  [
    '-C',
    [
      { type: 'destination-removed', service: dns, destination: { address: '198.51.100.2', port: 53 } },
      { type: 'service-removed', service: dns },
    ],
  ],
];

/** The UDP service that traffic flows to while the changes are made. */
function setUp(): void {
  lab.ipvsadm('-C');
  ipvsadm('-A -u 192.0.2.1:53 -s rr');
  ipvsadm('-a -u 192.0.2.1:53 -r 198.51.100.2:53 -m');
}
const BASELINE = [
  { type: 'service-added', service: dns },
  { type: 'destination-added', service: dns, destination: { address: '198.51.100.2', port: 53 } },
];
let sport = 40000;
/** Datagrams to the UDP service: its counters and inactive connections move. */
async function traffic(): Promise<void> {
  await sendDatagrams(
    lab,
    [0, 1].map(() => ({ src: '203.0.113.1', sport: sport++, dst: '192.0.2.1', dport: 53 })),
  );
}

/** Each change in turn, each checked against the events it gave (`next(n)`: the next n events). */
async function runChanges(next: (n: number) => Promise<unknown[]>): Promise<void> {
  expect(await next(2)).toMatchObject(BASELINE);
  await traffic();
  for (const [line, events] of CHANGES) {
    ipvsadm(line);
    expect(await next(events.length), line).toMatchObject(events);
  }
}

describe('watch', () => {
  it('the library sees every change ipvsadm makes, and no counter', async () => {
    setUp();
    const controller = new AbortController();
    const events = lab.ipvs.watch({ interval: 100, initial: true, signal: controller.signal });
    const next = async (n: number) => {
      const out: WatchEvent[] = [];
      while (out.length < n) {
        const r = await events.next();
        if (r.done) throw new Error('the watch ended');
        out.push(r.value);
      }
      return out;
    };
    await runChanges(next);
    // An abort ends the iteration without an error.
    const pending = events.next();
    controller.abort();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });

  const bin = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
  const watch = (args: string[]): ChildProcessWithoutNullStreams =>
    spawn(process.execPath, [bin, 'watch', '--netns', lab.path, '--interval', '100', '--initial', ...args]);
  const linesOf = (child: ChildProcessWithoutNullStreams) => {
    const lines: string[] = [];
    const waiting: (() => void)[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      waiting.splice(0).forEach((w) => w());
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let read = 0;
    const next = async (n: number): Promise<string[]> => {
      const end = Date.now() + 30_000;
      while (lines.length < read + n) {
        if (Date.now() > end) throw new Error(`no line after 30 s: ${stderr}`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 1000);
        });
      }
      read += n;
      return lines.slice(read - n, read);
    };
    return { next, exited, stderr: () => stderr };
  };

  it('`ipvs watch --json`, a process of its own, prints each as a JSON line and stops after --count', async () => {
    setUp();
    const count = BASELINE.length + CHANGES.reduce((n, [, e]) => n + e.length, 0);
    const child = watch(['--json', '--count', String(count)]);
    const out = linesOf(child);
    await runChanges(async (n) => (await out.next(n)).map((l) => JSON.parse(l) as unknown));
    expect(await out.exited).toBe(0);
    expect(out.stderr()).toBe('');
  });

  it('`ipvs watch` prints lines until SIGTERM, then exits 0', async () => {
    setUp();
    const child = watch([]);
    const out = linesOf(child);
    expect(await out.next(2)).toEqual([
      '+ service UDP 192.0.2.1:53 scheduler rr',
      '+ destination UDP 192.0.2.1:53 -> 198.51.100.2:53 masq weight 1',
    ]);
    ipvsadm('-e -u 192.0.2.1:53 -r 198.51.100.2:53 -m -w 3');
    expect(await out.next(1)).toEqual(['~ destination UDP 192.0.2.1:53 -> 198.51.100.2:53 weight 1 -> 3']);
    child.kill('SIGTERM');
    expect(await out.exited).toBe(0);
    expect(out.stderr()).toBe('');
  });
});
