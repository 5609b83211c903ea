// Draining a destination, as kube-proxy's graceful termination does by hand:
// weight 0 (the scheduler sends it no new connection), then wait until the
// connection table holds nothing for it, then delete it. The wait polls the
// kernel's own counts of the destination (one destination dump), and reads
// the connection table only to confirm once they reach 0.
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { formatAddress, familyOf } from './address.js';
import { signalOption } from './cancel.js';
import { nowMs } from './clock.js';
import { connections, type Connection, type ConnectionFilter } from './connections.js';
import { abortError, IpvsError } from './errors.js';
import type { RawDest, RawDestKey, RawDestSpec, RawServiceKey } from './native.js';
import type { RawIpvs } from './raw.js';
import { destinationId, serviceId } from './table.js';
import { describe, integer, invalidType, knownKeys, object, outOfRange } from './validate.js';
import { protocolByNumber } from './vocabulary/protocols.js';

/** How long a drain waits unless told: 5 minutes. */
export const DEFAULT_DRAIN_TIMEOUT = 300_000;
/** How often a drain reads the destination's counts unless told: every second. */
export const DEFAULT_DRAIN_INTERVAL = 1000;

/** The connection entries a destination still has, as the kernel counts them. */
export interface DrainProgress {
  /** Established connections (ipvsadm's ActiveConn). */
  active: number;
  /** Other connections: handshakes, closing ones, UDP (ipvsadm's InActConn). */
  inactive: number;
  /** Persistence templates (ipvsadm's PersistConn). */
  persistent: number;
  /** active + inactive + persistent. */
  total: number;
  /** Milliseconds since the drain began. */
  elapsed: number;
}

/** What `drain()` takes; every field is optional. */
export interface DrainOptions {
  /**
   * Milliseconds to wait for the destination's entries to go, at least 0
   * (0: check once), or `Infinity`; default 300000 (5 minutes). When it
   * passes, the drain rejects with an IpvsError (op `'drain'`, code
   * `ETIMEDOUT`) and the destination stays, with weight 0.
   */
  timeout?: number;
  /** Delete the destination once drained (default true); false only quiesces it and waits. */
  remove?: boolean;
  /** Aborts the wait: the drain rejects with an AbortError, and the destination stays, with weight 0. */
  signal?: AbortSignal;
  /**
   * Called with the counts once when the wait begins, then each time they
   * change. An exception it throws ends the drain with it (weight left at 0).
   */
  onProgress?: (progress: DrainProgress) => void;
  /** Milliseconds between two reads of the counts, 1..2147483647; default 1000. */
  interval?: number;
}

/** What a drain did. */
export interface DrainResult {
  /** The destination was deleted by the drain (false with `remove: false`, or when it vanished). */
  removed: boolean;
  /**
   * Another process deleted the destination (or its service) while it
   * drained: the drain ends there, with nothing left to delete.
   */
  vanished: boolean;
  /** Milliseconds from the start of the drain to its end. */
  waited: number;
  /** The weight the destination had before the drain set it to 0 (to restore it after `remove: false`). */
  previousWeight: number;
}

/** Validated drain options. */
export interface DrainRequest {
  timeout: number;
  remove: boolean;
  signal: AbortSignal | undefined;
  onProgress: ((progress: DrainProgress) => void) | undefined;
  interval: number;
}

const DRAIN_FIELDS = ['timeout', 'remove', 'signal', 'onProgress', 'interval'] as const;
const MAX_MS = 2 ** 31 - 1;

/** Validates drain options and fills the defaults; TypeError or RangeError naming the field. */
export function drainRequest(options: DrainOptions | undefined): DrainRequest {
  const o = object('options', options === undefined ? {} : options);
  knownKeys('options', o, DRAIN_FIELDS);
  const timeout = o.timeout ?? DEFAULT_DRAIN_TIMEOUT;
  if (typeof timeout !== 'number' || !(Number.isSafeInteger(timeout) || timeout === Infinity)) {
    throw invalidType(
      `options.timeout must be an integer number of milliseconds or Infinity, got ${describe(timeout)}`,
    );
  }
  if (timeout < 0) throw outOfRange(`options.timeout must be at least 0, got ${timeout}`);
  if (o.remove !== undefined && typeof o.remove !== 'boolean') {
    throw invalidType(`options.remove must be a boolean, got ${describe(o.remove)}`);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidType(`options.onProgress must be a function, got ${describe(o.onProgress)}`);
  }
  return {
    timeout,
    remove: o.remove ?? true,
    signal: signalOption('options.signal', o.signal),
    onProgress: o.onProgress as DrainRequest['onProgress'],
    interval: o.interval === undefined ? DEFAULT_DRAIN_INTERVAL : integer('options.interval', o.interval, 1, MAX_MS),
  };
}

