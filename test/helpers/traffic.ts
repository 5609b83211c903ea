// Packets that make IPVS create connection entries, sent from inside a test's
// namespace to VIPs on a dummy link there. Locally sent packets pass IPVS's
// LOCAL_OUT hook, which schedules them like forwarded ones, so one namespace
// is enough; an entry exists as soon as its first packet is scheduled, whether
// or not its destination exists. Only documentation address ranges are used,
// and nothing leaves the guest (the dummy link drops what it is given).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import type { Lab } from './netns.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Reads a JSON list of packets from argv[1]: ["udp", src, sport, dst, dport,
// payload, mark] is a datagram from a socket bound to src:sport (SO_MARK set
// when mark > 0); ["syn", ...] a TCP SYN through a raw socket (IPv4);
// ["flood", src, sport, dst, dport, count] `count` raw IPv4 datagrams, from
// source ports sport, sport+1, ... (moving on to the next source address
// after port 65535).
const SENDER = String.raw`
import json, socket, struct, sys

def checksum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4(src, dst, proto, body):
    return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 1, 0, 64, proto, 0, src, dst) + body

raw = None
for p in json.loads(sys.argv[1]):
    kind, src, sport, dst, dport = p[:5]
    if kind == 'udp':
        s = socket.socket(socket.AF_INET6 if ':' in src else socket.AF_INET, socket.SOCK_DGRAM)
        if p[6]: s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, p[6])
        s.bind((src, sport))
        s.sendto(p[5].encode(), (dst, dport))
        s.close()
        continue
    raw = raw or socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sa, da = socket.inet_aton(src), socket.inet_aton(dst)
    if kind == 'syn':
        tcp = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
        c = checksum(sa + da + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
        raw.sendto(ip4(sa, da, 6, tcp[:16] + struct.pack('!H', c) + tcp[18:]), (dst, 0))
    elif kind == 'flood':
        base = struct.unpack('!I', sa)[0]
        for i in range(p[5]):
            port = sport + i
            a = struct.pack('!I', base + port // 65536)
            raw.sendto(ip4(a, da, 17, struct.pack('!HHHH', port % 65536, dport, 9, 0) + b'x'), (dst, 0))
`;

export interface Datagram {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload?: string;
  /** SO_MARK, for services by firewall mark. */
  mark?: number;
}

export interface Syn {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

const execFileAsync = promisify(execFile);

/**
 * Runs a python `script` with `args` in the lab's namespace. Asynchronous, as
 * every long child of a test must be: a test process blocked for 60 s misses
 * vitest's own call to its runner ("Timeout calling onTaskUpdate"), which
 * fails the run.
 */
export async function runPython(lab: Lab, script: string, args: string[], timeout = 120_000): Promise<void> {
  await execFileAsync('ip', ['netns', 'exec', lab.name, PYTHON, '-c', script, ...args], {
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
  });
}

/** Runs the sender. */
async function python(lab: Lab, packets: unknown[]): Promise<void> {
  await runPython(lab, SENDER, [JSON.stringify(packets)]);
}

/**
 * A dummy link `d0` carrying `addresses` (VIPs and client addresses; IPv6
 * without duplicate address detection, so they work at once), with routes to
 * the destinations' ranges, and a UDP timeout of an hour so entries stay.
 */
export async function prepare(lab: Lab, addresses: string[]): Promise<void> {
  lab.exec('ip', 'link', 'add', 'd0', 'type', 'dummy');
  for (const a of addresses) {
    if (a.includes(':')) lab.exec('ip', 'addr', 'add', `${a}/128`, 'dev', 'd0', 'nodad');
    else lab.exec('ip', 'addr', 'add', `${a}/32`, 'dev', 'd0');
  }
  lab.exec('ip', 'link', 'set', 'd0', 'up');
  lab.exec('ip', 'route', 'add', '198.51.100.0/24', 'dev', 'd0');
  lab.exec('ip', '-6', 'route', 'add', '2001:db8:1::/64', 'dev', 'd0');
  await lab.ipvs.setTimeouts({ udp: 3600 });
}

/** One datagram each, each from a fresh socket bound to its source: one UDP entry per source port. */
export async function sendDatagrams(lab: Lab, datagrams: Datagram[]): Promise<void> {
  await python(
    lab,
    datagrams.map((d) => ['udp', d.src, d.sport, d.dst, d.dport, d.payload ?? 'x', d.mark ?? 0]),
  );
}

/** TCP SYNs without a handshake: entries in SYN_RECV, which live about 60 s. */
export async function sendSyns(lab: Lab, syns: Syn[]): Promise<void> {
  await python(
    lab,
    syns.map((s) => ['syn', s.src, s.sport, s.dst, s.dport]),
  );
}

/**
 * `count` IPv4 datagrams to dst:dport from `src` (need not be local) and
 * source ports `sport`, `sport + 1`, ...; past port 65535 the next source
 * address. Fast: one raw socket.
 */
export async function flood(
  lab: Lab,
  src: string,
  sport: number,
  dst: string,
  dport: number,
  count: number,
): Promise<void> {
  await python(lab, [['flood', src, sport, dst, dport, count]]);
}
