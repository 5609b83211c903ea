// The command line's own commands, beyond ipvsadm's grammar: `ipvs apply`,
// `ipvs export`, `ipvs drain`, `ipvs watch`. ipvsadm takes no bare word as
// its first argument (it prints `Try …`), so these names collide with none of
// its command lines. Each command parses its own options (node:util's
// parseArgs), works through the facade (open()), and returns its exit status:
// 0 done, 1 the kernel or the table said no, 2 a usage error, 3 done but the
// table differs from what was asked (drift).
import { isAddonError } from '../addon.js';
import { open, type Ipvs } from '../client.js';
import { IpvsError } from '../errors.js';
import { netnsPath } from './parse.js';
import type { CliIo } from './types.js';
import { UsageError, type Subcommand, type SubcommandContext } from './subcommand.js';

/** Each command's module, loaded only when its command line runs. */
const COMMANDS: Record<string, () => Promise<Subcommand>> = {
  apply: async () => (await import('./apply.js')).applyCommand,
  export: async () => (await import('./apply.js')).exportCommand,
  drain: async () => (await import('./drain.js')).drainCommand,
  watch: async () => (await import('./watch.js')).watchCommand,
};

export function isSubcommand(word: string | undefined): boolean {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

/**
 * `--netns NAME|PATH` (or `--netns=…`) anywhere before `--`: removed from
 * `args`, and the namespace's path returned.
 */
function takeNetns(args: string[]): string | undefined {
  let netns: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '--') break;
    if (w === '--netns') {
      if (i + 1 >= args.length) throw new UsageError('--netns needs a namespace (a name in /run/netns or a path)');
      netns = netnsPath(args[i + 1]!);
      args.splice(i, 2);
      i--;
    } else if (w.startsWith('--netns=')) {
      netns = netnsPath(w.slice('--netns='.length));
      args.splice(i, 1);
      i--;
    }
  }
  return netns;
}

/** Runs `ipvs NAME ARGS…` (argv as main() takes it); resolves to the exit status. */
export async function runSubcommand(argv: readonly string[], io: CliIo): Promise<number> {
  // Our own commands' messages name the program as its users know it, not
  // the path it was run by (ipvsadm's command lines keep that, as ipvsadm does).
  const argv0 = 'ipvs';
  const name = argv[1]!;
  const command = await COMMANDS[name]!();
  const args = argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.usage);
    return 0;
  }
  let client: Promise<Ipvs> | undefined;
  try {
    // --netns is taken out before the command reads its options.
    const netns = takeNetns(args) ?? io.netns;
    const ctx: SubcommandContext = {
      io,
      name,
      argv0,
      ipvs: () => (client ??= open(netns === undefined ? {} : { netns })),
    };
    return await command.run(args, ctx);
  } catch (e) {
    return failed(e, io, command, argv0, name);
  } finally {
    if (client !== undefined) await client.then((c) => c.close()).catch(() => undefined);
  }
}

function failed(e: unknown, io: CliIo, command: Subcommand, argv0: string, name: string): number {
  if (e instanceof UsageError) {
    io.stderr(`${argv0} ${name}: ${e.message}\n${command.usage}`);
    return 2;
  }
  if (isAddonError(e)) {
    io.stderr(`${argv0} ${name}: ${e.message}\n`);
    return 1;
  }
  if (e instanceof IpvsError || e instanceof TypeError || e instanceof RangeError) {
    io.stderr(`${argv0} ${name}: ${e.message}\n`);
    return e instanceof IpvsError ? 1 : 2;
  }
  throw e;
}
