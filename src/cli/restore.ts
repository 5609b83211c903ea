// -R: command lines from stdin. As ipvsadm: each line split on blanks (no
// quoting), `ipvsadm` words dropped, blank lines skipped, each line a full
// command; a validation error ends the restore, a kernel error is printed and
// the next line runs; the exit status is the last line's.
//
// Beyond ipvsadm: --comments skips `#` comments (whole lines, or from a word
// starting with `#` to the end of the line); --atomic checks every line
// first, then applies them, and on the first failure undoes what it applied
// (in reverse order) and names the line that failed.
import { K } from '../constants.js';
import { IpvsError } from '../errors.js';
import type { RawDaemon, RawDest, RawService, RawServiceSpec, RawTimeouts } from '../native.js';
import { isChange, send, type ChangeCommand } from './change.js';
import { Failure } from './failure.js';
import { errorText, serviceKey } from './kernel.js';
import { parse } from './parse.js';
import type { Context, Entry, Outcome, Runner } from './types.js';

/** The words of one line of restore input; none for a line to skip. */
export function restoreWords(line: string, comments: boolean): string[] {
  const words = line.split(/[ \t\r]+/).filter((w) => w !== '' && w !== 'ipvsadm');
  if (!comments) return words;
  const hash = words.findIndex((w) => w.startsWith('#'));
  return hash < 0 ? words : words.slice(0, hash);
}

function inputLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `-R`: `run` runs each line, as the program runs its own command line. */
export async function restore(e: Entry, ctx: Context, run: Runner): Promise<Outcome> {
  const text = ctx.io.stdin ? await ctx.io.stdin() : '';
  const lines = inputLines(text);
  if (e.atomic) return restoreAtomic(lines, e.comments, ctx, run);
  let result: Outcome = { status: 0, fatal: false };
  for (const line of lines) {
    const words = restoreWords(line, e.comments);
    if (words.length === 0) continue;
    const outcome = await run.line([ctx.argv0, ...words], ctx, true);
    if (outcome.fatal) return outcome;
    result = outcome;
  }
  return result;
}

// --- --atomic ------------------------------------------------------------------

type Undo = () => Promise<void>;

/** A service as the kernel reported it, as a spec to send back (without the kernel's HASHED bit). */
function specOf(s: RawService): RawServiceSpec {
  const { af, protocol, addr, port, fwmark, scheduler, pe, flags, timeout, netmask } = s;
  return { af, protocol, addr, port, fwmark, scheduler, pe, flags: flags & ~K.IP_VS_SVC_F_HASHED, timeout, netmask };
}

type Endpoint = { af: number; addr: Uint8Array; port: number };

/** The address bytes that count for the endpoint's family. */
const addressOf = (x: Endpoint): Buffer => Buffer.from(x.addr.subarray(0, x.af === K.AF_INET6 ? 16 : 4));

const sameDest = (a: Endpoint, b: Endpoint): boolean =>
  a.af === b.af && a.port === b.port && Buffer.compare(addressOf(a), addressOf(b)) === 0;

async function readd(ctx: Context, s: RawService, dests: readonly RawDest[]): Promise<void> {
  await ctx.raw.addService(specOf(s));
  for (const d of dests) await ctx.raw.addDestination(s, d);
}

/**
 * Applies one change and returns how to take it back (undefined: nothing to
 * undo; zeroed counters cannot be restored). Throws the kernel's refusal.
 */
async function apply(e: Entry, ctx: Context): Promise<Undo | undefined> {
  if (!isChange(e.command)) return undefined;
  const undo = await undoing(e.command, e, ctx);
  await send(e.command, e, ctx.raw);
  return undo;
}

