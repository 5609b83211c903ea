// The facade: one client owns one netlink socket (in one network namespace),
// serialises its requests, and speaks in keys, specs and infos.
import {
  destinationFromRaw,
  destinationKeyToRaw,
  destinationSpecToRaw,
  type DestinationInfo,
  type DestinationKey,
  type DestinationSpec,
} from './destination.js';
import {
  connectionBatches,
  connections,
  connectionStats,
  listConnections,
  type Connection,
  type ConnectionBatch,
  type ConnectionCount,
  type ConnectionReadOptions,
  type ConnectionStatsBy,
  type ConnectionStatsKeys,
  type ConnectionStatsOptions,
} from './connections.js';
import { signalOption } from './cancel.js';
import { drain, drainOps, drainRequest, type DrainOptions, type DrainResult } from './drain.js';
import { callsRunInline, RawIpvs, type Backend } from './raw.js';
import { fromNative, withOp } from './errors.js';
import { infoFromRaw, type Info } from './info.js';
import { native } from './native.js';
import { timeoutsToRaw, type Timeouts } from './timeouts.js';
import { packed, poll, unpack, type PackedSnapshot, type PollOptions, type Snapshot } from './snapshot.js';
import { availableParallelism } from 'node:os';
import { parseTotals, type Stats } from './stats.js';
import { formatSysctl, parseSysctl, SYSCTL_NAMES, sysctlPath, type SysctlName, type Sysctls } from './sysctl.js';
import {
  daemonFromRaw,
  daemonSpecToRaw,
  daemonStateToRaw,
  type DaemonInfo,
  type DaemonSpec,
  type DaemonState,
} from './daemon.js';
import {
  serviceFromRaw,
  serviceKeyToRaw,
  serviceSpecToRaw,
  type ServiceInfo,
  type ServiceKey,
  type ServiceSpec,
} from './service.js';
import { describe, integer, invalidType, knownKeys, object, oneOf } from './validate.js';
import { tableEvents, type WatchEvent, type WatchOptions } from './watch.js';
import { batchStepping, runSteps, type BatchChange, type Change } from './batch.js';
import {
  applyOptions,
  applyPlan,
  exporting,
  planning,
  planParts,
  validating,
  type ApplyOptions,
  type ApplyResult,
  type DesiredState,
  type Plan,
  type PlanOptions,
} from './plan.js';
import { runSliced } from './slice.js';
import { tableOfPacked } from './table.js';

/** The sockets a snapshot spreads its destination dumps over unless told: up to 4, one per core. */
export const DEFAULT_POOL = Math.min(4, availableParallelism());

export { RawIpvs, type Backend } from './raw.js';

/** What `open()` takes; every field is optional. */
export interface OpenOptions {
  /**
   * `'netlink'` (default): every feature. `'sockopt'`: the legacy socket-option
   * interface that ipvsadm falls back to; IPv4 only, no persistence engines,
   * tunnel types, daemon groups/ports/TTLs/lengths, or 64-bit packet counters.
   * Asking it for those rejects with EAFNOSUPPORT before anything is sent.
   */
  backend?: Backend;
  /**
   * The network namespace to manage: a path such as `/run/netns/NAME` or
   * `/proc/PID/ns/net`. Default: the caller's. The calling thread never moves.
   * Anything that is not a network namespace (a FIFO, a file) is refused at once.
   */
  netns?: string;
  /**
   * The deadline of each kernel exchange, in milliseconds (default 5000). A
   * call whose answer does not come in time rejects with ETIMEDOUT, and the
   * client replaces its socket, so the next call works.
   */
  timeout?: number;
  /**
   * Whether `open()` may run `/sbin/modprobe ip_vs` once when IPVS is
   * missing, as ipvsadm does (default true). It runs with a fixed PATH and no
   * other variable of the caller's environment.
   */
  modprobe?: boolean;
}

/** The default deadline of one kernel exchange, in ms. */
export const DEFAULT_TIMEOUT = 5000;
const OPEN_FIELDS = ['backend', 'netns', 'timeout', 'modprobe'] as const;
const SNAPSHOT_FIELDS = ['poolSize', 'signal'] as const;

