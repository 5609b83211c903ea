// Files for unit tests of the connection reader, which reads a descriptor
// the caller holds (each reader reopens it): a temporary directory, removed
// with its descriptors after the file's tests.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

export interface TempFiles {
  dir: string;
  /** A descriptor (read-only) of a new file `name` holding `text`. */
  file(name: string, text: string): number;
  /** Keeps `fd` to be closed after the tests (unless forgotten first). */
  keep(fd: number): number;
  /** Closes `fd` now, and forgets it. */
  close(fd: number): void;
}

/** A temporary directory for the current describe block (or file), removed after it. */
export function tempFiles(prefix: string): TempFiles {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const fds = new Set<number>();
  afterAll(() => {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  const keep = (fd: number) => (fds.add(fd), fd);
  return {
    dir,
    keep,
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return keep(openSync(path, 'r'));
    },
    close(fd) {
      fds.delete(fd);
      closeSync(fd);
    },
  };
}
