// ipvsadm 1.31's commands and options: the popt table, the internal names its
// messages use, and which options each command requires, allows or refuses.
import type { OptionDef } from './popt.js';

/** Commands, in the order of ipvsadm's compatibility table (its message names). */
export const COMMANDS = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
] as const;
export type Command = (typeof COMMANDS)[number];

/** Tracked options, in the order the compatibility check walks them (their message names). */
export const OPTIONS = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
] as const;
export type Option = (typeof OPTIONS)[number];

/**
 * One row per option, one letter per command in COMMANDS order:
 * `+` required, `o` optional, `x` illegal, `1` at most one of the 1s.
 */
const COMPAT: Record<Option, string> = {
  numeric: 'xxxxoxxxxxxxox',
  connection: 'xxxx1xxxxxxxxx',
  'service-address': '+++x1+++xxxxxo',
  scheduler: 'ooxxxxxxxxxxxx',
  persistent: 'ooxxxxxxxxxxxx',
  netmask: 'ooxxxxxxxxxxxx',
  'real-server': 'xxxxx+++xxxxxx',
  'forwarding-method': 'xxxxxoxoxxxxxx',
  weight: 'xxxxxoxoxxxxxx',
  'u-threshold': 'xxxxxoxoxxxxxx',
  'l-threshold': 'xxxxxoxoxxxxxx',
  'mcast-interface': 'xxxxxxxxxoxxxx',
  timeout: 'xxxx1xxxxxxxxx',
  daemon: 'xxxx1xxxxxxxxx',
  stats: 'xxxxoxxxxxxxxx',
  rate: 'xxxxoxxxxxxxxx',
  thresholds: 'xxxxoxxxxxxxxx',
  'persistent-conn': 'xxxxoxxxxxxxxx',
  nosort: 'xxxxoxxxxxxxxx',
  syncid: 'xxxxoxxxxooxxx',
  exact: 'xxxxoxxxxxxxxx',
  ops: 'ooxxxxxxxxxxxx',
  pe: 'ooxxxxxxxxxxxx',
  'sched-flags': 'ooxxxxxxxxxxxx',
  'mcast-group': 'xxxxxxxxxoxxxx',
  'mcast-port': 'xxxxxxxxxoxxxx',
  'mcast-ttl': 'xxxxxxxxxoxxxx',
  'sync-maxlen': 'xxxxxxxxxoxxxx',
  'tun-info': 'xxxxoxxxxxxxxx',
  'tun-type': 'xxxxxoxoxxxxxx',
  'tun-port': 'xxxxxoxoxxxxxx',
  'tun-nocsum': 'xxxxxoxoxxxxxx',
  'tun-csum': 'xxxxxoxoxxxxxx',
  'tun-remcsum': 'xxxxxoxoxxxxxx',
};

/**
 * The first problem with these options for this command, in table order
 * (not command-line order), as ipvsadm words it; undefined when none.
 */
export function checkCompatibility(command: Command, given: ReadonlySet<Option>): string | undefined {
  const column = COMMANDS.indexOf(command);
  let earlier: Option | undefined;
  for (const option of OPTIONS) {
    const rule = COMPAT[option][column];
    if (!given.has(option)) {
      if (rule === '+') return `You need to supply the '${option}' option for the '${command}' command`;
      continue;
    }
    if (rule === 'x') return `Illegal '${option}' option with the '${command}' command`;
    if (rule === '1') {
      if (earlier === undefined) earlier = option;
      else return `The option '${option}' conflicts with the '${earlier}' option in the '${command}' command`;
    }
  }
  return undefined;
}

export type TunnelOption = 'tun-port' | 'tun-nocsum' | 'tun-csum' | 'tun-remcsum';
const TUNNEL_OPTIONS: readonly TunnelOption[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
/** Per tunnel type, the rule for each TUNNEL_OPTIONS entry (same letters as COMPAT). */
const TUNNEL_COMPAT: Record<string, string> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };

/** The same check for the tunnel options of a tunnel type. */
export function checkTunnel(type: string, given: ReadonlySet<Option>): string | undefined {
  let earlier: TunnelOption | undefined;
  for (const [i, option] of TUNNEL_OPTIONS.entries()) {
    const rule = TUNNEL_COMPAT[type]![i];
    if (!given.has(option)) {
      if (rule === '+') return `You need to supply the '${option}' option for the '${type}' tunnel type`;
      continue;
    }
    if (rule === 'x') return `Illegal '${option}' option with the '${type}' tunnel type`;
    if (rule === '1') {
      if (earlier === undefined) earlier = option;
      else return `The option '${option}' conflicts with the '${earlier}' option in the '${type}' tunnel type`;
    }
  }
  return undefined;
}

