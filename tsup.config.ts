import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { defineConfig } from 'tsup';

// One implementation of the library behind both module systems: the
// CommonJS build is the library, and the ES module entries (index.js,
// exporter.js) only re-export it, so `require('ipvs')` and `import('ipvs')`
// in one process share every class (`instanceof IpvsError` holds across
// them) and the addon is loaded once. CommonJS is the one both can load:
// Node 20 cannot require() an ES module.
const ENTRIES = ['index', 'exporter'];

/** Writes dist/NAME.js and dist/NAME.d.ts, which re-export dist/NAME.cjs. */
function writeEsmEntries(): void {
  const require = createRequire(import.meta.url);
  for (const name of ENTRIES) {
    const file = `./dist/${name}.cjs`;
    delete require.cache[require.resolve(file)];
    const names = Object.keys(require(file) as object).filter((n) => n !== 'default' && n !== '__esModule');
    writeFileSync(
      `dist/${name}.js`,
      `// The ES module entry: the CommonJS build (${name}.cjs), re-exported.\n` +
        `import library from './${name}.cjs';\n\nexport const {\n${names.map((n) => `  ${n},\n`).join('')}} = library;\n`,
    );
    writeFileSync(`dist/${name}.d.ts`, `export * from './${name}.cjs';\n`);
  }
}

// dist/ starts empty (chunk names change with their contents, and the
// command line's code caches go too). Here, before any build starts, not with
// tsup's `clean`: its declaration build would remove the ES entries'
// declarations, which onSuccess writes, whenever it finishes after them.
rmSync('dist', { recursive: true, force: true });

export default defineConfig([
  {
    // The library (index), its Prometheus entry (exporter), the
    // `ipvs-exporter` command and the addon's loader (addon, which
    // scripts/install.mjs loads), as CommonJS with shared chunks: the
    // exporter's entry and command use the library's own client and errors,
    // not copies.
    entry: {
      index: 'src/index.ts',
      exporter: 'src/exporter/index.ts',
      'ipvs-exporter': 'src/exporter/bin.ts',
      addon: 'src/addon.ts',
    },
    format: ['cjs'],
    splitting: true,
    // Rollup makes the CommonJS chunks: tsup's own CommonJS splitting
    // (through sucrase) turned the class field `name = 'IpvsError'` into an
    // assignment to the chunk's export of the same name (validate.ts's name()).
    treeshake: true,
    // Declarations for the two entries (index.d.cts, exporter.d.cts); the ES
    // entries' declarations re-export them.
    dts: { entry: { index: 'src/index.ts', exporter: 'src/exporter/index.ts' } },
    // Node 20 is the oldest supported runtime.
    target: 'node20',
    // import.meta.url in src/addon.ts and the exporter needs a shim in CommonJS.
    shims: true,
    // No source maps: this code is not minified, so a stack trace already
    // names its functions and readable lines (the package does not ship src/).
    sourcemap: false,
    onSuccess: async () => writeEsmEntries(),
  },
  {
    // The `ipvs` command's program: dist/cli-program.cjs, one minified
    // CommonJS file, which starts faster than ESM chunks or the readable
    // bundle (measured: `scripts/bench cli`); what a listing does not need
    // (name lookups, restore, -c) is only initialised on demand. Its source
    // map names the TypeScript lines (NODE_OPTIONS=--enable-source-maps).
    // node-gyp-build, the addon's locator where src/addon.ts does not find it
    // itself, is loaded from node_modules then.
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
]);
