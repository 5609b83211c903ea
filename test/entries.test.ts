// The package's entries as built (dist/): `require('ipvs')` and
// `import('ipvs')` are one implementation, so one process that loads both
// (an ES module app with a CommonJS dependency, or the reverse) has one
// IpvsError class, one client class and one addon; the same for
// `ipvs/exporter`, which uses the main entry's classes rather than copies.
// Each case runs in a fresh node, as an application would.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** Runs an ES module script in a fresh node (`require` at hand) and returns what it printed as JSON. */
function run(script: string): Record<string, unknown> {
  const preamble = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(dist)});
  `;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', `${preamble}\n${script}`], {
    encoding: 'utf8',
    cwd: dist,
  });
  if (out.status !== 0) throw new Error(`node exited with ${out.status}: ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

describe('one implementation behind require and import', () => {
  it('gives one IpvsError class, whichever module system made the error or checks it', () => {
    const r = run(`
      const cjs = require('./index.cjs');
      const esm = await import('./index.js');
      // A real failure of the library (no IPVS here, no privileges, or a closed client).
      const failure = (api) =>
        api.open({ modprobe: false }).then(async (c) => { await c.close(); return c.info().catch((e) => e); }, (e) => e);
      const fromEsm = await failure(esm);
      const fromCjs = await failure(cjs);
      console.log(JSON.stringify({
        sameClass: cjs.IpvsError === esm.IpvsError && cjs.ApplyError === esm.ApplyError,
        sameClient: cjs.Ipvs === esm.Ipvs && cjs.open === esm.open,
        esmErrorIsCjs: fromEsm instanceof cjs.IpvsError,
        cjsErrorIsEsm: fromCjs instanceof esm.IpvsError,
        code: fromEsm.code,
        cjsNames: Object.keys(cjs).filter((n) => n !== '__esModule').sort(),
        esmNames: Object.keys(esm).sort(),
      }));
    `);
    expect(r).toMatchObject({ sameClass: true, sameClient: true, esmErrorIsCjs: true, cjsErrorIsEsm: true });
    expect(r.code).toMatch(/^E[A-Z]+$/);
    expect(r.esmNames).toEqual(r.cjsNames);
  });

  it('gives ipvs/exporter the main entry’s classes, in both module systems', () => {
    const r = run(`
      const exporterCjs = require('./exporter.cjs');
      const exporterEsm = await import('./exporter.js');
      console.log(JSON.stringify({
        same: exporterCjs.createCollector === exporterEsm.createCollector && exporterCjs.Metrics === exporterEsm.Metrics,
        cjsNames: Object.keys(exporterCjs).filter((n) => n !== '__esModule').sort(),
        esmNames: Object.keys(exporterEsm).sort(),
        // Every file of the library that loading both entries brought in.
        loaded: Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dist)})).length,
      }));
    `);
    expect(r.same).toBe(true);
    expect(r.esmNames).toEqual(r.cjsNames);
    expect(r.loaded).toBeGreaterThan(1);
  });

  it('defines each class once in dist/, but in the command line’s own bundle', () => {
    const defining = (name: string) =>
      readdirSync(dist).filter(
        (f) =>
          f.endsWith('.cjs') &&
          f !== 'cli-program.cjs' &&
          new RegExp(`\\b${name} = class\\b|\\bclass ${name}\\b`).test(readFileSync(join(dist, f), 'utf8')),
      );
    for (const name of ['IpvsError', 'ApplyError', 'Ipvs', 'RawIpvs', 'ConnectionBatch', 'Metrics']) {
      expect(defining(name), name).toHaveLength(1);
    }
  });

  it('declares the ES entries as the CommonJS ones', () => {
    expect(readFileSync(join(dist, 'index.d.ts'), 'utf8')).toBe("export * from './index.cjs';\n");
    expect(readFileSync(join(dist, 'exporter.d.ts'), 'utf8')).toBe("export * from './exporter.cjs';\n");
  });
});
