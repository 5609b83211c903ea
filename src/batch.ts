// Changes applied all or nothing: each change is a service or destination
// command with its undo, sent pipelined (many requests in flight on one
// socket, native/batch.h); on the first refusal every change already made is
// undone, in reverse, and the call rejects saying what was refused and in
// what state the table was left. Plans (src/plan.ts) and the facade's batch()
// both end here.
import { constants as osConstants } from 'node:os';

import {
  destinationKeyToRaw,
  destinationSpecFromRaw,
  destinationSpecToRaw,
  plainDestinationToRaw,
  type DestinationKey,
  type DestinationSpec,
} from './destination.js';
import { canonicalAddress } from './address.js';
import { abortError, ApplyError, errnoCode, IpvsError, type UndoFailure } from './errors.js';
import { K } from './constants.js';
import type { RawDestKey, RawDestSpec, RawServiceKey, RawServiceSpec } from './native.js';
import type { RawIpvs } from './raw.js';
import { serviceKeyToRaw, serviceSpecFromRaw, serviceSpecToRaw, type ServiceKey, type ServiceSpec } from './service.js';
import {
  destinationDifferences,
  destinationId,
  destinationIdOf,
  emptyDestination,
  serviceDifferences,
  serviceId,
  type DestinationField,
  type ServiceField,
  type Table,
} from './table.js';
import { runNow, runSliced, SLICE_ENTRIES, type Sliced } from './slice.js';
import { describe, invalidType, knownKeys, object, oneOf, outOfRange } from './validate.js';

/** One kernel command of a change, as the addon takes it; `op` is the facade's method name. */
export type RawCommand =
  | { op: 'addService' | 'editService'; service: RawServiceSpec }
  | { op: 'deleteService'; service: RawServiceKey }
  | { op: 'addDestination' | 'editDestination'; service: RawServiceKey; dest: RawDestSpec }
  | { op: 'deleteDestination'; service: RawServiceKey; dest: RawDestKey };

/** A change to a service. */
export interface ServiceChange {
  /** A change to a service. */
  kind: 'service';
  /** What is done to it. */
  action: 'add' | 'edit' | 'delete';
  /** The service, as text: `TCP 192.0.2.1:80`, `UDP [2001:db8::1]:53`, `FWM 5`. */
  service: string;
  /** What it was (edit, delete). */
  before?: ServiceSpec;
  /** What it becomes (add, edit). */
  after?: ServiceSpec;
  /** The settings an edit changes. */
  fields?: ServiceField[];
  /** The destinations a delete takes with it (the kernel deletes them with the service). */
  destinations?: DestinationSpec[];
}

/** A change to a destination of a service. */
export interface DestinationChange {
  /** A change to a destination. */
  kind: 'destination';
  /** What is done to it. */
  action: 'add' | 'edit' | 'delete';
  /** Its service, as text. */
  service: string;
  /** The destination, as text: `198.51.100.1:80`, `[2001:db8::2]:80`. */
  destination: string;
  /** What it was (edit, delete). */
  before?: DestinationSpec;
  /** What it becomes (add, edit). */
  after?: DestinationSpec;
  /** The settings an edit changes. */
  fields?: DestinationField[];
}

/** One change of a plan or batch, in the order it is applied. */
export type Change = ServiceChange | DestinationChange;

/**
 * A change with the command that makes it and the commands that undo it;
 * `undo` null: the add's inverse, a delete of the same key (undoOf), made
 * only if it is needed (a plan of tens of thousands of adds needs none).
 */
export interface Step {
  /** The change (made when first read, for the many destinations a plan adds). */
  readonly change: Change;
  readonly command: RawCommand;
  readonly undo: RawCommand[] | null;
  /** The change's service, without making the change. */
  readonly serviceText: string;
}

/** The commands that undo a step. */
export function undoOf(step: Step): RawCommand[] {
  if (step.undo !== null) return step.undo;
  const c = step.command;
  if (c.op === 'addService') return [{ op: 'deleteService', service: serviceKey(c.service) }];
  if (c.op === 'addDestination') return [{ op: 'deleteDestination', service: c.service, dest: c.dest }];
  throw new Error(`a ${c.op} step without its undo`);
}

// --- the steps of each kind of change -----------------------------------------

export function serviceKey(s: RawServiceKey): RawServiceKey {
  return { af: s.af, protocol: s.protocol, addr: s.addr, port: s.port, fwmark: s.fwmark };
}

