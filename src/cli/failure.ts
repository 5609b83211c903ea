// A command line that ends before the kernel is asked anything: what ipvsadm
// prints on stderr, and its exit status.
import type { CliIo, Outcome } from './types.js';

/** A run that ends here: what to print on stderr and the exit status. */
export class Failure {
  /**
   * `fatal`: ipvsadm exits on the spot (validation, `Try …`), which also ends
   * a restore; otherwise (a popt error on a later option) the command only
   * fails and a restore goes on with the next line.
   */
  constructor(
    readonly status: number,
    readonly stderr: string,
    readonly fatal: boolean,
  ) {}
}

/** ipvsadm's fail(2, …): message, exit status 2. */
export function fail(message: string): Failure {
  return new Failure(2, `${message}\n`, true);
}

export function tryHelp(argv0: string): Failure {
  return new Failure(255, `Try \`${argv0} -h' or '${argv0} --help' for more information.\n`, true);
}

/** Prints a failure; what the command line comes to. */
export function reported(io: CliIo, f: Failure): Outcome {
  io.stderr(f.stderr);
  return { status: f.status, fatal: f.fatal };
}
