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
  serviceKey,
  type Change,
  undoOf,
  type Step,
} from './batch.js';
import {
  destinationSpecFromRaw,
  destinationSpecToRaw,
  plainDestinationToRaw,
  type DestinationSpec,
} from './destination.js';
import { drain, drainOps, drainRequest } from './drain.js';
import { IpvsError } from './errors.js';
import type { RawDestSpec, RawServiceKey, RawServiceSpec } from './native.js';
import type { RawIpvs } from './raw.js';
import {
  DESIRED_SERVICE_FIELDS,
  plainServiceToRaw,
  serviceSpecFromRaw,
  serviceSpecToRaw,
  type ServiceSpec,
} from './service.js';
import {
  D,
  DEST_COLUMN as DV,
  destinationAt,
  emptyService,
  S,
  SERVICE_COLUMN as SV,
  type PackedSnapshot,
} from './snapshot.js';
import { canonicalAddress } from './address.js';
import { K } from './constants.js';
import {
  destinationDifferenceBits,
  destinationDifferences,
  destinationId,
  destinationIdOf,
  emptyDestination,
  serviceAt,
  serviceDifferenceBits,
  serviceDifferences,
  serviceId,
  serviceInto,
  tableOfPacked,
  type TableService,
} from './table.js';
import { runNow, runSliced, SLICE_ENTRIES, type Sliced } from './slice.js';
import { describe, integer, invalidType, knownKeys, object, outOfRange } from './validate.js';

/** A service of a desired state: a service spec and its destinations (all of them: others are deleted). */
export type DesiredService = ServiceSpec & {
  /** Every destination the service should have (none when absent). */
  destinations?: DestinationSpec[];
};

/**
 * What the table should hold: every service (unless applied with
 * `onlyListed`), each with every destination. The JSON Schema of it ships
 * in the package (`schema/desired-state.schema.json`).
 */
export interface DesiredState {
  /** Every service the table should hold (with `onlyListed`: the ones to change). */
  services: DesiredService[];
}

/** What `plan()` takes. */
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
  /** The changes, in the order they are applied. */
  readonly changes: readonly Change[];
  /** How many changes of each action. */
  readonly summary: {
    /** Services and destinations to add. */
    add: number;
    /** Services and destinations to edit in place. */
    edit: number;
    /** Services and destinations to delete. */
    delete: number;
  };
}

/**
 * A service of a desired state, validated: its raw spec, its destinations
 * in the document's order (raw, and the specs as given: a change's
 * `after`), and the document's service as given. The destinations by key
 * (`destinations`, as a table holds them) are made when first asked for:
 * a table that lists them as the document has them compares without keys.
 */
class Wanted implements TableService {
  #byKey: Map<string, RawDestSpec> | undefined;
  #specByKey: Map<string, DestinationSpec> | undefined;

  constructor(
    readonly raw: RawServiceSpec,
    readonly document: Record<string, unknown>,
    readonly specs: unknown[],
    readonly list: RawDestSpec[],
  ) {}

  /** Destination `k`'s key as text (its address's canonical text made once per address). */
  keyAt(k: number): string {
    const dest = this.list[k]!;
    return destinationIdOf(canonicalAddress((this.specs[k] as { address: string }).address)!, dest.af, dest.port);
  }

  get destinations(): Map<string, RawDestSpec> {
    if (this.#byKey === undefined) {
      const byKey = new Map<string, RawDestSpec>();
      for (let k = 0; k < this.list.length; k++) byKey.set(this.keyAt(k), this.list[k]!);
      this.#byKey = byKey;
    }
    return this.#byKey;
  }

  /** A destination's spec as the document gave it, by key. */
  specOf(key: string): DestinationSpec {
    if (this.#specByKey === undefined) {
      // The keys `destinations` made, in the document's order.
      const byKey = new Map<string, DestinationSpec>();
      let k = 0;
      for (const key of this.destinations.keys()) byKey.set(key, this.specs[k++] as DestinationSpec);
      this.#specByKey = byKey;
    }
    return this.#specByKey.get(key)!;
  }