export function addServiceStep(after: RawServiceSpec, spec?: ServiceSpec): Step {
  return stepOf(
    { kind: 'service', action: 'add', service: serviceId(after), after: spec ?? serviceSpecFromRaw(after) },
    { op: 'addService', service: after },
    null,
  );
}

/** A step whose change is made now. */
function stepOf(change: Change, command: RawCommand, undo: RawCommand[] | null): Step {
  return { change, command, undo, serviceText: change.service };
}

export function editServiceStep(
  before: RawServiceSpec,
  after: RawServiceSpec,
  fields: ServiceField[],
  spec?: ServiceSpec,
): Step {
  return stepOf(
    {
      kind: 'service',
      action: 'edit',
      service: serviceId(after),
      before: serviceSpecFromRaw(before),
      after: spec ?? serviceSpecFromRaw(after),
      fields,
    },
    { op: 'editService', service: after },
    [{ op: 'editService', service: before }],
  );
}

/** Deleting a service; its undo adds it back with `destinations`. */
export function deleteServiceStep(before: RawServiceSpec, destinations: Iterable<RawDestSpec>): Step {
  const dests = [...destinations];
  return stepOf(
    {
      kind: 'service',
      action: 'delete',
      service: serviceId(before),
      before: serviceSpecFromRaw(before),
      destinations: dests.map(destinationSpecFromRaw),
    },
    { op: 'deleteService', service: serviceKey(before) },
    [
      { op: 'addService', service: before },
      ...dests.map((dest): RawCommand => ({ op: 'addDestination', service: serviceKey(before), dest })),
    ],
  );
}

/**
 * Adding a destination: the step is its own command, and its change is
 * made when first read. A plan adds tens of thousands of destinations, and
 * apply() reads none of their changes; each would be an object and a key as
 * text, kept to the end.
 */
class AddDestinationStep implements Step {
  readonly op = 'addDestination';
  // A field, not a getter: the request writer reads it for every step, at
  // first in V8's interpreter, where a getter is a call.
  readonly command: RawCommand = this;
  #change: Change | undefined;

  constructor(
    readonly service: RawServiceKey,
    readonly dest: RawDestSpec,
    readonly serviceText: string,
    private readonly spec: DestinationSpec | undefined,
  ) {}

  get undo(): null {
    return null;
  }

  get change(): Change {
    return (this.#change ??= this.made());
  }

  /** The change, made anew unless it was made before; not kept. */
  made(): Change {
    return (
      this.#change ?? {
        kind: 'destination',
        action: 'add',
        service: this.serviceText,
        destination: destinationText(this.dest, this.spec),
        after: this.spec ?? destinationSpecFromRaw(this.dest),
      }
    );
  }
}

/**
 * A step's change for a caller that reads it once (a plan's lines): a plan's
 * added destinations are tens of thousands, and their changes, kept, are
 * megabytes that every collection of V8's young generation copies.
 */
export function changeOnce(step: Step): Change {
  return step instanceof AddDestinationStep ? step.made() : step.change;
}

/** A destination's key as text; from its spec's address when there is one (its text is made once per address). */
function destinationText(dest: RawDestSpec, spec: DestinationSpec | undefined): string {
  const address = spec === undefined ? undefined : canonicalAddress(spec.address);
  return address === undefined ? destinationId(dest) : destinationIdOf(address, dest.af, dest.port);
}

/**
 * Adding a destination. The service's raw key and its text, when the caller
 * has them (a plan adds thousands of destinations to a few services, and
 * makes each of these once per service).
 */
export function addDestinationStep(
  service: RawServiceKey,
  after: RawDestSpec,
  spec?: DestinationSpec,
  key = serviceKey(service),
  serviceText = serviceId(service),
): Step {
  return new AddDestinationStep(key, after, serviceText, spec);
}

export function editDestinationStep(
  service: RawServiceKey,
  before: RawDestSpec,
  after: RawDestSpec,
  fields: DestinationField[],
  spec?: DestinationSpec,
): Step {
  return stepOf(
    {
      kind: 'destination',
      action: 'edit',
      service: serviceId(service),
      destination: destinationId(after),
      before: destinationSpecFromRaw(before),
      after: spec ?? destinationSpecFromRaw(after),
      fields,
    },
    { op: 'editDestination', service: serviceKey(service), dest: after },
    [{ op: 'editDestination', service: serviceKey(service), dest: before }],
  );
}

