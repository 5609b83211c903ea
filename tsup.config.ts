import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
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
