// Checks an installed `ipvs` from inside the project that installed it (this
// file is copied there by check.sh): both module systems load the package,
// share one implementation, and load the addon; with --kernel (in the lab,
// as root, IPVS in the kernel) the library also works against the kernel.
// Prints one line per check; exits non-zero on the first that fails.
//
//   node check.mjs [--addon SUFFIX] [--kernel]
//     --addon SUFFIX   the addon loaded must be the file ending so
//                      (prebuilds/linux-x64/ipvs.glibc.node, build/Release/ipvs.node)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { addon: { type: 'string' }, kernel: { type: 'boolean' } } });
const require = createRequire(import.meta.url);
const ok = (what) => console.log(`ok: ${what}`);
function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  ok(what);
}

const cjs = require('ipvs');
const esm = await import('ipvs');
check(
  cjs.IpvsError === esm.IpvsError && cjs.open === esm.open,
  "require('ipvs') and import('ipvs') share one IpvsError and open",
);
const exporterCjs = require('ipvs/exporter');
const exporterEsm = await import('ipvs/exporter');
check(
  exporterCjs.createCollector === exporterEsm.createCollector,
  "require('ipvs/exporter') and import('ipvs/exporter') are one module",
);

// Loading the addon needs no IPVS: only open() does. Without IPVS (or under
// qemu-user, which has no generic netlink) open() rejects with an IpvsError;
// an addon that did not load rejects with ERR_IPVS_ADDON instead.
const opened = await esm.open({ modprobe: false }).then(
  (client) => client,
  (error) => error,
);
if (opened instanceof Error && !(opened instanceof cjs.IpvsError)) {
  console.error(`FAILED: the addon did not load: ${opened.message}`);
  process.exit(1);
}
const addon = readFileSync('/proc/self/maps', 'utf8')
  .split('\n')
  .map((line) => line.split(/\s+/)[5] ?? '')
  .find((file) => file.endsWith('.node') && file.includes('/ipvs/'));
check(
  addon !== undefined,
  `the addon loaded: ${addon} (open(): ${opened instanceof Error ? opened.code : 'a client'})`,
);
if (values.addon !== undefined) check(addon.endsWith(values.addon), `the addon is …${values.addon}`);

if (values.kernel) {
  check(!(opened instanceof Error), 'open() works against the kernel');
  const ipvs = opened;
  const service = { protocol: 'tcp', address: '192.0.2.80', port: 80 };
  await ipvs.addService({ ...service, scheduler: 'rr' });
  await ipvs.addDestination(service, { address: '198.51.100.80', forwarding: 'masq', weight: 2 });
  const listed = await ipvs.listDestinations(service);
  check(listed.length === 1 && listed[0].weight === 2, 'addService, addDestination, listDestinations');
  const error = await ipvs.addService({ ...service, scheduler: 'rr' }).catch((e) => e);
  check(error instanceof cjs.IpvsError && error.code === 'EEXIST', `a refusal is an IpvsError (${error.message})`);
  await ipvs.deleteService(service);
}
if (!(opened instanceof Error)) await opened.close();