  /** The service's spec as the document gave it, without its destinations. */
  serviceSpec(): ServiceSpec {
    const { destinations: _destinations, ...spec } = this.document;
    return spec as unknown as ServiceSpec;
  }
}

/** A desired state, validated: its table, each service with its specs as given. */
interface Desired {
  table: Map<string, Wanted>;
  onlyListed: boolean;
}

/**
 * The table a plan was made from: its snapshot, each service's key as text
 * (by position), and the services the plan changes. The read-back after an
 * apply compares again only what is not as it was (sameServiceAt).
 */
interface PlannedFrom {
  snapshot: PackedSnapshot;
  ids: string[];
  touched: Set<string>;
}

/**
 * A plan's steps, the last of them made as they are needed: the destinations
 * of the services a plan adds (from an empty table, nearly all of its steps)
 * become steps as apply() reaches them, each part while the part before it is
 * sent. `fill(n)` makes at least the first n (or all there are); `total`
 * counts them all; `filled` resolves once all are made.
 */
export interface PlanSteps {
  readonly steps: Step[];
  readonly total: number;
  fill(upTo: number): void;
  readonly filled: Promise<void>;
}

/** What apply() needs of a plan that plan() made: its steps, and what to check afterwards. */
const PLANS = new WeakMap<Plan, { lazy: PlanSteps; desired: Desired; from: PlannedFrom }>();

const DOCUMENT_FIELDS = ['services', '$schema'];

/** A validation error of an entry, saying where the entry is in the document. */
function located(where: string, e: unknown): unknown {
  if (e instanceof RangeError) return outOfRange(`${where}: ${e.message}`);
  if (e instanceof TypeError) return invalidType(`${where}: ${e.message}`);
  return e;
}

/** Beyond this many destinations a service's are told apart by key, not pair by pair. */
const PAIRWISE = 16;

/**
 * The first destination of a wanted service whose key an earlier one has,
 * or -1. A few are compared pair by pair, with no key as text; more by key.
 */
function repeatedAt(want: Wanted): number {
  const list = want.list;
  if (list.length > PAIRWISE) {
    const seen = new Set<string>();
    for (let k = 0; k < list.length; k++) {
      const key = want.keyAt(k);
      if (seen.has(key)) return k;
      seen.add(key);
    }
    return -1;
  }
  for (let k = 1; k < list.length; k++) {
    const a = list[k]!;
    for (let m = 0; m < k; m++) {
      const b = list[m]!;
      if (a.port === b.port && a.af === b.af && (a.addr === b.addr || sameBytes(a.addr, 0, b.addr, 0, 16))) return k;
    }
  }
  return -1;
}

/**
 * Validates a desired-state document with the facade's validators (and
 * their messages, prefixed with where the entry is: `services[2].destinations[0]:`).
 * TypeError or RangeError for anything it would refuse; nothing is sent.
 */
export function validateDesired(document: unknown, options: PlanOptions = {}): Desired {
  return runNow(validating(document, options));
}

