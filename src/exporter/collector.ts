// The exporter's metrics in a program's own prom-client registry: each family
// is a metric of the registry whose values come from one shared read of the
// tables per scrape (prom-client asks every metric at once; they join one
// read). The standalone exporter writes the same series itself (render.ts),
// faster than prom-client's objects can: a test holds the two to each other.
import promClient, { type Metric, type Registry } from 'prom-client';

import type { Ipvs } from '../client.js';
import { invalidType } from '../validate.js';
import type { Family } from './families.js';
import { entryLabels, labelsOf, walk, type EntryLabels, type LabelMaker } from './series.js';
import { Metrics, type MetricsOptions, type Scrape, type Target } from './source.js';

/** createCollector's options: the clients, the registry, and what to export (MetricsOptions). */
export interface CollectorOptions extends MetricsOptions {
  /**
   * The client to export, or several, each with the `netns` label its series
   * carry (one collector for several namespaces).
   */
  ipvs: Ipvs | readonly Target[];
  /** The registry to add the metrics to (default: prom-client's global `register`). */
  registry?: Registry;
}

/** What createCollector added to the registry. */
export interface Collector {
  /** The metrics' names, as registered. */
  readonly names: readonly string[];
  /** Reads the tables now, as a scrape would (concurrent calls and scrapes share one read). */
  scrape(): Promise<Scrape>;
  /** Removes the metrics from the registry and stops counting connection tables. The clients stay open. */
  close(): void;
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}

/** prom-client's labels: one object per entry. */
const OBJECTS: LabelMaker<Labels> = {
  namespace: (netns): Labels => (netns === undefined ? {} : { netns }),
  add(base, names, values) {
    const out: Labels = { ...base };
    names.forEach((n, k) => {
      if (!(n === 'family' && values[k] === '')) out[n] = values[k]!;
    });
    return out;
  },
};

/** A family as a prom-client metric: what the registry asks of one (`get`, `reset`, its name, help and type). */
class FamilyMetric {
  readonly name: string;
  readonly help: string;
  readonly type: Family['type'];
  readonly aggregator = 'sum';

  constructor(
    private readonly family: Family,
    private readonly metrics: Metrics,
    private readonly labelsFor: (s: Scrape) => EntryLabels<Labels>[],
  ) {
    this.name = metrics.prefix + family.name;
    this.help = family.help;
    this.type = family.type;
  }

  async get() {
    const s = await this.metrics.scrape();
    const all = this.labelsFor(s);
    const values: Sample[] = [];
    walk(this.family, s, (entry, reading, index, direction, value) => {
      let labels = labelsOf(all[reading]!, entry, index, {});
      if (direction !== null) labels = { ...labels, direction };
      values.push({ labels, value: Number(value) });
    });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  // The values are the kernel's: nothing to reset here.
  reset(): void {}
}

/**
 * Adds IPVS's metrics (the exporter's families, see docs/exporter.md) to a
 * prom-client registry. Every scrape of the registry reads each namespace's
 * table once: one packedSnapshot per namespace, shared by all the families.
 */
export function createCollector(options: CollectorOptions): Collector {
  if (typeof options !== 'object' || options === null) throw invalidType('options must be an object');
  const { ipvs, registry = promClient.register, ...rest } = options;
  const targets: readonly Target[] = Array.isArray(ipvs) ? (ipvs as readonly Target[]) : [{ ipvs: ipvs as Ipvs }];
  for (const t of targets) {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof (t.ipvs as Partial<Ipvs> | undefined)?.packedSnapshot !== 'function'
    ) {
      throw invalidType('options.ipvs must be an Ipvs client (open()) or a list of { ipvs, netns }');
    }
  }
  if (typeof (registry as Partial<Registry>).registerMetric !== 'function') {
    throw invalidType('options.registry must be a prom-client Registry');
  }
  const metrics = new Metrics(targets, rest, ['ipvs', 'registry']);
  // One set of label objects per scrape, for every family of it.
  let last: { scrape: Scrape; labels: EntryLabels<Labels>[] } | undefined;
  const labelsFor = (s: Scrape) => {
    if (last?.scrape !== s) last = { scrape: s, labels: entryLabels(metrics, s, OBJECTS) };
    return last.labels;
  };
  const names: string[] = [];
  try {
    for (const family of metrics.families) {
      const metric = new FamilyMetric(family, metrics, labelsFor);
      registry.registerMetric(metric as unknown as Metric);
      names.push(metric.name);
    }
  } catch (e) {
    for (const name of names) registry.removeSingleMetric(name);
    metrics.close();
    throw e;
  }
  return {
    names,
    scrape: () => metrics.scrape(),
    close() {
      for (const name of names) registry.removeSingleMetric(name);
      metrics.close();
    },
  };
}
