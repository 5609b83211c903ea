// What the command line's own commands share (subcommands.ts runs them):
// the context each gets, the shape of a command, and its usage errors.
import type { Ipvs } from '../client.js';
import type { CliIo } from './types.js';

/** What a command gets: the client, the process's I/O, and its name as invoked. */
export interface SubcommandContext {
  /**
   * The client, opened on first use (in the namespace of --netns): a command
   * checks its command line first, so that a usage error needs no kernel.
   */
  ipvs(): Promise<Ipvs>;
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