/** validateDesired, in slices. */
export function* validating(document: unknown, options: PlanOptions = {}): Sliced<Desired> {
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
  const table = new Map<string, Wanted>();
  const seenAt = new Map<string, number>();
  const list = doc.services as unknown[];
  let work = 0;
  for (let i = 0; i < list.length; i++) {
    // Where an entry is (`services[2].destinations[0]`) goes into a message
    // only when it is refused, and nothing is made per entry that the plan
    // does not keep: documents hold tens of thousands of destinations.
    let svc: Record<string, unknown>;
    let raw: RawServiceSpec;
    try {
      svc = object('service', list[i]);
      // The common spec the short way; anything else (or wrong) the facade's.
      raw = plainServiceToRaw(svc) ?? serviceSpecToRaw(svc as unknown as ServiceSpec, DESIRED_SERVICE_FIELDS);
    } catch (e) {
      throw located(`services[${i}]`, e);
    }
    const id = serviceId(raw);
    const before = seenAt.get(id);
    if (before !== undefined) {
      throw outOfRange(`services[${i}]: service ${id} is listed twice (also services[${before}])`);
    }
    seenAt.set(id, i);
    const dests = svc.destinations;
    if (dests !== undefined && !Array.isArray(dests)) {
      throw invalidType(`services[${i}].destinations must be an array, got ${describe(dests)}`);
    }
    const destList = (dests as unknown[] | undefined) ?? [];
    const inOrder: RawDestSpec[] = new Array(destList.length);
    for (let j = 0; j < destList.length; j++) {
      if (++work >= SLICE_ENTRIES) {
        work = 0;
        yield;
      }
      const d = destList[j];
      // The common spec the short way; anything else (or wrong) the facade's.
      let dest = plainDestinationToRaw(d, raw);
      if (dest === undefined) {
        try {
          dest = destinationSpecToRaw(object('destination', d) as unknown as DestinationSpec, raw);
        } catch (e) {
          throw located(`services[${i}].destinations[${j}]`, e);
        }
      }
      inOrder[j] = dest;
    }
    const want = new Wanted(raw, svc, destList, inOrder);
    const twice = repeatedAt(want);
    if (twice >= 0) {
      const key = want.keyAt(twice);
      throw outOfRange(`services[${i}].destinations[${twice}]: destination ${key} of ${id} is listed twice`);
    }
    table.set(id, want);
    if (++work >= SLICE_ENTRIES) {
      work = 0;
      yield;
    }
  }
  return { table, onlyListed: o.onlyListed === true };
}

/** The text of each destination key of a snapshot, by index; IPv4 keys are made once per address and port. */
function destinationIds(p: PackedSnapshot): (j: number) => string {
  const v4 = new Map<number, string>();
  const a = p.destAddrs;
  return (j) => {
    const af = p.dests[j * D + DV.af]!;
    const port = p.dests[j * D + DV.port]!;
    if (af === K.AF_INET6) return destinationId({ af, addr: a.subarray(j * 16, j * 16 + 16), port });
    const at = j * 16;
    const key = ((a[at]! << 24) | (a[at + 1]! << 16) | (a[at + 2]! << 8) | a[at + 3]!) * 65536 + port;
    let text = v4.get(key);
    if (text === undefined) v4.set(key, (text = `${a[at]}.${a[at + 1]}.${a[at + 2]}.${a[at + 3]}:${port}`));
    return text;
  };
}

// The configuration columns of a destination row (not its connection counts).
const DEST_CONFIG = [
  DV.af,
  DV.port,
  DV.fwdMethod,
  DV.weight,
  DV.uThreshold,
  DV.lThreshold,
  DV.tunType,
  DV.tunPort,
  DV.tunFlags,
] as const;

function sameBytes(a: Uint8Array, at: number, b: Uint8Array, bt: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[at + k] !== b[bt + k]) return false;
  return true;
}

/**
 * Whether service `i` of `p` is configured exactly as service `i` of `q`:
 * the same key, settings and destinations in the same order (counters and
 * connection counts aside). The kernel lists an unchanged table in the same
 * order, so after an apply most services compare so, without a lookup.
 */
function sameServiceAt(p: PackedSnapshot, q: PackedSnapshot, i: number): boolean {
  const at = i * S;
  const a = p.services;
  const b = q.services;
  for (let k = 0; k < S; k++) {
    if (k === SV.scheduler || k === SV.pe) continue;
    if (a[at + k] !== b[at + k]) return false;
  }
  if (p.schedulers[a[at + SV.scheduler]!] !== q.schedulers[b[at + SV.scheduler]!]) return false;
  if (p.engines[a[at + SV.pe]!] !== q.engines[b[at + SV.pe]!]) return false;
  if (!sameBytes(p.serviceAddrs, i * 16, q.serviceAddrs, i * 16, 16)) return false;
  const first = p.destOffsets[i]!;
  const count = p.destOffsets[i + 1]! - first;
  const other = q.destOffsets[i]!;
  if (q.destOffsets[i + 1]! - other !== count) return false;
  for (let j = 0; j < count; j++) {
    const x = (first + j) * D;
    const y = (other + j) * D;
    for (const c of DEST_CONFIG) if (p.dests[x + c] !== q.dests[y + c]) return false;
    if (!sameBytes(p.destAddrs, (first + j) * 16, q.destAddrs, (other + j) * 16, 16)) return false;
  }
  return true;
}

