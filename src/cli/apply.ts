// `ipvs apply` and `ipvs export`: the table as a desired-state document
// (YAML or JSON), and that document made the table, all or nothing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { changeOnce, describeChange, type Change } from '../batch.js';
import { destinationSpecFromRaw, type DestinationSpec } from '../destination.js';
import { ApplyError } from '../errors.js';
import { planParts, type ApplyResult, type DesiredService, type DesiredState, type Plan } from '../plan.js';
import { serviceSpecFromRaw, type ServiceSpec } from '../service.js';
import { serviceId } from '../table.js';
import { addedDestinationText, addedServiceText, destinationValue, fieldChanges, serviceValue } from './change-text.js';
import { Failure } from './failure.js';
import { parse } from './parse.js';
import { restoreWords } from './restore.js';
import { UsageError, type Subcommand, type SubcommandContext } from './subcommand.js';

// --- reading a document -----------------------------------------------------

/** The text of FILE, or of stdin for `-`. */
async function readInput(file: string, ctx: SubcommandContext): Promise<string> {
  if (file === '-') return ctx.io.stdin ? await ctx.io.stdin() : '';
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * The YAML parser, loaded when a document needs it: loading it costs more
 * than reading a large JSON document (about 70 ms on a fast machine, several
 * times that under emulation). require, not import(): the command line runs
 * from a code-cached script, where import() warns that it is experimental.
 */
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');

/**
 * A YAML or JSON document; a syntax error names the line. JSON is YAML, but
 * JSON.parse reads it many times faster (a table of 50,000 destinations is
 * seconds of YAML parsing under emulation): a document that starts as JSON
 * does is tried as JSON first.
 */
export function parseDocument(text: string, name: string): unknown {
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // YAML's flow style starts so too; its parser says what is wrong
    }
  }
  const { parse } = yaml();
  try {
    return parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new UsageError(`${name} is not valid YAML or JSON: ${(e as Error).message}`);
  }
}

/**
 * `ipvsadm -S` rules (add-service and add-server lines, as `-R` reads them)
 * as a desired state. Other commands are refused: a desired state holds no
 * deletes, flushes or daemons.
 */
export async function parseRules(text: string, name: string, argv0: string): Promise<DesiredState> {
  const services = new Map<string, DesiredService>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const words = restoreWords(lines[i]!, true);
    if (words.length === 0) continue;
    const where = `${name}, line ${i + 1}`;
    let parsed;
    try {
      parsed = await parse([argv0, ...words], true);
    } catch (e) {
      if (e instanceof Failure) throw new UsageError(`${where}: ${e.stderr.trim()}`);
      throw e;
    }
    if (parsed.kind !== 'run') throw new UsageError(`${where}: not a rule`);
    const entry = parsed.entry;
    const id = serviceId(entry.service);
    if (entry.command === 'add-service') {
      if (services.has(id)) throw new UsageError(`${where}: service ${id} is added twice`);
      const spec: DesiredService = serviceSpecFromRaw(entry.service); // no spread: one of thousands
      spec.destinations = [];
      services.set(id, spec);
    } else if (entry.command === 'add-server') {
      const service = services.get(id);
      if (!service) throw new UsageError(`${where}: server of ${id}, which no earlier line adds`);
      service.destinations!.push(destinationSpecFromRaw(entry.dest));
    } else {
      throw new UsageError(`${where}: only -A and -a lines make a desired state, not ${entry.command}`);
    }
  }
  return { services: [...services.values()] };
}

// --- printing a plan ----------------------------------------------------------

/**
 * One line per change, as a diff reads: `+` add, `~` edit (each field
 * `before -> after`), `-` delete.
 */