/** How to take back a change, read from the kernel before it is sent. */
async function undoing(command: ChangeCommand, e: Entry, ctx: Context): Promise<Undo | undefined> {
  const raw = ctx.raw;
  const key = serviceKey(e);
  switch (command) {
    case 'flush': {
      const services = await raw.listServices();
      const dests = await Promise.all(services.map((s) => raw.listDestinations(s)));
      return async () => {
        for (const [i, s] of services.entries()) await readd(ctx, s, dests[i]!);
      };
    }
    case 'add-service':
      return () => raw.deleteService(key);
    case 'edit-service': {
      const prior = await raw.getService(key).catch(() => undefined);
      return prior && (() => raw.editService(specOf(prior)));
    }
    case 'delete-service': {
      const prior = await raw.getService(key).catch(() => undefined);
      const dests = prior ? await raw.listDestinations(prior) : [];
      return prior && (() => readd(ctx, prior, dests));
    }
    case 'add-server':
      return () => raw.deleteDestination(key, e.dest);
    case 'edit-server': {
      const prior = await priorDest(e, ctx);
      return prior && (() => raw.editDestination(key, prior));
    }
    case 'delete-server': {
      const prior = await priorDest(e, ctx);
      return prior && (() => raw.addDestination(key, prior));
    }
    case 'set': {
      const prior: RawTimeouts = await raw.getTimeouts();
      return () => raw.setTimeouts(prior);
    }
    case 'start-daemon':
      return () => raw.stopDaemon({ state: e.daemon.state });
    case 'stop-daemon': {
      const prior: RawDaemon | undefined = (await raw.listDaemons()).find((d) => d.state & e.daemon.state);
      return prior && (() => raw.startDaemon({ ...prior, state: e.daemon.state }));
    }
    case 'zero':
      // Counters cannot be put back.
      return undefined;
  }
}

/** The real server a line names, as the kernel has it (undefined when it has none). */
async function priorDest(e: Entry, ctx: Context): Promise<RawDest | undefined> {
  const dests = await ctx.raw.listDestinations(serviceKey(e)).catch(() => [] as RawDest[]);
  return dests.find((d) => sameDest(d, e.dest));
}

async function restoreAtomic(lines: string[], comments: boolean, ctx: Context, run: Runner): Promise<Outcome> {
  const say = (text: string): void => ctx.io.stderr(`${ctx.argv0}: ${text}\n`);
  // First every line is checked, so a mistake anywhere changes nothing.
  const entries: { line: number; entry: Entry }[] = [];
  for (const [i, line] of lines.entries()) {
    const words = restoreWords(line, comments);
    if (words.length === 0) continue;
    try {
      const parsed = await parse([ctx.argv0, ...words], true);
      if (parsed.kind !== 'run') {
        say(`line ${i + 1}: -h and -v are not commands to restore; nothing was changed`);
        return { status: 2, fatal: true };
      }
      if (parsed.entry.command === 'restore') {
        say(`line ${i + 1}: a restore cannot contain a restore; nothing was changed`);
        return { status: 2, fatal: true };
      }
      entries.push({ line: i + 1, entry: parsed.entry });
    } catch (error) {
      if (!(error instanceof Failure)) throw error;
      say(`line ${i + 1}: ${error.stderr.trimEnd()}; nothing was changed`);
      return { status: error.status, fatal: true };
    }
  }
  const undo: Undo[] = [];
  for (const { line, entry } of entries) {
    let failed: string | undefined;
    let status = 255;
    if (entry.command === 'list' || entry.command === 'save') {
      // Listings print as usual; one that fails fails the restore.
      const errors: string[] = [];
      const capturing = { ...ctx, io: { ...ctx.io, stderr: (t: string) => errors.push(t) } };
      const outcome = await run.entry(entry, capturing, true);
      if (outcome.status !== 0) {
        failed = errors.join('').trimEnd() || `the listing failed (exit status ${outcome.status})`;
        status = outcome.status;
      }
    } else {
      try {
        const back = await apply(entry, ctx);
        if (back) undo.push(back);
      } catch (error) {
        if (!(error instanceof IpvsError)) throw error;
        failed = errorText(error);
      }
    }
    if (failed === undefined) continue;
    say(`line ${line}: ${failed}`);
    let undone = 0;
    for (const back of undo.reverse()) {
      try {
        await back();
        undone++;
      } catch (error) {
        say(`could not undo a change: ${errorText(error)}; the table may differ from before the restore`);
        return { status, fatal: true };
      }
    }
    say(`restore rolled back: ${undone} change${undone === 1 ? '' : 's'} undone`);
    return { status, fatal: true };
  }
  return { status: 0, fatal: false };
}
