// A small load-balanced network inside the lab guest, for tests that send real
// packets: a client namespace, the director (the namespace the test's IPVS
// client manages) and real-server namespaces, joined by veth links.
//
//   client  eth0 203.0.113.2-4/26, 2001:db8:c::2-4/64 ── cli0 director (.1, ::1)
//           ret0 (bridge) 203.0.113.65/26, 2001:db8:d::1/64
//   director lo: the VIPs; rs0 (bridge) 198.51.100.1/24, 2001:db8:b::1/64
//   server i eth0 198.51.100.1i/24, 2001:db8:b::1i/64 on rs0 (default route: the director)
//            ret  203.0.113.(65+i)/26, 2001:db8:d::1i/64 on the client's ret0
//            lo: the VIPs too (direct routing and tunnels deliver to them); tunl0, ip6tnl0 up
//
// Replies from a server's own address (NAT) go back through the director, as
// NAT needs; replies from a VIP (direct routing, tunnels) take the server's
// own way back to the client (policy routing by source), so they bypass the
// director as in a real LVS-DR/TUN setup.
//
// Only documentation address ranges; nothing leaves the guest.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createLab, type Lab } from './netns.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SERVERS = fileURLToPath(new URL('./servers.py', import.meta.url));

export const VIP4 = '192.0.2.100';
export const VIP6 = '2001:db8:a::100';
/** Second VIPs, for services by firewall mark. */
export const MARK_VIP4 = '192.0.2.101';
export const MARK_VIP6 = '2001:db8:a::101';

export interface Host {
  /** The namespace's name, for `ip netns exec`. */
  name: string;
  /** Runs a command in the namespace; throws on failure. */
  exec(command: string, ...args: string[]): string;
}

export interface RealServer extends Host {
  /** What the server answers with: `rs1`, `rs2`, ... */
  label: string;
  v4: string;
  v6: string;
}

export interface RequestOptions {
  proto: 'tcp' | 'udp';
  dst: string;
  port: number;
  count: number;
  /** A client address (default: the first of its family). */
  src?: string;
  /** Sent as is over UDP, as a line over TCP. Default `hello`. */
  payload?: string;
}

/** One TCP connection from the client, held open until `close()`. */
export interface HeldConnection {
  /** The client's source address and port. */
  src: string;
  sport: number;
  /** Sends a line and resolves with the answer (the server's label). */
  send(line: string): Promise<string>;
  /**
   * Closes the connection (the FIN is sent; the close completes
   * asynchronously). `reset`: with a RST instead (SO_LINGER 0), which puts
   * IPVS's entry in CLOSE state, expiring in about 10 s.
   */
  close(options?: { reset?: boolean }): Promise<void>;
}

export interface Topology {
  director: Lab;
  client: Host;
  /** The client's addresses: `v4[0]`, `v6[0]` are the defaults. */
  clientV4: string[];
  clientV6: string[];
  servers: RealServer[];
  /**
   * Requests one after another, each from a fresh source port (a new IPVS
   * connection). Resolves with the answers, `null` for an unanswered one.
   */
  request(options: RequestOptions): Promise<(string | null)[]>;
  hold(options: { dst: string; port: number; src?: string }): Promise<HeldConnection>;
  close(): Promise<void>;
}

export interface TopologyOptions {
  /** Number of real servers (1..9). */
  servers: number;
  /** TCP and UDP ports every server answers on, at its own address and at the VIPs. */
  ports: number[];
  /** Seconds after which every server process exits by itself. Default 240. */
  deadline?: number;
}

function host(name: string): Host {
  return {
    name,
    exec(command, ...args) {
      return execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8' });
    },
  };
}

