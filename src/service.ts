// Virtual services: the key that names one, the spec that asks for one, and
// the info the kernel reports, with the conversions to and from the addon.
import { addressField, afOf, familyOf, formatAddress, parseAddress, parseShared, type Family } from './address.js';
import { K } from './constants.js';
import { DEFAULT_PERSISTENCE_TIMEOUT, MAX_TIMEOUT } from './vocabulary/limits.js';
import { dottedMask, FULL_MASK, prefixToMask } from './vocabulary/netmask.js';
import { protocolByName, protocolByNumber, SERVICE_PROTOCOLS, type ServiceProtocol } from './vocabulary/protocols.js';
import {
  SCHEDULER_FLAG_NAMES,
  SCHEDULER_FLAGS,
  schedulerFlagNames,
  type SchedulerFlag,
} from './vocabulary/scheduler-flags.js';
import type { RawService, RawServiceKey, RawServiceSpec } from './native.js';
import { statsFromRaw, type Stats } from './stats.js';
import {
  describe,
  type FieldOf,
  integer,
  invalidType,
  knownKeys,
  name,
  object,
  observedFields,
  oneOf,
  outOfRange,
  within,
} from './validate.js';

/** A virtual service's protocol: `'tcp'`, `'udp'` or `'sctp'`. */
export type Protocol = ServiceProtocol;

/** A service named by protocol, virtual address and port. */
export interface AddressServiceKey {
  /** TCP, UDP or SCTP. */
  protocol: Protocol;
  /** A numeric IPv4 or IPv6 address. */
  address: string;
  /** 0..65535; 0 (any port) only for persistent services. */
  port: number;
}

/** A service named by a firewall mark (set by iptables/nftables). */
export interface FwmarkServiceKey {
  /** 1..4294967295. */
  fwmark: number;
  /** Which packets the mark matches; default `'inet'`. */
  family?: Family;
}

/** What names a service: edit, delete, get and the destination calls take one. */
export type ServiceKey = AddressServiceKey | FwmarkServiceKey;

export type { SchedulerFlag };

/** A persistent service's settings: clients return to the real server they had. */
export interface Persistence {
  /** Seconds a client stays with its real server; 1..2678400, default 360. */
  timeout?: number;
  /**
   * Which clients share a persistence entry: IPv4 a dotted mask
   * (`'255.255.255.0'`) or a prefix length; IPv6 a prefix length 1..128.
   * Default: the whole address.
   */
  netmask?: string | number;
}

/** How a service schedules; edit replaces all of it, with these defaults. */
export interface ServiceOptions {
  /** A scheduler module name: rr, wrr, lc, wlc (default), lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos. */
  scheduler?: string;
  /** Keep each client with one real server (ipvsadm's -p); `false` or absent: not persistent. */
  persistence?: Persistence | false;
  /** A persistence engine module name, such as `'sip'`. */
  persistenceEngine?: string;
  /** One-packet scheduling (UDP and fwmark services): no connection entry is kept. */
  onePacket?: boolean;
  /** The scheduler's flags (ipvsadm's -b), such as `['sh-port']`; default none. */
  schedulerFlags?: SchedulerFlag[];
}

/** What is asked of a service: its key and its options. */
export type ServiceSpec = ServiceKey & ServiceOptions;

/** What the kernel reports about any service, besides its key. */
export interface ServiceDetails {
  /** IPv4 or IPv6. */
  family: Family;
  /** The scheduler's name. */
  scheduler: string;
  /** Present when the service is persistent. */
  persistence:
    | {
        /** Seconds a client stays with its real server. */
        timeout: number;
        /** Which clients share a persistence entry: an IPv4 mask, or an IPv6 prefix length. */
        netmask: string | number;
      }
    | undefined;
  /** The persistence engine, if any. */
  persistenceEngine: string | undefined;
  /** One-packet scheduling. */
  onePacket: boolean;
  /** The scheduler's flags that are set. */
  schedulerFlags: SchedulerFlag[];
  /** The kernel's flag word, less the internal HASHED bit. */
  flags: number;
  /** Its counters and the kernel's rate estimates. */
  stats: Stats;
}

