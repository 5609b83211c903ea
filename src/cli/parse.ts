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
import { atoi, inetPton4, inetPton6, parseHostPort, parseNetmask, toNumber, truncateBytes } from './syntax.js';
import type { Entry, Parsed } from './types.js';
import { emptyService } from '../snapshot.js';
import { MAX_TIMEOUT } from '../vocabulary/limits.js';
import { SCHEDULER_FLAG_BITS } from '../vocabulary/scheduler-flags.js';

const INT_MAX = 0x7fffffff;
const DEFAULT_SCHEDULER = 'wlc';
const DEFAULT_MCAST_IFN = 'eth0';

// --- the options ---------------------------------------------------------------

/** A command line being read: its entry, and what can be checked only after every option. */
interface Draft {
  readonly e: Entry;
  /** -b's words: which are valid depends on the scheduler, known at the end. */
  schedFlags?: string;
}

/**
 * What one option does once popt has read it: the tracked option it counts as
 * (given twice: `multiple '…' options specified`), then `apply`, which checks
 * its argument and sets what it means. `arg` is the argument ('' when none);
 * `given` says whether there was one (only -p's is optional).
 */
interface Handler {
  readonly counts?: Option;
  readonly apply?: (d: Draft, arg: string, given: boolean) => void | Promise<void>;
}

/** The options a command line may give after its command (our own extensions are read apart). */
type OptionKey = Exclude<Key, Command | 'help' | 'version' | 'json' | 'netns' | 'atomic' | 'comments'>;

/** A flag that only counts: the list modes, which the listings read from `Entry.options`. */
const flag = (option: Option): Handler => ({ counts: option });

/** An integer option in `min..max`, or `illegal <what> specified`. */
function number(text: string, min: number, max: number, what: string): number {
  const v = toNumber(text, min, max);
  if (v === undefined) throw fail(`illegal ${what} specified`);
  return v;
}

