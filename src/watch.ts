// Watching a table: successive packed snapshots compared configuration to
// configuration (table.ts), each difference an event in the facade's words,
// so a program can react to what other tools do to the table. Counters and
// connection counts change all the time and are not events.
import { destinationSpecFromRaw, type DestinationKey, type DestinationSpec } from './destination.js';
import type { RawDestSpec, RawServiceSpec } from './native.js';
import { serviceSpecFromRaw, type ServiceKey, type ServiceSpec } from './service.js';
import { runSliced } from './slice.js';
import { D, DEST_COLUMN, type PackedSnapshot } from './snapshot.js';
import {
  destinationDifferences,
  serviceDifferences,
  tableOfPacked,
  type DestinationField,
  type ServiceField,
  type Table,
} from './table.js';

/** A service that appeared. Its destinations follow as events of their own. */
export interface ServiceAdded {
  /** What happened: `service-added`. */
  type: 'service-added';
  /** The service. */
  service: ServiceKey;
  /** What it is now. */
  after: ServiceSpec;
}

/** A service that went away. Its destinations' removals come before it. */
export interface ServiceRemoved {
  /** What happened: `service-removed`. */
  type: 'service-removed';
  /** The service. */
  service: ServiceKey;
  /** What it was. */
  before: ServiceSpec;
}

/** A service whose settings changed: `fields` names them. */
export interface ServiceChanged {
  /** What happened: `service-changed`. */
  type: 'service-changed';
  /** The service. */
  service: ServiceKey;
  /** The settings that changed. */
  fields: ServiceField[];
  /** What it was. */
  before: ServiceSpec;
  /** What it is now. */
  after: ServiceSpec;
}

/** A destination that appeared (after its service, if that is new too). */
export interface DestinationAdded {
  /** What happened: `destination-added`. */
  type: 'destination-added';
  /** Its service. */
  service: ServiceKey;
  /** The destination. */
  destination: DestinationKey;
  /** What it is now. */
  after: DestinationSpec;
}

/** A destination that went away (before its service, if that goes too). */
export interface DestinationRemoved {
  /** What happened: `destination-removed`. */
  type: 'destination-removed';
  /** Its service. */
  service: ServiceKey;
  /** The destination. */
  destination: DestinationKey;
  /** What it was. */
  before: DestinationSpec;
}

/** A destination whose settings changed: `fields` names them. */
export interface DestinationChanged {
  /** What happened: `destination-changed`. */
  type: 'destination-changed';
  /** Its service. */
  service: ServiceKey;
  /** The destination. */
  destination: DestinationKey;
  /** The settings that changed. */
  fields: DestinationField[];
  /** What it was. */
  before: DestinationSpec;
  /** What it is now. */
  after: DestinationSpec;
}

/**
 * One change of a table. Applied in order to the table they were derived
 * from, a snapshot's events make the next snapshot's table: a service is
 * added before its destinations, and removed after them.
 */
export type WatchEvent =
  ServiceAdded | ServiceRemoved | ServiceChanged | DestinationAdded | DestinationRemoved | DestinationChanged;

/** What `Ipvs.watch()` takes; every field is optional. */
export interface WatchOptions {
  /** Milliseconds between the starts of two snapshots, 1..2147483647; default 1000. */
  interval?: number;
  /** Ends the iteration (without an error), and a snapshot in progress. */
  signal?: AbortSignal;
  /**
   * Whether the first snapshot's table comes as events (every service and
   * destination added) before its changes; default false: only changes
   * after the first snapshot.
   */
  initial?: boolean;
  /** Sockets to spread destination dumps over, 1..16 (default: up to 4, one per core). */
  poolSize?: number;
}

/** The key fields of a service spec. */
function serviceKey(spec: ServiceSpec): ServiceKey {
  return 'fwmark' in spec
    ? { fwmark: spec.fwmark, family: spec.family ?? 'inet' }
    : { protocol: spec.protocol, address: spec.address, port: spec.port };
}

function destinationKey(spec: DestinationSpec): DestinationKey {
  return { address: spec.address, port: spec.port };
}

/**
 * The events that make table `a` into table `b`: first the services of `a`
 * that `b` lacks (each after its destinations' removals), then, in `b`'s
 * order, each service added (then its destinations) or changed (then its
 * destinations removed, changed and added).
 */
