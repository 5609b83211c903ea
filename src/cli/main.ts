// The `ipvs` command: ipvsadm 1.31's command line on top of the library.
// `main` is the whole program as a function (argv, stdin, stdout/stderr sinks
// in; exit status out), so it runs in-process in tests; bin.ts wires it to the
// real process. It only starts the program: reads the argv, opens IPVS as
// ipvsadm does, hands the command line to the dispatcher and returns the exit
// status. Nothing here exits the process.
import { existsSync } from 'node:fs';

import { isAddonError } from '../addon.js';
import { open, type RawIpvs } from '../client.js';
import { IpvsError, ipvsadmMessage } from '../errors.js';
import type { RawInfo } from '../native.js';
import { runCallsInline } from '../raw.js';
import { runLine } from './dispatch.js';
import { versionNumber } from './format.js';
import { parse, peekNetns, wantsHelp } from './parse.js';
import { isSubcommand, runSubcommand } from './subcommands.js';
import type { CliIo } from './types.js';

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

/**
 * Runs one `ipvs` command line. `argv[0]` is the program name, shown in
 * ipvsadm's messages as given. Resolves to the exit status.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const argv0 = argv[0] ?? 'ipvs';
  // Without arguments (or with only our own options), ipvsadm lists.
  let args = argv.length <= 1 ? [argv0, '-L'] : [...argv];
  // Our own commands (`ipvs apply …`, `ipvs --netns lb apply …`), whose first word ipvsadm would refuse.
  const at = subcommandAt(args);
  if (at > 0)
    return exitStatus(await runSubcommand([argv0, args[at]!, ...args.slice(1, at), ...args.slice(at + 1)], io));
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
    if (io.ownsProcess) runCallsInline(); // the first use of the addon
    ({ raw, info } = await initialize(netns));
  } catch (e) {
    // An addon that cannot load is no fault of the kernel's: say what is missing.
    if (isAddonError(e)) {
      io.stderr(`${argv0}: ${e.message}\n`);
      return 1;
    }
    // As ipvsadm: run modprobe where its output shows, then try once more.
    const { spawnSync } = await childProcess();
    const r = spawnSync('/sbin/modprobe', ['--', 'ip_vs'], { encoding: 'utf8' });
    if (r.stdout) io.stdout(r.stdout);
    if (r.stderr) io.stderr(r.stderr);
    try {
      ({ raw, info } = await initialize(netns));
    } catch (e) {
      io.stderr(
        `Can't initialize ipvs: ${describeInitError(e)}\n` +
          'Are you sure that IP Virtual Server is built in the kernel or as module?\n',
      );
      return 2;
    }
  }
  try {
    if (info.version < 0x010104) {
      io.stderr(
        `Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version ${versionNumber(info.version)}\n` +
          '  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n',
      );
    }
    const outcome = await runLine(args, { raw, info, io, argv0 }, false);
    return exitStatus(outcome.status);
  } finally {
    await raw.close();
  }
}

/** Where the name of one of our own commands is: the first word after any --netns options; -1 for none. */
function subcommandAt(argv: readonly string[]): number {
  let i = 1;
  while (i < argv.length) {
    const w = argv[i]!;
    if (w === '--netns') i += 2;
    else if (w.startsWith('--netns=')) i++;
    else break;
  }
  return isSubcommand(argv[i]) ? i : -1;
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

/**
 * node:child_process, loaded only when needed: without a dynamic import
 * where Node has getBuiltinModule (20.16), since the executable's code cache
 * (bin.ts) keeps no loader for one.
 */
async function childProcess(): Promise<typeof import('node:child_process')> {
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (
    (builtin?.('node:child_process') as typeof import('node:child_process') | undefined) ?? import('node:child_process')
  );
}
