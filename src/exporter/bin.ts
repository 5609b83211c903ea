#!/usr/bin/env node
// The `ipvs-exporter` command: opens a client per namespace, serves their
// metrics (server.ts) until SIGTERM or SIGINT, then ends the scrapes in
// progress and exits.
import { open, type Ipvs } from '../client.js';
import { ownVersion } from '../cli/help.js';
import { FlagError, parseFlags, usage } from './flags.js';
import { startServer } from './server.js';
import { Metrics, type Target } from './source.js';

const NAME = 'ipvs-exporter';

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    process.stderr.write(`${NAME}: ${e.message}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage(NAME));
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`${NAME} ${ownVersion()}\n`);
    return 0;
  }
  const clients: Ipvs[] = [];
  const targets: Target[] = [];
  try {
    if (flags.namespaces.length === 0) {
      clients.push(await open());
      targets.push({ ipvs: clients[0]! });
    }
    for (const ns of flags.namespaces) {
      const ipvs = await open({ netns: ns.path }).catch((e: unknown) => {
        throw new Error(`namespace ${ns.label} (${ns.path}): ${(e as Error).message}`);
      });
      clients.push(ipvs);
      targets.push({ ipvs, netns: ns.label });
    }
  } catch (e) {
    process.stderr.write(`${NAME}: cannot open IPVS: ${(e as Error).message}\n`);
    await Promise.all(clients.map((c) => c.close()));
    return 1;
  }
  const metrics = new Metrics(targets, flags.metrics);
  const server = await startServer({
    metrics,
    host: flags.host,
    port: flags.port,
    path: flags.path,
    processMetrics: flags.processMetrics,
    version: ownVersion(),
  }).catch(async (e: unknown) => {
    metrics.close();
    await Promise.all(clients.map((c) => c.close()));
    process.stderr.write(`${NAME}: cannot listen on ${flags.host || '*'}:${flags.port}: ${(e as Error).message}\n`);
    return undefined;
  });
  if (server === undefined) return 1;
  const { address, port } = server.address;
  const host = address.includes(':') ? `[${address}]` : address;
  process.stderr.write(`${NAME}: serving http://${host}:${port}${flags.path}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stderr.write(`${NAME}: ${signal}: finishing the scrapes in progress\n`);
  await server.close();
  await Promise.all(clients.map((c) => c.close()));
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`${NAME}: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
