// The `ipvs-exporter` command's flags, spelled as Prometheus's exporters
// spell theirs: --web.listen-address, --web.telemetry-path, and
// --collector.NAME / --no-collector.NAME to turn a group of metrics on or off.
import type { MetricsOptions } from './source.js';

/** The default port; documented in docs/exporter.md. */
export const DEFAULT_PORT = 9850;

export interface ExporterFlags {
  host: string;
  port: number;
  path: string;
  /** --netns values as given (labels), with the path each names. */
  namespaces: { label: string; path: string }[];
  metrics: MetricsOptions;
  processMetrics: boolean;
  help: boolean;
  version: boolean;
}

export class FlagError extends Error {}

/** `10s`, `1m30s`, `500ms`, `2h` in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (text === '' || parts === null) {
    throw new FlagError(`${flag}: ${JSON.stringify(text)} is not a duration (such as 10s, 1m30s, 500ms)`);
  }
  const [h = 0, m = 0, s = 0, ms = 0] = parts.slice(1).map((p) => Number(p ?? 0));
  return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new FlagError(
      `--web.listen-address: ${JSON.stringify(text)} is not [HOST]:PORT ` +
        `(such as :${DEFAULT_PORT} or 127.0.0.1:${DEFAULT_PORT})`,
    );
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

function parseRegExp(flag: string, text: string): RegExp {
  try {
    // Anchored, as Prometheus anchors its regular expressions.
    return new RegExp(`^(?:${text})$`);
  } catch (e) {
    throw new FlagError(`${flag}: not a regular expression: ${(e as Error).message}`);
  }
}

const COLLECTORS = ['totals', 'service', 'destination', 'rates', 'connections', 'process'] as const;
type Collector = (typeof COLLECTORS)[number];

const VALUED = [
  '--web.listen-address',
  '--web.telemetry-path',
  '--netns',
  '--scrape.timeout',
  '--collector.connections.interval',
  '--series.limit',
  '--service.include',
  '--service.exclude',
  '--metric.include',
  '--metric.exclude',
] as const;

/** The flags of `argv` (after the command's name). FlagError names what is wrong. */
export function parseFlags(argv: readonly string[]): ExporterFlags {
  const on: Record<Collector, boolean> = {
    totals: true,
    service: true,
    destination: true,
    rates: false,
    connections: false,
    process: true,
  };
  const flags: ExporterFlags = {
    host: '',
    port: DEFAULT_PORT,
    path: '/metrics',
    namespaces: [],
    metrics: {},
    processMetrics: true,
    help: false,
    version: false,
  };
  let interval: number | undefined;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '-h' || arg === '--help') {
      flags.help = true;
      continue;
    }
    if (arg === '--version') {
      flags.version = true;
      continue;
    }
    const toggle = /^--(no-)?collector\.([a-z]+)$/.exec(arg);
    if (toggle !== null) {
      const name = toggle[2] as Collector;
      if (!COLLECTORS.includes(name)) {
        throw new FlagError(`${arg}: no such collector (there are: ${COLLECTORS.join(', ')})`);
      }
      on[name] = toggle[1] === undefined;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!(VALUED as readonly string[]).includes(name)) {
      throw new FlagError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (k + 1 < argv.length) value = argv[++k]!;
    else throw new FlagError(`${name} needs a value`);
    switch (name as (typeof VALUED)[number]) {
      case '--web.listen-address':
        Object.assign(flags, parseListen(value));
        break;
      case '--web.telemetry-path':
        if (!value.startsWith('/') || value === '/') {
          throw new FlagError(
            `--web.telemetry-path: ${JSON.stringify(value)} must be a path below / (such as /metrics)`,
          );
        }
        flags.path = value;
        break;
      case '--netns':
        if (value === '' || value.includes('\0'))
          throw new FlagError('--netns needs a namespace (a name in /run/netns or a path)');
        if (flags.namespaces.some((n) => n.label === value)) throw new FlagError(`--netns ${value} is given twice`);
        flags.namespaces.push({ label: value, path: value.includes('/') ? value : `/run/netns/${value}` });
        break;
      case '--scrape.timeout':
        flags.metrics.timeout = parseDuration(name, value);
        if (flags.metrics.timeout < 1) throw new FlagError('--scrape.timeout must be above 0');
        break;
      case '--collector.connections.interval':
        interval = parseDuration(name, value);
        if (interval < 1000) throw new FlagError('--collector.connections.interval must be at least 1s');
        break;
      case '--series.limit':
        if (!/^\d+$/.test(value))
          throw new FlagError(`--series.limit: ${JSON.stringify(value)} is not a whole number (0: no limit)`);
        if (Number(value) > 0) flags.metrics.maxSeries = Number(value);
        break;
      case '--service.include':
        flags.metrics.include = parseRegExp(name, value);
        break;
      case '--service.exclude':
        flags.metrics.exclude = parseRegExp(name, value);
        break;
      case '--metric.include':
        flags.metrics.metricInclude = parseRegExp(name, value);
        break;
      case '--metric.exclude':
        flags.metrics.metricExclude = parseRegExp(name, value);
        break;
    }
  }
  flags.metrics.totals = on.totals;
  flags.metrics.services = on.service;
  flags.metrics.destinations = on.destination;
  flags.metrics.rates = on.rates;
  flags.metrics.connections = on.connections ? (interval === undefined ? true : { interval }) : false;
  flags.processMetrics = on.process;
  return flags;
}

export function usage(argv0: string): string {
  return `Usage: ${argv0} [flags]

Exports Linux IPVS (LVS) services, real servers and their counters to Prometheus.

Flags:
  --web.listen-address=[HOST]:PORT  where to serve (default :${DEFAULT_PORT}, every address)
  --web.telemetry-path=PATH         the metrics' path (default /metrics)
  --netns=NAME|PATH                 a network namespace to export (a name in /run/netns, or a path);
                                    repeatable, each namespace's series labelled netns="NAME|PATH"
                                    (default: the exporter's own namespace, without the label)
  --scrape.timeout=DURATION         a read of the tables that takes longer fails: ipvs_up 0
                                    (default 10s; less when Prometheus's scrape timeout is shorter)
  --[no-]collector.totals           the namespace's totals (default on)
  --[no-]collector.service          per-service series (default on)
  --[no-]collector.destination      per-real-server series (default on; off: service-level only)
  --[no-]collector.rates            the kernel's rate estimates (default off)
  --[no-]collector.connections      counts of the connection table by real server and state,
                                    read in the background (default off: the kernel's read is slow)
  --collector.connections.interval=DURATION
                                    how often the connection table is counted (default 1m)
  --[no-]collector.process          the exporter's own process metrics (default on)
  --series.limit=N                  at most N series of services, real servers and connection
                                    counts; the rest is counted in ipvs_exporter_series_dropped_total
                                    (default 0: no limit)
  --service.include=REGEX           only services whose key matches (TCP 192.0.2.1:80, FWM 5, FWM 5 IPv6)
  --service.exclude=REGEX           not the services whose key matches
  --metric.include=REGEX            only the metrics whose name matches (ipvs_destination_weight);
                                    ipvs_up and ipvs_exporter_* always stay
  --metric.exclude=REGEX            not the metrics whose name matches
  -h, --help                        this text
  --version                         the version

Docs: docs/exporter.md in the package.
`;
}
