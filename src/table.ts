// The configuration of a table: its services and their destinations as the
// kernel would be asked for them (raw specs, no counters), keyed so that two
// tables compare entry by entry. Plans (what makes one table the other),
// drift checks and watch events are all differences between two of these.
import { formatAddress, familyOf } from './address.js';
import { K } from './constants.js';
import type { RawDestKey, RawDestSpec, RawServiceKey, RawServiceSpec } from './native.js';
import { runNow, SLICE_ENTRIES, type Sliced } from './slice.js';
import { destinationAt, emptyService, S, SERVICE_COLUMN as SV, type PackedSnapshot } from './snapshot.js';
import { PROTOCOLS } from './vocabulary/protocols.js';
import { SCHEDULER_FLAG_BITS } from './vocabulary/scheduler-flags.js';

/** A service of a table: its settings and its destinations, by key. */
export interface TableService {
  raw: RawServiceSpec;
  destinations: Map<string, RawDestSpec>;
}

/** Services by key (serviceId), in the order they were listed. */
export type Table = Map<string, TableService>;

/** The fields a service is compared by, in the facade's words. */
export type ServiceField = 'scheduler' | 'persistence' | 'persistenceEngine' | 'onePacket' | 'schedulerFlags';
/** The fields a destination is compared by, in the facade's words. */
export type DestinationField = 'forwarding' | 'weight' | 'upperThreshold' | 'lowerThreshold' | 'tunnel';

const addressId = (af: number, addr: Uint8Array): string => formatAddress(familyOf(af), addr);

/** Each protocol's name in a service's key as text, made once (a plan names thousands of services). */
const PROTOCOL_TEXT = new Map(PROTOCOLS.map((p) => [p.number as number, p.name.toUpperCase()]));

/**
 * A service's key as text, readable and unique: `TCP 192.0.2.1:80`,
 * `UDP [2001:db8::1]:53`, `FWM 5` (IPv4) or `FWM 5 IPv6`.
 */
export function serviceId(k: RawServiceKey): string {
  if (k.fwmark !== 0) return k.af === K.AF_INET6 ? `FWM ${k.fwmark} IPv6` : `FWM ${k.fwmark}`;
  const protocol = PROTOCOL_TEXT.get(k.protocol) ?? `IP_${k.protocol}`;
  const address = addressId(k.af, k.addr);
  return k.af === K.AF_INET6 ? `${protocol} [${address}]:${k.port}` : `${protocol} ${address}:${k.port}`;
}

/** A destination's key within its service as text: `198.51.100.1:80`, `[2001:db8::2]:80`. */
export function destinationId(k: RawDestKey): string {
  return destinationIdOf(addressId(k.af, k.addr), k.af, k.port);
}

