// What one scrape reads, and which of it is exported: a snapshot of each
// namespace's table (one packedSnapshot: every dump on the addon's threads,
// no object per entry) and its totals, the entries the filters and the series
// limit keep, and the connection table's last count. Both the exporter's text
// renderer and the prom-client collector read a Scrape.
import { setTimeout as sleep } from 'node:timers/promises';

import { formatAddress, familyOf } from '../address.js';
import type { Ipvs } from '../client.js';
import { nowMs } from '../clock.js';
import { K } from '../constants.js';
import type { PackedSnapshot } from '../snapshot.js';
import { S, SERVICE_COLUMN } from '../snapshot.js';
import type { Stats } from '../stats.js';
import { serviceId } from '../table.js';
import { invalidType, knownKeys, outOfRange } from '../validate.js';
import { protocolByNumber } from '../vocabulary/protocols.js';
import { FAMILIES, seriesPerEntry, type Family, type Group } from './families.js';

/** An IPVS client to export, with the `netns` label its series carry (none: no label). */
export interface Target {
  /** The client; it stays the caller's to close. */
  ipvs: Ipvs;
  /** The `netns` label of its series. */
  netns?: string;
}

/** What to export, and how long a read may take. */
export interface MetricsOptions {
  /** The metric names' prefix (default `ipvs_`). */
  prefix?: string;
  /** Per-service series (default true). */
  services?: boolean;
  /** Per-real-server series (default true; false: service-level only, no destination labels). */
  destinations?: boolean;
  /** The namespace's totals (default true). */
  totals?: boolean;
  /** The kernel's rate estimates, for totals, services and real servers as those are on (default false). */
  rates?: boolean;
  /**
   * Counts of the connection table by virtual address, real server, protocol
   * and state (default false: reading the kernel's table costs time that grows
   * faster than the table). Counted every `interval` ms (default 60,000) in
   * the background, never during a scrape; a scrape exports the last count.
   */
  connections?:
    | boolean
    | {
        /** Milliseconds between two counts (at least 1,000; default 60,000). */
        interval?: number;
      };
  /**
   * At most this many series of services, real servers and connection counts
   * (default: no limit). Services are kept in the kernel's order, each with
   * its real servers; the first that does not fit, and all after it, are left
   * out and counted in `ipvs_exporter_series_dropped_total`.
   */
  maxSeries?: number;
  /**
   * Only the metric families whose name (prefix included, such as
   * `ipvs_destination_weight`) matches; the exporter's own (`ipvs_up`,
   * `ipvs_exporter_*`) always stay.
   */
  metricInclude?: RegExp;
  /** Not the metric families whose name matches (the exporter's own always stay). */
  metricExclude?: RegExp;
  /** Only the services whose key (`TCP 192.0.2.1:80`, `FWM 5`, `FWM 5 IPv6`) matches. */
  include?: RegExp;
  /** Not the services whose key matches. */
  exclude?: RegExp;
  /** A read of the tables that takes longer than this (ms, default 10,000) fails, and `ipvs_up` is 0. */
  timeout?: number;
}

/** A namespace as one scrape read it. */
export interface Reading {
  /** The namespace's `netns` label. */
  netns: string | undefined;
  /** Its table (undefined when the read failed, or no family needs it). */
  snapshot: PackedSnapshot | undefined;
  /** Its totals (undefined when the read failed, or totals are off). */
  totals: Stats | undefined;
  /** Why the read failed; undefined when it did not. */
  error: unknown;
  /** Seconds the read took. */
  duration: number;
  /** Pairs (service index, end of its kept destinations): the entries exported, in order. */
  kept: number[];
  /** The connection table's last count, when counted, with the number of its groups exported. */
  connections: ConnectionCount | undefined;
  /** How many of the count's groups the series limit kept. */
  connectionsKept: number;
  /** Cumulative, as of this scrape. */
  errors: number;
}

/** What one scrape read, and how much of it is exported. */
export interface Scrape {
  /** Each namespace, in the targets' order. */
  readings: Reading[];
  /** Series of services, real servers and connection counts exported. */
  series: number;
  /** Of those, left out by the series limit in this scrape. */
  dropped: number;
  /** Cumulative: reads made, and series dropped over them. */
  scrapes: number;
  /** Cumulative: series the limit left out, over every read. */
  droppedTotal: number;
}

