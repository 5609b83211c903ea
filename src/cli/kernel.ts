// What the command families share about the kernel: the service keys they
// send, the table as ipvsadm fetches and prints it, and how a failed call is
// reported (ipvsadm's message for the operation, and its exit status).
import { K } from '../constants.js';
import { IpvsError } from '../errors.js';
import type { RawDest, RawService, RawServiceKey } from '../native.js';
import { compareDests, compareServices, msort, namer, NUMERIC, type Namer } from './format.js';
import type { Context, Entry, Outcome } from './types.js';

export const OK: Outcome = { status: 0, fatal: false };

/**
 * The text ipvsadm prints for a failed library call: an IpvsError's own
 * message, computed once by the error for its operation (which is the one
 * whose message ipvsadm prints).
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A kernel refusal of a change: message, and the -1 that main returns (exit 255). */
export function refused(ctx: Context, e: unknown): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e)}\n`);
  return { status: 255, fatal: false };
}

/** A listing that fails: message, exit(1). */
export function listFailed(ctx: Context, e: unknown): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e)}\n`);
  return { status: 1, fatal: true };
}

export function serviceKey(e: Entry): RawServiceKey {
  const { af, protocol, addr, port, fwmark } = e.service;
  return { af, protocol, addr, port, fwmark };
}

/** `-Z` with no service, or with the all-zero one, zeroes everything. */
export function zeroKey(e: Entry): RawServiceKey | null {
  const s = e.service;
  if (s.fwmark === 0 && s.port === 0 && s.addr.every((b) => b === 0)) return null;
  return serviceKey(e);
}

/** Names for a listing: none with -n, else every address looked up at once. */
export async function namesFor(
  numeric: boolean,
  services: readonly RawService[],
  dests: readonly (readonly RawDest[])[],
): Promise<Namer> {
  if (numeric) return NUMERIC;
  const { HostNames, portToService } = await import('./names.js');
  const hosts = new HostNames();
  const all = [...services.filter((s) => s.fwmark === 0), ...dests.flat()];
  await hosts.prepare(all.map((x) => ({ family: x.af === K.AF_INET6 ? 'inet6' : 'inet', addr: x.addr })));
  return namer(hosts, portToService);
}

/** The table as fetched: each service with its destinations, and where fetching stopped. */
export interface Table {
  services: RawService[];
  dests: RawDest[][];
  /** Which dump failed: the services' (nothing to show) or a destinations' (the services before it). */
  failure?: { error: unknown; during: 'services' | 'destinations' };
}

/** The services (sorted unless --nosort) with their destinations, or where fetching failed. */
export async function fetchTable(ctx: Context, sort: boolean): Promise<Table> {
  let services: RawService[];
  try {
    services = await ctx.raw.listServices();
  } catch (error) {
    return { services: [], dests: [], failure: { error, during: 'services' } };
  }
  if (sort) services = msort(services, compareServices);
  const dests: RawDest[][] = [];
  for (const s of services) {
    try {
      const d = await ctx.raw.listDestinations(s);
      dests.push(sort ? msort(d, compareDests) : d);
    } catch (error) {
      return { services: services.slice(0, dests.length), dests, failure: { error, during: 'destinations' } };
    }
  }
  return { services, dests };
}

/**
 * The whole table printed through `render` (-L, -S): nothing when the service
 * dump fails; when a destination dump fails, the services fetched before it,
 * then the error.
 */
export async function printTable(
  ctx: Context,
  sort: boolean,
  numeric: boolean,
  render: (services: readonly RawService[], dests: readonly RawDest[][], names: Namer) => string,
): Promise<Outcome> {
  const table = await fetchTable(ctx, sort);
  if (table.failure?.during === 'services') return listFailed(ctx, table.failure.error);
  const names = await namesFor(numeric, table.services, table.dests);
  ctx.io.stdout(render(table.services, table.dests, names));
  if (table.failure) return listFailed(ctx, table.failure.error);
  return OK;
}
