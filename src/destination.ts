// Real servers (destinations) of a service: key, spec, info and conversions.
import { addressField, afOf, familyOf, formatAddress, parseShared, type Family } from './address.js';
import { K } from './constants.js';
import type { RawDest, RawDestKey, RawDestSpec, RawServiceKey } from './native.js';
import { statsFromRaw, type Stats } from './stats.js';
import {
  FORWARDING_METHODS,
  FORWARDING_NAMES,
  forwardingByName,
  forwardingByValue,
  type Forwarding,
} from './vocabulary/forwarding.js';
import { type FieldOf, integer, knownKeys, object, observedFields, oneOf, outOfRange, within } from './validate.js';

/** How packets reach the real server: NAT, direct routing, an IP tunnel, or this host. */
export type { Forwarding };
/** A tunnel's encapsulation: IP in IP, Generic UDP Encapsulation, or GRE. */
export type TunnelType = 'ipip' | 'gue' | 'gre';
/** A tunnel's checksum: none, a checksum, or remote checksum offload (GUE only). */
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** What names a destination within its service. */
export interface DestinationKey {
  /** A numeric IPv4 or IPv6 address. */
  address: string;
  /** 0..65535; default: the service's port. */
  port?: number;
}

/** How a tunnelling destination (`forwarding: 'tunnel'`) encapsulates. */
export interface Tunnel {
  /** The encapsulation; default `'ipip'`. */
  type: TunnelType;
  /** The UDP port of a GUE tunnel, 1..65535 (required for gue; otherwise absent or 0, as infos report it). */
  port?: number;
  /** Default `'nocsum'`; `'remcsum'` only for gue. */
  checksum?: TunnelChecksum;
}

/** How a destination is used; edit replaces all of it, with these defaults. */
export interface DestinationOptions {
  /** Default `'route'` (direct routing), as in ipvsadm. */
  forwarding?: Forwarding;
  /** 0..2147483647, default 1; 0 quiesces (no new connections). */
  weight?: number;
  /** Stop scheduling new connections at this many (0: no limit). */
  upperThreshold?: number;
  /** Resume below this many; at most upperThreshold (default 0). */
  lowerThreshold?: number;
  /** Only with `forwarding: 'tunnel'`; default ipip. */
  tunnel?: Tunnel;
}

/** What `addDestination` and `editDestination` take: the key and the options. */
export type DestinationSpec = DestinationKey & DestinationOptions;

/** What the kernel reports about a destination. Usable as a DestinationKey. */
export interface DestinationInfo {
  /** IPv4 or IPv6 (may differ from the service's). */
  family: Family;
  /** The address, as text. */
  address: string;
  /** The port. */
  port: number;
  /** How packets reach it. */
  forwarding: Forwarding;
  /** Its weight; 0 takes no new connections. */
  weight: number;
  /** The upper connection threshold (0: none). */
  upperThreshold: number;
  /** The lower connection threshold (0: none). */
  lowerThreshold: number;
  /** The tunnel, for `forwarding: 'tunnel'`. */
  tunnel: Required<Tunnel> | undefined;
  /** Active connections (established, for TCP). */
  activeConnections: number;
  /** Inactive connections (any other state). */
  inactiveConnections: number;
  /** Persistence templates pointing at it. */
  persistentConnections: number;
  /** Its counters and the kernel's rate estimates. */
  stats: Stats;
}

