// Declarative configuration: a desired state (a plain document of services
// and their destinations, the facade's own specs), the plan that makes the
// kernel's table equal to it (the fewest changes: edits in place wherever the
// kernel can edit, so counters and connections survive), and its application
// all or nothing (src/batch.ts), checked by reading the table back.
import { constants as osConstants } from 'node:os';

import {
  addDestinationStep,
  addServiceStep,
  deleteDestinationStep,
  deleteServiceStep,
  editDestinationStep,
  editServiceStep,
  runSteps,
  type Change,
  type Step,
} from './batch.js';
import { destinationSpecFromRaw, destinationSpecToRaw, type DestinationSpec } from './destination.js';
import { IpvsError } from './errors.js';
import type { RawDestSpec, RawServiceSpec } from './native.js';
import type { RawIpvs } from './raw.js';
import { serviceSpecFromRaw, serviceSpecToRaw, type ServiceSpec } from './service.js';
import type { PackedSnapshot } from './snapshot.js';
import {
  destinationDifferences,
  destinationId,
  serviceDifferences,
  serviceId,
  tableFromPacked,
  type Table,
} from './table.js';
import { describe, integer, invalidType, knownKeys, object, outOfRange } from './validate.js';

/** A service of a desired state: a service spec and its destinations (all of them: others are deleted). */
export type DesiredService = ServiceSpec & { destinations?: DestinationSpec[] };

/**
 * What the table should hold: every service (unless applied with
 * `onlyListed`), each with every destination. The JSON Schema of it ships
 * in the package (`schema/desired-state.schema.json`).
 */
export interface DesiredState {
  services: DesiredService[];
}

export interface PlanOptions {
  /**
   * Change only the services the document names (each with all its
   * destinations); leave every other service alone. Default false: the
   * document is the whole table, and services it does not name are deleted.
   */
  onlyListed?: boolean;
}

/** The changes that make the table equal to a desired state, in the order they are applied. */
export interface Plan {
  readonly changes: readonly Change[];
  /** How many changes of each action. */
  readonly summary: { add: number; edit: number; delete: number };
}

/** A desired state, validated: its table, and the specs as given (for the changes' `after`). */
interface Desired {
  table: Table;
  services: Map<string, ServiceSpec>;
  destinations: Map<string, Map<string, DestinationSpec>>;
  onlyListed: boolean;
}

/** What apply() needs of a plan that plan() made: its steps, and what to check afterwards. */
const PLANS = new WeakMap<Plan, { steps: Step[]; desired: Desired }>();

const DOCUMENT_FIELDS = ['services', '$schema'];

/** Re-throws a validation error of an entry with where it is in the document. */
function at<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw outOfRange(`${where}: ${e.message}`);
    if (e instanceof TypeError) throw invalidType(`${where}: ${e.message}`);
    throw e;
  }
}

/**
 * Validates a desired-state document with the facade's validators (and
 * their messages, prefixed with where the entry is: `services[2].destinations[0]:`).
 * TypeError or RangeError for anything it would refuse; nothing is sent.
 */
