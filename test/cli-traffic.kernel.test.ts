// Listings of tables that carried traffic, through ipvsadm and `ipvs` reading
// the same namespace: counters (scaled and exact, up to the M unit), rates,
// active/inactive/persistent connection counts, and the connection table with
// IPv6 entries and persistence-engine (SIP) data.
//
// Counters, rates and expiry times move while we read, so each comparison
// reads ipvsadm, then ours, then ipvsadm again, and counts only when the two
// ipvsadm reads agree (nothing moved in between: ours read the same state);
// otherwise it reads again (see sameMoment). Rates change every 2 s when the
// kernel's estimator runs, expiry times every second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Netns, sameMoment, words, type Result } from './helpers/differential.js';
import { createLab, type Lab } from './helpers/netns.js';
import { createTopology, settle, VIP4, VIP6, type Topology } from './helpers/topology.js';
import { prepare, runPython, sendDatagrams, sendSyns } from './helpers/traffic.js';

const CALL_ID = 'a84b4c76e66710@pc33.example.com';
const invite = (callId: string) =>
  'INVITE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1:5070\r\n' +
  `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
const INVITE = invite(CALL_ID);
// Call-IDs that make the kernel's lines longer than the 255 characters
// ipvsadm reads at a time (the kernel prints up to 255 bytes of engine data).
const LONG_CALL_IDS = [`${'b'.repeat(180)}@pc33.example.com`, `${'c'.repeat(230)}@x.example`];

/** Sends `count` UDP datagrams of `size` bytes from src to dst:port (one socket: one connection entry). */
async function bulk(lab: Lab, src: string, dst: string, port: number, size: number, count: number): Promise<void> {
  const script = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
data = b'x' * int(sys.argv[4])
for _ in range(int(sys.argv[5])):
    s.sendto(data, (sys.argv[2], int(sys.argv[3])))
`;
  // A minute or more under emulation.
  await runPython(lab, script, [src, dst, String(port), String(size), String(count)], 300_000);
}

const LISTINGS = [
  '-Ln',
  '-L',
  '-Ln --stats',
  '-Ln --stats --exact',
  '-L --stats',
  '-Ln --rate',
  '-Ln --rate --exact',
  '-Ln --thresholds',
  '-Ln --persistent-conn',
  '-Ln --tun-info',
  '-Ln --nosort --stats',
  '-Sn',
  '-S',
  '-Lnc',
  '-Lc',
  '-Lnc --persistent-conn',
  '-Lc --persistent-conn',
  '-L -c -n --exact --nosort --tun-info',
  '-Ln -u 192.0.2.4:53 --stats',
  '-Ln -u 192.0.2.5:9 --rate',
  '-L -u 192.0.2.4:5060 --persistent-conn',
];

async function expectSame(ns: Netns, line: string): Promise<void> {
  const { before, ipvs, after } = await sameMoment(ns, words(line));
  expect(after, `ipvsadm ${line} kept changing; cannot compare`).toEqual(before);
  expect(ipvs, `ipvs ${line}`).toEqual(before);
}

/**
 * The connection table: expiry times tick every second, and a listing with
 * names takes ipvsadm seconds (a lookup per address). So everything but the
 * expire column must be equal byte for byte, and each entry's expiry in ours
 * must lie between the two ipvsadm reads around it (ours read in between).
 */
async function expectSameConnections(ns: Netns, line: string): Promise<void> {
  const EXPIRE = /^(\S+ )(\d+):(\d\d) /gm;
  const mask = (r: Result): Result => ({ ...r, stdout: r.stdout.replace(EXPIRE, '$1--:-- ') });
  const expiries = (r: Result): number[] => [...r.stdout.matchAll(EXPIRE)].map((m) => Number(m[2]) * 60 + Number(m[3]));
  let last: [Result, Result, Result] | undefined;
  for (let i = 0; i < 12; i++) {
    last = [await ns.ipvsadm(words(line)), await ns.ipvs(words(line)), await ns.ipvsadm(words(line))];
    if (mask(last[0]).stdout === mask(last[2]).stdout) break;
  }
  const [before, ipvs, after] = last!;
  expect(mask(after), `ipvsadm ${line} kept changing; cannot compare`).toEqual(mask(before));
  expect(mask(ipvs), `ipvs ${line}`).toEqual(mask(before));
  const [b, o, a] = [expiries(before), expiries(ipvs), expiries(after)];
  o.forEach((t, i) => {
    expect(t, `entry ${i + 1}: expiry between the two ipvsadm reads`).toBeLessThanOrEqual(b[i]!);
    expect(t, `entry ${i + 1}: expiry between the two ipvsadm reads`).toBeGreaterThanOrEqual(a[i]!);
  });
}

