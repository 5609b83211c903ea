// Runs a parsed command line against the kernel, through the library's raw
// calls (the structs as ipvsadm builds them), and prints what ipvsadm prints.
import { K } from '../constants.js';
import { IpvsError, ipvsadmMessage } from '../errors.js';
import type { RawDest, RawService, RawServiceKey } from '../native.js';
import {
  compareDests,
  compareServices,
  daemonLine,
  listFormat,
  msort,
  namer,
  NUMERIC,
  saveEntry,
  serviceEntry,
  timeoutLine,
  title,
  versionLine,
  type Namer,
} from './format.js';
import type { Context, Outcome } from './main.js';
import { tryHelp, type Entry } from './parse.js';

const OK: Outcome = { status: 0, fatal: false };

/** The text ipvsadm prints for a failed library call. */
export function errorText(e: unknown, op?: string): string {
  if (e instanceof IpvsError) {
    if (!e.fromKernel) return e.message;
    return op === undefined ? e.message : ipvsadmMessage(op, e.errno, e.detail);
  }
  return e instanceof Error ? e.message : String(e);
}

/** A kernel refusal of a change: message, and the -1 that main returns (exit 255). */
function refused(ctx: Context, e: unknown): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e)}\n`);
  return { status: 255, fatal: false };
}

/** A listing that fails: message, exit(1). */
function listFailed(ctx: Context, e: unknown, op?: string): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e, op)}\n`);
  return { status: 1, fatal: true };
}

export function serviceKey(e: Entry): RawServiceKey {
  const { af, protocol, addr, port, fwmark } = e.service;
  return { af, protocol, addr, port, fwmark };
}

/** Names for a listing: none with -n, else every address looked up at once. */
export async function namesFor(numeric: boolean, services: readonly RawService[], dests: readonly (readonly RawDest[])[]): Promise<Namer> {
  if (numeric) return NUMERIC;
  const { HostNames, portToService } = await import('./names.js');
  const hosts = new HostNames();
  const all = [...services.filter((s) => s.fwmark === 0), ...dests.flat()];
  await hosts.prepare(all.map((x) => ({ family: x.af === K.AF_INET6 ? 'inet6' : 'inet', addr: x.addr })));
  return namer(hosts, portToService);
}

/** The services (sorted unless --nosort) with their destinations, or where fetching failed. */
export async function fetchTable(
  ctx: Context,
  sort: boolean,
): Promise<{ services: RawService[]; dests: RawDest[][]; failure?: { error: unknown; op?: string } }> {
  let services: RawService[];
  try {
    services = await ctx.raw.listServices();
  } catch (error) {
    // In netlink mode libipvs names no function for this dump: errno's own text.
    return { services: [], dests: [], failure: { error, op: '' } };
  }
  if (sort) services = msort(services, compareServices);
  const dests: RawDest[][] = [];
  for (const s of services) {
    try {
      const d = await ctx.raw.listDestinations(s);
      dests.push(sort ? msort(d, compareDests) : d);
    } catch (error) {
      return { services: services.slice(0, dests.length), dests, failure: { error, op: 'listDestinations' } };
    }
  }
  return { services, dests };
}

async function listAll(e: Entry, ctx: Context, save: boolean): Promise<Outcome> {
  const f = listFormat(e.options, save);
  if (!save) ctx.io.stdout(versionLine(ctx.info));
  const table = await fetchTable(ctx, save || !e.options.has('nosort'));
  // The service dump failed: nothing more (the version line is out already).
  if (table.failure?.op === '') return listFailed(ctx, table.failure.error, '');
  const names = await namesFor(f.numeric, table.services, table.dests);
  let out = save ? '' : title(f);
  table.services.forEach((s, i) => {
    out += save ? saveEntry(s, table.dests[i]!, names) : serviceEntry(s, table.dests[i]!, f, names);
  });
  ctx.io.stdout(out);
  if (table.failure) return listFailed(ctx, table.failure.error, table.failure.op);
  return OK;
}

