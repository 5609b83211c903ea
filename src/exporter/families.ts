// The exporter's metric families: one table that the exporter's text renderer
// (render.ts) and the prom-client collector (collector.ts) both read, so that
// the two export the same series under the same names.
//
// Label names are node_exporter's ipvs collector's (local_address,
// local_port, local_mark, proto, remote_address, remote_port), so that its
// dashboards and queries port over; `netns` is added for an exporter of
// several namespaces, `direction` splits in from out, and `family` tells an
// IPv4 from an IPv6 fwmark service of the same mark.
import { COUNTERS } from '../snapshot.js';

/** Which part of the exporter a family belongs to; each can be turned off (or on). */
export type Group = 'totals' | 'service' | 'destination' | 'rates' | 'connections' | 'exporter';

/** What a family's series are about. */
export type Scope = 'total' | 'service' | 'destination' | 'connection' | 'namespace' | 'exporter';

/** Where a series' value comes from. */
export type Source =
  | {
      /** Counter columns (COUNTERS' index) of the kernel's statistics, each with its series' `direction`. */
      counters: readonly (readonly [column: number, direction: 'in' | 'out' | null])[];
    }
  | {
      /** A column of a destination's row (DEST_COLUMNS' index). */
      destColumn: number;
    }
  | {
      /** A sum over a service's destinations of this column of theirs (DEST_COLUMNS' index), or their count (-1). */
      serviceSum: number;
    }
  | {
      /** Computed by the exporter: its own series, the connection table's counts. */
      own: string;
    };

/** A metric family: its name (after the prefix), help, type, and where its series come from. */
export interface Family {
  /** The name after the prefix (`service_connections_total`). */
  name: string;
  /** The HELP text. */
  help: string;
  /** Counters only grow (until the kernel's are zeroed); gauges go up and down. */
  type: 'counter' | 'gauge';
  /** What each series is about. */
  scope: Scope;
  /** The part of the exporter that can turn it off or on. */
  group: Group;
  /** Where each series' value comes from. */
  source: Source;
}

const column = (name: (typeof COUNTERS)[number]) => COUNTERS.indexOf(name);
const one = (name: (typeof COUNTERS)[number]) => ({ counters: [[column(name), null]] as const });
const both = (inName: (typeof COUNTERS)[number], outName: (typeof COUNTERS)[number]) => ({
  counters: [
    [column(inName), 'in'],
    [column(outName), 'out'],
  ] as const,
});

// Rows of a destination (DEST_COLUMNS, snapshot.ts).
const ACTIVE = 6;
const INACTIVE = 7;
const PERSISTENT = 8;
const WEIGHT = 3;
const UPPER = 4;
const LOWER = 5;

