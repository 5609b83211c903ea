#!/usr/bin/env node
// The `ipvs` executable: runs the command line's bundle (program.ts, built as
// dist/cli-program.cjs) with V8's code cache for it kept beside it, so that a
// command compiles almost nothing that an earlier one compiled: under
// emulation, compiling the bundle and the functions a listing runs is a
// tenth of the start-up. The cache is V8's own (it checks the source, V8's
// version and flags, and rejects what does not fit, which is then compiled
// as usual); it is written at exit when missing or rejected, where the
// package's files may be written, and never otherwise.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, Script } from 'node:vm';

// `ipvs apply`: the young generation grows to its full size at its first
// crowded collection, not by doubling. A large document keeps nearly
// everything it allocates, and each collection of a young generation still
// growing copies all of it again (under emulation, a tenth of an apply of
// 1,000 x 10). This process is the command line's own, and V8 reads this
// setting at each growth; the size it grows to stays V8's. Only for apply
// (the word anywhere: at worst another command runs so tuned): node:v8
// loads about 25 of Node's own modules (its heap snapshots' streams), half
// of what the command's start-up adds to Node's. Before the script is
// compiled, since the code cache is checked against V8's flags: each
// setting has its cache.
const tuned = process.argv.includes('apply');
if (tuned) (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=16');

const file = join(__dirname, 'cli-program.cjs');
const cacheFile = `${file}.${process.arch}-${process.versions.v8}${tuned ? '-apply' : ''}.cache`;
// A script compiled from a code cache has no loader for dynamic imports: the
// bundle makes none where Node has getBuiltinModule (main.ts), and without
// it runs without a cache.
const caches = typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function';
let cached: Buffer | undefined;
try {
  if (caches) cached = readFileSync(cacheFile);
} catch {
  // none yet
}
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`,
  {
    filename: file,
    cachedData: cached,
    // Without a cache, the bundle's dynamic imports (of Node's own modules)
    // as a file's own would load them (the constant is Node 20.12's).
    importModuleDynamically:
      (constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)
        ?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier: string) => import(specifier)),
  } as ConstructorParameters<typeof Script>[1],
);
if (caches && (cached === undefined || script.cachedDataRejected === true)) {
  process.once('exit', () => {
    // After the run, so that the cache holds the functions it compiled too.
    const temporary = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(temporary, script.createCachedData(), { mode: 0o644 });
      renameSync(temporary, cacheFile);
    } catch {
      // A package that cannot be written to starts without a cache.
    }
  });
}
const program = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(program.exports, require, program, file, __dirname);
