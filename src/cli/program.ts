// The `ipvs` program: main() with this process's argv, stdin and stdout
// (dist/cli-program.cjs, which the executable, bin.ts, runs).
import { readFileSync, writeSync } from 'node:fs';

import { main } from './main.js';

/** Writes all of `text` to a descriptor synchronously; a reader gone away (EPIPE) ends the program quietly. */
function writeAll(fd: number, text: string | Uint8Array): void {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') process.exit(141);
      throw e;
    }
  }
}

// argv[0] as ipvsadm's messages show it: the path this script was run by.
main([process.argv[1] ?? 'ipvs', ...process.argv.slice(2)], {
  stdout: (text) => writeAll(1, text),
  stdoutBytes: (bytes) => writeAll(1, bytes),
  stderr: (text) => writeAll(2, text),
  stdin: () => readFileSync(0, 'utf8'),
  ownsProcess: true,
}).then(
  (status) => process.exit(status),
  (e: unknown) => {
    writeAll(2, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);