/**
 * Whether destinations `first` to `last` of `p` are `list`, position by
 * position, in its order or in reverse: the same keys, configured alike.
 * The kernel lists a service's destinations last added first, so a table
 * made from a document (or left as it was) mostly compares so, with no key
 * as text and no lookup; anything else is compared by key.
 */
function sameDestinationsAt(p: PackedSnapshot, first: number, last: number, list: RawDestSpec[], dest: RawDestSpec) {
  const n = list.length;
  if (last - first !== n) return false;
  if (n === 0) return true;
  const reversed = !sameDestinationAt(p, first, list[0]!, dest);
  for (let k = 0; k < n; k++) {
    if (!sameDestinationAt(p, first + k, list[reversed ? n - 1 - k : k]!, dest)) return false;
  }
  return true;
}

/** Whether destination `j` of `p` is `want`: the same key, configured alike (`dest` is scratch). */
function sameDestinationAt(p: PackedSnapshot, j: number, want: RawDestSpec, dest: RawDestSpec): boolean {
  destinationAt(p, j, dest, false);
  if (dest.af !== want.af || dest.port !== want.port || destinationDifferenceBits(dest, want) !== 0) return false;
  return sameBytes(p.destAddrs, j * 16, want.addr, 0, 16);
}

/**
 * The steps from the table in `p` to `desired`: destination deletes, service
 * deletes, service edits, service adds, destination edits, destination adds.
 * A service or destination whose key stays is edited in place. Read straight
 * from the snapshot's columns: an entry becomes an object only when it
 * changes (a plan of a large table that differs little, and every read-back,
 * compare tens of thousands of entries). With `from` (the table the plan was
 * made from: a read-back), a service the plan did not change and that is as
 * it was then needs no steps now either, and is not compared again. `ids`,
 * when given, receives each service's key as text, by position.
 */
