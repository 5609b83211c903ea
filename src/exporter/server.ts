// The exporter's HTTP server: a landing page, the metrics (IPVS's, written by
// render.ts as they are made, then the process's own through prom-client),
// gzip when the scraper asks for it, a bound on how long a scrape waits, and
// a graceful close.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';

import promClient from 'prom-client';

import { render } from './render.js';
import type { Metrics, Scrape } from './source.js';

/** startServer's options. */
export interface ServerOptions {
  /** What to serve: the namespaces, and what of them. */
  metrics: Metrics;
  /** Where to listen: host ('' or undefined: every address) and port. */
  host?: string;
  /** The port to listen on (0: any free one; see ExporterServer.address). */
  port: number;
  /** The metrics' path (default `/metrics`). */
  path?: string;
  /** The process's own metrics (prom-client's default metrics: CPU, memory, event loop); default true. */
  processMetrics?: boolean;
  /** Where a line about a failed read goes (default: stderr). */
  log?: (line: string) => void;
  /** The landing page's version line. */
  version?: string;
}

/** A running exporter's HTTP server. */
export interface ExporterServer {
  /** Node's HTTP server. */
  server: Server;
  /** The address and port it listens on. */
  address: AddressInfo;
  /**
   * Stops accepting scrapes, lets those in progress end (at most `grace` ms,
   * default 10,000, then closes their connections) and stops the metrics'
   * background counts. The clients stay open.
   */
  close(grace?: number): Promise<void>;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** A scrape answers this long before Prometheus's own timeout would give up on it. */
const MARGIN = 250;

function landing(path: string, version: string | undefined): string {
  const versionText = version === undefined ? '' : ` (ipvs ${version})`;
  const escaped = path.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>IPVS exporter</title></head>
<body>
<h1>IPVS exporter</h1>
<p>Linux IPVS (LVS) services, real servers and their counters, for Prometheus${versionText}.</p>
<p><a href="${escaped}">Metrics</a></p>
</body>
</html>
`;
}

/**
 * How long a scrape may wait for the tables: the exporter's timeout, or less
 * when Prometheus says it gives up sooner.
 */
function waitFor(req: IncomingMessage, timeout: number): number {
  const header = Number(req.headers['x-prometheus-scrape-timeout-seconds']);
  if (!Number.isFinite(header) || header <= 0) return timeout;
  return Math.max(100, Math.min(timeout, header * 1000 - MARGIN));
}

/**
 * Serves `metrics` over HTTP: a landing page at `/`, the metrics at `path`
 * (IPVS's, then the process's own), gzip when asked for.
 */
export async function startServer(options: ServerOptions): Promise<ExporterServer> {
  const { metrics } = options;
  const path = options.path ?? '/metrics';
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const own = new promClient.Registry();
  if (options.processMetrics !== false) promClient.collectDefaultMetrics({ register: own });
  const page = landing(path, options.version);
  const inFlight = new Set<ServerResponse>();

  async function scrape(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const wait = waitFor(req, metrics.timeout);
    const timer = new AbortController();
    const s: Scrape | undefined = await Promise.race([
      metrics.scrape(),
      sleep(wait, undefined, { signal: timer.signal }).then(
        () => undefined,
        () => undefined,
      ),
    ]);
    timer.abort();
    if (s === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`reading IPVS took longer than ${wait} ms\n`);
      log(`ipvs-exporter: a scrape gave up after ${wait} ms: reading IPVS took longer`);
      return;
    }
    for (const r of s.readings) {
      if (r.error !== undefined) {
        const e = r.error as { message?: string };
        const what = r.netns === undefined ? 'IPVS' : `namespace ${r.netns}`;
        log(`ipvs-exporter: reading ${what} failed: ${e.message ?? String(e)}`);
      }
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const out = gzip ? createGzip() : res;
    if (gzip) out.pipe(res);
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    for (const chunk of render(metrics, s)) {
      if (res.destroyed) break;
      await write(chunk);
    }
    if (!res.destroyed) await write(`${await own.metrics()}`);
    out.end();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (url.pathname === path) {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
      scrape(req, res).catch((e: unknown) => {
        log(`ipvs-exporter: a scrape failed: ${(e as Error).message}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end();
      });
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`not found: the metrics are at ${path}\n`);
  });
  server.listen(options.port, options.host === '' ? undefined : options.host);
  await once(server, 'listening');
  return {
    server,
    address: server.address() as AddressInfo,
    async close(grace = 10_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = new AbortController();
      const ended = await Promise.race([
        closed.then(() => true),
        sleep(grace, undefined, { signal: timer.signal }).then(
          () => false,
          () => true,
        ),
      ]);
      timer.abort();
      if (!ended) {
        for (const res of inFlight) res.destroy();
        server.closeAllConnections();
        await closed;
      }
      metrics.close();
    },
  };
}
