// ipvsadm's command line, parsed and checked in ipvsadm's order: each option
// as it comes (range and syntax), popt's own errors, `--set`'s three values,
// leftover words, the scheduler flags, the command/option table, then the
// per-command rules. The result carries the raw structs exactly as ipvsadm
// would send them; nothing here talks to the kernel.
import { K } from '../constants.js';
import { fail, Failure, tryHelp } from './failure.js';
import {
  checkCompatibility,
  checkTunnel,
  EXTENSIONS,
  isCommand,
  TABLE,
  type Command,
  type Key,
  type Option,
} from './options.js';
import { Popt, type PoptEvent } from './popt.js';
import { atoi, inetAton, inetPton4, inetPton6, toNumber, truncateBytes } from './syntax.js';
import type { Entry, Parsed } from './types.js';

/** Seconds: IP_VS's largest timeout that ipvsadm accepts (31 days). */
const MAX_TIMEOUT = 31 * 24 * 3600;
const INT_MAX = 0x7fffffff;
const DEFAULT_SCHEDULER = 'wlc';
const DEFAULT_MCAST_IFN = 'eth0';
const SCHED_FLAGS = K.IP_VS_SVC_F_SCHED1 | K.IP_VS_SVC_F_SCHED2 | K.IP_VS_SVC_F_SCHED3;

interface HostPort {
  af: number;
  addr: Uint8Array;
  port: number | undefined;
}

/**
 * ipvsadm's `host[:port]`, `[v6]:port` or bare IPv6, on top of `base` (the
 * 16 bytes an IPv4 address only partly overwrites). Ports by number or by
 * the service name of `protocol`. Undefined when it does not parse.
 */
export async function parseHostPort(text: string, base: Uint8Array, protocol: number): Promise<HostPort | undefined> {
  if (/^\d*$/.test(text)) return undefined;
  let host = text;
  let portText: string | undefined;
  if (host.startsWith('[')) {
    host = host.slice(1);
    const close = host.indexOf(']');
    if (close < 0 || host[close + 1] !== ':') return undefined;
    portText = host.slice(close + 2);
    host = host.slice(0, close);
  }
  const addr = base.slice();
  let af: number;
  const v6 = inetPton6(host);
  if (v6) {
    af = K.AF_INET6;
    addr.set(v6);
  } else {
    // ipvsadm looks for the port again inside the host part: `[1.2.3.4]:80` has none.
    const colon = host.lastIndexOf(':');
    portText = colon < 0 ? undefined : host.slice(colon + 1);
    if (colon >= 0) host = host.slice(0, colon);
    const v4 = inetAton(host) ?? (await (await import('./names.js')).hostToAddr(host));
    if (!v4) return undefined;
    af = K.AF_INET;
    addr.set(v4);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = toNumber(portText, 0, 65535) ?? (await import('./names.js')).serviceToPort(portText, protocol);
    if (port === undefined) return undefined;
  }
  return { af, addr, port };
}