function* stepsFrom(
  p: PackedSnapshot,
  desired: Desired,
  from?: PlannedFrom,
  ids?: string[],
  summary?: Plan['summary'],
  added?: [Wanted, string][],
): Sliced<Step[]> {
  const deleteDests: Step[] = [];
  const deleteServices: Step[] = [];
  const editServices: Step[] = [];
  const addServices: Step[] = [];
  const editDests: Step[] = [];
  const addDests: Step[] = [];
  const destId = destinationIds(p);
  const seen = new Set<string>();
  const dest = emptyDestination();
  // Each service read into one record; one of its own (`have`) only for a step.
  const current = emptyService();
  const unchanged = from === undefined ? 0 : Math.min(p.serviceCount, from.snapshot.serviceCount);
  let work = 0;
  for (let i = 0; i < p.serviceCount; i++) {
    // Each service and its destinations count as entries of a slice.
    work += 1 + p.destOffsets[i + 1]! - p.destOffsets[i]!;
    if (work >= SLICE_ENTRIES) {
      work = 0;
      yield;
    }
    if (i < unchanged && !from!.touched.has(from!.ids[i]!) && sameServiceAt(p, from!.snapshot, i)) {
      seen.add(from!.ids[i]!);
      continue;
    }
    const id = serviceId(serviceInto(p, i, current));
    if (ids) ids[i] = id;
    const want = desired.table.get(id);
    const first = p.destOffsets[i]!;
    const last = p.destOffsets[i + 1]!;
    let have: RawServiceSpec | undefined;
    if (want === undefined) {
      if (desired.onlyListed) continue;
      const dests: RawDestSpec[] = [];
      for (let j = first; j < last; j++) dests.push(destinationAt(p, j, emptyDestination(), true));
      deleteServices.push(deleteServiceStep(serviceAt(p, i), dests));
      continue;
    }
    seen.add(id);
    if (serviceDifferenceBits(current, want.raw) !== 0) {
      have = serviceAt(p, i);
      editServices.push(editServiceStep(have, want.raw, serviceDifferences(have, want.raw), want.serviceSpec()));
    }
    if (sameDestinationsAt(p, first, last, want.list, dest)) continue;
    let matched = 0;
    for (let j = first; j < last; j++) {
      destinationAt(p, j, dest, false);
      const key = destId(j);
      const wanted = want.destinations.get(key);
      if (wanted === undefined) {
        have ??= serviceAt(p, i);
        deleteDests.push(deleteDestinationStep(have, destinationAt(p, j, emptyDestination(), true)));
        continue;
      }
      matched++;
      if (destinationDifferenceBits(dest, wanted) !== 0) {
        have ??= serviceAt(p, i);
        const before = destinationAt(p, j, emptyDestination(), true);
        const fields = destinationDifferences(dest, wanted);
        editDests.push(editDestinationStep(have, before, wanted, fields, want.specOf(key)));
      }
    }
    if (matched < want.destinations.size) {
      const present = new Set<string>();
      for (let j = first; j < last; j++) present.add(destId(j));
      const key = serviceKey(want.raw);
      let k = 0;
      want.destinations.forEach((d, destKey) => {
        const spec = want.specs[k++] as DestinationSpec;
        if (!present.has(destKey)) addDests.push(addDestinationStep(want.raw, d, spec, key, id));
      });
    }
  }
  for (const [id, want] of desired.table) {
    if (seen.has(id)) continue;
    if (++work >= SLICE_ENTRIES) {
      work = 0;
      yield;
    }
    addServices.push(addServiceStep(want.raw, want.serviceSpec()));
    if (added) {
      // Its destinations' adds come last, in this order: made when apply() reaches them.
      added.push([want, id]);
      continue;
    }
    addedDestinationSteps(want, id, addDests);
  }
  if (summary) {
    summary.add = addServices.length + addDests.length;
    for (const [want] of added ?? []) summary.add += want.list.length;
    summary.edit = editServices.length + editDests.length;
    summary.delete = deleteServices.length + deleteDests.length;
  }
  return deleteDests.concat(deleteServices, editServices, addServices, editDests, addDests);
}

/**
 * The steps that add every destination of a service the plan adds (`id`: its
 * key as text), in the document's order, onto `into`; the service's raw key
 * made once for all of them, and each change made only if it is read.
 */
function addedDestinationSteps(want: Wanted, id: string, into: Step[]): void {
  const key = serviceKey(want.raw);
  for (let k = 0; k < want.list.length; k++) {
    into.push(addDestinationStep(want.raw, want.list[k]!, want.specs[k] as DestinationSpec, key, id));
  }
}

const CHANGES = new WeakMap<readonly Step[], readonly Change[]>();

/** The changes of steps, made once (each step makes its own once, too). */
function changesOf(steps: readonly Step[]): readonly Change[] {
  let changes = CHANGES.get(steps);
  if (changes === undefined) CHANGES.set(steps, (changes = Object.freeze(steps.map((s) => s.change))));
  return changes;
}

/** The plan from a snapshot of the table to a desired state (validated). */
export function planFrom(snapshot: PackedSnapshot, desired: Desired): Plan {
  return runNow(planning(snapshot, desired));
}

