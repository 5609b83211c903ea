// ipvsadm 1.31's listings, byte for byte: the version line, the titles, one
// line per service and destination in each list mode, the save (-S) rules,
// scaled numbers, and the order ipvsadm sorts in (glibc's merge sort with a
// comparator that subtracts in 32 bits, so far-apart values sort "backwards").
import { formatAddress, familyOf } from '../address.js';
import { K } from '../constants.js';
import type { RawDest, RawInfo, RawService, RawServiceKey, RawStats, RawTimeouts, RawDaemon } from '../native.js';
import type { HostNames } from './names.js';
import type { Option } from './options.js';
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

/** `host:port` (IPv6 in brackets), by name unless numeric, cut to 59 characters. */
export function addrport(af: number, addr: Uint8Array, port: number, protocol: number, names: Namer): string {
  const host = names.host(af, addr) ?? ntop(af, addr);
  const service = names.service(port, protocol) ?? String(port);
  const text = af === K.AF_INET6 ? `[${host}]:${service}` : `${host}:${service}`;
  return text.slice(0, 59);
}

/** print_largenum: 9 columns, scaled to K/M/G/T unless exact. */
export function largenum(v: bigint, exact: boolean): string {
  if (exact) {
    const s = v.toString();
    return s.length <= 8 ? right(s, 9) : ` ${s}`;
  }
  if (v < 100_000_000n) return right(v, 9);
  if (v < 1_000_000_000n) return `${right(v / 1000n, 8)}K`;
  if (v < 100_000_000_000n) return `${right(v / 1_000_000n, 8)}M`;
  if (v < 100_000_000_000_000n) return `${right(v / 1_000_000_000n, 8)}G`;
  return `${right(v / 1_000_000_000_000n, 8)}T`;
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
export function serviceName(s: RawService, names: Namer): string {
  if (s.fwmark !== 0) return `FWM  ${int32(s.fwmark)}${s.af === K.AF_INET6 ? ' IPv6' : ''}`;
  const text = `${pad(protocolName(s.protocol), 4)} ${addrport(s.af, s.addr, s.port, s.protocol, names)}`;
  return s.af === K.AF_INET6 ? text : text.slice(0, 33);
}

function destName(s: RawService, d: RawDest, names: Namer): string {
  const text = addrport(d.af, d.addr, d.port, s.protocol, names);
  return d.af === K.AF_INET6 ? text : text.slice(0, 28);
}

/** The scheduler flag words shown for a flag word (SCHED3 is ignored for sh and mh). */
export function schedFlagWords(scheduler: string, flags: number): string {
  return schedulerFlagNames(scheduler, flags, { ipvsadm: true }).join(',');
}

/** glibc prints a NULL `%s` as `(null)`: what ipvsadm shows for an unknown method. */
export const fwdName = (fwd: number): string => forwardingByValue(fwd)?.ipvsadm ?? '(null)';

const CSUM_NAMES = ['-c', '+c', 'r+c'];

function tunnelInfo(d: RawDest): string {
  if ((d.fwdMethod & 7) !== K.IP_VS_CONN_F_TUNNEL) return 'n/a';
  const flag = CSUM_NAMES[d.tunFlags] ?? '(null)';
  if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP) return 'ipip';
  if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GUE) return `gue:${d.tunPort}:${flag}`;
  if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GRE) return `gre:${flag}`;
  return 'n/a';
}

const low32 = (v: bigint): bigint => v & 0xffffffffn;

/**
 * A destination's counters as ipvsadm 1.31 shows them: libipvs reads the
 * 64-bit counters other than bytes with a 32-bit getter, keeping the low half.
 */
export function destStats(s: RawStats): RawStats {
  return {
    ...s,
    conns: low32(s.conns),
    inpkts: low32(s.inpkts),
    outpkts: low32(s.outpkts),
    cps: low32(s.cps),
    inpps: low32(s.inpps),
    outpps: low32(s.outpps),
    inbps: low32(s.inbps),
    outbps: low32(s.outbps),
  };
}

function fiveNumbers(values: bigint[], exact: boolean): string {
  return values.map((v) => largenum(v, exact)).join('');
}

/** One service and its destinations in a table mode. */
export function serviceEntry(s: RawService, dests: readonly RawDest[], f: ListFormat, names: Namer): string {
  const name = serviceName(s, names);
  let out: string;
  if (f.stats) {
    const st = s.stats;
    out = `${pad(name, 33)}${fiveNumbers([st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes], f.exact)}\n`;
  } else if (f.rate) {
    const st = s.stats;
    out = `${pad(name, 33)}${fiveNumbers([st.cps, st.inpps, st.outpps, st.inbps, st.outbps], f.exact)}\n`;
  } else {
    out = `${name} ${s.scheduler}`;
    if (s.flags & SCHEDULER_FLAG_BITS) out += ` (${schedFlagWords(s.scheduler, s.flags)})`;
    if (s.flags & K.IP_VS_SVC_F_PERSISTENT) {
      out += ` persistent ${s.timeout}`;
      if (s.af === K.AF_INET) {
        if (s.netmask !== 0xffffffff) out += ` mask ${dottedMask(s.netmask)}`;
      } else if (s.netmask !== 128) {
        out += ` mask ${s.netmask | 0}`;
      }
      if (s.pe !== '') out += ` pe ${s.pe}`;
    }
    if (s.flags & K.IP_VS_SVC_F_ONEPACKET) out += ' ops';
    out += '\n';
  }
  for (const d of dests) {
    const dn = pad(destName(s, d, names), 28);
    const st = destStats(d.stats);
    const weight = pad(String(d.weight), 6);
    const conns = `${pad(String(d.activeConns), 10)} ${pad(String(d.inactConns), 10)}`;
    if (f.stats) {
      out += `  -> ${dn}${fiveNumbers([st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes], f.exact)}\n`;
    } else if (f.rate) {
      const packets = `${right(st.cps, 8)} ${right(st.inpps, 8)} ${right(st.outpps, 8)}`;
      out += `  -> ${dn} ${packets}${fiveNumbers([st.inbps, st.outbps], f.exact)}\n`;
    } else if (f.thresholds) {
      out += `  -> ${dn} ${pad(String(d.uThreshold), 10)} ${pad(String(d.lThreshold), 10)} ${conns}\n`;
    } else if (f.persistentConn) {
      out += `  -> ${dn} ${pad(String(d.weight), 9)} ${pad(String(d.persistConns), 11)} ${conns}\n`;
    } else if (f.tunInfo) {
      out += `  -> ${dn} ${pad(fwdName(d.fwdMethod), 7)} ${pad(tunnelInfo(d), 13)} ${weight} ${conns}\n`;
    } else {
      out += `  -> ${dn} ${pad(fwdName(d.fwdMethod), 7)} ${weight} ${conns}\n`;
    }
  }
  return out;
}