/** One count of a namespace's connection table. */
export interface ConnectionCount {
  /** Unix time (s) when the count ended, and how long it took. */
  at: number;
  /** Seconds. */
  duration: number;
  /** Label values per group (local_address, local_port, proto, remote_address, remote_port, state) and its count. */
  groups: {
    /** The group's label values, in that order. */
    labels: readonly string[];
    /** Its entries. */
    count: number;
  }[];
}

const ALL_GROUPS: readonly Group[] = ['totals', 'service', 'destination', 'rates', 'connections', 'exporter'];

/** The labels of a service: local_address, local_port, local_mark, proto, family ('' = none). */
export function serviceLabels(p: PackedSnapshot, i: number): string[] {
  const at = i * S;
  const af = p.services[at + SERVICE_COLUMN.af]!;
  const fwmark = p.services[at + SERVICE_COLUMN.fwmark]!;
  if (fwmark !== 0)
    return ['', '0', fwmark.toString(16).toUpperCase().padStart(8, '0'), 'FWM', af === K.AF_INET6 ? 'ipv6' : 'ipv4'];
  const protocol = p.services[at + SERVICE_COLUMN.protocol]!;
  return [
    formatAddress(familyOf(af), p.serviceAddrs.subarray(i * 16, i * 16 + 16)),
    String(p.services[at + SERVICE_COLUMN.port]!),
    '',
    protocolByNumber(protocol)?.ipvsadm ?? String(protocol),
    '',
  ];
}

function serviceKey(p: PackedSnapshot, i: number): string {
  const at = i * S;
  return serviceId({
    af: p.services[at + SERVICE_COLUMN.af]!,
    protocol: p.services[at + SERVICE_COLUMN.protocol]!,
    addr: p.serviceAddrs.subarray(i * 16, i * 16 + 16),
    port: p.services[at + SERVICE_COLUMN.port]!,
    fwmark: p.services[at + SERVICE_COLUMN.fwmark]!,
  });
}

export const METRICS_FIELDS = [
  'prefix',
  'services',
  'destinations',
  'totals',
  'rates',
  'connections',
  'maxSeries',
  'include',
  'exclude',
  'metricInclude',
  'metricExclude',
  'timeout',
] as const;

function checkOptions(o: MetricsOptions, others: readonly string[]): void {
  if (typeof o !== 'object' || o === null) throw invalidType('options must be an object');
  knownKeys('options', o as Record<string, unknown>, [...METRICS_FIELDS, ...others]);
  for (const key of ['services', 'destinations', 'totals', 'rates'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw invalidType(`options.${key} must be a boolean`);
  }
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(o.prefix))) {
    throw invalidType('options.prefix must be a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)');
  }
  for (const key of ['include', 'exclude', 'metricInclude', 'metricExclude'] as const) {
    if (o[key] !== undefined && !(o[key] instanceof RegExp)) throw invalidType(`options.${key} must be a RegExp`);
  }
  if (o.maxSeries !== undefined && !(Number.isInteger(o.maxSeries) && o.maxSeries >= 0)) {
    throw outOfRange(`options.maxSeries must be a whole number of series (0 or more), got ${String(o.maxSeries)}`);
  }
  if (o.timeout !== undefined && !(Number.isInteger(o.timeout) && o.timeout > 0)) {
    throw outOfRange(`options.timeout must be a whole number of milliseconds above 0, got ${String(o.timeout)}`);
  }
  const c = o.connections;
  if (c !== undefined && typeof c !== 'boolean') {
    if (typeof c !== 'object' || c === null) throw invalidType('options.connections must be a boolean or { interval }');
    if (c.interval !== undefined && !(Number.isInteger(c.interval) && c.interval >= 1000)) {
      throw outOfRange(
        `options.connections.interval must be a whole number of milliseconds, at least 1000, got ${String(c.interval)}`,
      );
    }
  }
}