/** Runs `ip` commands in one namespace (or the current one) in one process. */
function ipBatch(ns: string | undefined, lines: string[]): void {
  execFileSync('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
}

function sysctl(ns: string, settings: Record<string, string | number>): void {
  execFileSync('ip', [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-q',
    '-w',
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
  ]);
}

/** Resolves with the first line of a child's stdout, or rejects when it exits first or times out. */
function firstLine(child: ChildProcess, what: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${what}: no output after ${timeoutMs} ms ${stderr}`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

export async function createTopology(options: TopologyOptions): Promise<Topology> {
  const director = await createLab();
  const d = director.name;
  const c = `${d}-c`;
  const names = Array.from({ length: options.servers }, (_, i) => `${d}-rs${i + 1}`);
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  let nextPort = 20000;

  const close = async () => {
    for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    for (const ns of created) execFileSync('ip', ['netns', 'del', ns]);
    await director.close();
  };

  try {
    // Tunnel endpoints on the servers: the fallback devices tunl0 and ip6tnl0
    // exist in every namespace once these modules are loaded.
    execFileSync('modprobe', ['-a', 'ipip', 'ip6_tunnel']);
    for (const ns of [c, ...names]) {
      execFileSync('ip', ['netns', 'add', ns]);
      created.push(ns);
      // Replies reach the client on another link than its requests left by,
      // and tunnelled requests reach the servers on tunl0: no reverse-path filter.
      sysctl(ns, { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });
    }
    sysctl(d, { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 });

    const clientV4 = ['203.0.113.2', '203.0.113.3', '203.0.113.4'];
    const clientV6 = ['2001:db8:c::2', '2001:db8:c::3', '2001:db8:c::4'];
    ipBatch(undefined, [
      `link add cli0 netns ${d} type veth peer name eth0 netns ${c}`,
      ...names.flatMap((ns, i) => [
        `link add rs${i + 1} netns ${d} type veth peer name eth0 netns ${ns}`,
        `link add ret${i + 1} netns ${c} type veth peer name ret netns ${ns}`,
      ]),
    ]);
    ipBatch(d, [
      `addr add ${VIP4}/32 dev lo`,
      `addr add ${MARK_VIP4}/32 dev lo`,
      `addr add ${VIP6}/128 dev lo`,
      `addr add ${MARK_VIP6}/128 dev lo`,
      'addr add 203.0.113.1/26 dev cli0',
      'addr add 2001:db8:c::1/64 dev cli0 nodad',
      'link set cli0 up',
      'link add rs0 type bridge',
      'addr add 198.51.100.1/24 dev rs0',
      'addr add 2001:db8:b::1/64 dev rs0 nodad',
      'link set rs0 up',
      ...names.flatMap((_, i) => [`link set rs${i + 1} master rs0`, `link set rs${i + 1} up`]),
    ]);
    ipBatch(c, [
      'link set lo up',
      ...clientV4.map((a) => `addr add ${a}/26 dev eth0`),
      ...clientV6.map((a) => `addr add ${a}/64 dev eth0 nodad`),
      'link set eth0 up',
      'route add default via 203.0.113.1',
      'route add ::/0 via 2001:db8:c::1',
      'link add ret0 type bridge',
      'addr add 203.0.113.65/26 dev ret0',
      'addr add 2001:db8:d::1/64 dev ret0 nodad',
      'link set ret0 up',
      ...names.flatMap((_, i) => [`link set ret${i + 1} master ret0`, `link set ret${i + 1} up`]),
    ]);
    const servers: RealServer[] = names.map((ns, i) => ({
      ...host(ns),
      label: `rs${i + 1}`,
      v4: `198.51.100.1${i + 1}`,
      v6: `2001:db8:b::1${i + 1}`,
    }));
    for (const [i, s] of servers.entries()) {
      ipBatch(s.name, [
        'link set lo up',
        ...[VIP4, MARK_VIP4].map((a) => `addr add ${a}/32 dev lo`),
        ...[VIP6, MARK_VIP6].map((a) => `addr add ${a}/128 dev lo`),
        `addr add ${s.v4}/24 dev eth0`,
        `addr add ${s.v6}/64 dev eth0 nodad`,
        'link set eth0 up',
        'route add default via 198.51.100.1',
        'route add ::/0 via 2001:db8:b::1',
        `addr add 203.0.113.${66 + i}/26 dev ret`,
        `addr add 2001:db8:d::1${i + 1}/64 dev ret nodad`,
        'link set ret up',
        // Answers from a VIP go straight back to the client, not through the director.
        'rule add from 192.0.2.0/24 lookup 100',
        'route add default via 203.0.113.65 table 100',
        'route add ::/0 via 2001:db8:d::1 table 100',
        'link set tunl0 up',
        'link set ip6tnl0 up',
      ]);
      execFileSync('ip', ['-n', s.name, '-6', 'rule', 'add', 'from', '2001:db8:a::/64', 'lookup', '100']);
      sysctl(s.name, { 'net.ipv4.conf.tunl0.rp_filter': 0 });
    }

    // The servers answer at their own addresses (NAT) and at the VIPs (DR, tunnels).
    await Promise.all(
      servers.map((s) => {
        const binds = [s.v4, s.v6, VIP4, VIP6, MARK_VIP4, MARK_VIP6].flatMap((a) => ['--bind', a]);
        const ports = options.ports.flatMap((p) => ['--port', String(p)]);
        const child = spawn(
          'ip',
          [
            'netns',
            'exec',
            s.name,
            PYTHON,
            '-S',
            SERVERS,
            'serve',
            '--name',
            s.label,
            ...binds,
            ...ports,
            '--deadline',
            String(options.deadline ?? 240),
          ],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        children.add(child);
        return firstLine(child, `server ${s.label}`).then((line) => {
          if (line !== 'ready') throw new Error(`server ${s.label} said ${line}`);
        });
      }),
    );

    // One client agent for the whole topology: a Python start costs seconds under emulation.
    const agent = spawn(
      'ip',
      ['netns', 'exec', c, PYTHON, '-S', SERVERS, 'client', '--deadline', String(options.deadline ?? 240)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    children.add(agent);
    let agentErr = '';
    agent.stderr!.on('data', (d: Buffer) => (agentErr += d.toString()));
    const replies: ((line: string | null) => void)[] = [];
    createInterface({ input: agent.stdout! }).on('line', (line) => replies.shift()?.(line));
    agent.once('exit', () => replies.splice(0).forEach((r) => r(null)));
    let queue: Promise<unknown> = Promise.resolve();
    /** Sends one command to the agent after the ones before it, and resolves with its reply. */
    const ask = <T>(cmd: object, timeoutMs = 90_000): Promise<T> => {
      const result = queue.then(
        () =>
          new Promise<T>((resolve, reject) => {
            const timer = setTimeout(
              () =>
                reject(new Error(`client agent: no reply to ${JSON.stringify(cmd)} in ${timeoutMs} ms ${agentErr}`)),
              timeoutMs,
            );
            replies.push((line) => {
              clearTimeout(timer);
              if (line === null) return reject(new Error(`client agent exited: ${agentErr}`));
              const reply = JSON.parse(line) as T & { error?: string };
              if (reply.error) reject(new Error(`client agent: ${reply.error} ${agentErr}`));
              else resolve(reply);
            });
            agent.stdin!.write(`${JSON.stringify(cmd)}\n`);
          }),
      );
      queue = result.catch(() => undefined);
      return result;
    };

    const clientSrc = (dst: string, src?: string) => src ?? (dst.includes(':') ? clientV6[0]! : clientV4[0]!);
    let held = 0;

    return {
      director,
      client: host(c),
      clientV4,
      clientV6,
      servers,
      async request({ proto, dst, port, count, src, payload }) {
        const sport = nextPort;
        nextPort += count;
        const cmd = {
          op: 'request',
          proto,
          dst,
          port,
          count,
          sport,
          src: clientSrc(dst, src),
          payload: payload ?? 'hello',
          timeout: 60,
        };
        return (await ask<{ answers: (string | null)[] }>(cmd)).answers;
      },
      async hold({ dst, port, src }) {
        const id = held++;
        const sport = nextPort++;
        const from = clientSrc(dst, src);
        await ask({ op: 'hold', id, dst, port, sport, src: from });
        let open = true;
        return {
          src: from,
          sport,
          async send(line) {
            const { answer } = await ask<{ answer: string | null }>({ op: 'send', id, line }, 20_000);
            if (answer === null) throw new Error('the held connection was closed by the server');
            return answer;
          },
          async close(options) {
            if (!open) return;
            open = false;
            await ask({ op: 'close', id, reset: options?.reset === true });
          },
        };
      },
      close,
    };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

/** Waits for the IPVS rate estimator to fold the per-CPU counters in (every 2 s). */
export function settle(ms = 2600): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `seconds` pass; resolves with its last verdict. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  seconds: number,
  stepMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/**
 * Joins two namespaces by a veth pair, `sync0` on both sides (192.0.2.1/28
 * and 192.0.2.2/28): the link a master and a backup sync daemon multicast over.
 */
export function syncLink(master: Host, backup: Host): void {
  execFileSync('ip', [
    'link',
    'add',
    'sync0',
    'netns',
    master.name,
    'type',
    'veth',
    'peer',
    'name',
    'sync0',
    'netns',
    backup.name,
  ]);
  for (const [host, address] of [
    [master, '192.0.2.1/28'],
    [backup, '192.0.2.2/28'],
  ] as const) {
    host.exec('ip', 'addr', 'add', address, 'dev', 'sync0');
    host.exec('ip', 'link', 'set', 'sync0', 'up');
  }
}

/**
 * Marks the packets to `vip` that arrive on `device` with `mark`: tc's
 * skbedit at ingress sets skb->mark before IPVS looks for a fwmark service
 * (the guest has neither nft nor iptables). `mark` is also the filter's preference.
 */
export function markAtIngress(host: Host, device: string, family: 'inet' | 'inet6', vip: string, mark: number): void {
  host.exec('tc', 'qdisc', 'replace', 'dev', device, 'ingress');
  const protocol = family === 'inet' ? 'ip' : 'ipv6';
  const pref = String(mark);
  host.exec(
    'tc',
    'filter',
    'add',
    'dev',
    device,
    'ingress',
    'protocol',
    protocol,
    'pref',
    pref,
    'flower',
    'dst_ip',
    vip,
    'action',
    'skbedit',
    'mark',
    String(mark),
  );
}
