// The `ipvs` command: ipvsadm 1.31's command line on top of the library.
// `main` is the whole program as a function (argv, stdin, stdout/stderr sinks
// in; exit status out), so it runs in-process in tests; bin.ts wires it to the
// real process. Nothing here exits the process.
import { existsSync } from 'node:fs';

import { open, type RawIpvs } from '../client.js';
import { IpvsError, ipvsadmMessage } from '../errors.js';
import type { RawInfo } from '../native.js';
import { parse, peekNetns, wantsHelp, Failure, type Entry } from './parse.js';
import { runEntry } from './run.js';

export interface CliIo {
  /** Receives everything for stdout, in order. */
  stdout(text: string): void;
  /** Receives everything for stderr, in order. */
  stderr(text: string): void;
  /** stdin's whole text, read when a command needs it (-R). Default: none. */
  stdin?: () => string | Promise<string>;
  /** A network namespace to work in when the command line names none (a path). */
  netns?: string;
}

/** What one command line came to: its exit status, and whether ipvsadm would have exited there. */
export interface Outcome {
  status: number;
  fatal: boolean;
}

/** Shared by the command lines of one run (a restore runs many). */
export interface Context {
  raw: RawIpvs;
  info: RawInfo;
  io: CliIo;
  argv0: string;
}

/** The exit status of a C program returning `n` from main. */
const exitStatus = (n: number): number => n & 0xff;

function describeInitError(e: unknown): string {
  if (e instanceof IpvsError) return ipvsadmMessage('init', e.errno, e.fromKernel ? e.detail : e.message);
  return e instanceof Error ? e.message : String(e);
}

/** ipvs_init: a socket with the IPVS family resolved, and GET_INFO answered. */
async function initialize(netns: string | undefined): Promise<{ raw: RawIpvs; info: RawInfo }> {
  const raw = (await open(netns === undefined ? {} : { netns })).raw;
  try {
    return { raw, info: await raw.info() };
  } catch (e) {
    await raw.close();
    throw e;
  }
}

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
    if (e instanceof Failure) {
      ctx.io.stderr(e.stderr);
      return { status: e.status, fatal: e.fatal };
    }
    throw e;
  }
  return runEntry(entry, ctx, inRestore);
}

/**
 * Runs one `ipvs` command line. `argv[0]` is the program name, shown in
 * ipvsadm's messages as given. Resolves to the exit status.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const argv0 = argv[0] ?? 'ipvs';
  // Without arguments (or with only our own options), ipvsadm lists.
  let args = argv.length <= 1 ? [argv0, '-L'] : [...argv];
  if (wantsHelp(args)) {
    // Help and version describe this program and need no kernel.
    const parsed = await parse(args).catch(() => undefined);
    const { helpText, versionText } = await import('./help.js');
    io.stdout(parsed?.kind === 'version' ? versionText() : helpText(argv0));
    return 0;
  }
  if (onlyExtensions(args)) args = [...args, '-L'];

  const netns = peekNetns(args) ?? io.netns;
  if (netns !== undefined && !existsSync(netns)) {
    io.stderr(`Can't enter network namespace ${netns}: No such file or directory\n`);
    return 2;
  }
  let raw: RawIpvs;
  let info: RawInfo;
  try {
    ({ raw, info } = await initialize(netns));
  } catch {
    // As ipvsadm: run modprobe where its output shows, then try once more.
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('/sbin/modprobe', ['--', 'ip_vs'], { encoding: 'utf8' });
    if (r.stdout) io.stdout(r.stdout);
    if (r.stderr) io.stderr(r.stderr);
    try {
      ({ raw, info } = await initialize(netns));
    } catch (e) {
      io.stderr(`Can't initialize ipvs: ${describeInitError(e)}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n`);
      return 2;
    }
  }
  try {
    if (info.version < 0x010104) {
      const v = info.version;
      io.stderr(
        `Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version ${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}\n` +
          '  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n',
      );
    }
    const outcome = await runLine(args, { raw, info, io, argv0 }, false);
    return exitStatus(outcome.status);
  } finally {
    await raw.close();
  }
}

/** True when argv holds nothing but our own options (`ipvs --netns lb`). */
function onlyExtensions(argv: readonly string[]): boolean {
  let i = 1;
  while (i < argv.length) {
    const w = argv[i]!;
    if (w === '--json' || w === '--atomic' || w === '--comments' || w.startsWith('--netns=')) i++;
    else if (w === '--netns' && i + 1 < argv.length) i += 2;
    else return false;
  }
  return argv.length > 1;
}