describe('one namespace: entries made by packets sent from inside it', () => {
  let lab: Lab;
  let ns: Netns;
  beforeAll(async () => {
    lab = await createLab();
    ns = new Netns(lab.name);
    await prepare(lab, ['192.0.2.4', '192.0.2.5', '2001:db8::4', '203.0.113.1', '2001:db8::c1']);
    const setup = [
      '-A -u 192.0.2.4:53 -s rr',
      '-a -u 192.0.2.4:53 -r 198.51.100.1:53 -m',
      '-a -u 192.0.2.4:53 -r 198.51.100.2:5353 -m -w 3 -x 50 -y 5',
      '-A -u 192.0.2.4:5060 -s rr -p 3600 --pe sip',
      '-a -u 192.0.2.4:5060 -r 198.51.100.3:5060 -m',
      '-A -u 192.0.2.4:123 -s wrr -p 600 -M 255.255.255.0',
      '-a -u 192.0.2.4:123 -r 198.51.100.4:123 -m',
      '-A -t 192.0.2.4:80 -s wlc',
      '-a -t 192.0.2.4:80 -r 198.51.100.5:8080 -m',
      '-a -t 192.0.2.4:80 -r 198.51.100.6:8080 -m -w 2',
      '-A -u [2001:db8::4]:53 -s rr',
      '-a -u [2001:db8::4]:53 -r [2001:db8:1::1]:53 -m',
      '-a -u [2001:db8::4]:53 -r [2001:db8:1::2]:53 -m',
      '-A -u 192.0.2.5:9 -s rr',
      '-a -u 192.0.2.5:9 -r 198.51.100.9:9 -m',
    ];
    for (const line of setup) expect((await ns.ipvsadm(words(line))).status, line).toBe(0);
    const datagrams = [];
    for (let i = 0; i < 12; i++) datagrams.push({ src: '203.0.113.1', sport: 40000 + i, dst: '192.0.2.4', dport: 53 });
    for (let i = 0; i < 6; i++)
      datagrams.push({ src: '2001:db8::c1', sport: 41000 + i, dst: '2001:db8::4', dport: 53 });
    for (let i = 0; i < 3; i++)
      datagrams.push({ src: '203.0.113.1', sport: 42000 + i, dst: '192.0.2.4', dport: 5060, payload: INVITE });
    for (let i = 0; i < 4; i++) datagrams.push({ src: '203.0.113.1', sport: 43000 + i, dst: '192.0.2.4', dport: 123 });
    await sendDatagrams(lab, datagrams);
    await sendSyns(
      lab,
      Array.from({ length: 9 }, (_, i) => ({ src: '203.0.113.1', sport: 44000 + i, dst: '192.0.2.4', dport: 80 })),
    );
    // 1.2 GB in 60 kB datagrams: byte counters in the M range, rates in K and M.
    await bulk(lab, '203.0.113.1', '192.0.2.5', 9, 60000, 20000);
    await settle();
  }, 600_000);
  afterAll(async () => {
    await lab?.close();
  });

  // First, while the estimator's rates of the bulk traffic have not decayed
  // (under a sanitizer the listings after it take minutes).
  it('had counters in the M unit and rates in the millions', async () => {
    const stats = (await ns.ipvsadm(['-Ln', '--stats'])).stdout;
    expect(stats).toMatch(/ {4}\d{4}M /);
    // Rates in K need 10^8 bytes a second, more than the emulated guest sends.
    const rate = (await ns.ipvsadm(['-Ln', '--rate', '--exact'])).stdout;
    expect(rate).toMatch(/ \d{7,} /);
  });

  for (const line of LISTINGS) {
    it(`ipvsadm ${line}`, async () => {
      await (/^-L\S*c|^-L -c/.test(line) ? expectSameConnections(ns, line) : expectSame(ns, line));
    });
  }

  it('zeroes counters as ipvsadm does (one service, then all)', async () => {
    const a = await ns.ipvs(['-Z', '-u', '192.0.2.4:53']);
    expect(a).toEqual({ stdout: '', stderr: '', status: 0 });
    await expectSame(ns, '-Ln --stats --exact');
    expect(await ns.ipvsadm(['-Z'])).toEqual({ stdout: '', stderr: '', status: 0 });
    await expectSame(ns, '-Ln --stats');
  });
});

