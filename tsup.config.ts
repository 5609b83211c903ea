import { defineConfig } from 'tsup';

export default defineConfig({
  // cli: the `ipvs` command. Its bin is dist/cli.cjs (keeps its #! line): one CommonJS
  // file starts faster than ESM chunks (measured: `scripts/bench cli`), and what a listing
  // does not need (name lookups, restore, JSON, -c) is only initialised on demand.
  entry: { index: 'src/index.ts', cli: 'src/cli/bin.ts' },
  // Both module systems, each with its own declarations (index.d.ts, index.d.cts).
  format: ['esm', 'cjs'],
  dts: true,
  // Node 20 is the oldest supported runtime.
  target: 'node20',
  // import.meta.url in src/native.ts needs a shim in the CommonJS build.
  shims: true,
  clean: true,
  sourcemap: true,
});