/** Options of a snapshot: the sockets to spread dumps over, and an AbortSignal. */
export interface SnapshotOptions {
  /** Sockets to spread the destination dumps of large tables over, 1..16 (default: up to 4, one per core). */
  poolSize?: number;
  /** Aborts the snapshot: its native work stops, and it rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * A client of IPVS in one network namespace: one generic netlink socket,
 * reused by every call and serialised, each kernel exchange with a deadline.
 * Validates and fills defaults before anything is sent (a bad value is a
 * TypeError or RangeError naming the field); the kernel's refusals reject
 * with IpvsError. Made by `open()`; `close()` or `await using` releases it.
 */
export class Ipvs implements AsyncDisposable {
  /** The same socket without validation or defaults (see RawIpvs). */
  readonly raw: RawIpvs;

  /** Use `open()`. */
  private constructor(raw: RawIpvs) {
    this.raw = raw;
  }

  /** @internal */
  static async create(options: OpenOptions): Promise<Ipvs> {
    const o = object('options', options);
    knownKeys('options', o, OPEN_FIELDS);
    if (o.netns !== undefined && (typeof o.netns !== 'string' || o.netns === '' || o.netns.includes('\0'))) {
      throw invalidType(`options.netns must be a path to a network namespace (without NUL), got ${describe(o.netns)}`);
    }
    const backend =
      o.backend === undefined ? 'netlink' : oneOf('options.backend', o.backend, ['netlink', 'sockopt'] as const);
    const timeout = o.timeout === undefined ? DEFAULT_TIMEOUT : integer('options.timeout', o.timeout, 1, 2 ** 31 - 1);
    if (o.modprobe !== undefined && typeof o.modprobe !== 'boolean') {
      throw invalidType(`options.modprobe must be a boolean, got ${describe(o.modprobe)}`);
    }
    const raw = { netns: (o.netns as string | undefined) ?? null, timeout, modprobe: o.modprobe ?? true };
    try {
      const sock = backend === 'sockopt' ? await native().openSockopt(raw) : await native().open(raw);
      return new Ipvs(new RawIpvs(sock, backend));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** The IPVS version and connection table size (IPVS_CMD_GET_INFO). */
  async info(): Promise<Info> {
    return infoFromRaw(await this.raw.info());
  }

  /** Every virtual service, in the kernel's order. An empty table gives `[]`. */
  async listServices(): Promise<ServiceInfo[]> {
    return (await this.raw.listServices()).map(serviceFromRaw);
  }

  /** One service. Rejects with ESRCH (`No such service`) when it does not exist. */
  async getService(key: ServiceKey): Promise<ServiceInfo> {
    const raw = serviceKeyToRaw(key);
    return serviceFromRaw(await this.raw.getService(raw));
  }

  /** Adds a service. EEXIST: it exists; ENOENT: no such scheduler or persistence engine. */
  async addService(spec: ServiceSpec): Promise<void> {
    const raw = serviceSpecToRaw(spec);
    await this.raw.addService(raw);
  }

  /**
   * Replaces every setting of a service with `spec` (options left out take
   * their defaults, as in `ipvsadm -E`). ESRCH: no such service.
   */
  async editService(spec: ServiceSpec): Promise<void> {
    const raw = serviceSpecToRaw(spec);
    await this.raw.editService(raw);
  }

  /** Deletes a service and its destinations. ESRCH: no such service. */
  async deleteService(key: ServiceKey): Promise<void> {
    const raw = serviceKeyToRaw(key);
    await this.raw.deleteService(raw);
  }

  /** Removes every service and destination (`ipvsadm -C`). */
  async clear(): Promise<void> {
    await this.raw.clear();
  }

  /** Zeroes the counters of one service, or of all services and the totals. */
  async zero(key?: ServiceKey): Promise<void> {
    const raw = key === undefined ? null : serviceKeyToRaw(key);
    await this.raw.zero(raw);
  }

  /** The destinations of a service; `[]` when it has none or does not exist. */
  async listDestinations(service: ServiceKey): Promise<DestinationInfo[]> {
    const raw = serviceKeyToRaw(service);
    return (await this.raw.listDestinations(raw)).map(destinationFromRaw);
  }

  /** Adds a destination. ESRCH: no such service; EEXIST: it exists. */
  async addDestination(service: ServiceKey, spec: DestinationSpec): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationSpecToRaw(spec, svc);
    await this.raw.addDestination(svc, raw);
  }

  /** Replaces every setting of a destination (as `ipvsadm -e`). ENOENT: no such destination. */
  async editDestination(service: ServiceKey, spec: DestinationSpec): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationSpecToRaw(spec, svc);
    await this.raw.editDestination(svc, raw);
  }

