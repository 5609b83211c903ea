// ipvsadm 1.31's listings, byte for byte: the version line, the titles, one
// line per service and destination in each list mode, the save (-S) rules and
// scaled numbers. Services and destinations are read in place from a packed
// snapshot (table.ts, which also has ipvsadm's order).
import { formatAddress, familyOf } from '../address.js';
import { K } from '../constants.js';
import type { RawDaemon, RawInfo, RawTimeouts } from '../native.js';
import type { HostNames } from './names.js';
import type { Option } from './options.js';
import type { Table } from './table.js';
import { forwardingByValue } from '../vocabulary/forwarding.js';
import { dottedMask } from '../vocabulary/netmask.js';
import { protocolByNumber } from '../vocabulary/protocols.js';
import { SCHEDULER_FLAG_BITS, schedulerFlagNames } from '../vocabulary/scheduler-flags.js';
import { versionText } from '../vocabulary/version.js';

export interface ListFormat {
  numeric: boolean;
  exact: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  tunInfo: boolean;
}

export function listFormat(options: ReadonlySet<Option>): ListFormat {
  return {
    numeric: options.has('numeric'),
    exact: options.has('exact'),
    stats: options.has('stats'),
    rate: options.has('rate'),
    thresholds: options.has('thresholds'),
    persistentConn: options.has('persistent-conn'),
    tunInfo: options.has('tun-info'),
  };
}

/** The listing modes of the addon's numeric listings (native/listing.h). */
export const LISTING_MODE = {
  table: 0,
  stats: 1,
  rate: 2,
  thresholds: 3,
  persistentConn: 4,
  tunInfo: 5,
  save: 6,
  json: 7,
} as const;

/** The mode of a table listing: the first of these options given wins, as in title() and the lines. */
export function listingMode(f: ListFormat): number {
  if (f.stats) return LISTING_MODE.stats;
  if (f.rate) return LISTING_MODE.rate;
  if (f.thresholds) return LISTING_MODE.thresholds;
  if (f.persistentConn) return LISTING_MODE.persistentConn;
  if (f.tunInfo) return LISTING_MODE.tunInfo;
  return LISTING_MODE.table;
}

/** Names for addresses and ports, or numbers only (-n). */
export interface Namer {
  /** gethostbyaddr's answer, undefined when there is none or with -n. */
  host(af: number, addr: Uint8Array): string | undefined;
  /** getservbyport's answer for the protocol, undefined when none or with -n. */
  service(port: number, protocol: number): string | undefined;
}

export const NUMERIC: Namer = { host: () => undefined, service: () => undefined };

export function namer(hosts: HostNames, portToService: (port: number, protocol: number) => string | undefined): Namer {
  return { host: (af, addr) => hosts.host(familyOf(af), addr), service: portToService };
}

/** printf's %-Ns: left-justified, padded, never cut. */
export const pad = (s: string, n: number): string => s.padEnd(n);
const right = (s: string | number | bigint, n: number): string => String(s).padStart(n);

/** inet_ntop of the kernel's 16 bytes for `af`. */
export function ntop(af: number, addr: Uint8Array): string {
  return formatAddress(familyOf(af), addr);
}

/**
 * `host:port` (IPv6 in brackets), by name unless numeric, cut to 59
 * characters; the address is `bytes` from `at` (4 bytes for IPv4, 16 for IPv6).
 */