describe('a director with real servers: NAT, direct routing and tunnels, IPv4 and IPv6', () => {
  let topo: Topology;
  let ns: Netns;
  const held: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    topo = await createTopology({ servers: 2, ports: [8080, 8081, 8082] });
    ns = new Netns(topo.director.name);
    const s = topo.servers;
    const setup = [
      `-A -t ${VIP4}:8080 -s rr`,
      ...s.map((r) => `-a -t ${VIP4}:8080 -r ${r.v4}:8080 -m`),
      `-A -u ${VIP4}:8080 -s wlc -p 300`,
      ...s.map((r) => `-a -u ${VIP4}:8080 -r ${r.v4}:8080 -m -w 2`),
      `-A -t ${VIP4}:8081 -s rr`,
      ...s.map((r) => `-a -t ${VIP4}:8081 -r ${r.v4} -g`),
      `-A -t ${VIP4}:8082 -s rr`,
      ...s.map((r) => `-a -t ${VIP4}:8082 -r ${r.v4} -i`),
      `-A -t [${VIP6}]:8080 -s rr`,
      ...s.map((r) => `-a -t [${VIP6}]:8080 -r [${r.v6}]:8080 -m -x 10 -y 2`),
      `-A -u [${VIP6}]:8081 -s rr`,
      ...s.map((r) => `-a -u [${VIP6}]:8081 -r ${r.v6} -g`),
    ];
    for (const line of setup) expect((await ns.ipvs(words(line))).status, line).toBe(0);
    for (const [dst, port, proto] of [
      [VIP4, 8080, 'tcp'],
      [VIP4, 8080, 'udp'],
      [VIP4, 8081, 'tcp'],
      [VIP4, 8082, 'tcp'],
      [VIP6, 8080, 'tcp'],
      [VIP6, 8081, 'udp'],
    ] as const) {
      const answers = await topo.request({ proto, dst, port, count: 6 });
      expect(answers.filter((a) => a !== null).length, `${proto} ${dst}:${port}`).toBeGreaterThan(0);
    }
    // Connections held open: ActiveConn counts.
    held.push(await topo.hold({ dst: VIP4, port: 8080 }), await topo.hold({ dst: VIP6, port: 8080 }));
    await settle();
  }, 600_000);
  afterAll(async () => {
    for (const h of held) await h.close().catch(() => undefined);
    await topo?.close();
  });

  for (const line of [
    '-Ln',
    '-L',
    '-Ln --stats',
    '-Ln --stats --exact',
    '-Ln --rate',
    '-Ln --rate --exact',
    '-Ln --thresholds',
    '-Ln --persistent-conn',
    '-Ln --tun-info',
    '-Sn',
    '-Lnc',
    '-Lc',
    '-Lnc --persistent-conn',
  ]) {
    it(`ipvsadm ${line}`, async () => {
      await (line.startsWith('-Lnc') || line === '-Lc' ? expectSameConnections(ns, line) : expectSame(ns, line));
    });
  }
});

/**
 * Lines longer than 255 characters (long SIP Call-IDs): ipvsadm reads the
 * table 255 characters at a time, so it prints such an entry cut short, then
 * the rest of the line as an entry of its own whose fields are whatever its
 * buffers held (its protocol buffer overflows: "cccccccc;", "[(null)]:0",
 * "[198.51.100.3]:0" in two listings of one table). That part cannot be
 * matched; `ipvs` prints each entry whole (docs/cli.md). Everything
 * deterministic is compared: every other line equal, and each cut entry a
 * prefix of ours.
 */
describe('engine data that makes lines longer than ipvsadm reads at once', () => {
  let lab: Lab;
  let ns: Netns;
  beforeAll(async () => {
    lab = await createLab();
    ns = new Netns(lab.name);
    await prepare(lab, ['192.0.2.4', '203.0.113.1']);
    for (const line of [
      '-A -u 192.0.2.4:5060 -s rr -p 3600 --pe sip',
      '-a -u 192.0.2.4:5060 -r 198.51.100.3:5060 -m',
    ]) {
      expect((await ns.ipvsadm(words(line))).status, line).toBe(0);
    }
    await sendDatagrams(
      lab,
      [CALL_ID, ...LONG_CALL_IDS].map((id, i) => ({
        src: '203.0.113.1',
        sport: 42100 + i,
        dst: '192.0.2.4',
        dport: 5060,
        payload: invite(id),
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  for (const line of ['-Lnc --persistent-conn', '-Lnc']) {
    it(`ipvsadm ${line}`, async () => {
      const EXPIRE = /^(\S+ )(\d+):(\d\d) /gm;
      const mask = (text: string) => text.replace(EXPIRE, '$1--:-- ');
      const [theirs, ours] = await Promise.all([ns.ipvsadm(words(line)), ns.ipvs(words(line))]);
      expect([theirs.status, theirs.stderr, ours.status, ours.stderr]).toEqual([0, '', 0, '']);
      const oursLines = mask(ours.stdout).split('\n');
      const long = oursLines.filter((l) => LONG_CALL_IDS.some((id) => l.includes(id.slice(0, 40))));
      const withData = line.includes('--persistent-conn');
      // The kernel's line for each long entry is over 255 characters: ours keeps the whole Call-ID.
      expect(long.filter((l) => LONG_CALL_IDS.some((id) => l.endsWith(` ${id}`)))).toHaveLength(withData ? 2 : 0);
      // ipvsadm's lines, in order: each equal to ours, or (with engine data) a
      // prefix of ours cut inside a long Call-ID; then, after each cut entry,
      // one line of leftovers, which begins with no word any line of ours
      // begins with (the rest of the Call-ID).
      const theirsLines = mask(theirs.stdout).split('\n');
      const firstWords = new Set(oursLines.map((l) => l.split(' ')[0]));
      const matched: string[] = [];
      let leftovers = 0;
      for (const l of theirsLines) {
        if (!firstWords.has(l.split(' ')[0])) {
          leftovers++;
          continue;
        }
        const whole = oursLines[matched.length]!;
        if (l !== whole) {
          expect(
            withData && whole.startsWith(l) && LONG_CALL_IDS.some((id) => whole.endsWith(id)),
            `${l}\n${whole}`,
          ).toBe(true);
        }
        matched.push(whole);
      }
      expect(leftovers).toBe(LONG_CALL_IDS.length);
      expect(matched).toEqual(oursLines);
    });
  }
});