export function deleteDestinationStep(service: RawServiceKey, before: RawDestSpec): Step {
  return stepOf(
    {
      kind: 'destination',
      action: 'delete',
      service: serviceId(service),
      destination: destinationId(before),
      before: destinationSpecFromRaw(before),
    },
    { op: 'deleteDestination', service: serviceKey(service), dest: before },
    [{ op: 'addDestination', service: serviceKey(service), dest: before }],
  );
}

/** A change in a few words: `add destination 198.51.100.1:80 to TCP 192.0.2.1:80`. */
export function describeChange(c: Change): string {
  if (c.kind === 'service') return `${c.action} service ${c.service}`;
  const preposition = c.action === 'add' ? 'to' : c.action === 'delete' ? 'from' : 'of';
  return `${c.action} destination ${c.destination} ${preposition} ${c.service}`;
}

// --- rows for the addon -------------------------------------------------------

/** A batch row's numbers, in the addon's order (native/batch.h; test/batch.test.ts holds the two together). */
export const BATCH_COLUMNS = [
  'cmd',
  'svcAf',
  'protocol',
  'svcPort',
  'fwmark',
  'svcAddr0',
  'svcAddr1',
  'svcAddr2',
  'svcAddr3',
  'scheduler',
  'pe',
  'flags',
  'timeout',
  'netmask',
  'destAf',
  'destAddr0',
  'destAddr1',
  'destAddr2',
  'destAddr3',
  'destPort',
  'fwdMethod',
  'weight',
  'uThreshold',
  'lThreshold',
  'tunType',
  'tunPort',
  'tunFlags',
] as const;
const W = BATCH_COLUMNS.length;
const COL = Object.fromEntries(BATCH_COLUMNS.map((name, i) => [name, i])) as {
  readonly [N in (typeof BATCH_COLUMNS)[number]]: number;
};

const COMMANDS: Record<RawCommand['op'], number> = {
  addService: K.IPVS_CMD_NEW_SERVICE,
  editService: K.IPVS_CMD_SET_SERVICE,
  deleteService: K.IPVS_CMD_DEL_SERVICE,
  addDestination: K.IPVS_CMD_NEW_DEST,
  editDestination: K.IPVS_CMD_SET_DEST,
  deleteDestination: K.IPVS_CMD_DEL_DEST,
};

/** The commands as the addon's rows: numbers, with each name once in `strings`. */
export function encode(commands: readonly RawCommand[]): { rows: Uint32Array; strings: string[] } {
  const out = requestRows(commands.length);
  for (let i = 0; i < commands.length; i++) out.put(i, commands[i]!);
  return out;
}

/** Rows for `count` commands, each written by `put(i, command)`; each name once in `strings`. */
function requestRows(count: number): {
  rows: Uint32Array;
  strings: string[];
  put(i: number, c: RawCommand): void;
} {
  const rows = new Uint32Array(count * W);
  const bytes = new Uint8Array(rows.buffer);
  const strings = [''];
  const index = new Map<string, number>([['', 0]]);
  const intern = (s: string) => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const put = (i: number, c: RawCommand) => {
    const at = i * W;
    const s = c.service;
    rows[at + COL.cmd] = COMMANDS[c.op];
    rows[at + COL.svcAf] = s.af;
    rows[at + COL.protocol] = s.protocol;
    rows[at + COL.svcPort] = s.port;
    rows[at + COL.fwmark] = s.fwmark;
    bytes.set(s.addr, (at + COL.svcAddr0) * 4); // 16 bytes: every raw address is
    if (c.op === 'addService' || c.op === 'editService') {
      rows[at + COL.scheduler] = intern(c.service.scheduler);
      rows[at + COL.pe] = intern(c.service.pe);
      rows[at + COL.flags] = c.service.flags;
      rows[at + COL.timeout] = c.service.timeout;
      rows[at + COL.netmask] = c.service.netmask;
    } else if ('dest' in c) {
      const d: RawDestKey = c.dest;
      rows[at + COL.destAf] = d.af;
      bytes.set(d.addr, (at + COL.destAddr0) * 4);
      rows[at + COL.destPort] = d.port;
      if (c.op !== 'deleteDestination') {
        const spec = d as RawDestSpec;
        rows[at + COL.fwdMethod] = spec.fwdMethod;
        rows[at + COL.weight] = spec.weight;
        rows[at + COL.uThreshold] = spec.uThreshold;
        rows[at + COL.lThreshold] = spec.lThreshold;
        rows[at + COL.tunType] = spec.tunType;
        rows[at + COL.tunPort] = spec.tunPort;
        rows[at + COL.tunFlags] = spec.tunFlags;
      }
    }
  };
  return { rows, strings, put };
}