export function validateDesired(document: unknown, options: PlanOptions = {}): Desired {
  const o = object('options', options);
  knownKeys('options', o, ['onlyListed']);
  if (o.onlyListed !== undefined && typeof o.onlyListed !== 'boolean') {
    throw invalidType(`options.onlyListed must be a boolean, got ${describe(o.onlyListed)}`);
  }
  const doc = object('desired state', document);
  knownKeys('desired state', doc, DOCUMENT_FIELDS);
  if (!Array.isArray(doc.services)) {
    throw invalidType(`desired state.services must be an array of services, got ${describe(doc.services)}`);
  }
  const table: Table = new Map();
  const services = new Map<string, ServiceSpec>();
  const destinations = new Map<string, Map<string, DestinationSpec>>();
  const seenAt = new Map<string, number>();
  (doc.services as unknown[]).forEach((entry, i) => {
    const where = `services[${i}]`;
    const svc = at(where, () => object('service', entry));
    const { destinations: dests, ...spec } = svc;
    const raw = at(where, () => serviceSpecToRaw(spec as unknown as ServiceSpec));
    const id = serviceId(raw);
    const before = seenAt.get(id);
    if (before !== undefined) throw outOfRange(`${where}: service ${id} is listed twice (also services[${before}])`);
    seenAt.set(id, i);
    if (dests !== undefined && !Array.isArray(dests)) {
      throw invalidType(`${where}.destinations must be an array, got ${describe(dests)}`);
    }
    const byId = new Map<string, RawDestSpec>();
    const specs = new Map<string, DestinationSpec>();
    ((dests as unknown[] | undefined) ?? []).forEach((d, j) => {
      const whereDest = `${where}.destinations[${j}]`;
      const dest = at(whereDest, () =>
        destinationSpecToRaw(object('destination', d) as unknown as DestinationSpec, raw),
      );
      const destId = destinationId(dest);
      if (byId.has(destId)) throw outOfRange(`${whereDest}: destination ${destId} of ${id} is listed twice`);
      byId.set(destId, dest);
      specs.set(destId, d as DestinationSpec);
    });
    table.set(id, { raw, destinations: byId });
    services.set(id, spec as unknown as ServiceSpec);
    destinations.set(id, specs);
  });
  return { table, services, destinations, onlyListed: o.onlyListed === true };
}

/**
 * The steps from `current` to `desired`: destination deletes, service
 * deletes, service edits, service adds, destination edits, destination adds.
 * A service or destination whose key stays is edited in place.
 */
function stepsTo(current: Table, desired: Desired): Step[] {
  const deleteDests: Step[] = [];
  const deleteServices: Step[] = [];
  const editServices: Step[] = [];
  const addServices: Step[] = [];
  const editDests: Step[] = [];
  const addDests: Step[] = [];
  for (const [id, have] of current) {
    const want = desired.table.get(id);
    if (want === undefined) {
      if (!desired.onlyListed) deleteServices.push(deleteServiceStep(have.raw, have.destinations.values()));
      continue;
    }
    const fields = serviceDifferences(have.raw, want.raw);
    if (fields.length > 0) editServices.push(editServiceStep(have.raw, want.raw, fields, desired.services.get(id)));
    const specs = desired.destinations.get(id)!;
    for (const [destId, dest] of have.destinations) {
      const wanted = want.destinations.get(destId);
      if (wanted === undefined) {
        deleteDests.push(deleteDestinationStep(have.raw, dest));
        continue;
      }
      const destFields = destinationDifferences(dest, wanted);
      if (destFields.length > 0) {
        editDests.push(editDestinationStep(have.raw, dest, wanted, destFields, specs.get(destId)));
      }
    }
    for (const [destId, dest] of want.destinations) {
      if (!have.destinations.has(destId)) addDests.push(addDestinationStep(want.raw, dest, specs.get(destId)));
    }
  }
  for (const [id, want] of desired.table) {
    if (current.has(id)) continue;
    addServices.push(addServiceStep(want.raw, desired.services.get(id)));
    const specs = desired.destinations.get(id)!;
    for (const [destId, dest] of want.destinations) {
      addDests.push(addDestinationStep(want.raw, dest, specs.get(destId)));
    }
  }
  return [...deleteDests, ...deleteServices, ...editServices, ...addServices, ...editDests, ...addDests];
}

function planOf(steps: Step[], desired: Desired): Plan {
  const summary = { add: 0, edit: 0, delete: 0 };
  for (const s of steps) summary[s.change.action]++;
  const plan: Plan = Object.freeze({ changes: Object.freeze(steps.map((s) => s.change)), summary });
  PLANS.set(plan, { steps, desired });
  return plan;
}

/** The plan from a snapshot of the table to a desired state (validated). */
export function planFrom(snapshot: PackedSnapshot, desired: Desired): Plan {
  return planOf(stepsTo(tableFromPacked(snapshot), desired), desired);
}