  /** Deletes a destination. ESRCH: no such service; ENOENT: no such destination. */
  async deleteDestination(service: ServiceKey, key: DestinationKey): Promise<void> {
    const svc = serviceKeyToRaw(service);
    const raw = destinationKeyToRaw(key, svc);
    await this.raw.deleteDestination(svc, raw);
  }

  /**
   * Drains a destination: sets its weight to 0, keeping every other setting,
   * so the scheduler sends it no new connection; waits until the connection
   * table holds no entry for it (established and inactive connections and
   * persistence templates); then deletes it (unless `remove: false`).
   *
   * The wait reads the kernel's counts of the destination every `interval`
   * ms (default 1000) and, once they reach 0, confirms with the connection
   * table (entries whose real server is the destination and whose virtual
   * service is this one; for a fwmark service, every entry of that real
   * server). `onProgress` gets the counts at the start and at each change.
   *
   * Rejects, before anything changes, with TypeError or RangeError for bad
   * arguments, and with the IpvsError editDestination would give when the
   * destination does not exist (ENOENT, or ESRCH without the service). Once
   * the weight is 0 it stays 0 whatever happens next: after `timeout` ms
   * (default 300000; `Infinity` waits for ever) the drain rejects with an
   * IpvsError of op `'drain'` and code ETIMEDOUT that says how many entries
   * remained; an abort of `signal` rejects with an AbortError; a weight that
   * another process sets again ends the drain with ECANCELED, the
   * destination kept. A destination that another process deletes meanwhile
   * ends the drain with `vanished: true`.
   *
   * Persistence templates are renewed while their clients keep coming, so a
   * persistent service's destination drains only once its clients pause for
   * the persistence timeout, unless the sysctl `expire_quiescent_template`
   * is set (then the kernel drops a template of a weight-0 destination when
   * it would be used).
   */
  async drain(service: ServiceKey, destination: DestinationKey, options?: DrainOptions): Promise<DrainResult> {
    const svc = serviceKeyToRaw(service);
    const key = destinationKeyToRaw(destination, svc);
    return drain(drainOps(this.raw), svc, key, drainRequest(options));
  }

  /**
   * The namespace's totals over every service since IPVS started (or the
   * last zero of all): connections, packets, bytes and rates.
   */
  async totals(): Promise<Stats> {
    const text = await this.raw.readProcFile('/proc/thread-self/net/ip_vs_stats').catch((e: unknown) => {
      throw withOp(e, 'totals');
    });
    return parseTotals(text.toString('latin1'));
  }

  /** One IPVS sysctl of the client's namespace. ENOENT: this kernel lacks it. */
  async getSysctl<K extends SysctlName>(name: K): Promise<Sysctls[K]> {
    const path = sysctlPath(name);
    const text = await this.raw.readProcFile(path).catch((e: unknown) => {
      throw withOp(e, 'getSysctl');
    });
    return parseSysctl(name, text.toString('latin1'));
  }

  /** Sets one IPVS sysctl of the client's namespace, checked against its range first. */
  async setSysctl<K extends SysctlName>(name: K, value: Sysctls[K]): Promise<void> {
    const path = sysctlPath(name);
    await this.raw.writeProcFile(path, formatSysctl(name, value)).catch((e: unknown) => {
      throw withOp(e, 'setSysctl');
    });
  }

  /** Every IPVS sysctl this kernel has, by name. */
  async listSysctls(): Promise<Partial<Sysctls>> {
    const out: Partial<Record<SysctlName, unknown>> = {};
    const values = await Promise.allSettled(SYSCTL_NAMES.map((name) => this.getSysctl(name)));
    values.forEach((v, i) => {
      if (v.status === 'fulfilled') out[SYSCTL_NAMES[i]!] = v.value;
      else if ((v.reason as { code?: string }).code !== 'ENOENT') throw withOp(v.reason, 'listSysctls');
    });
    return out as Partial<Sysctls>;
  }

  /**
   * Every service with its destinations and their counters, in one call
   * (1 + N dumps on a thread of the addon's), packed into typed arrays: no
   * object per entry. `poolSize` sockets share the destination dumps of
   * tables of 256 services or more (default: up to 4, one per core); `signal`
   * aborts.
   */
  async packedSnapshot(options: SnapshotOptions = {}): Promise<PackedSnapshot> {
    const o = object('options', options);
    knownKeys('options', o, SNAPSHOT_FIELDS);
    const poolSize = o.poolSize === undefined ? DEFAULT_POOL : integer('options.poolSize', o.poolSize, 1, 16);
    return packed(await this.raw.snapshot(poolSize, signalOption('options.signal', o.signal)));
  }

