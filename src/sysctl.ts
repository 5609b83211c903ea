// The IPVS sysctls of a network namespace (/proc/sys/net/ipv4/vs/*), typed.
import { badMessage } from './errors.js';
import { describe, integer, invalidType, oneOf, outOfRange } from './validate.js';

/** Each sysctl and the values it takes (from the kernel's handlers). */
const SPEC = {
  amemthresh: [0, 2 ** 31 - 1],
  am_droprate: [0, 2 ** 31 - 1],
  drop_entry: [0, 3],
  drop_packet: [0, 3],
  secure_tcp: [0, 3],
  conntrack: [0, 1],
  snat_reroute: [0, 1],
  sync_version: [0, 1],
  sync_ports: 'power of two',
  sync_persist_mode: [0, 1],
  sync_qlen_max: [0, 2 ** 31 - 1],
  sync_sock_size: [0, 2 ** 31 - 1],
  cache_bypass: [0, 1],
  expire_nodest_conn: [0, 1],
  sloppy_tcp: [0, 1],
  sloppy_sctp: [0, 1],
  expire_quiescent_template: [0, 1],
  sync_threshold: 'pair',
  sync_refresh_period: [0, 2 ** 31 - 1],
  sync_retries: [0, 3],
  nat_icmp_send: [0, 1],
  pmtu_disc: [0, 1],
  backup_only: [0, 1],
  conn_reuse_mode: [0, 3],
  schedule_icmp: [0, 1],
  ignore_tunneled: [0, 1],
  run_estimation: [0, 1],
  debug_level: [0, 2 ** 31 - 1],
  // The estimator's kthreads, from 6.2 (6.1 has neither file: ENOENT): the
  // CPUs they may run on, and their nice value.
  est_cpulist: 'text',
  est_nice: [-20, 19],
  // Registered by the lblc and lblcr scheduler modules. Seconds, kept in
  // jiffies in an int: at most INT_MAX / HZ, and HZ may be 1000.
  lblc_expiration: [0, 2147483],
  lblcr_expiration: [0, 2147483],
} as const;

// The kernel's cpulist syntax (bitmap_parselist): CPUs and ranges, a range
// optionally strided as `0-15:2/4`, separated by commas. Nothing else: a
// newline would end the value early. The empty list (no CPUs) is allowed
// apart: it stops the estimator. Which CPUs exist is the kernel's to check
// (ERANGE beyond the last).
const CPU_LIST = /^\d+(-\d+(:\d+\/\d+)?)?(,\d+(-\d+(:\d+\/\d+)?)?)*$/;
// What the kernel prints: an int (proc_dointvec), two separated by a tab
// (sync_threshold), a cpulist of plain ranges or nothing (est_cpulist); a newline after.
const READ = {
  number: /^-?\d+$/,
  pair: /^(-?\d+)\s+(-?\d+)$/,
  text: /^(\d+(-\d+)?(,\d+(-\d+)?)*)?$/,
};

/**
 * The name of an IPVS sysctl of a namespace, a file of `/proc/sys/net/ipv4/vs/`
 * (`conntrack`, `expire_nodest_conn`, …).
 */
export type SysctlName = keyof typeof SPEC;

/**
 * The values by name; `sync_threshold` is [threshold, period], `est_cpulist`
 * a CPU list (`''`, no CPUs, stops the estimator's kthreads and so the rates
 * and the counters' updates).
 */
export type Sysctls = {
  [K in SysctlName]: (typeof SPEC)[K] extends 'pair'
    ? [number, number]
    : (typeof SPEC)[K] extends 'text'
      ? string
      : number;
};

export const SYSCTL_NAMES = Object.keys(SPEC) as SysctlName[];

export function sysctlPath(name: SysctlName): string {
  return `/proc/sys/net/ipv4/vs/${oneOf('name', name, SYSCTL_NAMES)}`;
}

/** Parses what the kernel prints for a sysctl; EBADMSG (an IpvsError of getSysctl) for anything else. */
export function parseSysctl<K extends SysctlName>(name: K, text: string): Sysctls[K] {
  const spec = SPEC[name];
  const t = text.trimEnd();
  const kind = spec === 'text' ? 'text' : spec === 'pair' ? 'pair' : 'number';
  const m = READ[kind].exec(t);
  if (!m) throw badMessage('getSysctl', `unexpected value of ${name}: ${JSON.stringify(text.slice(0, 64))}`);
  if (kind === 'text') return t as Sysctls[K];
  return (kind === 'pair' ? [Number(m[1]), Number(m[2])] : Number(t)) as Sysctls[K];
}

/** Validates a value and renders it as the kernel's handler reads it. */
export function formatSysctl<K extends SysctlName>(name: K, value: Sysctls[K]): string {
  const spec = SPEC[name];
  if (spec === 'text') {
    if (typeof value !== 'string')
      throw invalidType(`${name} must be a CPU list such as "0-3,6" (or ""), got ${describe(value)}`);
    if (value !== '' && !CPU_LIST.test(value))
      throw outOfRange(`${name} must be a CPU list such as "0-3,6" (or ""), got ${describe(value)}`);
    // A write of nothing changes nothing; an empty line empties the list.
    return value === '' ? '\n' : value;
  }
  if (spec === 'pair') {
    if (!Array.isArray(value) || value.length !== 2)
      throw invalidType(`${name} must be [threshold, period], got ${describe(value)}`);
    const [threshold, period] = [
      integer(`${name}[0]`, value[0], 0, 2 ** 31 - 1),
      integer(`${name}[1]`, value[1], 0, 2 ** 31 - 1),
    ];
    // The kernel's rule: the period is 0 (every packet) or above the threshold.
    if (period !== 0 && period <= threshold)
      throw outOfRange(`${name}: the period (${period}) must be 0 or greater than the threshold (${threshold})`);
    return `${threshold} ${period}`;
  }
  if (spec === 'power of two') {
    const n = integer(name, value, 1, 2 ** 30);
    if ((n & (n - 1)) !== 0) throw outOfRange(`${name} must be a power of two, got ${n}`);
    return String(n);
  }
  return String(integer(name, value, spec[0], spec[1]));
}