/** What the kernel reports about a service. Usable as a ServiceKey. */
export type ServiceInfo = (
  | (AddressServiceKey & {
      /** None: an address service. */
      fwmark?: undefined;
    })
  | (Required<FwmarkServiceKey> & {
      /** None: a firewall-mark service. */
      protocol?: undefined;
      /** None: a firewall-mark service. */
      address?: undefined;
      /** None: a firewall-mark service. */
      port?: undefined;
    })
) &
  ServiceDetails;

// What a key or spec may hold: its own fields and every field of an info, so
// that an info names its service and spreads into a spec (`{ ...info,
// scheduler: 'rr' }`). The observed ones (flags, stats) are ignored.
const SERVICE_FIELDS = Object.keys({
  protocol: true,
  address: true,
  port: true,
  fwmark: true,
  family: true,
  scheduler: true,
  persistence: true,
  persistenceEngine: true,
  onePacket: true,
  schedulerFlags: true,
  flags: true,
  stats: true,
} satisfies Record<FieldOf<ServiceSpec | ServiceInfo>, true>);
const PERSISTENCE_FIELDS = Object.keys({ timeout: true, netmask: true } satisfies Record<
  FieldOf<Persistence | NonNullable<ServiceInfo['persistence']>>,
  true
>);

/** A service's fields in a desired state, where each also lists its destinations. */
export const DESIRED_SERVICE_FIELDS: readonly string[] = [...SERVICE_FIELDS, 'destinations'];

/** Validates a key and converts it for the addon; `fields` are the ones it may have. */
export function serviceKeyToRaw(
  key: ServiceKey,
  field = 'service',
  fields: readonly string[] = SERVICE_FIELDS,
): RawServiceKey {
  const k = object(field, key);
  knownKeys(field, k, fields);
  observedFields(field, k, { flags: 'count', stats: 'object' });
  if (k.fwmark !== undefined) {
    const fwmark = integer(`${field}.fwmark`, k.fwmark, 1, 0xffffffff);
    const other = (['protocol', 'address', 'port'] as const).find((f) => k[f] !== undefined);
    if (other) {
      const message = 'a service has either a fwmark or a protocol, address and port';
      throw invalidType(`${field}.${other} cannot be given with ${field}.fwmark: ${message}`);
    }
    const family = k.family === undefined ? 'inet' : oneOf(`${field}.family`, k.family, ['inet', 'inet6'] as const);
    return { af: afOf(family), protocol: 0, addr: new Uint8Array(16), port: 0, fwmark };
  }
  const protocol = oneOf(`${field}.protocol`, k.protocol, SERVICE_PROTOCOLS);
  const parsed = addressField(field, k);
  return {
    af: afOf(parsed.family),
    protocol: protocolByName(protocol)!.number,
    addr: parsed.bytes,
    port: integer(`${field}.port`, k.port, 0, 65535),
    fwmark: 0,
  };
}