async function listService(e: Entry, ctx: Context): Promise<Outcome> {
  const f = listFormat(e.options);
  let svc: RawService;
  let dests: RawDest[];
  try {
    svc = await ctx.raw.getService(serviceKey(e));
  } catch (error) {
    return listFailed(ctx, error, 'getService');
  }
  try {
    dests = await ctx.raw.listDestinations(svc);
  } catch (error) {
    ctx.io.stdout(title(f));
    return listFailed(ctx, error, 'listDestinations');
  }
  if (!e.options.has('nosort')) dests = msort(dests, compareDests);
  const names = await namesFor(f.numeric, [svc], [dests]);
  ctx.io.stdout(title(f) + serviceEntry(svc, dests, f, names));
  return OK;
}

async function list(e: Entry, ctx: Context): Promise<Outcome> {
  if (e.json) return (await import('./json.js')).listJson(e, ctx);
  if (e.options.has('connection')) return (await import('./connections.js')).listConnections(e, ctx);
  if (e.options.has('service-address')) return listService(e, ctx);
  if (e.options.has('timeout')) {
    try {
      ctx.io.stdout(timeoutLine(await ctx.raw.getTimeouts()));
    } catch (error) {
      if (!(error instanceof IpvsError)) throw error;
      return { status: 1, fatal: true };
    }
    return OK;
  }
  if (e.options.has('daemon')) {
    try {
      ctx.io.stdout((await ctx.raw.listDaemons()).map(daemonLine).join(''));
    } catch (error) {
      if (!(error instanceof IpvsError)) throw error;
      return { status: 1, fatal: true };
    }
    return OK;
  }
  return listAll(e, ctx, false);
}

function tryHelpOutcome(ctx: Context): Outcome {
  const t = tryHelp(ctx.argv0);
  ctx.io.stderr(t.stderr);
  return { status: t.status, fatal: true };
}

/** `-Z` with no service, or with the all-zero one, zeroes everything. */
export function zeroKey(e: Entry): RawServiceKey | null {
  const s = e.service;
  if (s.fwmark === 0 && s.port === 0 && s.addr.every((b) => b === 0)) return null;
  return serviceKey(e);
}

/** Runs one parsed command line. */
export async function runEntry(e: Entry, ctx: Context, inRestore: boolean): Promise<Outcome> {
  const raw = ctx.raw;
  const change = async (call: () => Promise<void>): Promise<Outcome> => {
    try {
      await call();
      return OK;
    } catch (error) {
      return refused(ctx, error);
    }
  };
  switch (e.command) {
    case 'list':
      return list(e, ctx);
    case 'save':
      return listAll(e, ctx, true);
    case 'restore':
      // ipvsadm refuses to recurse: `Try …`, and the restore ends there.
      if (inRestore) return tryHelpOutcome(ctx);
      return (await import('./restore.js')).restore(e, ctx);
    case 'flush':
      return change(() => raw.clear());
    case 'add-service':
      return change(() => raw.addService(e.service));
    case 'edit-service':
      return change(() => raw.editService(e.service));
    case 'delete-service':
      return change(() => raw.deleteService(serviceKey(e)));
    case 'zero':
      return change(() => raw.zero(zeroKey(e)));
    case 'add-server':
      return change(() => raw.addDestination(serviceKey(e), e.dest));
    case 'edit-server':
      return change(() => raw.editDestination(serviceKey(e), e.dest));
    case 'delete-server':
      return change(() => raw.deleteDestination(serviceKey(e), e.dest));
    case 'set':
      return change(() => raw.setTimeouts(e.timeouts));
    case 'start-daemon':
      return change(() => raw.startDaemon(e.daemon));
    case 'stop-daemon':
      return change(() => raw.stopDaemon(e.daemon));
  }
}