// --- running ------------------------------------------------------------------

/** Requests per datagram: their answers (under 1 KiB each) fit any receive queue's default. */
export const WINDOW = 64;

/** How a run of steps reports its progress: after each part, how many steps are done. */
export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** The operation named in errors: `'apply'` or `'batch'`. */
  op: string;
  /**
   * Steps per native call: progress is reported between calls. Default:
   * calls that grow (1,024 steps, then up to 3 times all before), each
   * encoded while the one before it is sent.
   */
  chunk?: number;
  onProgress?: ((done: number, total: number) => void | Promise<void>) | undefined;
}

/** The kernel errnos that say an undo found nothing to undo (of a change whose answer was lost). */
const NOTHING_TO_UNDO = new Set([osConstants.errno.ESRCH, osConstants.errno.ENOENT, osConstants.errno.EEXIST]);

/**
 * Makes every step's change, all or nothing. On the first refusal (or an
 * abort, or a failure of the socket) the changes already made are undone in
 * reverse order, and the call rejects: ApplyError naming the refused change
 * and whether the table was restored (an AbortError when `signal` aborted).
 */
export async function runSteps(
  raw: RawIpvs,
  steps: readonly Step[],
  options: RunOptions,
  lazy?: { total: number; fill(upTo: number): void },
): Promise<void> {
  // With `lazy`, steps past those made yet are made as each part is encoded.
  const total = lazy === undefined ? steps.length : lazy.total;
  // The end of the part after one that ends at `from`: `chunk` steps, or
  // without it parts that grow (the first small, so that the kernel starts
  // soon; each next one encoded while the one before it is sent).
  const partEnd = (from: number) =>
    Math.min(total, from + (options.chunk !== undefined ? Math.max(1, options.chunk) : Math.max(FIRST_PART, 3 * from)));
  let next = runNow(encodePart(steps, 0, partEnd(0), lazy));
  for (let from = 0; from < total;) {
    const part = next;
    let outcome;
    try {
      const sending = raw.batch(part.rows, part.strings, { stopOnError: true, window: WINDOW }, options.signal);
      if (part.end < total) {
        // Once the call has started (a turn of the event loop: calls start
        // from a queue), the next part is encoded while this one is sent.
        // Its failure is handled below, after that turn: marked handled now,
        // so that it never counts as an unhandled rejection.
        sending.catch(() => {});
        await new Promise((resolve) => setImmediate(resolve));
        next = await runSliced(encodePart(steps, part.end, partEnd(part.end), lazy));
      }
      outcome = await sending;
    } catch (e) {
      // Nothing of this part was sent (an abort before it started, a closed client).
      await undoAndThrow(raw, steps.slice(0, from), new Int32Array(from), e, options);
      return;
    }
    const status = new Int32Array(part.end);
    status.set(outcome.status, from); // the earlier parts: all done (0)
    const refused = outcome.status.findIndex((s) => s > 0);
    if (refused >= 0) {
      const index = from + refused;
      const errno = outcome.status[refused]!;
      const step = steps[index]!;
      const kernelMessage = outcome.messages[refused];
      const cause = new IpvsError(step.command.op, errno, errnoCode(errno), kernelMessage || undefined);
      await undoAndThrow(raw, steps.slice(0, part.end), status, cause, options, index);
      return;
    }
    if (outcome.stopped !== 0 || outcome.failure !== null) {
      const cause =
        outcome.stopped === osConstants.errno.ECANCELED && options.signal
          ? abortError(options.signal)
          : outcome.failure !== null
            ? new IpvsError(options.op, outcome.failure.errno, outcome.failure.message, undefined, false)
            : new IpvsError(options.op, outcome.stopped, 'this IPVS client is closed', undefined, false);
      await undoAndThrow(raw, steps.slice(0, part.end), status, cause, options);
      return;
    }
    from = part.end;
    await options.onProgress?.(from, total);
  }
}

/** Steps in the first native call of a run without `chunk`; each next call takes up to three times all before it. */
const FIRST_PART = 1024;

/** Steps `from` to `end` of a run, encoded for the addon. */
interface Part {
  rows: Uint32Array;
  strings: string[];
  end: number;
}