  /** The same snapshot as objects: services as listServices gives them, each with its `destinations`. */
  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    return unpack(await this.packedSnapshot(options));
  }

  /**
   * Packed snapshots every `interval` ms until `signal` aborts (which also
   * stops a snapshot in progress); pair them with `rates(prev, next)` for
   * rates at any interval.
   */
  poll(options: PollOptions): AsyncGenerator<PackedSnapshot, void, undefined> {
    const o = object('options', options);
    knownKeys('options', o, ['interval', 'signal', 'poolSize']);
    integer('options.interval', o.interval, 1, 2 ** 31 - 1);
    const signal = signalOption('options.signal', o.signal);
    const snapshotOptions: SnapshotOptions = {};
    if (o.poolSize !== undefined) snapshotOptions.poolSize = integer('options.poolSize', o.poolSize, 1, 16);
    if (signal !== undefined) snapshotOptions.signal = signal;
    return poll(() => this.packedSnapshot(snapshotOptions), options);
  }

  /**
   * The table's changes as they happen: a packed snapshot every `interval`
   * ms (default 1000), each compared with the one before, and one event per
   * service or destination added, removed or changed (with the fields that
   * changed, and the specs before and after). Changes that come and go
   * between two snapshots are not seen; counters and connection counts are
   * not events. With `initial: true` the first snapshot's table comes first,
   * as additions. Ends when `signal` aborts, without an error; a failed
   * snapshot ends it with that error (EAFNOSUPPORT with the sockopt
   * back-end, which has no snapshots). Options are checked at once.
   */
  watch(options: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    const o = object('options', options);
    knownKeys('options', o, ['interval', 'signal', 'initial', 'poolSize']);
    if (o.initial !== undefined && typeof o.initial !== 'boolean') {
      throw invalidType(`options.initial must be a boolean, got ${describe(o.initial)}`);
    }
    const poll: PollOptions = { interval: o.interval === undefined ? 1000 : (o.interval as number) };
    if (o.signal !== undefined) poll.signal = o.signal as AbortSignal;
    if (o.poolSize !== undefined) poll.poolSize = o.poolSize as number;
    return tableEvents(this.poll(poll), o.initial === true, poll.signal);
  }

  /**
   * The changes that would make the table equal to `desired` (a desired-state
   * document: every service with every destination), in the order apply()
   * makes them: the fewest, editing in place wherever the kernel can.
   * Validates the document first (TypeError/RangeError naming the entry).
   */
  async plan(desired: DesiredState, options: PlanOptions = {}): Promise<Plan> {
    return this.#plan(desired, options, undefined);
  }