/** `-M` for an IPv4 service: inet_aton, else a host name's address; as a host-order number. */
async function parseNetmask(text: string): Promise<number | undefined> {
  const b = inetAton(text) ?? (await (await import('./names.js')).hostToAddr(text));
  if (!b) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** `-b`: comma-separated flag words for the scheduler in effect. */
function parseSchedFlags(scheduler: string, list: string): number {
  let flags = 0;
  for (const word of list.split(',')) {
    if (word === '') continue;
    const owner = word.startsWith('sh-') ? 'sh' : word.startsWith('mh-') ? 'mh' : undefined;
    const bit =
      word === 'flag-1' || word === 'sh-fallback' || word === 'mh-fallback'
        ? K.IP_VS_SVC_F_SCHED1
        : word === 'flag-2' || word === 'sh-port' || word === 'mh-port'
          ? K.IP_VS_SVC_F_SCHED2
          : word === 'flag-3'
            ? K.IP_VS_SVC_F_SCHED3
            : undefined;
    if (bit === undefined) throw fail(`invalid scheduler flag \`${word}'`);
    if (owner !== undefined && owner !== scheduler) throw fail(`incompatible scheduler flag \`${word}'`);
    flags |= bit;
  }
  return flags;
}

function parseTimeout(text: string, min: number): number {
  const v = toNumber(text, min, MAX_TIMEOUT);
  if (v === undefined) throw fail(`invalid timeout value \`${text}' specified`);
  return v;
}

function newEntry(command: Command): Entry {
  return {
    command,
    options: new Set(),
    service: {
      af: K.AF_INET,
      protocol: 0,
      addr: new Uint8Array(16),
      port: 0,
      fwmark: 0,
      scheduler: '',
      pe: '',
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
    },
    dest: {
      af: K.AF_INET,
      addr: new Uint8Array(16),
      port: 0,
      fwdMethod: K.IP_VS_CONN_F_DROUTE,
      weight: 1,
      uThreshold: 0,
      lThreshold: 0,
      tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
      tunPort: 0,
      tunFlags: K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    },
    daemon: { state: 0, ifname: '', syncId: 0, maxLen: 0, groupAf: 0, group: new Uint8Array(16), port: 0, ttl: 0 },
    timeouts: { tcp: 0, tcpFin: 0, udp: 0 },
    json: false,
    atomic: false,
    comments: false,
    netns: undefined,
  };
}

/** `--netns NAME|PATH`: a bare name is one of `ip netns`'s. */
export function netnsPath(value: string): string {
  return value.includes('/') ? value : `/run/netns/${value}`;
}

/**
 * The namespace an argv asks for, read ahead of everything else (ipvsadm
 * opens IPVS before it parses, and so do we, in that namespace).
 */
export function peekNetns(argv: readonly string[]): string | undefined {
  const popt = new Popt(TABLE, argv);
  let netns: string | undefined;
  for (let ev = popt.next(); ev.kind === 'option'; ev = popt.next()) {
    if (ev.def.key === 'netns' && ev.arg !== undefined) netns = netnsPath(ev.arg);
  }
  return netns;
}

/** Whether the first option is -h or -v (which need no kernel). */
export function wantsHelp(argv: readonly string[]): boolean {
  const popt = new Popt(TABLE, argv);
  let ev = popt.next();
  while (ev.kind === 'option' && EXTENSIONS.has(ev.def.key as Key)) ev = popt.next();
  return ev.kind === 'option' && (ev.def.key === 'help' || ev.def.key === 'version');
}

/**
 * Parses one command line (argv[0] the program name) and runs every check
 * ipvsadm runs before talking to the kernel. Throws a Failure.
 * `inRestore`: a line of `-R` input, where --netns makes no sense.
 */
export async function parse(argv: readonly string[], inRestore = false): Promise<Parsed> {
  const argv0 = argv[0] ?? '';
  const popt = new Popt(TABLE, argv);
  const ext = new Set<Key>();
  let netns: string | undefined;
  const extension = (ev: Extract<PoptEvent, { kind: 'option' }>): void => {
    const key = ev.def.key as Key;
    if (ext.has(key)) throw fail(`multiple '${key}' options specified`);
    ext.add(key);
    if (key === 'netns') {
      if (inRestore) throw fail(`the 'netns' option is not allowed in restore input`);
      netns = netnsPath(ev.arg!);
    }
  };

  let first = popt.next();
  while (first.kind === 'option' && EXTENSIONS.has(first.def.key as Key)) {
    extension(first);
    first = popt.next();
  }
  if (first.kind !== 'option') throw tryHelp(argv0);
  const firstKey = first.def.key as Key;
  if (firstKey === 'help') return { kind: 'help' };
  if (firstKey === 'version') return { kind: 'version' };
  if (!isCommand(firstKey)) throw tryHelp(argv0);
  const e = newEntry(firstKey);
  if (firstKey === 'start-daemon' || firstKey === 'stop-daemon') {
    const state = first.arg === 'master' ? K.IP_VS_STATE_MASTER : first.arg === 'backup' ? K.IP_VS_STATE_BACKUP : 0;
    if (state === 0) {
      throw fail(firstKey === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
    }
    e.daemon.state = state;
  }

  const svc = e.service;
  const dest = e.dest;
  const set = (option: Option): void => {
    if (e.options.has(option)) throw fail(`multiple '${option}' options specified`);
    e.options.add(option);
  };
  const number = (text: string, min: number, max: number, what: string): number => {
    const v = toNumber(text, min, max);
    if (v === undefined) throw fail(`illegal ${what} specified`);
    return v;
  };
  let schedFlags: string | undefined;

  for (;;) {
    const ev = popt.next();
    if (ev.kind === 'end') break;
    if (ev.kind === 'error') throw new Failure(255, `${ev.word}: ${ev.error}\n`, false);
    const key = ev.def.key as Key;
    const arg = ev.arg ?? '';
    if (EXTENSIONS.has(key)) {
      extension(ev);
      continue;
    }
    if (isCommand(key) || key === 'help' || key === 'version') throw fail(`invalid option \`${popt.lastWord}'`);
    switch (key) {
      case 'tcp-service':
      case 'udp-service':
      case 'sctp-service': {
        set('service-address');
        svc.protocol = key === 'tcp-service' ? K.IPPROTO_TCP : key === 'udp-service' ? K.IPPROTO_UDP : K.IPPROTO_SCTP;
        const hp = await parseHostPort(arg, svc.addr, svc.protocol);
        if (!hp) throw fail('illegal virtual server address[:port] specified');
        svc.af = hp.af;
        svc.addr = hp.addr;
        if (hp.port !== undefined) svc.port = hp.port;
        if (hp.af === K.AF_INET6) svc.netmask = 128;
        break;
      }
      case 'fwmark-service': {
        set('service-address');
        const mark = toNumber(arg, 1, 0xffffffff);
        if (mark === undefined) throw fail(`invalid fwmark value \`${arg}' specified`);
        svc.fwmark = mark;
        svc.af = K.AF_INET;
        svc.protocol = K.IPPROTO_TCP;
        break;
      }
      case 'scheduler':
        set('scheduler');
        svc.scheduler = truncateBytes(arg, K.IP_VS_SCHEDNAME_MAXLEN - 1);
        break;
      case 'persistent':
        set('persistent');
        svc.flags |= K.IP_VS_SVC_F_PERSISTENT;
        svc.timeout = ev.arg === undefined ? 360 : parseTimeout(ev.arg, 1);
        break;
      case 'netmask':
        set('netmask');
        if (svc.af !== K.AF_INET6) {
          const mask = await parseNetmask(arg);
          if (mask === undefined) throw fail('illegal virtual server persistent mask specified');
          svc.netmask = mask;
        } else {
          const bits = atoi(arg);
          if (bits < 1 || bits > 128) throw fail('illegal ipv6 netmask specified');
          svc.netmask = bits;
        }
        break;
      case 'pe':
        set('pe');
        svc.pe = truncateBytes(arg, K.IP_VS_PENAME_MAXLEN);
        break;
      case 'sched-flags':
        set('sched-flags');
        schedFlags = arg;
        break;
      case 'ops':
        set('ops');
        svc.flags |= K.IP_VS_SVC_F_ONEPACKET;
        break;
      case 'real-server': {
        set('real-server');
        const hp = await parseHostPort(arg, svc.addr, svc.protocol);
        if (!hp) throw fail('illegal real server address[:port] specified');
        dest.af = hp.af;
        dest.addr = hp.addr;
        dest.port = hp.port ?? svc.port;
        break;
      }
      case 'masquerading':
      case 'ipip':
      case 'gatewaying':
        set('forwarding-method');
        dest.fwdMethod = key === 'masquerading' ? K.IP_VS_CONN_F_MASQ : key === 'ipip' ? K.IP_VS_CONN_F_TUNNEL : K.IP_VS_CONN_F_DROUTE;
        break;
      case 'weight':
        set('weight');
        dest.weight = number(arg, 0, INT_MAX, 'weight');
        break;
      case 'u-threshold':
        set('u-threshold');
        dest.uThreshold = number(arg, 0, INT_MAX, 'u_threshold');
        break;
      case 'l-threshold':
        set('l-threshold');
        dest.lThreshold = number(arg, 0, INT_MAX, 'l_threshold');
        break;
      case 'ipv6':
        if (svc.fwmark === 0) throw fail('-6 used before -f\n');
        svc.af = K.AF_INET6;
        svc.netmask = 128;
        break;
      case 'mcast-interface':
        set('mcast-interface');
        e.daemon.ifname = truncateBytes(arg, K.IP_VS_IFNAME_MAXLEN - 1);
        break;
      case 'syncid':
        set('syncid');
        e.daemon.syncId = number(arg, 0, 255, 'syncid');
        break;
      case 'mcast-group': {
        set('mcast-group');
        if (arg.includes(':')) {
          const g = inetPton6(arg);
          if (!g || g[0] !== 0xff) throw fail(`invalid IPv6 mcast-group \`${arg}'`);
          e.daemon.groupAf = K.AF_INET6;
          e.daemon.group = g;
        } else {
          const g = inetPton4(arg);
          if (!g || (g[0]! & 0xf0) !== 0xe0) throw fail(`invalid IPv4 mcast-group \`${arg}'`);
          e.daemon.groupAf = K.AF_INET;
          e.daemon.group = new Uint8Array(16);
          e.daemon.group.set(g);
        }
        break;
      }
      case 'mcast-port':
        set('mcast-port');
        e.daemon.port = number(arg, 1, 65535, 'mcast-port');
        break;
      case 'mcast-ttl':
        set('mcast-ttl');
        e.daemon.ttl = number(arg, 1, 255, 'mcast-ttl');
        break;
      case 'sync-maxlen':
        set('sync-maxlen');
        e.daemon.maxLen = number(arg, 1, 65507, 'sync-maxlen');
        break;
      case 'tun-type':
        set('tun-type');
        if (arg === 'ipip') dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
        else if (arg === 'gue') dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_GUE;
        else if (arg === 'gre') dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_GRE;
        else throw fail('illegal tunnel type specified');
        break;
      case 'tun-port':
        set('tun-port');
        dest.tunPort = number(arg, 1, 65535, 'tunnel port');
        break;
      case 'tun-nocsum':
        set('tun-nocsum');
        dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
        break;
      case 'tun-csum':
        set('tun-csum');
        dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
        break;
      case 'tun-remcsum':
        set('tun-remcsum');
        dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
        break;
      case 'sort':
        break;
      default:
        // numeric, connection, timeout, daemon, stats, rate, thresholds,
        // persistent-conn, nosort, exact, tun-info: flags for the listing.
        set(key as Option);
    }
  }

  if (e.command === 'set') {
    const tcp = popt.nextArg();
    const fin = tcp === undefined ? undefined : popt.nextArg();
    const udp = fin === undefined ? undefined : popt.nextArg();
    if (udp === undefined) throw fail('--set option requires 3 timeout values');
    e.timeouts = { tcp: parseTimeout(tcp!, 0), tcpFin: parseTimeout(fin!, 0), udp: parseTimeout(udp, 0) };
  }
  const extra = popt.nextArg();
  if (extra !== undefined) throw fail(`unexpected argument ${extra}`);

  if (schedFlags !== undefined) {
    const bits = parseSchedFlags(svc.scheduler === '' ? DEFAULT_SCHEDULER : svc.scheduler, schedFlags);
    svc.flags = (svc.flags & ~SCHED_FLAGS) | bits;
  }

  const problem = checkCompatibility(e.command, e.options);
  if (problem) throw fail(problem);

  if (e.command === 'add-service' || e.command === 'edit-service') {
    if (svc.fwmark === 0 && svc.port === 0 && !(svc.flags & K.IP_VS_SVC_F_PERSISTENT)) {
      throw fail('Zero port specified for non-persistent service');
    }
    if (svc.flags & K.IP_VS_SVC_F_ONEPACKET && svc.fwmark === 0 && svc.protocol !== K.IPPROTO_UDP) {
      throw fail('One-Packet Scheduling is only for UDP virtual services');
    }
    if (svc.scheduler === '') svc.scheduler = DEFAULT_SCHEDULER;
  }
  if (e.command === 'start-daemon' && e.daemon.ifname === '') e.daemon.ifname = DEFAULT_MCAST_IFN;
  if (e.command === 'add-server' || e.command === 'edit-server') {
    if ((dest.fwdMethod === K.IP_VS_CONN_F_DROUTE || dest.fwdMethod === K.IP_VS_CONN_F_TUNNEL) && svc.fwmark === 0) {
      dest.port = svc.port;
    }
    if (dest.af !== svc.af && dest.fwdMethod !== K.IP_VS_CONN_F_TUNNEL) {
      throw fail('Different address family is allowed only for tunneling servers');
    }
    const tunnelOptions: Option[] = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
    if (dest.fwdMethod !== K.IP_VS_CONN_F_TUNNEL && tunnelOptions.some((o) => e.options.has(o))) {
      throw fail('Tunnel options conflict with forward method');
    }
    const type = ['ipip', 'gue', 'gre'][dest.tunType]!;
    const tunnelProblem = checkTunnel(type, e.options);
    if (tunnelProblem) throw fail(tunnelProblem);
  }
  if (e.command === 'list') {
    const o = e.options;
    const special = o.has('connection') || o.has('timeout') || o.has('daemon');
    const columns = o.has('stats') || o.has('rate') || o.has('thresholds');
    if ((special && columns) || ((o.has('timeout') || o.has('daemon')) && o.has('persistent-conn'))) {
      throw fail('options conflicts in the list command');
    }
  }

  // Our own options, checked after everything ipvsadm checks.
  if (ext.has('json') && e.command !== 'list') throw fail(`Illegal 'json' option with the '${e.command}' command`);
  for (const key of ['atomic', 'comments'] as const) {
    if (ext.has(key) && e.command !== 'restore') throw fail(`Illegal '${key}' option with the '${e.command}' command`);
  }
  e.json = ext.has('json');
  e.atomic = ext.has('atomic');
  e.comments = ext.has('comments');
  e.netns = netns;
  return { kind: 'run', entry: e };
}