export function changeLine(c: Change): string {
  const mark = c.action === 'add' ? '+' : c.action === 'edit' ? '~' : '-';
  if (c.kind === 'service') {
    const head = `${mark} service ${c.service}`;
    if (c.action === 'add') return `${head} ${addedServiceText(c.after!)}`;
    if (c.action === 'delete') {
      const n = c.destinations?.length ?? 0;
      return n === 0 ? head : `${head} (with its ${n} destination${n === 1 ? '' : 's'})`;
    }
    return `${head} ${fieldChanges(c.fields ?? [], c.before!, c.after!, serviceValue)}`;
  }
  const head = `${mark} destination ${c.service} -> ${c.destination}`;
  if (c.action === 'add') return `${head} ${addedDestinationText(c.after!)}`;
  if (c.action === 'delete') return head;
  return `${head} ${fieldChanges(c.fields ?? [], c.before!, c.after!, destinationValue)}`;
}

function summaryLine(s: ApplyResult['summary']): string {
  return `${s.add} to add, ${s.edit} to change, ${s.delete} to delete`;
}

const noop = () => {};

/** Lines made in one turn of the event loop while a plan is applied. */
const LINES_PER_TURN = 256;

/**
 * The plan's lines, in parts of about 64 KiB, made while it is applied. This
 * thread is idle while the kernel makes the last part of the changes (from an
 * empty table, most of them) and while the table is read back; a plan of
 * 55,000 changes is hundreds of milliseconds of lines under emulation. So
 * they are made once apply() has made every step (`filled`: it is encoding
 * its last part), or once it has ended (a dry run, a refusal), and a slice of
 * lines per turn of the event loop, so that the apply's own work here waits
 * at most one slice. (Made from the start, they slowed the apply of 5,000 x
 * 10: the young generation's collections of both, and parts handed to the
 * kernel late.) Stops when `stopped()` says they are no longer wanted.
 */