/**
 * The metrics of one or more namespaces: reads them when scraped (concurrent
 * scrapes share one read), and counts their connection tables in the
 * background when asked to. close() stops the counting; the clients stay the
 * caller's.
 */
export class Metrics {
  /** The metric names' prefix. */
  readonly prefix: string;
  /** The families exported, in order. */
  readonly families: readonly Family[];
  /** How long a read may take (ms). */
  readonly timeout: number;
  private readonly targets: readonly Target[];
  private readonly maxSeries: number;
  private readonly include: RegExp | undefined;
  private readonly exclude: RegExp | undefined;
  private readonly perService: number;
  private readonly perDestination: number;
  private readonly counters: (ConnectionCounter | undefined)[];
  private readonly errors: number[];
  private pending: Promise<Scrape> | undefined;
  private scrapes = 0;
  private droppedTotal = 0;

  /** `others`: option names the caller takes besides these (createCollector's `ipvs`, `registry`). */
  constructor(targets: readonly Target[], options: MetricsOptions = {}, others: readonly string[] = []) {
    checkOptions(options, others);
    const names = new Set<string>();
    for (const t of targets) {
      if (t.netns !== undefined && (typeof t.netns !== 'string' || t.netns === '')) {
        throw invalidType('a target netns label must be a non-empty string');
      }
      if (names.has(t.netns ?? '')) {
        throw invalidType(
          `two targets have the netns label ${JSON.stringify(t.netns ?? '(none)')}: their series would collide`,
        );
      }
      names.add(t.netns ?? '');
    }
    if (targets.length === 0) throw invalidType('no IPVS client to export');
    const groups = new Set<Group>(ALL_GROUPS);
    if (options.services === false) groups.delete('service');
    if (options.destinations === false) groups.delete('destination');
    if (options.totals === false) groups.delete('totals');
    if (options.rates !== true) groups.delete('rates');
    if (options.connections === undefined || options.connections === false) groups.delete('connections');
    const prefix = options.prefix ?? 'ipvs_';
    const named = (f: Family) =>
      f.group === 'exporter' ||
      ((options.metricInclude?.test(prefix + f.name) ?? true) && options.metricExclude?.test(prefix + f.name) !== true);
    this.prefix = prefix;
    this.families = FAMILIES.filter(
      (f) =>
        groups.has(f.group) &&
        named(f) &&
        // Rates only of what is exported.
        (f.group !== 'rates' ||
          groups.has(f.scope === 'total' ? 'totals' : f.scope === 'service' ? 'service' : 'destination')),
    );
    this.timeout = options.timeout ?? 10_000;
    this.targets = targets;
    this.maxSeries = options.maxSeries ?? Infinity;
    this.include = options.include;
    this.exclude = options.exclude;
    this.perService = seriesPerEntry(this.families, 'service');
    this.perDestination = seriesPerEntry(this.families, 'destination');
    this.errors = targets.map(() => 0);
    const interval = typeof options.connections === 'object' ? (options.connections.interval ?? 60_000) : 60_000;
    this.counters = targets.map((t) =>
      groups.has('connections') ? new ConnectionCounter(t.ipvs, interval) : undefined,
    );
  }

  /** The netns label of each target, in order. */
  get namespaces(): (string | undefined)[] {
    return this.targets.map((t) => t.netns);
  }