/** planFrom, in slices. */
export function* planning(snapshot: PackedSnapshot, desired: Desired): Sliced<Plan> {
  const ids: string[] = new Array(snapshot.serviceCount);
  const summary = { add: 0, edit: 0, delete: 0 };
  const added: [Wanted, string][] = [];
  const steps = yield* stepsFrom(snapshot, desired, undefined, ids, summary, added);
  const touched = new Set<string>();
  let last: string | undefined;
  // A service's steps mostly come one after another. The destinations of the
  // services it adds are not steps yet, but each such service has its own step.
  for (const s of steps) if (s.serviceText !== last) touched.add((last = s.serviceText));
  let next = 0;
  let done!: () => void;
  const lazy: PlanSteps = {
    steps,
    total: summary.add + summary.edit + summary.delete,
    fill(upTo) {
      // A whole service at a time.
      while (steps.length < upTo && next < added.length) {
        const [want, id] = added[next++]!;
        addedDestinationSteps(want, id, steps);
      }
      if (next === added.length) done();
    },
    filled: new Promise<void>((resolve) => (done = resolve)),
  };
  if (added.length === 0) done();
  const plan: Plan = Object.freeze({
    // Made when first read: apply() gives them back, and a caller may never look.
    get changes() {
      lazy.fill(lazy.total);
      return changesOf(steps);
    },
    summary,
  });
  PLANS.set(plan, { lazy, desired, from: { snapshot, ids, touched } });
  return plan;
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
  /**
   * Remove destinations gracefully, as kube-proxy does: a destination to be
   * deleted (alone or with its service) is set to weight 0 with the other
   * changes, all or nothing; then each waits, concurrently, until the
   * connection table holds nothing for it (Ipvs.drain), and is deleted; then
   * the services to be deleted go. `timeout` (ms, default 300000) and
   * `interval` as drain() takes them. When a drain times out, apply rejects
   * with ETIMEDOUT naming what stays at weight 0; every other change is made.
   */
  drain?: {
    /** Milliseconds to wait for each destination's connections to go (default 300000). */
    timeout?: number;
    /** Milliseconds between two reads of the counts (default 1000). */
    interval?: number;
  };
}

/** What apply() did. */
export interface ApplyResult {
  /** The plan's changes: made, or (dryRun) to be made. */
  changes: readonly Change[];
  /** How many changes of each action. */
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

const APPLY_FIELDS = ['onlyListed', 'dryRun', 'maxChanges', 'signal', 'onProgress', 'drain'];

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
  if (o.drain !== undefined) {
    const d = object('options.drain', o.drain);
    knownKeys('options.drain', d, ['timeout', 'interval']);
    drainRequest({ ...(d as { timeout?: number; interval?: number }) }); // validates them as drain() does
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidType(`options.onProgress must be a function, got ${describe(o.onProgress)}`);
  }
  return options;
}

/** The plan's steps and desired state, for a plan that plan() made. */
export function planParts(plan: Plan): { lazy: PlanSteps; desired: Desired } | undefined {
  return PLANS.get(plan);
}

/** Steps per native call when progress is reported: it is reported between them. */
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
  const { lazy } = parts;
  if (options.maxChanges !== undefined && lazy.total > options.maxChanges) {
    throw new IpvsError(
      'apply',
      osConstants.errno.E2BIG,
      `the plan has ${lazy.total} changes, more than maxChanges (${options.maxChanges}): nothing was changed`,
      undefined,
      false,
    );
  }
  if (options.dryRun) return resultOf(plan, false, []);
  // Without onProgress, the calls grow (runSteps): an abort still stops each between windows.
  const run = {
    op: 'apply',
    signal: options.signal,
    chunk: options.onProgress ? CHUNK : undefined,
    onProgress: options.onProgress,
  };
  if (options.drain === undefined) {
    await runSteps(raw, lazy.steps, run, lazy);
  } else {
    lazy.fill(lazy.total);
    await applyDraining(raw, lazy.steps, options.drain, run);
  }
  let snapshot: PackedSnapshot;
  try {
    snapshot = await takeSnapshot();
  } catch (e) {
    // The changes are in: say so, rather than let the failure read as a refusal.
    const c = e instanceof IpvsError ? e : undefined;
    throw new IpvsError(
      'apply',
      c?.errno ?? osConstants.errno.EIO,
      `every change was made, but reading the table back failed (${c?.message ?? String(e)}): drift unknown`,
      undefined,
      false,
    );
  }
  const after = await runSliced(stepsFrom(snapshot, parts.desired, parts.from));
  return resultOf(
    plan,
    true,
    after.map((s) => s.change),
  );
}