/** Every family, in the order the exporter writes them. */
export const FAMILIES: readonly Family[] = [
  // The namespace's totals over every service (/proc/net/ip_vs_stats).
  {
    name: 'connections_total',
    help: 'Connections scheduled by IPVS in the namespace, over every service.',
    type: 'counter',
    scope: 'total',
    group: 'totals',
    source: one('conns'),
  },
  {
    name: 'packets_total',
    help:
      'Packets IPVS forwarded in the namespace, over every service, by direction ' +
      '(in: from clients, out: from real servers).',
    type: 'counter',
    scope: 'total',
    group: 'totals',
    source: both('inPackets', 'outPackets'),
  },
  {
    name: 'bytes_total',
    help: 'Bytes IPVS forwarded in the namespace, over every service, by direction.',
    type: 'counter',
    scope: 'total',
    group: 'totals',
    source: both('inBytes', 'outBytes'),
  },
  // Each virtual service.
  {
    name: 'service_connections_total',
    help: 'Connections scheduled to the virtual service.',
    type: 'counter',
    scope: 'service',
    group: 'service',
    source: one('conns'),
  },
  {
    name: 'service_packets_total',
    help: "Packets of the virtual service's connections, by direction (in: from clients, out: from real servers).",
    type: 'counter',
    scope: 'service',
    group: 'service',
    source: both('inPackets', 'outPackets'),
  },
  {
    name: 'service_bytes_total',
    help: "Bytes of the virtual service's connections, by direction.",
    type: 'counter',
    scope: 'service',
    group: 'service',
    source: both('inBytes', 'outBytes'),
  },
  {
    name: 'service_connections_active',
    help: "Active connections (TCP established) over the virtual service's real servers.",
    type: 'gauge',
    scope: 'service',
    group: 'service',
    source: { serviceSum: ACTIVE },
  },
  {
    name: 'service_connections_inactive',
    help: "Inactive connections (every other state) over the virtual service's real servers.",
    type: 'gauge',
    scope: 'service',
    group: 'service',
    source: { serviceSum: INACTIVE },
  },
  {
    name: 'service_destinations',
    help: 'Real servers of the virtual service.',
    type: 'gauge',
    scope: 'service',
    group: 'service',
    source: { serviceSum: -1 },
  },
  // Each real server (destination) of each service.
  {
    name: 'destination_connections_total',
    help: 'Connections scheduled to the real server.',
    type: 'counter',
    scope: 'destination',
    group: 'destination',
    source: one('conns'),
  },
  {
    name: 'destination_packets_total',
    help: "Packets of the real server's connections, by direction (in: from clients, out: from the real server).",
    type: 'counter',
    scope: 'destination',
    group: 'destination',
    source: both('inPackets', 'outPackets'),
  },
  {
    name: 'destination_bytes_total',
    help: "Bytes of the real server's connections, by direction.",
    type: 'counter',
    scope: 'destination',
    group: 'destination',
    source: both('inBytes', 'outBytes'),
  },
  {
    name: 'destination_connections_active',
    help: 'Active connections (TCP established) of the real server.',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: ACTIVE },
  },
  {
    name: 'destination_connections_inactive',
    help: 'Inactive connections (every other state) of the real server.',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: INACTIVE },
  },
  {
    name: 'destination_connections_persistent',
    help: 'Persistence templates that point to the real server.',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: PERSISTENT },
  },
  {
    name: 'destination_weight',
    help: 'Weight of the real server (0: quiesced, no new connections).',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: WEIGHT },
  },
  {
    name: 'destination_upper_threshold',
    help: 'Connections above which the real server gets no new ones (0: no limit).',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: UPPER },
  },
  {
    name: 'destination_lower_threshold',
    help: 'Connections below which an overloaded real server gets new ones again (0: none).',
    type: 'gauge',
    scope: 'destination',
    group: 'destination',
    source: { destColumn: LOWER },
  },
  // The kernel's rate estimates (2 s estimator, averaged over about 8 s).
  {
    name: 'connections_per_second',
    help: "The kernel's estimate of new connections per second in the namespace.",
    type: 'gauge',
    scope: 'total',
    group: 'rates',
    source: one('cps'),
  },
  {
    name: 'packets_per_second',
    help: "The kernel's estimate of packets per second in the namespace, by direction.",
    type: 'gauge',
    scope: 'total',
    group: 'rates',
    source: both('inPps', 'outPps'),
  },
  {
    name: 'bytes_per_second',
    help: "The kernel's estimate of bytes per second in the namespace, by direction.",
    type: 'gauge',
    scope: 'total',
    group: 'rates',
    source: both('inBps', 'outBps'),
  },
  {
    name: 'service_connections_per_second',
    help: "The kernel's estimate of new connections per second to the virtual service.",
    type: 'gauge',
    scope: 'service',
    group: 'rates',
    source: one('cps'),
  },
  {
    name: 'service_packets_per_second',
    help: "The kernel's estimate of the virtual service's packets per second, by direction.",
    type: 'gauge',
    scope: 'service',
    group: 'rates',
    source: both('inPps', 'outPps'),
  },
  {
    name: 'service_bytes_per_second',
    help: "The kernel's estimate of the virtual service's bytes per second, by direction.",
    type: 'gauge',
    scope: 'service',
    group: 'rates',
    source: both('inBps', 'outBps'),
  },
  {
    name: 'destination_connections_per_second',
    help: "The kernel's estimate of new connections per second to the real server.",
    type: 'gauge',
    scope: 'destination',
    group: 'rates',
    source: one('cps'),
  },
  {
    name: 'destination_packets_per_second',
    help: "The kernel's estimate of the real server's packets per second, by direction.",
    type: 'gauge',
    scope: 'destination',
    group: 'rates',
    source: both('inPps', 'outPps'),
  },
  {
    name: 'destination_bytes_per_second',
    help: "The kernel's estimate of the real server's bytes per second, by direction.",
    type: 'gauge',
    scope: 'destination',
    group: 'rates',
    source: both('inBps', 'outBps'),
  },
  // The connection table, counted on its own interval (never during a scrape).
  {
    name: 'connection_table_entries',
    help:
      "Entries of the kernel's connection table by virtual address (local_*), real server (remote_*), " +
      'protocol and state, as of the last count (persistence templates included).',
    type: 'gauge',
    scope: 'connection',
    group: 'connections',
    source: { own: 'connections' },
  },
  {
    name: 'connection_table_last_count_timestamp_seconds',
    help: 'When the connection table was last counted (Unix time).',
    type: 'gauge',
    scope: 'namespace',
    group: 'connections',
    source: { own: 'connectionsAt' },
  },
  {
    name: 'connection_table_count_duration_seconds',
    help: 'How long the last count of the connection table took.',
    type: 'gauge',
    scope: 'namespace',
    group: 'connections',
    source: { own: 'connectionsDuration' },
  },
  // The exporter itself.
  {
    name: 'up',
    help: "Whether the last scrape read the namespace's IPVS tables (1) or failed (0).",
    type: 'gauge',
    scope: 'namespace',
    group: 'exporter',
    source: { own: 'up' },
  },
  {
    name: 'exporter_scrape_duration_seconds',
    help: "How long the last scrape took to read the namespace's IPVS tables.",
    type: 'gauge',
    scope: 'namespace',
    group: 'exporter',
    source: { own: 'readDuration' },
  },
  {
    name: 'exporter_scrape_errors_total',
    help: "Scrapes that failed to read the namespace's IPVS tables (the error is logged).",
    type: 'counter',
    scope: 'namespace',
    group: 'exporter',
    source: { own: 'readErrors' },
  },
  {
    name: 'exporter_scrapes_total',
    help: 'Reads of the IPVS tables (concurrent scrapes share one).',
    type: 'counter',
    scope: 'exporter',
    group: 'exporter',
    source: { own: 'scrapes' },
  },
  {
    name: 'exporter_series',
    help: 'Series of services, real servers and connection counts the last scrape exported.',
    type: 'gauge',
    scope: 'exporter',
    group: 'exporter',
    source: { own: 'series' },
  },
  {
    name: 'exporter_series_dropped_total',
    help: 'Series of services, real servers and connection counts left out by the series limit, summed over scrapes.',
    type: 'counter',
    scope: 'exporter',
    group: 'exporter',
    source: { own: 'dropped' },
  },
];

/** Series per entry of a scope in the families of these groups. */
export function seriesPerEntry(families: readonly Family[], scope: Scope): number {
  let n = 0;
  for (const f of families) {
    if (f.scope !== scope) continue;
    n += 'counters' in f.source ? f.source.counters.length : 1;
  }
  return n;
}
