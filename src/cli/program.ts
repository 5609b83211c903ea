// The `ipvs` program: main() with this process's argv, stdin and stdout
// (dist/cli-program.cjs, which the executable, bin.ts, runs).
import { existsSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { basename, delimiter, join, sep } from 'node:path';

import { main } from './main.js';

/** Text of ASCII only: its characters are its bytes. */
const ASCII = /^[\x00-\x7f]*$/;

/** Writes all of `text` to a descriptor synchronously; a reader gone away (EPIPE) ends the program quietly. */
function writeAll(fd: number, text: string | Uint8Array): void {
  if (typeof text === 'string' && ASCII.test(text)) {
    // Written from the string, without a Buffer made of it: a plan of a large
    // table is megabytes of lines, and each Buffer is memory outside V8's heap
    // that counts towards its next collection.
    for (let off = 0; off < text.length;) off += written(() => writeSync(fd, text.slice(off), null, 'latin1'));
    return;
  }
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  for (let off = 0; off < data.length;) off += written(() => writeSync(fd, data, off));
}

/** The bytes one write wrote: 0 to try again (EAGAIN); a reader gone away (EPIPE) ends the program quietly. */
function written(write: () => number): number {
  try {
    return write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return 0;
    if (code === 'EPIPE') process.exit(141);
    throw e;
  }
}

/**
 * The program's name as ipvsadm's messages and -h show argv[0]. A shell that
 * ran `ipvs` found it on PATH by that name, but an interpreted script never
 * sees the name it was given, only its file (Node makes even that absolute).
 * So: `ipvs` for an installed package's executable (run by its bin, a link
 * or a package manager's shim such as pnpm's), the base name when PATH leads
 * to this very file, else the path (a checkout's dist/cli.cjs, run by its path).
 */
function invokedAs(script: string | undefined): string {
  if (script === undefined) return 'ipvs';
  let file: string;
  try {
    file = realpathSync(script);
  } catch {
    return script;
  }
  if (file.split(sep).includes('node_modules')) return 'ipvs';
  const name = basename(script);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !existsSync(join(dir, name))) continue;
    try {
      return realpathSync(join(dir, name)) === file ? name : script;
    } catch {
      return script;
    }
  }
  return script;
}

main([invokedAs(process.argv[1]), ...process.argv.slice(2)], {
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