/** popt keys: a command, a tracked option, or one of the untracked/extension ones. */
export type Key =
  | Command
  | 'help'
  | 'version'
  | 'tcp-service'
  | 'udp-service'
  | 'sctp-service'
  | 'fwmark-service'
  | 'ipv6'
  | 'sort'
  | 'gatewaying'
  | 'ipip'
  | 'masquerading'
  | Exclude<Option, 'service-address' | 'forwarding-method'>
  // Beyond ipvsadm:
  | 'json'
  | 'netns'
  | 'atomic'
  | 'comments';

interface Def extends OptionDef {
  readonly key: Key;
}

const def = (key: Key, long: string | undefined, short: string | undefined, arg: Def['arg'] = 'none'): Def => ({
  key,
  ...(long === undefined ? {} : { long }),
  ...(short === undefined ? {} : { short }),
  arg,
});

/** The popt table of ipvsadm 1.31, and our own long options at the end. */
export const TABLE: readonly Def[] = [
  def('add-service', 'add-service', 'A'),
  def('edit-service', 'edit-service', 'E'),
  def('delete-service', 'delete-service', 'D'),
  def('flush', 'clear', 'C'),
  def('list', 'list', 'L'),
  def('list', undefined, 'l'),
  def('zero', 'zero', 'Z'),
  def('add-server', 'add-server', 'a'),
  def('edit-server', 'edit-server', 'e'),
  def('delete-server', 'delete-server', 'd'),
  def('set', 'set', undefined),
  def('restore', 'restore', 'R'),
  def('save', 'save', 'S'),
  def('start-daemon', 'start-daemon', undefined, 'required'),
  def('stop-daemon', 'stop-daemon', undefined, 'required'),
  def('help', 'help', 'h'),
  def('version', 'version', 'v'),
  def('tcp-service', 'tcp-service', 't', 'required'),
  def('udp-service', 'udp-service', 'u', 'required'),
  def('sctp-service', 'sctp-service', undefined, 'required'),
  def('fwmark-service', 'fwmark-service', 'f', 'required'),
  def('scheduler', 'scheduler', 's', 'required'),
  def('persistent', 'persistent', 'p', 'optional'),
  def('netmask', 'netmask', 'M', 'required'),
  def('real-server', 'real-server', 'r', 'required'),
  def('masquerading', 'masquerading', 'm'),
  def('ipip', 'ipip', 'i'),
  def('gatewaying', 'gatewaying', 'g'),
  def('weight', 'weight', 'w', 'required'),
  def('u-threshold', 'u-threshold', 'x', 'required'),
  def('l-threshold', 'l-threshold', 'y', 'required'),
  def('numeric', 'numeric', 'n'),
  def('connection', 'connection', 'c'),
  def('mcast-interface', 'mcast-interface', undefined, 'required'),
  def('mcast-group', 'mcast-group', undefined, 'required'),
  def('mcast-port', 'mcast-port', undefined, 'required'),
  def('mcast-ttl', 'mcast-ttl', undefined, 'required'),
  def('sync-maxlen', 'sync-maxlen', undefined, 'required'),
  def('syncid', 'syncid', undefined, 'required'),
  def('timeout', 'timeout', undefined),
  def('daemon', 'daemon', undefined),
  def('stats', 'stats', undefined),
  def('rate', 'rate', undefined),
  def('thresholds', 'thresholds', undefined),
  def('persistent-conn', 'persistent-conn', undefined),
  def('nosort', 'nosort', undefined),
  def('sort', 'sort', undefined),
  def('exact', 'exact', 'X'),
  def('ipv6', 'ipv6', '6'),
  def('ops', 'ops', 'o'),
  def('pe', 'pe', undefined, 'required'),
  def('sched-flags', 'sched-flags', 'b', 'required'),
  def('tun-info', 'tun-info', undefined),
  def('tun-type', 'tun-type', undefined, 'required'),
  def('tun-port', 'tun-port', undefined, 'required'),
  def('tun-nocsum', 'tun-nocsum', undefined),
  def('tun-csum', 'tun-csum', undefined),
  def('tun-remcsum', 'tun-remcsum', undefined),
  def('json', 'json', undefined),
  def('netns', 'netns', undefined, 'required'),
  def('atomic', 'atomic', undefined),
  def('comments', 'comments', undefined),
];

export const EXTENSIONS: ReadonlySet<Key> = new Set<Key>(['json', 'netns', 'atomic', 'comments']);

export function isCommand(key: Key): key is Command {
  return (COMMANDS as readonly string[]).includes(key);
}