const HANDLERS: Record<OptionKey, Handler> = {
  'tcp-service': { counts: 'service-address', apply: (d, arg) => virtualService(d, K.IPPROTO_TCP, arg) },
  'udp-service': { counts: 'service-address', apply: (d, arg) => virtualService(d, K.IPPROTO_UDP, arg) },
  'sctp-service': { counts: 'service-address', apply: (d, arg) => virtualService(d, K.IPPROTO_SCTP, arg) },
  'fwmark-service': {
    counts: 'service-address',
    apply: ({ e }, arg) => {
      const mark = toNumber(arg, 1, 0xffffffff);
      if (mark === undefined) throw fail(`invalid fwmark value \`${arg}' specified`);
      e.service.fwmark = mark;
      e.service.af = K.AF_INET;
      e.service.protocol = K.IPPROTO_TCP;
    },
  },
  scheduler: {
    counts: 'scheduler',
    apply: ({ e }, arg) => void (e.service.scheduler = truncateBytes(arg, K.IP_VS_SCHEDNAME_MAXLEN - 1)),
  },
  persistent: {
    counts: 'persistent',
    apply: ({ e }, arg, given) => {
      e.service.flags |= K.IP_VS_SVC_F_PERSISTENT;
      e.service.timeout = given ? parseTimeout(arg, 1) : 360;
    },
  },
  netmask: {
    counts: 'netmask',
    apply: async ({ e }, arg) => {
      if (e.service.af !== K.AF_INET6) {
        const mask = await parseNetmask(arg);
        if (mask === undefined) throw fail('illegal virtual server persistent mask specified');
        e.service.netmask = mask;
      } else {
        const bits = atoi(arg);
        if (bits < 1 || bits > 128) throw fail('illegal ipv6 netmask specified');
        e.service.netmask = bits;
      }
    },
  },
  pe: { counts: 'pe', apply: ({ e }, arg) => void (e.service.pe = truncateBytes(arg, K.IP_VS_PENAME_MAXLEN)) },
  'sched-flags': { counts: 'sched-flags', apply: (d, arg) => void (d.schedFlags = arg) },
  ops: { counts: 'ops', apply: ({ e }) => void (e.service.flags |= K.IP_VS_SVC_F_ONEPACKET) },
  ipv6: {
    // Not tracked: -6 may be given more than once.
    apply: ({ e }) => {
      if (e.service.fwmark === 0) throw fail('-6 used before -f\n');
      e.service.af = K.AF_INET6;
      e.service.netmask = 128;
    },
  },
  'real-server': {
    counts: 'real-server',
    apply: async ({ e }, arg) => {
      const hp = await parseHostPort(arg, e.service.addr, e.service.protocol);
      if (!hp) throw fail('illegal real server address[:port] specified');
      e.dest.af = hp.af;
      e.dest.addr = hp.addr;
      e.dest.port = hp.port ?? e.service.port;
    },
  },
  masquerading: { counts: 'forwarding-method', apply: ({ e }) => void (e.dest.fwdMethod = K.IP_VS_CONN_F_MASQ) },
  ipip: { counts: 'forwarding-method', apply: ({ e }) => void (e.dest.fwdMethod = K.IP_VS_CONN_F_TUNNEL) },
  gatewaying: { counts: 'forwarding-method', apply: ({ e }) => void (e.dest.fwdMethod = K.IP_VS_CONN_F_DROUTE) },
  weight: { counts: 'weight', apply: ({ e }, arg) => void (e.dest.weight = number(arg, 0, INT_MAX, 'weight')) },
  'u-threshold': {
    counts: 'u-threshold',
    apply: ({ e }, arg) => void (e.dest.uThreshold = number(arg, 0, INT_MAX, 'u_threshold')),
  },
  'l-threshold': {
    counts: 'l-threshold',
    apply: ({ e }, arg) => void (e.dest.lThreshold = number(arg, 0, INT_MAX, 'l_threshold')),
  },
  'tun-type': {
    counts: 'tun-type',
    apply: ({ e }, arg) => {
      if (arg === 'ipip') e.dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
      else if (arg === 'gue') e.dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_GUE;
      else if (arg === 'gre') e.dest.tunType = K.IP_VS_CONN_F_TUNNEL_TYPE_GRE;
      else throw fail('illegal tunnel type specified');
    },
  },
  'tun-port': {
    counts: 'tun-port',
    apply: ({ e }, arg) => void (e.dest.tunPort = number(arg, 1, 65535, 'tunnel port')),
  },
  'tun-nocsum': { counts: 'tun-nocsum', apply: ({ e }) => void (e.dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM) },
  'tun-csum': { counts: 'tun-csum', apply: ({ e }) => void (e.dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM) },
  'tun-remcsum': {
    counts: 'tun-remcsum',
    apply: ({ e }) => void (e.dest.tunFlags = K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM),
  },
  'mcast-interface': {
    counts: 'mcast-interface',
    apply: ({ e }, arg) => void (e.daemon.ifname = truncateBytes(arg, K.IP_VS_IFNAME_MAXLEN - 1)),
  },
  syncid: { counts: 'syncid', apply: ({ e }, arg) => void (e.daemon.syncId = number(arg, 0, 255, 'syncid')) },
  'mcast-group': {
    counts: 'mcast-group',
    apply: ({ e }, arg) => {
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
    },
  },
  'mcast-port': {
    counts: 'mcast-port',
    apply: ({ e }, arg) => void (e.daemon.port = number(arg, 1, 65535, 'mcast-port')),
  },
  'mcast-ttl': { counts: 'mcast-ttl', apply: ({ e }, arg) => void (e.daemon.ttl = number(arg, 1, 255, 'mcast-ttl')) },
  'sync-maxlen': {
    counts: 'sync-maxlen',
    apply: ({ e }, arg) => void (e.daemon.maxLen = number(arg, 1, 65507, 'sync-maxlen')),
  },
  numeric: flag('numeric'),
  connection: flag('connection'),
  timeout: flag('timeout'),
  daemon: flag('daemon'),
  stats: flag('stats'),
  rate: flag('rate'),
  thresholds: flag('thresholds'),
  'persistent-conn': flag('persistent-conn'),
  nosort: flag('nosort'),
  exact: flag('exact'),
  'tun-info': flag('tun-info'),
  // Accepted and ignored, as ipvsadm does (sorting is the default).
  sort: {},
};