/** Steps written between two yields of a part's encoding. */
const ENCODE_SLICE = 1024;

/** Steps `from` to `end` encoded (with `lazy`, made first), in slices. */
function* encodePart(
  steps: readonly Step[],
  from: number,
  end: number,
  lazy?: { fill(upTo: number): void },
): Sliced<Part> {
  const { rows, strings, put } = requestRows(end - from);
  for (let i = from; i < end;) {
    const sliceEnd = Math.min(end, i + ENCODE_SLICE);
    lazy?.fill(sliceEnd);
    for (; i < sliceEnd; i++) put(i - from, steps[i]!.command);
    if (i < end) yield;
  }
  return { rows, strings, end };
}

/**
 * Undoes the steps whose status says they were made (0) or may have been
 * (-2), last first, then throws what ended the run: `cause` itself for an
 * abort, otherwise an ApplyError.
 */
async function undoAndThrow(
  raw: RawIpvs,
  steps: readonly Step[],
  status: Int32Array,
  cause: unknown,
  options: RunOptions,
  refusedIndex = -1,
): Promise<never> {
  const undo: { step: Step; command: RawCommand; unsure: boolean }[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    if (status[i] !== 0 && status[i] !== -2) continue;
    for (const command of undoOf(steps[i]!)) undo.push({ step: steps[i]!, command, unsure: status[i] === -2 });
  }
  const made = [...status].filter((s) => s === 0).length;
  const failures: UndoFailure[] = [];
  if (undo.length > 0) {
    const { rows, strings } = encode(undo.map((u) => u.command));
    let outcome;
    try {
      outcome = await raw.batch(rows, strings, { stopOnError: false, window: WINDOW });
    } catch (e) {
      outcome = undefined;
      for (const u of undo) failures.push({ change: u.step.change, command: u.command.op, error: e });
    }
    if (outcome) {
      outcome.status.forEach((s, i) => {
        const u = undo[i]!;
        if (s === 0 || (u.unsure && NOTHING_TO_UNDO.has(s))) return;
        const error =
          s > 0
            ? new IpvsError(u.command.op, s, errnoCode(s), outcome.messages[i] || undefined)
            : new IpvsError(
                u.command.op,
                outcome.failure?.errno ?? osConstants.errno.EIO,
                outcome.failure?.message ?? 'not sent',
                undefined,
                false,
              );
        failures.push({ change: u.step.change, command: u.command.op, error });
      });
    }
  }
  const refused = refusedIndex >= 0 ? steps[refusedIndex]! : undefined;
  const error = new ApplyError(options.op, cause, {
    change: refused?.change,
    index: refusedIndex,
    total: status.length,
    undone: made,
    undoFailures: failures,
    describe: describeChange,
  });
  if (cause instanceof Error && cause.name === 'AbortError' && failures.length === 0) {
    throw Object.assign(cause, { message: `${cause.message}; ${error.restoredText}` });
  }
  throw error;
}

// --- the facade's batch() -----------------------------------------------------

/** One change of a batch: the facade's own specs and keys. */
export type BatchChange =
  | {
      /** Adds or edits the service. */
      action: 'add' | 'edit';
      /** The service's settings. */
      service: ServiceSpec;
      /** None: the change is to the service. */
      destination?: undefined;
    }
  | {
      /** Deletes the service, with its destinations. */
      action: 'delete';
      /** The service. */
      service: ServiceKey;
      /** None: the change is to the service. */
      destination?: undefined;
    }
  | {
      /** Adds or edits the destination. */
      action: 'add' | 'edit';
      /** Its service. */
      service: ServiceKey;
      /** The destination's settings. */
      destination: DestinationSpec;
    }
  | {
      /** Deletes the destination. */
      action: 'delete';
      /** Its service. */
      service: ServiceKey;
      /** The destination. */
      destination: DestinationKey;
    };

/**
 * The steps of a batch, validated (TypeError/RangeError naming
 * `changes[i]`), with each undo taken from `table` (the table before the
 * batch) as the batch's own earlier changes leave it.
 */
export function batchSteps(changes: readonly BatchChange[], table: Table): Step[] {
  return runNow(batchStepping(changes, table));
}

