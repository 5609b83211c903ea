// A child of the stats scenario (bench/bench.mjs): a fresh process opens a
// client, takes its first packedSnapshot() and then a second, and prints the
// nanoseconds each call took, as JSON ({"first": ns, "second": ns}), so the
// cold call and the warm one come from the same process. PACKAGE is the
// package's root (default: this project).
//
//   node bench/first-snapshot.mjs [PACKAGE]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.argv[2] ?? new URL('..', import.meta.url).pathname;
const { open } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);

const ipvs = await open();
const t0 = process.hrtime.bigint();
await ipvs.packedSnapshot();
const t1 = process.hrtime.bigint();
await ipvs.packedSnapshot();
const t2 = process.hrtime.bigint();
await ipvs.close();
console.log(JSON.stringify({ first: Number(t1 - t0), second: Number(t2 - t1) }));