/** What apply() gives back: the plan's changes made when first read, as the plan's are. */
function resultOf(plan: Plan, applied: boolean, drift: readonly Change[]): ApplyResult {
  return {
    get changes() {
      return plan.changes;
    },
    summary: plan.summary,
    applied,
    drift,
  };
}

/** A destination to drain: its service's key and its spec before. */
interface Draining {
  service: RawServiceKey;
  dest: RawDestSpec;
}

/**
 * apply() with drain: every other change, and weight 0 for each destination
 * that goes, all or nothing; then the drains, together; then the services
 * that go.
 */
async function applyDraining(
  raw: RawIpvs,
  steps: readonly Step[],
  drainOptions: { timeout?: number; interval?: number },
  run: Parameters<typeof runSteps>[2],
): Promise<void> {
  const draining: Draining[] = [];
  const serviceDeletes: Step[] = [];
  const now: Step[] = [];
  const quiesce = (service: RawServiceKey, dest: RawDestSpec) => {
    draining.push({ service, dest });
    if (dest.weight !== 0) now.push(editDestinationStep(service, dest, { ...dest, weight: 0 }, ['weight']));
  };
  for (const step of steps) {
    const c = step.command;
    if (c.op === 'deleteDestination') {
      quiesce(c.service, c.dest as RawDestSpec);
    } else if (c.op === 'deleteService') {
      serviceDeletes.push(step);
      for (const u of undoOf(step)) if (u.op === 'addDestination') quiesce(c.service, u.dest);
    } else {
      now.push(step);
    }
  }
  await runSteps(raw, now, run);
  const request = drainRequest({ ...drainOptions, remove: true, ...(run.signal ? { signal: run.signal } : {}) });
  const outcomes = await Promise.allSettled(draining.map((d) => drain(drainOps(raw), d.service, d.dest, request)));
  const stuck = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ d: draining[i]!, error: o.reason }] : []));
  if (stuck.length > 0) {
    const names = stuck.map(({ d, error }) => {
      const why = error instanceof Error ? error.message : String(error);
      return `${serviceId(d.service)} -> ${destinationId(d.dest)} (${why})`;
    });
    const first = stuck[0]!.error;
    const errno = first instanceof IpvsError ? first.errno : osConstants.errno.ETIMEDOUT;
    const services = serviceDeletes.map((s) => (s.change as { service: string }).service);
    throw new IpvsError(
      'apply',
      errno,
      `every change but ${stuck.length === 1 ? 'one drain' : `${stuck.length} drains`} was made; ` +
        `these destinations stay, at weight 0: ${names.join('; ')}` +
        (services.length > 0 ? `; these services were not deleted: ${services.join(', ')}` : ''),
      undefined,
      false,
    );
  }
  await runSteps(raw, serviceDeletes, run);
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
  return runNow(exporting(snapshot));
}

/** exportState, in slices. */
export function* exporting(snapshot: PackedSnapshot): Sliced<DesiredState> {
  const table = yield* tableOfPacked(snapshot);
  const services = [...table.values()].sort((a, b) => compareServices(a.raw, b.raw));
  const specs: DesiredService[] = new Array(services.length);
  let work = 0;
  for (let i = 0; i < services.length; i++) {
    const { raw, destinations } = services[i]!;
    work += 1 + destinations.size;
    if (work >= SLICE_ENTRIES) {
      work = 0;
      yield;
    }
    const dests = [...destinations.values()].sort(
      (a, b) => a.af - b.af || compareBytes(a.addr, b.addr) || a.port - b.port,
    );
    const spec: DesiredService = serviceSpecFromRaw(raw);
    spec.destinations = dests.map(destinationSpecFromRaw);
    specs[i] = spec;
  }
  return { services: specs };
}