/** batchSteps, in slices. */
export function* batchStepping(changes: readonly BatchChange[], table: Table): Sliced<Step[]> {
  if (!Array.isArray(changes)) throw invalidType(`changes must be an array, got ${describe(changes)}`);
  const steps: Step[] = new Array(changes.length);
  const memo: ServiceMemo = { of: NOTHING_READ, raw: undefined!, id: '' };
  for (let i = 0; i < changes.length; i++) {
    if (i % SLICE_ENTRIES === SLICE_ENTRIES - 1) yield;
    try {
      steps[i] = batchStep(changes[i]!, table, memo);
    } catch (e) {
      if (e instanceof RangeError) throw outOfRange(`changes[${i}]: ${e.message}`);
      if (e instanceof TypeError) throw invalidType(`changes[${i}]: ${e.message}`);
      throw e;
    }
  }
  return steps;
}

/**
 * The service of the last destination change, validated: a batch is usually
 * built with one service object for all of its destinations' changes, which
 * then is read once, not once per destination (its key, its text, the key
 * the requests carry). The changes are read in one synchronous pass, so the
 * same object reads the same throughout.
 */
interface ServiceMemo {
  of: unknown;
  /** Its key, as serviceKeyToRaw makes it: also the key the requests carry. */
  raw: RawServiceKey;
  id: string;
}

/** What a memo holds before its first service: equal to no service a batch can give. */
const NOTHING_READ = Symbol('nothing read');

function destinationService(service: unknown, memo: ServiceMemo): ServiceMemo {
  if (memo.of !== service) {
    const raw = serviceKeyToRaw(service as ServiceKey);
    memo.raw = raw;
    memo.id = serviceId(raw);
    memo.of = service;
  }
  return memo;
}

const CHANGE_FIELDS = ['action', 'service', 'destination'];
const ACTIONS = ['add', 'edit', 'delete'] as const;

function batchStep(entry: BatchChange, table: Table, memo: ServiceMemo): Step {
  const c = object('change', entry);
  knownKeys('change', c, CHANGE_FIELDS);
  const action = oneOf('action', c.action, ACTIONS);
  if (c.destination === undefined) {
    if (action === 'delete') {
      const key = serviceKeyToRaw(c.service as ServiceKey);
      const id = serviceId(key);
      const have = table.get(id);
      table.delete(id);
      if (!have)
        return unknownStep(deleteServiceStep({ ...key, scheduler: '', pe: '', flags: 0, timeout: 0, netmask: 0 }, []));
      return deleteServiceStep(have.raw, have.destinations.values());
    }
    const spec = serviceSpecToRaw(c.service as ServiceSpec);
    const id = serviceId(spec);
    const have = table.get(id);
    if (action === 'add') {
      if (!have) table.set(id, { raw: spec, destinations: new Map() });
      return addServiceStep(spec, c.service as ServiceSpec);
    }
    if (!have) return unknownStep(editServiceStep(spec, spec, [], c.service as ServiceSpec));
    table.set(id, { raw: spec, destinations: have.destinations });
    return editServiceStep(have.raw, spec, serviceDifferences(have.raw, spec), c.service as ServiceSpec);
  }
  const { raw: service, id: serviceText } = destinationService(c.service, memo);
  const dests = table.get(serviceText)?.destinations;
  if (action === 'delete') {
    const key = destinationKeyToRaw(c.destination as DestinationKey, service);
    const id = destinationId(key);
    const have = dests?.get(id);
    dests?.delete(id);
    const before = have ?? emptyDestination(key);
    return have ? deleteDestinationStep(service, before) : unknownStep(deleteDestinationStep(service, before));
  }
  // The common spec the short way (as a desired state's), anything else the full way.
  const spec =
    plainDestinationToRaw(c.destination, service) ?? destinationSpecToRaw(c.destination as DestinationSpec, service);
  const id = destinationId(spec);
  const have = dests?.get(id);
  if (action === 'add') {
    if (!have) dests?.set(id, spec);
    return addDestinationStep(service, spec, c.destination as DestinationSpec, service, serviceText);
  }
  if (!have) return unknownStep(editDestinationStep(service, spec, spec, [], c.destination as DestinationSpec));
  dests!.set(id, spec);
  return editDestinationStep(service, have, spec, destinationDifferences(have, spec), c.destination as DestinationSpec);
}

/**
 * A change of something the table did not hold when the batch began: the
 * kernel will most likely refuse it; if another process made it meanwhile,
 * there is nothing known to undo it to.
 */
function unknownStep(step: Step): Step {
  const { before: _before, ...change } = step.change as Change & { before?: unknown };
  return stepOf(change as Change, step.command, []);
}