async function planText(plan: Plan, applying: Promise<unknown>, stopped: () => boolean): Promise<string[]> {
  const { lazy } = planParts(plan)!;
  await Promise.race([lazy.filled, applying.then(noop, noop)]);
  const parts: string[] = [];
  let text = '';
  for (let i = 0; i < lazy.total && !stopped();) {
    const end = Math.min(lazy.total, i + LINES_PER_TURN);
    lazy.fill(end); // the plan's steps not yet made (apply() makes them as it sends them, too)
    for (; i < end; i++) {
      text += `${changeLine(changeOnce(lazy.steps[i]!))}\n`;
      if (text.length >= 1 << 16) {
        parts.push(text);
        text = '';
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (text !== '') parts.push(text);
  return parts;
}

/** A change for JSON: its fields as they are. */
const changeJson = (c: Change) => ({ ...c, text: describeChange(c) });

// --- the commands -------------------------------------------------------------

const APPLY_USAGE = `Usage: ipvs apply [--dry-run] [--only-listed] [--max-changes N] [--drain SECONDS] [--json]
                  [--rules] FILE|-
Makes the IPVS table equal to FILE (a desired state in YAML or JSON; with --rules, ipvsadm -S rules),
all or nothing: when the kernel refuses a change, every change made is undone. Prints the plan as a
diff (+ add, ~ change, - delete) and a summary. Exit status: 0 the table now equals FILE; 1 nothing
changed (a refusal, more changes than --max-changes); 2 bad input; 3 applied, but another process
changed the table meanwhile (drift, printed).
  --dry-run          print the plan, change nothing
  --only-listed      change only the services FILE names; leave every other service alone
  --max-changes N    refuse a plan of more than N changes, before changing anything
  --drain SECONDS    remove destinations gracefully: weight 0 first, then each is deleted once the
                     connection table holds nothing for it (waiting up to SECONDS; exit 1 if one stays)
  --json             print the result as one JSON object
  --rules            FILE is ipvsadm -S output (-A and -a lines)
  --netns NAME|PATH  work in that network namespace
See docs/apply.md for the document's schema.
`;

async function runApply(args: string[], ctx: SubcommandContext): Promise<number> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean' },
        'only-listed': { type: 'boolean' },
        'max-changes': { type: 'string' },
        drain: { type: 'string' },
        json: { type: 'boolean' },
        rules: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError('give one FILE (or - for stdin)');
  const file = positionals[0]!;
  let maxChanges: number | undefined;
  if (values['max-changes'] !== undefined) {
    maxChanges = Number(values['max-changes']);
    if (!/^\d+$/.test(values['max-changes'] as string) || !Number.isSafeInteger(maxChanges)) {
      throw new UsageError(`--max-changes takes a number of changes, not '${values['max-changes'] as string}'`);
    }
  }
  let drainSeconds: number | undefined;
  if (values.drain !== undefined) {
    drainSeconds = Number(values.drain);
    if (!/^\d+(\.\d+)?$/.test(values.drain as string) || !(drainSeconds <= 2 ** 31 / 1000)) {
      throw new UsageError(
        `--drain takes the seconds to wait for each destination's connections, not '${values.drain as string}'`,
      );
    }
  }
  const name = file === '-' ? 'stdin' : file;
  const text = await readInput(file, ctx);
  const desired = values.rules ? await parseRules(text, name, ctx.argv0) : parseDocument(text, name);
  let result: ApplyResult;
  // Made while the plan is applied: the lines, or nothing once it has failed.
  let lines: Promise<string[]> | undefined;
  let failed = false;
  try {
    const ipvs = await ctx.ipvs();
    const plan = await ipvs.plan(desired as DesiredState, { onlyListed: values['only-listed'] === true });
    const applying = ipvs.apply(plan, {
      dryRun: values['dry-run'] === true,
      ...(maxChanges !== undefined ? { maxChanges } : {}),
      ...(drainSeconds !== undefined ? { drain: { timeout: Math.round(drainSeconds * 1000) } } : {}),
    });
    if (!values.json) lines = planText(plan, applying, () => failed);
    result = await applying;
  } catch (e) {
    failed = true;
    if (e instanceof TypeError || e instanceof RangeError) throw new UsageError(`${name}: ${e.message}`);
    if (e instanceof ApplyError && values.json) {
      const error = { message: e.message, code: e.code, change: e.change, restored: e.restored };
      ctx.io.stdout(`${JSON.stringify({ applied: false, error })}\n`);
      ctx.io.stderr(`${ctx.argv0} apply: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (lines === undefined) {
    const { applied, summary } = result;
    const changes = result.changes.map(changeJson);
    ctx.io.stdout(`${JSON.stringify({ applied, summary, changes, drift: result.drift.map(changeJson) })}\n`);
  } else {
    for (const part of await lines) ctx.io.stdout(part);
    const { add, edit, delete: del } = result.summary;
    if (add + edit + del === 0) ctx.io.stdout(`No changes: the table already equals ${name}.\n`);
    else if (!result.applied) ctx.io.stdout(`Plan: ${summaryLine(result.summary)} (dry run: nothing changed).\n`);
    else ctx.io.stdout(`Applied: ${add} added, ${edit} changed, ${del} deleted.\n`);
  }
  if (result.drift.length > 0) {
    ctx.io.stderr(
      `${ctx.argv0} apply: the table differs from ${name} after applying ` +
        '(another process changed it meanwhile); what would still change:\n' +
        result.drift.map((c) => `  ${changeLine(c)}\n`).join(''),
    );
    return 3;
  }
  return 0;
}

const EXPORT_USAGE = `Usage: ipvs export [--json]
Prints the IPVS table as a desired-state document (YAML, or JSON with --json), which
\`ipvs apply\` takes: \`ipvs export | ipvs apply -\` changes nothing.
  --json             JSON instead of YAML
  --netns NAME|PATH  read that network namespace's table
`;

async function runExport(args: string[], ctx: SubcommandContext): Promise<number> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }),
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]!}'`);
  const state = await (await ctx.ipvs()).export();
  ctx.io.stdout(values.json ? `${JSON.stringify(state, null, 2)}\n` : yaml().stringify(state));
  return 0;
}

/** node:util's parseArgs, its errors as usage errors. */
function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export const applyCommand: Subcommand = { usage: APPLY_USAGE, run: runApply };
export const exportCommand: Subcommand = { usage: EXPORT_USAGE, run: runExport };
