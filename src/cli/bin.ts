#!/usr/bin/env node
// The `ipvs` executable: main() with this process's argv, stdin and stdout.
import { readFileSync, writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

import { main } from './main.js';

// A listing is one short burst of work: V8's optimising compiler would spend
// more compiling its loops than it saves on them. Tiering up later (after
// about 7x the default budget of bytecode run) keeps the big listings
// optimised: measured on a listing of 11,000 lines, 81 ms formatting by
// default, 52 ms with this; of 220,000 lines, 177 and 204 ms.
setFlagsFromString('--interrupt-budget=1000000');

/** Writes all of `text` to a descriptor synchronously; a reader gone away (EPIPE) ends the program quietly. */
function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
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
