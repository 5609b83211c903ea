// What one of the command line's own commands is (subcommands.ts routes to
// them): its usage, its run, what it gets, and its usage error. Apart from the
// router, so that the commands' modules, which it loads, import none of it.
import type { Ipvs } from '../client.js';
import type { CliIo } from './types.js';

/** What a command gets: the client, the process's I/O, and its name as invoked. */
export interface SubcommandContext {
  ipvs: Ipvs;
  io: CliIo;
  /** The command's name as typed after the program's (`apply`). */
  name: string;
  argv0: string;
}

/** One command: its usage text and what runs it (`args`: the words after its name). */
export interface Subcommand {
  usage: string;
  run(args: string[], ctx: SubcommandContext): Promise<number>;
}

/** A usage error: the message, then the command's usage, on stderr; exit status 2. */
export class UsageError extends Error {}