function serviceSpec(s: RawService, names: Namer): string {
  if (s.fwmark !== 0) return `-f ${int32(s.fwmark)}${s.af === K.AF_INET6 ? ' -6' : ''}`;
  const flag = protocolByNumber(s.protocol)?.option ?? '--xxx-service';
  return `${flag} ${addrport(s.af, s.addr, s.port, s.protocol, names)}`;
}

const TUN_FLAG_OPTIONS = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'];

/** One service and its destinations as -S rules (thresholds are not saved). */
export function saveEntry(s: RawService, dests: readonly RawDest[], names: Namer): string {
  const spec = serviceSpec(s, names);
  let out = `-A ${spec} -s ${s.scheduler}`;
  if (s.flags & K.IP_VS_SVC_F_PERSISTENT) {
    out += ` -p ${s.timeout}`;
    if (s.af === K.AF_INET) {
      if (s.netmask !== 0xffffffff) out += ` -M ${dottedMask(s.netmask)}`;
    } else if (s.netmask !== 128) {
      out += ` -M ${s.netmask | 0}`;
    }
  }
  if (s.pe !== '') out += ` --pe ${s.pe}`;
  if (s.flags & K.IP_VS_SVC_F_ONEPACKET) out += ' -o';
  if (s.flags & SCHEDULER_FLAG_BITS) out += ` -b ${schedFlagWords(s.scheduler, s.flags)}`;
  out += '\n';
  for (const d of dests) {
    const fwd = d.fwdMethod & 7;
    const sw =
      fwd === K.IP_VS_CONN_F_MASQ
        ? '-m'
        : fwd === K.IP_VS_CONN_F_TUNNEL
          ? '-i'
          : fwd === K.IP_VS_CONN_F_DROUTE || fwd === K.IP_VS_CONN_F_LOCALNODE
            ? '-g'
            : '(null)';
    out += `-a ${spec} -r ${addrport(d.af, d.addr, d.port, s.protocol, names)} ${sw} -w ${d.weight}`;
    if (fwd === K.IP_VS_CONN_F_TUNNEL) {
      const flag = TUN_FLAG_OPTIONS[d.tunFlags] ?? '(null)';
      if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP) out += ' --tun-type ipip';
      else if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GRE) out += ` --tun-type gre ${flag}`;
      else if (d.tunType === K.IP_VS_CONN_F_TUNNEL_TYPE_GUE) out += ` --tun-type gue --tun-port ${d.tunPort} ${flag}`;
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

// --- order ---------------------------------------------------------------------

/** glibc 2.36 qsort: a top-down merge sort, stable, taking from the left while cmp <= 0. */
export function msort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    let k = 0;
    let left = n1;
    let rightLeft = n2;
    while (left > 0 && rightLeft > 0) {
      if (cmp(a[i]!, a[j]!) <= 0) {
        tmp[k++] = a[i++]!;
        left--;
      } else {
        tmp[k++] = a[j++]!;
        rightLeft--;
      }
    }
    while (left-- > 0) tmp[k++] = a[i++]!;
    for (let m = 0; m < k; m++) a[lo + m] = tmp[m]!;
  };
  sort(0, a.length);
  return a;
}

const word = (addr: Uint8Array, i: number): number =>
  ((addr[i * 4]! << 24) | (addr[i * 4 + 1]! << 16) | (addr[i * 4 + 2]! << 8) | addr[i * 4 + 3]!) >>> 0;

/** The address part of the comparators: ntohl differences read as int32, words chosen by the first af. */
function compareAddr(af: number, a: Uint8Array, b: Uint8Array): number {
  const words = af === K.AF_INET6 ? 4 : 1;
  for (let i = 0; i < words; i++) {
    const r = (word(a, i) - word(b, i)) | 0;
    if (r !== 0) return r;
  }
  return 0;
}

export function compareServices(a: RawServiceKey, b: RawServiceKey): number {
  return (
    (a.fwmark - b.fwmark) | 0 ||
    a.af - b.af ||
    a.protocol - b.protocol ||
    compareAddr(a.af, a.addr, b.addr) ||
    a.port - b.port
  );
}

export function compareDests(a: RawDest, b: RawDest): number {
  return compareAddr(a.af, a.addr, b.addr) || a.port - b.port;
}
