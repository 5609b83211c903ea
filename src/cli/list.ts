// -L as a table (not --json, not -c): the version line and every service, one
// service (-t, -u, --sctp-service, -f), the timeouts (--timeout) or the sync
// daemons (--daemon), as ipvsadm prints them.
import { IpvsError } from '../errors.js';
import type { RawDest, RawService } from '../native.js';
import {
  compareDests,
  daemonLine,
  listFormat,
  msort,
  serviceEntry,
  timeoutLine,
  title,
  versionLine,
} from './format.js';
import { listFailed, namesFor, OK, printTable, serviceKey } from './kernel.js';
import type { Context, Entry, Outcome } from './types.js';

export async function list(e: Entry, ctx: Context): Promise<Outcome> {
  if (e.options.has('service-address')) return listService(e, ctx);
  // ipvsadm prints nothing for a failed --timeout or --daemon, and exits 1.
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
  return listAll(e, ctx);
}

async function listAll(e: Entry, ctx: Context): Promise<Outcome> {
  const f = listFormat(e.options);
  // Out before anything is fetched: it stays when the service dump fails.
  ctx.io.stdout(versionLine(ctx.info));
  return printTable(ctx, !e.options.has('nosort'), f.numeric, (services, dests, names) => {
    let out = title(f);
    services.forEach((s, i) => (out += serviceEntry(s, dests[i]!, f, names)));
    return out;
  });
}

async function listService(e: Entry, ctx: Context): Promise<Outcome> {
  const f = listFormat(e.options);
  let svc: RawService;
  let dests: RawDest[];
  try {
    svc = await ctx.raw.getService(serviceKey(e));
  } catch (error) {
    return listFailed(ctx, error);
  }
  try {
    dests = await ctx.raw.listDestinations(svc);
  } catch (error) {
    ctx.io.stdout(title(f));
    return listFailed(ctx, error);
  }
  if (!e.options.has('nosort')) dests = msort(dests, compareDests);
  const names = await namesFor(f.numeric, [svc], [dests]);
  ctx.io.stdout(title(f) + serviceEntry(svc, dests, f, names));
  return OK;
}
