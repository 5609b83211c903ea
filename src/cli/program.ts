// The `ipvs` program: main() with this process's argv, stdin and stdout
// (dist/cli-program.cjs, which the executable, bin.ts, runs).
import { existsSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { basename, delimiter, join, sep } from 'node:path';

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