export function tableChanges(a: Table, b: Table): WatchEvent[] {
  const events: WatchEvent[] = [];
  const serviceSpec = (raw: RawServiceSpec) => serviceSpecFromRaw(raw);
  const destinationEvent = (
    type: 'destination-added' | 'destination-removed',
    service: ServiceKey,
    raw: RawDestSpec,
  ): WatchEvent => {
    const spec = destinationSpecFromRaw(raw);
    const destination = destinationKey(spec);
    return type === 'destination-added'
      ? { type, service, destination, after: spec }
      : { type, service, destination, before: spec };
  };
  for (const [id, old] of a) {
    if (b.has(id)) continue;
    const before = serviceSpec(old.raw);
    const service = serviceKey(before);
    for (const d of old.destinations.values()) events.push(destinationEvent('destination-removed', service, d));
    events.push({ type: 'service-removed', service, before });
  }
  for (const [id, now] of b) {
    const old = a.get(id);
    const after = serviceSpec(now.raw);
    const service = serviceKey(after);
    if (!old) {
      events.push({ type: 'service-added', service, after });
      for (const d of now.destinations.values()) events.push(destinationEvent('destination-added', service, d));
      continue;
    }
    const fields = serviceDifferences(old.raw, now.raw);
    if (fields.length > 0)
      events.push({ type: 'service-changed', service, fields, before: serviceSpec(old.raw), after });
    for (const [key, d] of old.destinations) {
      if (!now.destinations.has(key)) events.push(destinationEvent('destination-removed', service, d));
    }
    for (const [key, d] of now.destinations) {
      const was = old.destinations.get(key);
      if (!was) {
        events.push(destinationEvent('destination-added', service, d));
        continue;
      }
      const changed = destinationDifferences(was, d);
      if (changed.length === 0) continue;
      const before = destinationSpecFromRaw(was);
      const spec = destinationSpecFromRaw(d);
      events.push({
        type: 'destination-changed',
        service,
        destination: destinationKey(spec),
        fields: changed,
        before,
        after: spec,
      });
    }
  }
  return events;
}

const equal = (a: ArrayBufferView, b: ArrayBufferView) =>
  a.byteLength === b.byteLength &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sameNames = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((n, i) => n === b[i]);
const COUNTS = [DEST_COLUMN.activeConns, DEST_COLUMN.inactConns, DEST_COLUMN.persistConns];

/**
 * Whether two snapshots hold the same configuration in the same order,
 * compared column by column without building a table (what a watch does on
 * most ticks). Counters and connection counts are not compared. False only
 * means "compare the tables".
 */
export function sameConfiguration(a: PackedSnapshot, b: PackedSnapshot): boolean {
  if (a.serviceCount !== b.serviceCount || a.destinationCount !== b.destinationCount) return false;
  if (!equal(a.services, b.services) || !equal(a.destOffsets, b.destOffsets)) return false;
  if (!sameNames(a.schedulers, b.schedulers) || !sameNames(a.engines, b.engines)) return false;
  if (!equal(a.serviceAddrs, b.serviceAddrs) || !equal(a.destAddrs, b.destAddrs)) return false;
  const x = a.dests;
  const y = b.dests;
  for (let at = 0; at < x.length; at += D) {
    for (let k = 0; k < D; k++) if (x[at + k] !== y[at + k] && !COUNTS.includes(k)) return false;
  }
  return true;
}

/**
 * The events between successive snapshots of `snapshots` (with `initial`,
 * the first one's table as additions first). Builds a table only when a
 * snapshot's configuration differs from the one before. Stops yielding as
 * soon as `signal` aborts.
 */
export async function* tableEvents(
  snapshots: AsyncIterable<PackedSnapshot>,
  initial: boolean,
  signal?: AbortSignal,
): AsyncGenerator<WatchEvent, void, undefined> {
  let previous: PackedSnapshot | undefined;
  // The table of `previous`, once one was needed.
  let table: Table | undefined;
  for await (const next of snapshots) {
    let events: WatchEvent[] = [];
    if (previous === undefined) {
      if (initial) {
        table = await runSliced(tableOfPacked(next));
        events = tableChanges(new Map(), table);
      }
    } else if (!sameConfiguration(previous, next)) {
      const before = table ?? (await runSliced(tableOfPacked(previous)));
      table = await runSliced(tableOfPacked(next));
      events = tableChanges(before, table);
    }
    previous = next;
    for (const event of events) {
      if (signal?.aborted) return;
      yield event;
    }
  }
}