function netmaskToRaw(family: Family, netmask: unknown): number {
  if (family === 'inet6') return integer('persistence.netmask', netmask, 1, 128);
  if (typeof netmask === 'number') {
    const bits = integer('persistence.netmask', netmask, 0, 32);
    return prefixToMask(bits);
  }
  const parsed = typeof netmask === 'string' ? parseAddress(netmask) : undefined;
  if (!parsed || parsed.family !== 'inet') {
    throw invalidType(
      `persistence.netmask must be a dotted IPv4 mask or a prefix length 0..32, got ${describe(netmask)}`,
    );
  }
  const b = parsed.bytes;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/**
 * Validates a spec, fills ipvsadm's defaults, and converts it for the addon.
 * `fields`: the ones it may have (a desired state's service also has its
 * destinations, which this leaves to the caller).
 */
export function serviceSpecToRaw(spec: ServiceSpec, fields: readonly string[] = SERVICE_FIELDS): RawServiceSpec {
  const key = serviceKeyToRaw(spec, 'service', fields);
  const s = spec as ServiceOptions;
  const family = familyOf(key.af);
  const scheduler = s.scheduler === undefined ? 'wlc' : name('scheduler', s.scheduler, K.IP_VS_SCHEDNAME_MAXLEN - 1);
  let flags = 0;
  let timeout = 0;
  let netmask: number = FULL_MASK[family];
  if (s.persistence !== undefined && s.persistence !== false) {
    const p = object('persistence', s.persistence);
    knownKeys('persistence', p, PERSISTENCE_FIELDS);
    flags |= K.IP_VS_SVC_F_PERSISTENT;
    timeout =
      p.timeout === undefined ? DEFAULT_PERSISTENCE_TIMEOUT : integer('persistence.timeout', p.timeout, 1, MAX_TIMEOUT);
    if (p.netmask !== undefined) netmask = netmaskToRaw(family, p.netmask);
  }
  if (key.fwmark === 0 && key.port === 0 && !(flags & K.IP_VS_SVC_F_PERSISTENT)) {
    throw outOfRange('port 0 (any port) is only allowed for persistent services');
  }
  if (s.onePacket !== undefined && typeof s.onePacket !== 'boolean') {
    throw invalidType(`onePacket must be a boolean, got ${describe(s.onePacket)}`);
  }
  if (s.onePacket) {
    if (key.fwmark === 0 && key.protocol !== K.IPPROTO_UDP) {
      throw outOfRange('onePacket (one-packet scheduling) is only for UDP and fwmark services');
    }
    flags |= K.IP_VS_SVC_F_ONEPACKET;
  }
  if (s.schedulerFlags !== undefined) {
    if (!Array.isArray(s.schedulerFlags))
      throw invalidType(`schedulerFlags must be an array, got ${describe(s.schedulerFlags)}`);
    for (const flag of s.schedulerFlags) {
      const known = SCHEDULER_FLAGS.find((f) => f.name === oneOf('schedulerFlags[]', flag, SCHEDULER_FLAG_NAMES))!;
      if (known.scheduler !== undefined && known.scheduler !== scheduler) {
        throw outOfRange(`schedulerFlags '${flag}' needs scheduler '${known.scheduler}', not '${scheduler}'`);
      }
      flags |= known.bit;
    }
  }
  const pe =
    s.persistenceEngine === undefined ? '' : name('persistenceEngine', s.persistenceEngine, K.IP_VS_PENAME_MAXLEN - 1);
  // One object literal: a spread followed by more fields takes V8's slow
  // path, 10 µs a service on the host, and was most of the validation of a
  // desired state of 5,000 services.
  return {
    af: key.af,
    protocol: key.protocol,
    addr: key.addr,
    port: key.port,
    fwmark: key.fwmark,
    scheduler,
    pe,
    flags,
    timeout,
    netmask,
  };
}

// The common spec's protocols by name, and the scheduler names it takes:
// printable ASCII (a byte a character), as many as the kernel's buffer holds.
const PLAIN_PROTOCOLS = new Map<unknown, number>(SERVICE_PROTOCOLS.map((p) => [p, protocolByName(p)!.number]));
const PLAIN_SCHEDULER = new RegExp(`^[!-~]{1,${K.IP_VS_SCHEDNAME_MAXLEN - 1}}$`);

/**
 * serviceSpecToRaw of a desired state's service for the common spec
 * (protocol, address, port other than 0, scheduler; each valid), in one
 * pass that makes nothing but its result; its `destinations` are the
 * caller's. Undefined for anything else (another field, a value it would
 * refuse): the caller then calls serviceSpecToRaw, which decides and says why.
 */
export function plainServiceToRaw(spec: unknown): RawServiceSpec | undefined {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return undefined;
  const s = spec as Record<string, unknown>;
  for (const key in s) {
    switch (key) {
      case 'protocol':
      case 'address':
      case 'port':
      case 'scheduler':
      case 'destinations':
        continue;
      default:
        if (s[key] !== undefined) return undefined;
    }
  }
  const protocol = PLAIN_PROTOCOLS.get(s.protocol);
  const parsed = typeof s.address === 'string' ? parseShared(s.address) : undefined;
  const port = s.port;
  const scheduler = s.scheduler === undefined ? 'wlc' : s.scheduler;
  if (
    protocol === undefined ||
    parsed === undefined ||
    !within(port, 1, 65535) ||
    typeof scheduler !== 'string' ||
    !PLAIN_SCHEDULER.test(scheduler)
  ) {
    return undefined;
  }
  // The same fields in the same order as serviceSpecToRaw's.
  return {
    af: afOf(parsed.family),
    protocol,
    addr: parsed.bytes,
    port,
    fwmark: 0,
    scheduler,
    pe: '',
    flags: 0,
    timeout: 0,
    netmask: FULL_MASK[parsed.family],
  };
}

export function serviceFromRaw(raw: RawService): ServiceInfo {
  return serviceInfo(raw, raw.fwmark !== 0 ? '' : formatAddress(familyOf(raw.af), raw.addr), statsFromRaw(raw.stats));
}

/**
 * A service's info from its raw fields, with its address (unused for a
 * fwmark service) and counters already converted (a snapshot converts them
 * from its columns). Each shape is one object literal: snapshots make
 * thousands of these.
 */
export function serviceInfo(raw: Omit<RawService, 'addr' | 'stats'>, address: string, stats: Stats): ServiceInfo {
  const family = familyOf(raw.af);
  const flags = raw.flags & ~K.IP_VS_SVC_F_HASHED;
  const persistence =
    flags & K.IP_VS_SVC_F_PERSISTENT
      ? { timeout: raw.timeout, netmask: family === 'inet6' ? raw.netmask : dottedMask(raw.netmask) }
      : undefined;
  const persistenceEngine = raw.pe === '' ? undefined : raw.pe;
  const onePacket = (flags & K.IP_VS_SVC_F_ONEPACKET) !== 0;
  const schedulerFlags = schedulerFlagNames(raw.scheduler, flags);
  const scheduler = raw.scheduler;
  if (raw.fwmark !== 0) {
    const fwmark = raw.fwmark;
    return { fwmark, family, scheduler, persistence, persistenceEngine, onePacket, schedulerFlags, flags, stats };
  }
  const entry = protocolByNumber(raw.protocol);
  const protocol = entry?.option !== undefined ? entry.name : undefined;
  if (!protocol) throw new Error(`the kernel reported a service with unknown protocol ${raw.protocol}`);
  const port = raw.port;
  return {
    protocol,
    address,
    port,
    family,
    scheduler,
    persistence,
    persistenceEngine,
    onePacket,
    schedulerFlags,
    flags,
    stats,
  };
}

/**
 * A service as a spec (what `addService` takes, and what a desired-state
 * document holds): its key and its settings, defaults left out. Adding it
 * makes the same service again.
 */
export function serviceSpecFromRaw(raw: RawServiceSpec): ServiceSpec {
  const family = familyOf(raw.af);
  const info = serviceInfo(raw, raw.fwmark !== 0 ? '' : formatAddress(family, raw.addr), NO_STATS);
  const spec: ServiceSpec & ServiceOptions =
    info.fwmark !== undefined
      ? { fwmark: info.fwmark, family }
      : { protocol: info.protocol, address: info.address, port: info.port };
  spec.scheduler = info.scheduler;
  if (info.persistence) {
    const { timeout, netmask } = info.persistence;
    const full = family === 'inet' ? dottedMask(FULL_MASK.inet) : FULL_MASK.inet6;
    spec.persistence = netmask === full ? { timeout } : { timeout, netmask };
  }
  if (info.persistenceEngine !== undefined) spec.persistenceEngine = info.persistenceEngine;
  if (info.onePacket) spec.onePacket = true;
  if (info.schedulerFlags.length > 0) spec.schedulerFlags = info.schedulerFlags;
  return spec;
}

const NO_STATS: Stats = {
  conns: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
};