/**
 * Whether a connection-table entry whose real server is the drained
 * destination belongs to `service`. Entries name their virtual service by
 * the address and port the client asked for, so: the same protocol and
 * virtual address, and the service's port, or any port for a service of
 * port 0, or port 0 (the templates of FTP services carry none). An entry of
 * a fwmark service names no mark (its templates show it as an address,
 * others the address the client asked for), so every entry of the real
 * server counts for one: a fwmark service's drain waits for the real
 * server's entries of every service.
 */
export function isEntryOf(service: RawServiceKey, entry: Connection): boolean {
  if (service.fwmark !== 0) return true;
  const v = entry.virtual;
  return (
    entry.protocol === protocolByNumber(service.protocol)?.name &&
    v.address === formatAddress(familyOf(service.af), service.addr) &&
    (service.port === 0 || v.port === service.port || v.port === 0)
  );
}

/** The connection-table filter for a destination's entries (any port when its port is 0: the client's port then). */
export function destinationFilter(dest: RawDestKey): ConnectionFilter {
  const address = formatAddress(familyOf(dest.af), dest.addr);
  return { destination: dest.port === 0 ? { address } : { address, port: dest.port } };
}

/**
 * What a drain asks of the kernel: the raw client's calls, and a count of
 * the connection table's entries of a destination. Tests replace it.
 */
export interface DrainOps {
  listDestinations: RawIpvs['listDestinations'];
  getService: RawIpvs['getService'];
  editDestination: RawIpvs['editDestination'];
  deleteDestination: RawIpvs['deleteDestination'];
  /** The entries of the connection table that are `dest`'s of `service` (see isEntryOf). */
  tableEntries(service: RawServiceKey, dest: RawDestKey, signal: AbortSignal | undefined): Promise<number>;
}

/** A drain's calls on a client's socket and namespace. */
export function drainOps(raw: RawIpvs): DrainOps {
  return {
    listDestinations: raw.listDestinations,
    getService: raw.getService,
    editDestination: raw.editDestination,
    deleteDestination: raw.deleteDestination,
    async tableEntries(service, dest, signal) {
      let n = 0;
      const filter = destinationFilter(dest);
      for await (const entry of connections(raw, signal ? { filter, signal } : { filter })) {
        if (isEntryOf(service, entry)) n++;
      }
      return n;
    },
  };
}

/** The destination as the kernel lists it now; undefined when it (or its service) is gone. */
async function current(ops: DrainOps, service: RawServiceKey, key: RawDestKey): Promise<RawDest | undefined> {
  const id = destinationId(key);
  return (await ops.listDestinations(service)).find((d) => destinationId(d) === id);
}

/**
 * What editDestination rejects with for a destination that does not exist:
 * ESRCH when its service does not exist either, else ENOENT.
 */
async function missing(ops: DrainOps, service: RawServiceKey): Promise<IpvsError> {
  const serviceExists = await ops.getService(service).then(
    () => true,
    (e: unknown) => {
      if (e instanceof IpvsError && e.code === 'ESRCH') return false;
      throw e;
    },
  );
  return serviceExists
    ? new IpvsError('editDestination', constants.errno.ENOENT, 'No such file or directory')
    : new IpvsError('editDestination', constants.errno.ESRCH, 'No such process');
}

const countsOf = (d: RawDest) => ({ active: d.activeConns, inactive: d.inactConns, persistent: d.persistConns });