  /**
   * The plan from the table to `desired`, whose validation runs while the
   * table is read on the addon's threads: a large document's validation and
   * a large table's dumps overlap. A refused document stops the read. (Where
   * calls run inline, the read would come first: the document is validated
   * before it.)
   */
  async #plan(desired: unknown, options: PlanOptions, signal: AbortSignal | undefined): Promise<Plan> {
    if (callsRunInline()) {
      const d = await runSliced(validating(desired, options));
      return runSliced(planning(await this.packedSnapshot(signal ? { signal } : {}), d));
    }
    const refused = new AbortController();
    const table = this.packedSnapshot({ signal: signal ? AbortSignal.any([signal, refused.signal]) : refused.signal });
    let d;
    try {
      d = await runSliced(validating(desired, options));
    } catch (e) {
      refused.abort();
      table.catch(() => {});
      throw e;
    }
    return runSliced(planning(await table, d));
  }

  /**
   * Makes the table equal to `desired` (or makes a plan from plan()): all or
   * nothing, pipelined on this client's socket. On the first change the
   * kernel refuses, every change already made is undone in reverse and the
   * call rejects with an ApplyError naming the change, the kernel's errno and
   * message, and whether the table was restored. Afterwards the table is read
   * back: what another process changed meanwhile comes back as `drift`.
   * `maxChanges` refuses a larger plan (E2BIG) before anything changes.
   */
  async apply(desired: DesiredState | Plan, options: ApplyOptions = {}): Promise<ApplyResult> {
    const o = applyOptions(options);
    const signal = signalOption('options.signal', o.signal);
    let plan: Plan;
    if (planParts(desired as Plan)) {
      if (o.onlyListed !== undefined) {
        throw invalidType('options.onlyListed cannot be given with a plan: the plan was made with or without it');
      }
      plan = desired as Plan;
    } else {
      plan = await this.#plan(desired, o.onlyListed === undefined ? {} : { onlyListed: o.onlyListed }, signal);
    }
    return applyPlan(this.raw, plan, () => this.packedSnapshot(), o);
  }

  /**
   * Makes a list of changes of the caller's own, pipelined and all or
   * nothing, as apply() does (without a desired state or a drift check). The
   * changes are validated first; the table is read once, for the undos.
   */
  async batch(
    changes: readonly BatchChange[],
    options: { signal?: AbortSignal } = {},
  ): Promise<{
    /** The changes made, in order, as plans describe them. */
    changes: Change[];
  }> {
    const o = object('options', options);
    knownKeys('options', o, ['signal']);
    const signal = signalOption('options.signal', o.signal);
    const table = await runSliced(tableOfPacked(await this.packedSnapshot(signal ? { signal } : {})));
    const steps = await runSliced(batchStepping(changes, table));
    await runSteps(this.raw, steps, { op: 'batch', signal });
    return { changes: steps.map((s) => s.change) };
  }

  /** The table as a desired-state document: `apply(await export())` changes nothing. */
  async export(): Promise<DesiredState> {
    return runSliced(exporting(await this.packedSnapshot()));
  }

  /** The connection timeouts in seconds (IPVS_CMD_GET_CONFIG). */
  async getTimeouts(): Promise<Timeouts> {
    return this.raw.getTimeouts();
  }

  /** Sets connection timeouts; a field left out (or 0) keeps its value, as in `ipvsadm --set`. */
  async setTimeouts(timeouts: Partial<Timeouts>): Promise<void> {
    const raw = timeoutsToRaw(timeouts);
    await this.raw.setTimeouts(raw);
  }

  /** The running sync daemons, master first; `[]` when none runs. */
  async listDaemons(): Promise<DaemonInfo[]> {
    return (await this.raw.listDaemons()).map(daemonFromRaw);
  }

  /** Starts a sync daemon. EEXIST: it runs already; ENODEV: no such interface. */
  async startDaemon(spec: DaemonSpec): Promise<void> {
    const raw = daemonSpecToRaw(spec);
    await this.raw.startDaemon(raw);
  }

  /** Stops the master or backup daemon. ESRCH: it is not running. */
  async stopDaemon(state: DaemonState): Promise<void> {
    const raw = daemonStateToRaw(state);
    await this.raw.stopDaemon({ state: raw });
  }

  /**
   * The connection table (/proc/net/ip_vs_conn of the client's namespace) in
   * columnar batches, in the kernel's order. Read by threads of the addon,
   * not through the request queue; ending the loop early stops them. Options
   * are checked at once; the read starts with the first batch asked for.
   * Like the file, a table that changes meanwhile may show an entry twice or
   * miss one.
   */
  connectionBatches(options?: ConnectionReadOptions): AsyncGenerator<ConnectionBatch, void, undefined> {
    return connectionBatches(this.raw, options);
  }

  /** The connection table one entry at a time (see connectionBatches). */
  connections(options?: ConnectionReadOptions): AsyncGenerator<Connection, void, undefined> {
    return connections(this.raw, options);
  }

  /** The whole connection table (see connectionBatches); `[]` when it is empty. */
  async listConnections(options?: ConnectionReadOptions): Promise<Connection[]> {
    return listConnections(this.raw, options);
  }

  /** Counts of the connections by state, destination or virtual service, computed in the addon. */
  async connectionStats<By extends ConnectionStatsBy>(
    options: ConnectionStatsOptions<By>,
  ): Promise<ConnectionCount<ConnectionStatsKeys[By]>[]> {
    return connectionStats(this.raw, options);
  }

  /** Closes the client at once (see RawIpvs.close). Idempotent. */
  async close(): Promise<void> {
    await this.raw.close();
  }

  /** What `await using` calls: `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens a client: one generic netlink socket with the IPVS family resolved,
 * reused for every call until `close()`. Needs CAP_NET_ADMIN for any call.
 */
export function open(options: OpenOptions = {}): Promise<Ipvs> {
  return Ipvs.create(options);
}
