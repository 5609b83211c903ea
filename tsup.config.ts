import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library, in both module systems, each with its own declarations
    // (index.d.ts, index.d.cts).
    entry: { index: 'src/index.ts', exporter: 'src/exporter/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // Node 20 is the oldest supported runtime.
    target: 'node20',
    // import.meta.url in src/native.ts needs a shim in the CommonJS build.
    shims: true,
    // Everything but the command line's bundle, which the other build writes.
    clean: ['!cli.cjs', '!cli-program.cjs', '!cli-program.cjs.map', '!ipvs-exporter.cjs', '!ipvs-exporter.cjs.map'],
    sourcemap: true,
  },
  {
    // The `ipvs` command's program: dist/cli-program.cjs, one minified
    // CommonJS file, which starts faster than ESM chunks or the readable
    // bundle (measured: `scripts/bench cli`); what a listing does not need
    // (name lookups, restore, -c) is only initialised on demand. Its source
    // map names the TypeScript lines.
    entry: { 'cli-program': 'src/cli/program.ts' },
    format: ['cjs'],
    target: 'node20',
    shims: true,
    minify: true,
    sourcemap: true,
  },
  {
    // dist/cli.cjs, the executable: runs cli-program.cjs with V8's code
    // cache (src/cli/bin.ts).
    entry: { cli: 'src/cli/bin.ts' },
    format: ['cjs'],
    target: 'node20',
    minify: true,
  },
  {
    // dist/ipvs-exporter.cjs, the `ipvs-exporter` command (prom-client stays
    // a dependency, loaded from node_modules).
    entry: { 'ipvs-exporter': 'src/exporter/bin.ts' },
    format: ['cjs'],
    target: 'node20',
    shims: true,
    sourcemap: true,
  },
]);