/**
 * Drains `key` of `service` (both already validated): see Ipvs.drain. Sends
 * IPVS_CMD_GET_DEST (a dump) to read the destination, IPVS_CMD_SET_DEST with
 * its settings and weight 0, IPVS_CMD_GET_DEST every `interval` ms, reads
 * /proc/net/ip_vs_conn when the counts reach 0, then IPVS_CMD_DEL_DEST.
 */
export async function drain(
  ops: DrainOps,
  service: RawServiceKey,
  key: RawDestKey,
  request: DrainRequest,
): Promise<DrainResult> {
  const { timeout, remove, signal, onProgress, interval } = request;
  const start = nowMs();
  const elapsed = () => Math.round(nowMs() - start);
  const name = `${serviceId(service)} -> ${destinationId(key)}`;
  const untouched = () => aborted(signal!, `the drain of ${name} was aborted before it began; nothing changed`);
  if (signal?.aborted) throw untouched();

  const before = await current(ops, service, key);
  if (!before) throw await missing(ops, service);
  if (signal?.aborted) throw untouched();
  const previousWeight = before.weight;
  if (previousWeight !== 0) {
    const spec: RawDestSpec = {
      af: before.af,
      addr: before.addr,
      port: before.port,
      fwdMethod: before.fwdMethod,
      weight: 0,
      uThreshold: before.uThreshold,
      lThreshold: before.lThreshold,
      tunType: before.tunType,
      tunPort: before.tunPort,
      tunFlags: before.tunFlags,
    };
    await ops.editDestination(service, spec);
  }
  const left = `its weight was left at 0${previousWeight !== 0 ? ` (it was ${previousWeight})` : ''}`;
  const result = (removed: boolean, vanished: boolean): DrainResult => ({
    removed,
    vanished,
    waited: elapsed(),
    previousWeight,
  });

  // The counts read just before the edit open the wait.
  let dest: RawDest | undefined = { ...before, weight: 0 };
  let last: ReturnType<typeof countsOf> | undefined;
  try {
    for (;;) {
      if (!dest) return result(false, true);
      if (dest.weight !== 0) {
        throw new IpvsError(
          'drain',
          constants.errno.ECANCELED,
          `the drain of ${name} stopped: another process set its weight to ${dest.weight}; it was not removed`,
          undefined,
          false,
        );
      }
      const counts = countsOf(dest);
      const total = counts.active + counts.inactive + counts.persistent;
      if (
        !last ||
        last.active !== counts.active ||
        last.inactive !== counts.inactive ||
        last.persistent !== counts.persistent
      ) {
        last = counts;
        onProgress?.({ ...counts, total, elapsed: elapsed() });
      }
      // The kernel's counts are the destination's own; the table confirms them.
      const entries = total === 0 ? await ops.tableEntries(service, key, signal) : total;
      if (entries === 0) break;
      const spent = elapsed();
      if (spent >= timeout) {
        const detail =
          total === 0
            ? `${entries} connection ${entries === 1 ? 'entry remains' : 'entries remain'} in the connection table`
            : `${total} ${total === 1 ? 'entry remains' : 'entries remain'} (${counts.active} active, ` +
              `${counts.inactive} inactive, ${counts.persistent} persistent)`;
        throw new IpvsError(
          'drain',
          constants.errno.ETIMEDOUT,
          `the drain of ${name} timed out after ${timeout} ms: ${detail}; ${left}`,
          undefined,
          false,
        );
      }
      await sleep(Math.min(interval, timeout - spent), undefined, signal ? { signal } : undefined);
      dest = await current(ops, service, key);
    }
  } catch (e) {
    if (signal?.aborted) throw aborted(signal, `the drain of ${name} was aborted; ${left}`);
    throw e;
  }

  if (signal?.aborted) throw aborted(signal, `the drain of ${name} was aborted; ${left}`);
  if (!remove) return result(false, false);
  try {
    await ops.deleteDestination(service, key);
  } catch (e) {
    if (e instanceof IpvsError && (e.code === 'ENOENT' || e.code === 'ESRCH')) return result(false, true);
    throw e;
  }
  return result(true, false);
}

/** An AbortError (see errors.ts: the signal's reason as its cause) that says what was left. */
function aborted(signal: AbortSignal, message: string): Error {
  const error = abortError(signal);
  error.message = message;
  return error;
}