  /**
   * Reads every namespace, or joins the read in progress. Never rejects: a
   * namespace that fails (or takes longer than the timeout) has its error in
   * its Reading.
   */
  scrape(): Promise<Scrape> {
    this.pending ??= this.read().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Stops counting connection tables. */
  close(): void {
    for (const c of this.counters) c?.stop();
  }

  private async read(): Promise<Scrape> {
    const wantTotals = this.families.some((f) => f.scope === 'total');
    const wantTable = this.families.some((f) => f.scope === 'service' || f.scope === 'destination');
    const readings = await Promise.all(
      this.targets.map(async (t, k): Promise<Reading> => {
        const start = nowMs();
        const signal = AbortSignal.timeout(this.timeout);
        const reading: Reading = {
          netns: t.netns,
          snapshot: undefined,
          totals: undefined,
          error: undefined,
          duration: 0,
          kept: [],
          connections: this.counters[k]?.last,
          connectionsKept: 0,
          errors: 0,
        };
        try {
          const [snapshot, totals] = await Promise.all([
            wantTable ? t.ipvs.packedSnapshot({ signal }) : undefined,
            wantTotals ? withSignal(t.ipvs.totals(), signal) : undefined,
          ]);
          reading.snapshot = snapshot;
          reading.totals = totals;
        } catch (e) {
          reading.error = e;
          this.errors[k]!++;
        }
        reading.errors = this.errors[k]!;
        reading.duration = (nowMs() - start) / 1000;
        return reading;
      }),
    );
    let budget = this.maxSeries;
    let series = 0;
    let possible = 0;
    for (const r of readings) {
      if (r.snapshot === undefined) continue;
      const p = r.snapshot;
      for (let i = 0; i < p.serviceCount; i++) {
        if (this.include !== undefined || this.exclude !== undefined) {
          const key = serviceKey(p, i);
          if (this.include !== undefined && !this.include.test(key)) continue;
          if (this.exclude?.test(key) === true) continue;
        }
        const first = p.destOffsets[i]!;
        const count = p.destOffsets[i + 1]! - first;
        const want = this.perService + count * this.perDestination;
        possible += want;
        if (budget < this.perService) {
          budget = -1;
          continue;
        }
        const fits =
          this.perDestination === 0
            ? count
            : Math.min(count, Math.floor((budget - this.perService) / this.perDestination));
        const used = this.perService + fits * this.perDestination;
        budget = fits < count ? -1 : budget - used;
        series += used;
        r.kept.push(i, first + fits);
      }
    }
    for (const r of readings) {
      const groups = r.connections?.groups.length ?? 0;
      possible += groups;
      r.connectionsKept = Math.max(0, Math.min(groups, budget));
      budget = r.connectionsKept < groups ? -1 : budget - groups;
      series += r.connectionsKept;
    }
    const dropped = possible - series;
    this.scrapes++;
    this.droppedTotal += dropped;
    return { readings, series, dropped, scrapes: this.scrapes, droppedTotal: this.droppedTotal };
  }
}

/** `promise`, or a rejection with the signal's reason once it aborts (the promise's work goes on). */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** Counts a namespace's connection table every `interval` ms, one count at a time. */
class ConnectionCounter {
  last: ConnectionCount | undefined;
  private readonly controller = new AbortController();

  constructor(
    private readonly ipvs: Ipvs,
    private readonly interval: number,
  ) {
    void this.loop();
  }

  stop(): void {
    this.controller.abort();
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      const start = nowMs();
      try {
        this.last = await countConnections(this.ipvs, signal);
        this.last.duration = (nowMs() - start) / 1000;
      } catch {
        // The namespace's table could not be read this time (or the counter
        // stopped); the last count stays until the next one.
      }
      const wait = Math.max(0, this.interval - (nowMs() - start));
      await sleep(wait, undefined, { signal, ref: false }).catch(() => undefined);
    }
  }
}

/** One count of the connection table, by virtual address, real server, protocol and state. */
export async function countConnections(ipvs: Ipvs, signal?: AbortSignal): Promise<ConnectionCount> {
  const counts = new Map<string, number>();
  for await (const b of ipvs.connectionBatches({ signal })) {
    const vw = b.addressLength;
    const dw = b.destinationAddressLength;
    for (let i = 0; i < b.length; i++) {
      const local = formatAddress(familyOf(b.family[i]!), b.virtual.subarray(vw * i, vw * i + vw));
      const remote = formatAddress(familyOf(b.destinationFamily[i]!), b.destination.subarray(dw * i, dw * i + dw));
      const protocol = b.protocols[b.protocolIndex[i]!]!;
      const state = b.states[b.stateIndex[i]!]!;
      const proto = protocol.toUpperCase();
      const key = `${local}\0${b.virtualPort[i]}\0${proto}\0${remote}\0${b.destinationPort[i]}\0${state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const groups = [...counts].map(([key, count]) => ({ labels: key.split('\0'), count }));
  return { at: Date.now() / 1000, duration: 0, groups };
}