const TUNNEL_TYPES: Record<TunnelType, number> = {
  ipip: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  gue: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  gre: K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const CHECKSUMS: Record<TunnelChecksum, number> = {
  nocsum: K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  csum: K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  remcsum: K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};
const INT_MAX = 0x7fffffff;

// What a key or spec may hold: its own fields and every field of an info, so
// that an info names its destination and spreads into a spec (`{ ...info,
// weight: 0 }`). The observed ones (connections, stats) are ignored.
const DESTINATION_FIELDS = Object.keys({
  family: true,
  address: true,
  port: true,
  forwarding: true,
  weight: true,
  upperThreshold: true,
  lowerThreshold: true,
  tunnel: true,
  activeConnections: true,
  inactiveConnections: true,
  persistentConnections: true,
  stats: true,
} satisfies Record<FieldOf<DestinationSpec | DestinationInfo>, true>);
const OBSERVED = {
  activeConnections: 'count',
  inactiveConnections: 'count',
  persistentConnections: 'count',
  stats: 'object',
} as const;
const TUNNEL_FIELDS = Object.keys({ type: true, port: true, checksum: true } satisfies Record<FieldOf<Tunnel>, true>);

export function destinationKeyToRaw(key: DestinationKey, service: RawServiceKey, field = 'destination'): RawDestKey {
  const d = object(field, key);
  knownKeys(field, d, DESTINATION_FIELDS);
  observedFields(field, d, OBSERVED);
  const parsed = addressField(field, d);
  const port = d.port === undefined ? service.port : integer(`${field}.port`, d.port, 0, 65535);
  return { af: afOf(parsed.family), addr: parsed.bytes, port };
}

function tunnelToRaw(tunnel: unknown): Pick<RawDestSpec, 'tunType' | 'tunPort' | 'tunFlags'> {
  const t = object('tunnel', tunnel);
  knownKeys('tunnel', t, TUNNEL_FIELDS);
  const type = oneOf('tunnel.type', t.type, ['ipip', 'gue', 'gre'] as const);
  let tunPort = 0;
  if (type === 'gue') tunPort = integer('tunnel.port', t.port, 1, 65535);
  // 0 is what an info reports for other types (no port), so it spreads back.
  else if (t.port !== undefined && t.port !== 0) throw outOfRange(`tunnel.port is only for gue tunnels, not ${type}`);
  const checksum =
    t.checksum === undefined ? 'nocsum' : oneOf('tunnel.checksum', t.checksum, ['nocsum', 'csum', 'remcsum'] as const);
  if (type === 'ipip' && checksum !== 'nocsum')
    throw outOfRange(`tunnel.checksum '${checksum}' is not available for ipip tunnels`);
  if (type === 'gre' && checksum === 'remcsum') throw outOfRange("tunnel.checksum 'remcsum' is only for gue tunnels");
  return { tunType: TUNNEL_TYPES[type], tunPort, tunFlags: CHECKSUMS[checksum] };
}

const NO_TUNNEL = { tunType: 0, tunPort: 0, tunFlags: 0 } as const;

/** Validates a spec, fills ipvsadm's defaults, and converts it for the addon. */
export function destinationSpecToRaw(spec: DestinationSpec, service: RawServiceKey): RawDestSpec {
  const key = destinationKeyToRaw(spec, service);
  const forwarding = spec.forwarding === undefined ? 'route' : oneOf('forwarding', spec.forwarding, FORWARDING_NAMES);
  const weight = spec.weight === undefined ? 1 : integer('weight', spec.weight, 0, INT_MAX);
  const uThreshold = spec.upperThreshold === undefined ? 0 : integer('upperThreshold', spec.upperThreshold, 0, INT_MAX);
  const lThreshold = spec.lowerThreshold === undefined ? 0 : integer('lowerThreshold', spec.lowerThreshold, 0, INT_MAX);
  // The kernel refuses this with ERANGE even when the upper threshold is 0 (none).
  if (lThreshold > uThreshold) {
    throw outOfRange(`lowerThreshold (${lThreshold}) must not be above upperThreshold (${uThreshold})`);
  }
  if (spec.tunnel !== undefined && forwarding !== 'tunnel') {
    throw outOfRange(`tunnel options need forwarding 'tunnel', not '${forwarding}'`);
  }
  if (key.af !== service.af && forwarding !== 'tunnel') {
    throw outOfRange(`a destination of another address family than its service needs forwarding 'tunnel'`);
  }
  const tunnel = spec.tunnel === undefined ? NO_TUNNEL : tunnelToRaw(spec.tunnel);
  // One object literal (no spreads): a desired state converts tens of thousands.
  return {
    af: key.af,
    addr: key.addr,
    port: key.port,
    fwdMethod: forwardingByName(forwarding)!.value,
    weight,
    uThreshold,
    lThreshold,
    tunType: tunnel.tunType,
    tunPort: tunnel.tunPort,
    tunFlags: tunnel.tunFlags,
  };
}

// The common spec's forwarding methods by name (a tunnel goes the full way).
const PLAIN_FORWARDING = new Map<unknown, number>(
  FORWARDING_METHODS.filter((f) => f.name !== 'tunnel').map((f) => [f.name, f.value]),
);

/**
 * destinationSpecToRaw for the common spec (address, port, forwarding
 * other than a tunnel, weight, thresholds; each valid), in one pass that
 * makes nothing but its result: a desired state converts tens of thousands.
 * Undefined for anything else (another field, a value it would refuse): the
 * caller then calls destinationSpecToRaw, which decides and says why.
 */
export function plainDestinationToRaw(spec: unknown, service: RawServiceKey): RawDestSpec | undefined {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return undefined;
  const d = spec as Record<string, unknown>;
  for (const key in d) {
    switch (key) {
      case 'address':
      case 'port':
      case 'forwarding':
      case 'weight':
      case 'upperThreshold':
      case 'lowerThreshold':
        continue;
      default:
        if (d[key] !== undefined) return undefined;
    }
  }
  const parsed = typeof d.address === 'string' ? parseShared(d.address) : undefined;
  if (parsed === undefined) return undefined;
  const af = afOf(parsed.family);
  const port = d.port === undefined ? service.port : d.port;
  const fwdMethod = d.forwarding === undefined ? K.IP_VS_CONN_F_DROUTE : PLAIN_FORWARDING.get(d.forwarding);
  const weight = d.weight === undefined ? 1 : d.weight;
  const uThreshold = d.upperThreshold === undefined ? 0 : d.upperThreshold;
  const lThreshold = d.lowerThreshold === undefined ? 0 : d.lowerThreshold;
  if (
    af !== service.af ||
    fwdMethod === undefined ||
    !within(port, 0, 65535) ||
    !within(weight, 0, INT_MAX) ||
    !within(uThreshold, 0, INT_MAX) ||
    !within(lThreshold, 0, uThreshold)
  ) {
    return undefined;
  }
  // The same fields in the same order as destinationSpecToRaw's.
  return {
    af,
    addr: parsed.bytes,
    port,
    fwdMethod,
    weight,
    uThreshold,
    lThreshold,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
  };
}

function nameOf<T extends string>(table: Record<T, number>, value: number): T | undefined {
  return (Object.keys(table) as T[]).find((k) => table[k] === value);
}

/** A tunnelling destination's encapsulation; undefined for other forwarding methods. */
export function tunnelFromRaw(
  raw: Pick<RawDest, 'fwdMethod' | 'tunType' | 'tunPort' | 'tunFlags'>,
): Required<Tunnel> | undefined {
  if (forwardingByValue(raw.fwdMethod)?.name !== 'tunnel') return undefined;
  return {
    type: nameOf(TUNNEL_TYPES, raw.tunType) ?? 'ipip',
    port: raw.tunPort,
    checksum:
      raw.tunFlags & K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
        ? 'remcsum'
        : raw.tunFlags & K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM
          ? 'csum'
          : 'nocsum',
  };
}

export function destinationFromRaw(raw: RawDest): DestinationInfo {
  return destinationInfo(raw, formatAddress(familyOf(raw.af), raw.addr), statsFromRaw(raw.stats));
}

/**
 * A destination's info from its raw fields, with its address and counters
 * already converted (a snapshot converts them from its columns, and shares
 * address strings between destinations).
 */
export function destinationInfo(raw: Omit<RawDest, 'addr' | 'stats'>, address: string, stats: Stats): DestinationInfo {
  const forwarding = forwardingByValue(raw.fwdMethod)?.name;
  if (!forwarding) throw new Error(`the kernel reported unknown forwarding method ${raw.fwdMethod}`);
  return {
    family: familyOf(raw.af),
    address,
    port: raw.port,
    forwarding,
    weight: raw.weight,
    upperThreshold: raw.uThreshold,
    lowerThreshold: raw.lThreshold,
    tunnel: tunnelFromRaw(raw),
    activeConnections: raw.activeConns,
    inactiveConnections: raw.inactConns,
    persistentConnections: raw.persistConns,
    stats,
  };
}

/**
 * A destination as a spec (what `addDestination` takes, and what a
 * desired-state document holds): its port always, thresholds and the tunnel
 * only when set.
 */
export function destinationSpecFromRaw(raw: RawDestSpec): DestinationSpec {
  const forwarding = forwardingByValue(raw.fwdMethod)?.name;
  if (!forwarding) throw new Error(`the kernel reported unknown forwarding method ${raw.fwdMethod}`);
  const spec: DestinationSpec = {
    address: formatAddress(familyOf(raw.af), raw.addr),
    port: raw.port,
    forwarding,
    weight: raw.weight,
  };
  if (raw.uThreshold !== 0) spec.upperThreshold = raw.uThreshold;
  if (raw.lThreshold !== 0) spec.lowerThreshold = raw.lThreshold;
  const tunnel = tunnelFromRaw(raw);
  if (tunnel) {
    spec.tunnel = { type: tunnel.type };
    if (tunnel.type === 'gue') spec.tunnel.port = tunnel.port;
    if (tunnel.checksum !== 'nocsum') spec.tunnel.checksum = tunnel.checksum;
  }
  return spec;
}
