// The command line's shared types: what a parsed command line holds, what the
// command lines of one run share, and what each comes to. Types only: every
// module of the command line may import this one, and it loads none of theirs.
import type { RawIpvs } from '../client.js';
import type { RawDaemon, RawDestSpec, RawInfo, RawServiceSpec, RawTimeouts } from '../native.js';
import type { Command, Option } from './options.js';

export interface CliIo {
  /** Receives everything for stdout, in order. */
  stdout(text: string): void;
  /** Receives text for stdout as UTF-8 bytes, in the same order; default: stdout(its text). */
  stdoutBytes?: (bytes: Uint8Array) => void;
  /** Receives everything for stderr, in order. */
  stderr(text: string): void;
  /** stdin's whole text, read when a command needs it (-R). Default: none. */
  stdin?: () => string | Promise<string>;
  /** A network namespace to work in when the command line names none (a path). */
  netns?: string;
  /**
   * The program owns its process (bin.ts): the library's calls then run on
   * this thread, each settled before it returns, which spares a short-lived
   * process the start of libuv's pool and a thread hop per call.
   */
  ownsProcess?: boolean;
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

/** What a command line asks for, with the structs ipvsadm would send. */
export interface Entry {
  command: Command;
  /** The tracked options given (for the checks and the list modes). */
  options: Set<Option>;
  service: RawServiceSpec;
  dest: RawDestSpec;
  daemon: RawDaemon;
  timeouts: RawTimeouts;
  /** Beyond ipvsadm. */
  json: boolean;
  atomic: boolean;
  comments: boolean;
  netns: string | undefined;
}

export type Parsed = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; entry: Entry };

/** Runs command lines: handed to -R, whose input lines are command lines of their own. */
export interface Runner {
  /** Parses and runs one command line (`argv[0]` the program name). */
  line(argv: readonly string[], ctx: Context, inRestore: boolean): Promise<Outcome>;
  /** Runs one parsed command line. */
  entry(e: Entry, ctx: Context, inRestore: boolean): Promise<Outcome>;
}