/** Options of apply(). */
export interface ApplyOptions extends PlanOptions {
  /** Plan and report, change nothing. */
  dryRun?: boolean;
  /** Refuse (E2BIG, before anything changes) a plan of more changes than this. */
  maxChanges?: number;
  /** Aborts: the changes made so far are undone, and apply rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called as the changes go in: how many of how many are made. */
  onProgress?: (done: number, total: number) => void;
}

/** What apply() did. */
export interface ApplyResult {
  /** The plan's changes: made, or (dryRun) to be made. */
  changes: readonly Change[];
  summary: Plan['summary'];
  /** False for a dry run. */
  applied: boolean;
  /**
   * What still differs between the table read back afterwards and the
   * desired state, as the changes that would make it equal: another process
   * changed the table meanwhile. Empty when the table is as asked.
   */
  drift: readonly Change[];
}

const APPLY_FIELDS = ['onlyListed', 'dryRun', 'maxChanges', 'signal', 'onProgress'];

/** The validated options of apply(). */
export function applyOptions(options: ApplyOptions): ApplyOptions {
  const o = object('options', options);
  knownKeys('options', o, APPLY_FIELDS);
  for (const f of ['dryRun', 'onlyListed'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'boolean') {
      throw invalidType(`options.${f} must be a boolean, got ${describe(o[f])}`);
    }
  }
  if (o.maxChanges !== undefined) integer('options.maxChanges', o.maxChanges, 0, Number.MAX_SAFE_INTEGER);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidType(`options.onProgress must be a function, got ${describe(o.onProgress)}`);
  }
  return options;
}

/** The plan's steps and desired state, for a plan that plan() made. */
export function planParts(plan: Plan): { steps: Step[]; desired: Desired } | undefined {
  return PLANS.get(plan);
}

/** Steps per native call: progress and aborts are seen between them. */
const CHUNK = 4096;

/**
 * Applies a plan's steps all or nothing, then reads the table back and
 * reports what still differs from the desired state (drift).
 */
export async function applyPlan(
  raw: RawIpvs,
  plan: Plan,
  takeSnapshot: () => Promise<PackedSnapshot>,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const parts = PLANS.get(plan)!;
  if (options.maxChanges !== undefined && plan.changes.length > options.maxChanges) {
    throw new IpvsError(
      'apply',
      osConstants.errno.E2BIG,
      `the plan has ${plan.changes.length} changes, more than maxChanges (${options.maxChanges}): nothing was changed`,
      undefined,
      false,
    );
  }
  if (options.dryRun) return { changes: plan.changes, summary: plan.summary, applied: false, drift: [] };
  await runSteps(raw, parts.steps, {
    op: 'apply',
    signal: options.signal,
    chunk: CHUNK,
    onProgress: options.onProgress,
  });
  const after = stepsTo(tableFromPacked(await takeSnapshot()), parts.desired);
  return { changes: plan.changes, summary: plan.summary, applied: true, drift: after.map((s) => s.change) };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function compareServices(a: RawServiceSpec, b: RawServiceSpec): number {
  // Address services first, then fwmark services; each by family, protocol, address, port.
  return (
    Number(a.fwmark !== 0) - Number(b.fwmark !== 0) ||
    a.fwmark - b.fwmark ||
    a.af - b.af ||
    a.protocol - b.protocol ||
    compareBytes(a.addr, b.addr) ||
    a.port - b.port
  );
}

/**
 * The table as a desired-state document, in a stable order (services by
 * kind, family, protocol, address and port; destinations by address and
 * port): applying it to the same table changes nothing.
 */
export function exportState(snapshot: PackedSnapshot): DesiredState {
  const services = [...tableFromPacked(snapshot).values()].sort((a, b) => compareServices(a.raw, b.raw));
  return {
    services: services.map(({ raw, destinations }) => {
      const dests = [...destinations.values()].sort(
        (a, b) => a.af - b.af || compareBytes(a.addr, b.addr) || a.port - b.port,
      );
      const spec: DesiredService = serviceSpecFromRaw(raw);
      spec.destinations = dests.map(destinationSpecFromRaw);
      return spec;
    }),
  };
}
