// The configuration of a table: its services and their destinations as the
// kernel would be asked for them (raw specs, no counters), keyed so that two
// tables compare entry by entry. Plans (what makes one table the other),
// drift checks and watch events are all differences between two of these.
import { formatAddress, familyOf } from './address.js';
import { K } from './constants.js';
import type { RawDestKey, RawDestSpec, RawServiceKey, RawServiceSpec } from './native.js';
import { destinationAt, S, SERVICE_COLUMN as SV, type PackedSnapshot } from './snapshot.js';
import { protocolByNumber } from './vocabulary/protocols.js';
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

/**
 * A service's key as text, readable and unique: `TCP 192.0.2.1:80`,
 * `UDP [2001:db8::1]:53`, `FWM 5` (IPv4) or `FWM 5 IPv6`.
 */
export function serviceId(k: RawServiceKey): string {
  if (k.fwmark !== 0) return k.af === K.AF_INET6 ? `FWM ${k.fwmark} IPv6` : `FWM ${k.fwmark}`;
  const protocol = protocolByNumber(k.protocol)?.name.toUpperCase() ?? `IP_${k.protocol}`;
  const address = addressId(k.af, k.addr);
  return k.af === K.AF_INET6 ? `${protocol} [${address}]:${k.port}` : `${protocol} ${address}:${k.port}`;
}

/** A destination's key within its service as text: `198.51.100.1:80`, `[2001:db8::2]:80`. */
export function destinationId(k: RawDestKey): string {
  const address = addressId(k.af, k.addr);
  return k.af === K.AF_INET6 ? `[${address}]:${k.port}` : `${address}:${k.port}`;
}

/** Service `i` of a snapshot as a raw spec (flags without the kernel's HASHED bit). */
export function serviceAt(p: PackedSnapshot, i: number): RawServiceSpec {
  const at = i * S;
  const sv = p.services;
  return {
    af: sv[at + SV.af]!,
    protocol: sv[at + SV.protocol]!,
    addr: p.serviceAddrs.subarray(i * 16, i * 16 + 16),
    port: sv[at + SV.port]!,
    fwmark: sv[at + SV.fwmark]!,
    scheduler: p.schedulers[sv[at + SV.scheduler]!]!,
    pe: p.engines[sv[at + SV.pe]!]!,
    flags: sv[at + SV.flags]! & ~K.IP_VS_SVC_F_HASHED,
    timeout: sv[at + SV.timeout]!,
    netmask: sv[at + SV.netmask]!,
  };
}

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
  const table: Table = new Map();
  for (let i = 0; i < p.serviceCount; i++) {
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

/**
 * The settings in which two specs of the same service differ, in the
 * facade's words. Timeout and netmask count only for a persistent service
 * (the kernel keeps them for others, unused); bits of the flag word that
 * the facade does not name (the kernel's own HASHED) are not compared.
 */
export function serviceDifferences(a: RawServiceSpec, b: RawServiceSpec): ServiceField[] {
  const out: ServiceField[] = [];
  if (a.scheduler !== b.scheduler) out.push('scheduler');
  if (
    persistent(a) !== persistent(b) ||
    (persistent(a) && (a.timeout !== b.timeout || a.netmask >>> 0 !== b.netmask >>> 0))
  ) {
    out.push('persistence');
  }
  if (a.pe !== b.pe) out.push('persistenceEngine');
  if ((a.flags & K.IP_VS_SVC_F_ONEPACKET) !== (b.flags & K.IP_VS_SVC_F_ONEPACKET)) out.push('onePacket');
  if ((a.flags & SCHEDULER_FLAG_BITS) !== (b.flags & SCHEDULER_FLAG_BITS)) out.push('schedulerFlags');
  return out;
}

const tunnels = (d: RawDestSpec) => (d.fwdMethod & K.IP_VS_CONN_F_FWD_MASK) === K.IP_VS_CONN_F_TUNNEL;

/**
 * The settings in which two specs of the same destination differ, in the
 * facade's words. The tunnel's settings count only when it tunnels.
 */
export function destinationDifferences(a: RawDestSpec, b: RawDestSpec): DestinationField[] {
  const out: DestinationField[] = [];
  if ((a.fwdMethod & K.IP_VS_CONN_F_FWD_MASK) !== (b.fwdMethod & K.IP_VS_CONN_F_FWD_MASK)) out.push('forwarding');
  if (a.weight !== b.weight) out.push('weight');
  if (a.uThreshold !== b.uThreshold) out.push('upperThreshold');
  if (a.lThreshold !== b.lThreshold) out.push('lowerThreshold');
  if (tunnels(a) && tunnels(b) && (a.tunType !== b.tunType || a.tunPort !== b.tunPort || a.tunFlags !== b.tunFlags)) {
    out.push('tunnel');
  }
  return out;
}
