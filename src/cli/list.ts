// -L as a table (not --json, not -c): the version line and every service, one
// service (-t, -u, --sctp-service, -f), the timeouts (--timeout) or the sync
// daemons (--daemon), as ipvsadm prints them.
import { IpvsError } from '../errors.js';
import { daemonLine, listFormat, listingMode, serviceEntry, timeoutLine, title, versionLine } from './format.js';
import { listFailed, namesFor, OK, printTable, serviceKey, serviceTable } from './kernel.js';
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
  // Out before anything is fetched: it stays when the snapshot fails.
  ctx.io.stdout(versionLine(ctx.info));
  return printTable(
    ctx,
    !e.options.has('nosort'),
    f.numeric,
    title(f),
    (t, i, dests, names) => serviceEntry(t, i, dests, f, names),
    { mode: listingMode(f), exact: f.exact },
  );
}

async function listService(e: Entry, ctx: Context): Promise<Outcome> {
  const f = listFormat(e.options);
  const r = await serviceTable(ctx, serviceKey(e));
  if (r.table === undefined) {
    if (r.during === 'destinations') ctx.io.stdout(title(f));
    return listFailed(ctx, r.error);
  }
  const t = r.table;
  const names = await namesFor(f.numeric, t, [0]);
  ctx.io.stdout(title(f) + serviceEntry(t, 0, t.destOrder(0, !e.options.has('nosort')), f, names));
  return OK;
}