/** -t, -u, --sctp-service: the virtual service's protocol, address and port. */
async function virtualService({ e }: Draft, protocol: number, arg: string): Promise<void> {
  const svc = e.service;
  svc.protocol = protocol;
  const hp = await parseHostPort(arg, svc.addr, svc.protocol);
  if (!hp) throw fail('illegal virtual server address[:port] specified');
  svc.af = hp.af;
  svc.addr = hp.addr;
  if (hp.port !== undefined) svc.port = hp.port;
  if (hp.af === K.AF_INET6) svc.netmask = 128;
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

// --- the command's own rules ---------------------------------------------------

/** -A, -E: a port unless persistent or a fwmark; -o only for UDP; the default scheduler. */
function finishService({ service: svc }: Entry): void {
  if (svc.fwmark === 0 && svc.port === 0 && !(svc.flags & K.IP_VS_SVC_F_PERSISTENT)) {
    throw fail('Zero port specified for non-persistent service');
  }
  if (svc.flags & K.IP_VS_SVC_F_ONEPACKET && svc.fwmark === 0 && svc.protocol !== K.IPPROTO_UDP) {
    throw fail('One-Packet Scheduling is only for UDP virtual services');
  }
  if (svc.scheduler === '') svc.scheduler = DEFAULT_SCHEDULER;
}

/** -a, -e: the service's port for DR and tunnels, the family rule, the tunnel options. */
function finishServer(e: Entry): void {
  const { service: svc, dest } = e;
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

/** -L: the connection, timeout and daemon modes take no table columns. */
function finishList({ options: o }: Entry): void {
  const special = o.has('connection') || o.has('timeout') || o.has('daemon');
  const columns = o.has('stats') || o.has('rate') || o.has('thresholds');
  if ((special && columns) || ((o.has('timeout') || o.has('daemon')) && o.has('persistent-conn'))) {
    throw fail('options conflicts in the list command');
  }
}

/** --start-daemon: the default multicast interface. */
function finishDaemon({ daemon }: Entry): void {
  if (daemon.ifname === '') daemon.ifname = DEFAULT_MCAST_IFN;
}

/** Per command, what ipvsadm checks and fills in after the command/option table. */
const FINISH: Partial<Record<Command, (e: Entry) => void>> = {
  'add-service': finishService,
  'edit-service': finishService,
  'start-daemon': finishDaemon,
  'add-server': finishServer,
  'edit-server': finishServer,
  list: finishList,
};

// --- the command line ----------------------------------------------------------

function newEntry(command: Command): Entry {
  // ipvsadm's defaults: IPv4, a full netmask (no spread: -R parses a line per entry).
  const service = emptyService();
  service.af = K.AF_INET;
  service.netmask = 0xffffffff;
  return {
    command,
    options: new Set(),
    service,
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

/** The state ipvsadm's --start-daemon/--stop-daemon argument names. */
function daemonState(command: 'start-daemon' | 'stop-daemon', arg: string | undefined): number {
  if (arg === 'master') return K.IP_VS_STATE_MASTER;
  if (arg === 'backup') return K.IP_VS_STATE_BACKUP;
  // ipvsadm words the two differently.
  if (command === 'start-daemon') throw fail('illegal start-daemon parameter specified');
  throw fail('illegal start_daemon specified');
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

  // The command: the first option that is not one of ours.
  let first = popt.next();
  while (first.kind === 'option' && EXTENSIONS.has(first.def.key as Key)) {
    extension(first);
    first = popt.next();
  }
  if (first.kind !== 'option') throw tryHelp(argv0);
  const command = first.def.key as Key;
  if (command === 'help') return { kind: 'help' };
  if (command === 'version') return { kind: 'version' };
  if (!isCommand(command)) throw tryHelp(argv0);
  const e = newEntry(command);
  if (command === 'start-daemon' || command === 'stop-daemon') e.daemon.state = daemonState(command, first.arg);

  // Each option as it comes.
  const draft: Draft = { e };
  for (;;) {
    const ev = popt.next();
    if (ev.kind === 'end') break;
    if (ev.kind === 'error') throw new Failure(255, `${ev.word}: ${ev.error}\n`, false);
    const key = ev.def.key as Key;
    if (EXTENSIONS.has(key)) {
      extension(ev);
      continue;
    }
    if (isCommand(key) || key === 'help' || key === 'version') throw fail(`invalid option \`${popt.lastWord}'`);
    const handler = HANDLERS[key as OptionKey];
    if (handler.counts !== undefined) {
      if (e.options.has(handler.counts)) throw fail(`multiple '${handler.counts}' options specified`);
      e.options.add(handler.counts);
    }
    await handler.apply?.(draft, ev.arg ?? '', ev.arg !== undefined);
  }

  // Then what needs every option.
  if (e.command === 'set') {
    const tcp = popt.nextArg();
    const fin = tcp === undefined ? undefined : popt.nextArg();
    const udp = fin === undefined ? undefined : popt.nextArg();
    if (udp === undefined) throw fail('--set option requires 3 timeout values');
    e.timeouts = { tcp: parseTimeout(tcp!, 0), tcpFin: parseTimeout(fin!, 0), udp: parseTimeout(udp, 0) };
  }
  const extra = popt.nextArg();
  if (extra !== undefined) throw fail(`unexpected argument ${extra}`);

  if (draft.schedFlags !== undefined) {
    const svc = e.service;
    const bits = parseSchedFlags(svc.scheduler === '' ? DEFAULT_SCHEDULER : svc.scheduler, draft.schedFlags);
    svc.flags = (svc.flags & ~SCHEDULER_FLAG_BITS) | bits;
  }

  const problem = checkCompatibility(e.command, e.options);
  if (problem) throw fail(problem);
  FINISH[e.command]?.(e);

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
