// Canned packed snapshots for tests without a kernel: the table a kernel
// would list for given services and destinations, or for a desired state.
import { K } from '../../src/constants.js';
import type { RawDestSpec, RawServiceSpec } from '../../src/native.js';
import { validateDesired, type DesiredState } from '../../src/plan.js';
import { D, DEST_COLUMNS, packed, SERVICE_COLUMNS, type PackedSnapshot } from '../../src/snapshot.js';

/** A packed snapshot holding these services and destinations (zero counters). */
export function packedOf(entries: { service: RawServiceSpec; dests: RawDestSpec[] }[]): PackedSnapshot {
  const schedulers: string[] = [];
  const engines = [''];
  const intern = (list: string[], s: string) => (list.includes(s) ? list.indexOf(s) : list.push(s) - 1);
  const services: number[] = [];
  const dests: number[] = [];
  const offsets = [0];
  const serviceAddrs: number[] = [];
  const destAddrs: number[] = [];
  for (const { service: s, dests: ds } of entries) {
    const row: Record<string, number> = {
      ...s,
      flags: s.flags | K.IP_VS_SVC_F_HASHED,
      scheduler: intern(schedulers, s.scheduler),
      pe: intern(engines, s.pe),
    } as unknown as Record<string, number>;
    services.push(...SERVICE_COLUMNS.map((c) => row[c]!));
    serviceAddrs.push(...s.addr);
    for (const d of ds) {
      const drow = { ...d, activeConns: 0, inactConns: 0, persistConns: 0 } as unknown as Record<string, number>;
      dests.push(...DEST_COLUMNS.map((c) => drow[c]! >>> 0));
      destAddrs.push(...d.addr);
    }
    offsets.push(offsets[offsets.length - 1]! + ds.length);
  }
  const n = entries.length + dests.length / D;
  return packed({
    takenAt: 1n,
    counters: new BigUint64Array(n * 10),
    services: new Uint32Array(services),
    serviceAddrs: new Uint8Array(serviceAddrs),
    destOffsets: new Uint32Array(offsets),
    dests: new Uint32Array(dests),
    destAddrs: new Uint8Array(destAddrs),
    schedulers,
    engines,
  });
}

/** The table a desired state describes, as the kernel would list it. */
export function tableFor(doc: DesiredState): PackedSnapshot {
  const d = validateDesired(doc);
  return packedOf([...d.table.values()].map((s) => ({ service: s.raw, dests: [...s.destinations.values()] })));
}