export function addrport(af: number, bytes: Uint8Array, port: number, protocol: number, names: Namer, at = 0): string {
  let host: string | undefined;
  let service: string | undefined;
  if (names !== NUMERIC) {
    host = names.host(af, bytes.subarray(at, at + (af === K.AF_INET6 ? 16 : 4)));
    service = names.service(port, protocol);
  }
  if (af === K.AF_INET6) {
    return `[${host ?? formatAddress('inet6', bytes.subarray(at, at + 16))}]:${service ?? port}`.slice(0, 59);
  }
  host ??= `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  return `${host}:${service ?? port}`.slice(0, 59);
}

/** An exact integer's quotient by `d`, rounded down (no floating-point rounding). */
const div = (v: number, d: number): number => (v - (v % d)) / d;

/** print_largenum: 9 columns, scaled to K/M/G/T unless exact. */
export function largenum(v: number | bigint, exact: boolean): string {
  if (typeof v === 'bigint') {
    if (v <= Number.MAX_SAFE_INTEGER) return largenum(Number(v), exact);
    if (exact) return ` ${v}`;
    return `${right(v / 1_000_000_000_000n, 8)}T`;
  }
  if (exact) {
    const s = String(v);
    return s.length <= 8 ? s.padStart(9) : ` ${s}`;
  }
  if (v < 100_000_000) return right(v, 9);
  if (v < 1_000_000_000) return `${right(div(v, 1000), 8)}K`;
  if (v < 100_000_000_000) return `${right(div(v, 1_000_000), 8)}M`;
  if (v < 100_000_000_000_000) return `${right(div(v, 1_000_000_000), 8)}G`;
  return `${right(div(v, 1_000_000_000_000), 8)}T`;
}

/** The kernel's IPVS version word as `major.minor.patch`. */
export const versionNumber = versionText;

export function versionLine(info: RawInfo): string {
  return `IP Virtual Server version ${versionNumber(info.version)} (size=${info.connTabSize})\n`;
}

export function title(f: ListFormat): string {
  const service = pad('Prot LocalAddress:Port', 33);
  const dest = '  -> RemoteAddress:Port\n';
  const rightAligned = (words: string[]): string => words.map((s) => right(s, 8)).join(' ');
  if (f.stats) return `${service} ${rightAligned(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'])}\n${dest}`;
  if (f.rate) return `${service} ${rightAligned(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'])}\n${dest}`;
  const conns = `${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`;
  if (f.thresholds) return `${service} ${pad('Uthreshold', 10)} ${pad('Lthreshold', 10)} ${conns}\n${dest}`;
  if (f.persistentConn) return `${service} ${pad('Weight', 9)} ${pad('PersistConn', 11)} ${conns}\n${dest}`;
  const table = 'Prot LocalAddress:Port Scheduler Flags\n';
  if (f.tunInfo) return `${table}  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n`;
  return `${table}  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
}

/** A service's protocol as ipvsadm lists it; `?` for one a service cannot have. */
function protocolName(protocol: number): string {
  const p = protocolByNumber(protocol);
  return p?.option !== undefined ? p.ipvsadm : '?';
}

/** `%d` of a u32: fwmarks of 2^31 and more print negative. */
const int32 = (n: number): number => n | 0;

/** The service as the table names it: `TCP  1.2.3.4:80`, `FWM  5 IPv6`. */
export function serviceName(t: Table, i: number, names: Namer): string {
  const af = t.service(i, 'af');
  const fwmark = t.service(i, 'fwmark');
  if (fwmark !== 0) return `FWM  ${int32(fwmark)}${af === K.AF_INET6 ? ' IPv6' : ''}`;
  const protocol = t.service(i, 'protocol');
  const where = addrport(af, t.p.serviceAddrs, t.service(i, 'port'), protocol, names, i * 16);
  const text = `${pad(protocolName(protocol), 4)} ${where}`;
  return af === K.AF_INET6 ? text : text.slice(0, 33);
}

function destName(t: Table, protocol: number, j: number, names: Namer): string {
  const af = t.dest(j, 'af');
  const text = addrport(af, t.p.destAddrs, t.dest(j, 'port'), protocol, names, j * 16);
  return af === K.AF_INET6 ? text : text.slice(0, 28);
}

/** The scheduler flag words shown for a flag word (SCHED3 is ignored for sh and mh). */
export function schedFlagWords(scheduler: string, flags: number): string {
  return schedulerFlagNames(scheduler, flags, { ipvsadm: true }).join(',');
}

/** glibc prints a NULL `%s` as `(null)`: what ipvsadm shows for an unknown method. */
export const fwdName = (fwd: number): string => forwardingByValue(fwd)?.ipvsadm ?? '(null)';

const CSUM_NAMES = ['-c', '+c', 'r+c'];

function tunnelInfo(t: Table, j: number): string {
  if ((t.dest(j, 'fwdMethod') & 7) !== K.IP_VS_CONN_F_TUNNEL) return 'n/a';
  const tunFlags = t.dest(j, 'tunFlags');
  const tunType = t.dest(j, 'tunType');
  const flag = CSUM_NAMES[tunFlags] ?? '(null)';
  if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP) return 'ipip';
  if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GUE) return `gue:${t.dest(j, 'tunPort')}:${flag}`;
  if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GRE) return `gre:${flag}`;
  return 'n/a';
}

// Counters by their index in COUNTER_COLUMNS.
const CONNS = 0;
const INBYTES = 3;
const OUTBYTES = 4;
const CPS = 5;
const INBPS = 8;

/**
 * Five counters of service `i` from `first`, scaled: a service's are the
 * kernel's 64-bit values.
 */
function serviceNumbers(t: Table, i: number, first: number, exact: boolean): string {
  let out = '';
  for (let k = first; k < first + 5; k++) out += largenum(t.counter(i, k), exact);
  return out;
}

/**
 * A destination's counter as ipvsadm 1.31 shows it: libipvs reads the 64-bit
 * counters other than bytes with a 32-bit getter, keeping the low half.
 */
function destCounter(t: Table, j: number, k: number): number | bigint {
  const entry = t.count + j;
  return k === INBYTES || k === OUTBYTES ? t.counter(entry, k) : t.low32(entry, k);
}

/** The service's own line in a table mode. */
function serviceLine(t: Table, i: number, f: ListFormat, names: Namer): string {
  const name = serviceName(t, i, names);
  if (f.stats) return `${pad(name, 33)}${serviceNumbers(t, i, CONNS, f.exact)}\n`;
  if (f.rate) return `${pad(name, 33)}${serviceNumbers(t, i, CPS, f.exact)}\n`;
  const scheduler = t.scheduler(i);
  const flags = t.service(i, 'flags');
  let out = `${name} ${scheduler}`;
  if (flags & SCHEDULER_FLAG_BITS) out += ` (${schedFlagWords(scheduler, flags)})`;
  if (flags & K.IP_VS_SVC_F_PERSISTENT) {
    out += ` persistent ${t.service(i, 'timeout')}`;
    const netmask = t.service(i, 'netmask');
    if (t.service(i, 'af') === K.AF_INET) {
      if (netmask !== 0xffffffff) out += ` mask ${dottedMask(netmask)}`;
    } else if (netmask !== 128) {
      out += ` mask ${netmask | 0}`;
    }
    const engine = t.engine(i);
    if (engine !== '') out += ` pe ${engine}`;
  }
  if (flags & K.IP_VS_SVC_F_ONEPACKET) out += ' ops';
  return `${out}\n`;
}

/** Destination `j`'s line in a table mode, under a service of `protocol`. */
function destLine(t: Table, protocol: number, j: number, f: ListFormat, names: Namer): string {
  const dn = pad(destName(t, protocol, j, names), 28);
  if (f.stats) {
    let numbers = '';
    for (let k = CONNS; k < CONNS + 5; k++) numbers += largenum(destCounter(t, j, k), f.exact);
    return `  -> ${dn}${numbers}\n`;
  }
  if (f.rate) {
    const e = t.count + j;
    const packets = `${right(t.low32(e, CPS), 8)} ${right(t.low32(e, CPS + 1), 8)} ${right(t.low32(e, CPS + 2), 8)}`;
    const bytes = largenum(destCounter(t, j, INBPS), f.exact) + largenum(destCounter(t, j, INBPS + 1), f.exact);
    return `  -> ${dn} ${packets}${bytes}\n`;
  }
  const conns = `${pad(String(t.dest(j, 'activeConns')), 10)} ${pad(String(t.dest(j, 'inactConns')), 10)}`;
  const weight = t.dest(j, 'weight') | 0;
  if (f.thresholds) {
    const thresholds = `${pad(String(t.dest(j, 'uThreshold')), 10)} ${pad(String(t.dest(j, 'lThreshold')), 10)}`;
    return `  -> ${dn} ${thresholds} ${conns}\n`;
  }
  if (f.persistentConn)
    return `  -> ${dn} ${pad(String(weight), 9)} ${pad(String(t.dest(j, 'persistConns')), 11)} ${conns}\n`;
  const fwd = pad(fwdName(t.dest(j, 'fwdMethod')), 7);
  if (f.tunInfo) return `  -> ${dn} ${fwd} ${pad(tunnelInfo(t, j), 13)} ${pad(String(weight), 6)} ${conns}\n`;
  return `  -> ${dn} ${fwd} ${pad(String(weight), 6)} ${conns}\n`;
}

/** One service and its destinations (`order`: their indices) in a table mode. */
export function serviceEntry(t: Table, i: number, order: ArrayLike<number>, f: ListFormat, names: Namer): string {
  let out = serviceLine(t, i, f, names);
  const protocol = t.service(i, 'protocol');
  for (let k = 0; k < order.length; k++) out += destLine(t, protocol, order[k]!, f, names);
  return out;
}

function serviceSpec(t: Table, i: number, names: Namer): string {
  const af = t.service(i, 'af');
  const fwmark = t.service(i, 'fwmark');
  if (fwmark !== 0) return `-f ${int32(fwmark)}${af === K.AF_INET6 ? ' -6' : ''}`;
  const protocol = t.service(i, 'protocol');
  const flag = protocolByNumber(protocol)?.option ?? '--xxx-service';
  return `${flag} ${addrport(af, t.p.serviceAddrs, t.service(i, 'port'), protocol, names, i * 16)}`;
}

const TUN_FLAG_OPTIONS = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'];

function forwardingSwitch(fwd: number): string {
  if (fwd === K.IP_VS_CONN_F_MASQ) return '-m';
  if (fwd === K.IP_VS_CONN_F_TUNNEL) return '-i';
  if (fwd === K.IP_VS_CONN_F_DROUTE || fwd === K.IP_VS_CONN_F_LOCALNODE) return '-g';
  return '(null)';
}

/** One service and its destinations (`order`) as -S rules (thresholds are not saved). */
export function saveEntry(t: Table, i: number, order: ArrayLike<number>, names: Namer): string {
  const spec = serviceSpec(t, i, names);
  const scheduler = t.scheduler(i);
  const flags = t.service(i, 'flags');
  const engine = t.engine(i);
  let out = `-A ${spec} -s ${scheduler}`;
  if (flags & K.IP_VS_SVC_F_PERSISTENT) {
    out += ` -p ${t.service(i, 'timeout')}`;
    const netmask = t.service(i, 'netmask');
    if (t.service(i, 'af') === K.AF_INET) {
      if (netmask !== 0xffffffff) out += ` -M ${dottedMask(netmask)}`;
    } else if (netmask !== 128) {
      out += ` -M ${netmask | 0}`;
    }
  }
  if (engine !== '') out += ` --pe ${engine}`;
  if (flags & K.IP_VS_SVC_F_ONEPACKET) out += ' -o';
  if (flags & SCHEDULER_FLAG_BITS) out += ` -b ${schedFlagWords(scheduler, flags)}`;
  out += '\n';
  const protocol = t.service(i, 'protocol');
  for (let k = 0; k < order.length; k++) {
    const j = order[k]!;
    const fwd = t.dest(j, 'fwdMethod') & 7;
    const where = addrport(t.dest(j, 'af'), t.p.destAddrs, t.dest(j, 'port'), protocol, names, j * 16);
    out += `-a ${spec} -r ${where} ${forwardingSwitch(fwd)} -w ${t.dest(j, 'weight') | 0}`;
    if (fwd === K.IP_VS_CONN_F_TUNNEL) {
      const flag = TUN_FLAG_OPTIONS[t.dest(j, 'tunFlags')] ?? '(null)';
      const tunType = t.dest(j, 'tunType');
      if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP) out += ' --tun-type ipip';
      else if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GRE) out += ` --tun-type gre ${flag}`;
      else if (tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GUE)
        out += ` --tun-type gue --tun-port ${t.dest(j, 'tunPort')} ${flag}`;
    }
    out += '\n';
  }
  return out;
}

export function timeoutLine(t: RawTimeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp | 0} ${t.tcpFin | 0} ${t.udp | 0}\n`;
}

export function daemonLine(d: RawDaemon): string {
  const state = d.state & K.IP_VS_STATE_MASTER ? 'master' : d.state & K.IP_VS_STATE_BACKUP ? 'backup' : '';
  let out = `${state} sync daemon (mcast=${d.ifname}, syncid=${d.syncId | 0}`;
  if (d.maxLen) out += `, maxlen=${d.maxLen}`;
  if (d.groupAf) out += `, group=${ntop(d.groupAf, d.group)}`;
  if (d.port) out += `, port=${d.port}`;
  if (d.ttl) out += `, ttl=${d.ttl}`;
  return `${out})\n`;
}
