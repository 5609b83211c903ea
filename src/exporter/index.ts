// The package's `ipvs/exporter` entry: IPVS's metrics for Prometheus, as a
// prom-client collector or an HTTP server of their own (the `ipvs-exporter`
// command's).
export { createCollector, type Collector, type CollectorOptions } from './collector.js';
export { startServer, type ExporterServer, type ServerOptions } from './server.js';
export { render, escapeLabel } from './render.js';
export {
  Metrics,
  countConnections,
  type ConnectionCount,
  type MetricsOptions,
  type Reading,
  type Scrape,
  type Target,
} from './source.js';
export { FAMILIES, type Family, type Group, type Scope, type Source } from './families.js';
export { DEFAULT_PORT } from './flags.js';
