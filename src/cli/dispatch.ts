// Which command family runs a command line: the table listings (list.ts),
// --json (json.ts), -c (connections.ts), -S (save.ts), -R (restore.ts) and
// the changes (change.ts). What a listing does not need is loaded only when
// a command line asks for it.
import { change } from './change.js';
import { Failure, reported, tryHelp } from './failure.js';
import { list } from './list.js';
import { parse } from './parse.js';
import { save } from './save.js';
import type { Context, Entry, Outcome, Runner } from './types.js';

/** Parses and runs one command line (the program's, or a line of -R input). */
export async function runLine(argv: readonly string[], ctx: Context, inRestore: boolean): Promise<Outcome> {
  let entry: Entry;
  try {
    const parsed = await parse(argv, inRestore);
    if (parsed.kind !== 'run') {
      const { helpText, versionText } = await import('./help.js');
      ctx.io.stdout(parsed.kind === 'help' ? helpText(ctx.argv0) : versionText());
      return { status: 0, fatal: true };
    }
    entry = parsed.entry;
  } catch (e) {
    if (e instanceof Failure) return reported(ctx.io, e);
    throw e;
  }
  return runEntry(entry, ctx, inRestore);
}

/** Runs one parsed command line. */
export async function runEntry(e: Entry, ctx: Context, inRestore: boolean): Promise<Outcome> {
  switch (e.command) {
    case 'list':
      if (e.json) return (await import('./json.js')).listJson(e, ctx);
      if (e.options.has('connection')) return (await import('./connections.js')).listConnections(e, ctx);
      return list(e, ctx);
    case 'save':
      return save(e, ctx);
    case 'restore':
      // ipvsadm refuses to recurse: `Try …`, and the restore ends there.
      if (inRestore) return reported(ctx.io, tryHelp(ctx.argv0));
      return (await import('./restore.js')).restore(e, ctx, RUNNER);
    default:
      return change(e.command, e, ctx);
  }
}

/** How -R runs the lines of its input. */
const RUNNER: Runner = { line: runLine, entry: runEntry };