/** destinationId from the address's text (as formatAddress writes it). */
export function destinationIdOf(address: string, af: number, port: number): string {
  return af === K.AF_INET6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Service `i` of a snapshot into `out` (flags without the kernel's HASHED
 * bit), its address copied into `out.addr`: comparing a large table reads
 * every service into one record, and needs an object of its own (serviceAt)
 * only for the few that change.
 */
export function serviceInto(p: PackedSnapshot, i: number, out: RawServiceSpec): RawServiceSpec {
  const at = i * S;
  const sv = p.services;
  out.af = sv[at + SV.af]!;
  out.protocol = sv[at + SV.protocol]!;
  for (let k = 0; k < 16; k++) out.addr[k] = p.serviceAddrs[i * 16 + k]!;
  out.port = sv[at + SV.port]!;
  out.fwmark = sv[at + SV.fwmark]!;
  out.scheduler = p.schedulers[sv[at + SV.scheduler]!]!;
  out.pe = p.engines[sv[at + SV.pe]!]!;
  out.flags = sv[at + SV.flags]! & ~K.IP_VS_SVC_F_HASHED;
  out.timeout = sv[at + SV.timeout]!;
  out.netmask = sv[at + SV.netmask]!;
  return out;
}

/** Service `i` of a snapshot as a raw spec of its own. */
export const serviceAt = (p: PackedSnapshot, i: number): RawServiceSpec => serviceInto(p, i, emptyService());

/** A destination spec of zeros with the key `key` (or none), to be filled. */
export const emptyDestination = (key?: RawDestKey): RawDestSpec => ({
  af: key?.af ?? 0,
  addr: key?.addr ?? new Uint8Array(16),
  port: key?.port ?? 0,
  fwdMethod: 0,
  weight: 0,
  uThreshold: 0,
  lThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
});

/** The configuration in a packed snapshot (its counters left out). */
export function tableFromPacked(p: PackedSnapshot): Table {
  return runNow(tableOfPacked(p));
}

/** tableFromPacked, in slices. */
export function* tableOfPacked(p: PackedSnapshot): Sliced<Table> {
  const table: Table = new Map();
  let work = 0;
  for (let i = 0; i < p.serviceCount; i++) {
    work += 1 + p.destOffsets[i + 1]! - p.destOffsets[i]!;
    if (work >= SLICE_ENTRIES) {
      work = 0;
      yield;
    }
    const raw = serviceAt(p, i);
    const destinations = new Map<string, RawDestSpec>();
    for (let j = p.destOffsets[i]!; j < p.destOffsets[i + 1]!; j++) {
      const dest = destinationAt(p, j, emptyDestination(), true);
      destinations.set(destinationId(dest), dest);
    }
    table.set(serviceId(raw), { raw, destinations });
  }
  return table;
}

const persistent = (s: RawServiceSpec) => (s.flags & K.IP_VS_SVC_F_PERSISTENT) !== 0;

// The fields compared, in the order the difference lists name them; the
// checks below set bit k for field k. Most entries of a large table compare
// equal, and a bit mask tells so without a list made for each.
const SERVICE_FIELDS: readonly ServiceField[] = [
  'scheduler',
  'persistence',
  'persistenceEngine',
  'onePacket',
  'schedulerFlags',
];
const DESTINATION_FIELDS: readonly DestinationField[] = [
  'forwarding',
  'weight',
  'upperThreshold',
  'lowerThreshold',
  'tunnel',
];

/**
 * The settings in which two specs of the same service differ, one bit per
 * field of SERVICE_FIELDS. Timeout and netmask count only for a persistent
 * service (the kernel keeps them for others, unused); bits of the flag word
 * that the facade does not name (the kernel's own HASHED) are not compared.
 */
export function serviceDifferenceBits(a: RawServiceSpec, b: RawServiceSpec): number {
  let bits = 0;
  if (a.scheduler !== b.scheduler) bits |= 1;
  if (
    persistent(a) !== persistent(b) ||
    (persistent(a) && (a.timeout !== b.timeout || a.netmask >>> 0 !== b.netmask >>> 0))
  ) {
    bits |= 2;
  }
  if (a.pe !== b.pe) bits |= 4;
  if ((a.flags & K.IP_VS_SVC_F_ONEPACKET) !== (b.flags & K.IP_VS_SVC_F_ONEPACKET)) bits |= 8;
  if ((a.flags & SCHEDULER_FLAG_BITS) !== (b.flags & SCHEDULER_FLAG_BITS)) bits |= 16;
  return bits;
}

/** The settings in which two specs of the same service differ, in the facade's words. */
export function serviceDifferences(a: RawServiceSpec, b: RawServiceSpec): ServiceField[] {
  const bits = serviceDifferenceBits(a, b);
  return SERVICE_FIELDS.filter((_, k) => (bits & (1 << k)) !== 0);
}

const tunnels = (d: RawDestSpec) => (d.fwdMethod & K.IP_VS_CONN_F_FWD_MASK) === K.IP_VS_CONN_F_TUNNEL;

/**
 * The settings in which two specs of the same destination differ, one bit
 * per field of DESTINATION_FIELDS. The tunnel's settings count only when it
 * tunnels.
 */
export function destinationDifferenceBits(a: RawDestSpec, b: RawDestSpec): number {
  let bits = 0;
  if ((a.fwdMethod & K.IP_VS_CONN_F_FWD_MASK) !== (b.fwdMethod & K.IP_VS_CONN_F_FWD_MASK)) bits |= 1;
  if (a.weight !== b.weight) bits |= 2;
  if (a.uThreshold !== b.uThreshold) bits |= 4;
  if (a.lThreshold !== b.lThreshold) bits |= 8;
  if (tunnels(a) && tunnels(b) && (a.tunType !== b.tunType || a.tunPort !== b.tunPort || a.tunFlags !== b.tunFlags)) {
    bits |= 16;
  }
  return bits;
}

/** The settings in which two specs of the same destination differ, in the facade's words. */
export function destinationDifferences(a: RawDestSpec, b: RawDestSpec): DestinationField[] {
  const bits = destinationDifferenceBits(a, b);
  return DESTINATION_FIELDS.filter((_, k) => (bits & (1 << k)) !== 0);
}
