// The soak (scripts/soak): in the lab, a 1,000-service table with 50,000
// connections, snapshots at 100 Hz, connection reads and counts, and churn
// (services and destinations added and deleted), all in one process for the
// given number of minutes. Prints RSS, threads and descriptors each minute
// and exits non-zero when they grew.
//
//   node --expose-gc bench/soak.mjs [MINUTES]   (root, a kernel with IPVS; default 20)
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

import { open } from '../dist/index.js';
import { makeConnections } from './connections.mjs';

const MINUTES = Number(process.argv[2] ?? 20);
const SERVICES = 1000;
const CONNECTIONS = 50_000;
if (!(MINUTES >= 1)) throw new Error(`soak: minutes must be at least 1, not ${process.argv[2]}`);

const threads = () => readdirSync('/proc/self/task').length;
const descriptors = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The table: 1,000 TCP services with 4 destinations each, and one UDP service
// that holds the connections (UDP entries live for the UDP timeout).
const lines = ['-C'];
for (let i = 0; i < SERVICES; i++) {
  const svc = `-t 192.0.2.${1 + (i >> 8)}:${1000 + (i & 255)}`;
  lines.push(`-A ${svc} -s wlc`);
  for (let j = 1; j <= 4; j++) lines.push(`-a ${svc} -r 198.51.100.${j}:80 -m -w ${j}`);
}
execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
makeConnections({
  link: 'soak0',
  vip: '192.0.2.200',
  clients: 16,
  destinations: 4,
  udpTimeout: MINUTES * 60 + 3600,
  n: CONNECTIONS,
});

const ipvs = await open();
const stop = new AbortController();
const counts = { snapshots: 0, reads: 0, counts: 0, churn: 0, errors: 0 };
const errors = new Map();
const failed = (e) => {
  counts.errors++;
  const key = `${e?.code ?? e?.name}: ${e?.message}`;
  errors.set(key, (errors.get(key) ?? 0) + 1);
};

async function snapshots() {
  for await (const _ of ipvs.poll({ interval: 10, signal: stop.signal })) counts.snapshots++;
}

async function reads() {
  for (let i = 0; !stop.signal.aborted; i++) {
    try {
      if (i % 2 === 0) {
        let n = 0;
        for await (const b of ipvs.connectionBatches({ parallel: 'auto', signal: stop.signal })) n += b.length;
        counts.reads++;
      } else {
        await ipvs.connectionStats({ by: i % 4 === 1 ? 'destination' : 'state', parallel: 2, signal: stop.signal });
        counts.counts++;
      }
    } catch (e) {
      if (!stop.signal.aborted) failed(e);
    }
  }
}

async function churn() {
  for (let i = 0; !stop.signal.aborted; i++) {
    const service = { protocol: 'tcp', address: '192.0.2.250', port: 1 + (i % 100) };
    try {
      await ipvs.addService({ ...service, scheduler: 'rr' });
      for (let j = 1; j <= 4; j++)
        await ipvs.addDestination(service, { address: `198.51.100.${j}`, forwarding: 'masq' });
      await ipvs.editDestination(service, { address: '198.51.100.1', forwarding: 'masq', weight: 0 });
      await ipvs.deleteDestination(service, { address: '198.51.100.2' });
      await ipvs.deleteService(service);
      counts.churn++;
    } catch (e) {
      failed(e);
    }
    await sleep(20);
  }
}

const samples = [];
function sample(minute) {
  globalThis.gc?.();
  const s = { minute, rss: rssMiB(), threads: threads(), descriptors: descriptors(), ...counts };
  samples.push(s);
  console.log(
    `| ${String(minute).padStart(6)} | ${s.rss.toFixed(1).padStart(8)} | ${String(s.threads).padStart(7)} | ${String(s.descriptors).padStart(11)} | ${String(s.snapshots).padStart(9)} | ${String(s.reads).padStart(5)} | ${String(s.counts).padStart(6)} | ${String(s.churn).padStart(5)} | ${String(s.errors).padStart(6)} |`,
  );
}

console.log(`soak: ${SERVICES} services, ${CONNECTIONS} connections, ${MINUTES} minutes\n`);
console.log('| minute | RSS MiB | threads | descriptors | snapshots | reads | counts | churn | errors |');
console.log('| -----: | ------: | ------: | ----------: | --------: | ----: | -----: | ----: | -----: |');
sample(0);
const work = Promise.all([snapshots(), reads(), churn()]);
for (let m = 1; m <= MINUTES; m++) {
  await sleep(60_000);
  sample(m);
}
stop.abort();
await work;
await ipvs.close();

// Growth: from the end of the first minute (warmed up) to the end. Threads
// and descriptors vary with what is in flight at the sample, by a few.
const first = samples[1];
const last = samples[samples.length - 1];
const problems = [];
if (last.rss > first.rss * 1.15 + 16)
  problems.push(`RSS grew from ${first.rss.toFixed(1)} to ${last.rss.toFixed(1)} MiB`);
if (last.threads > first.threads + 8) problems.push(`threads grew from ${first.threads} to ${last.threads}`);
if (last.descriptors > first.descriptors + 8)
  problems.push(`descriptors grew from ${first.descriptors} to ${last.descriptors}`);
if (counts.errors > 0)
  problems.push(`${counts.errors} calls failed: ${[...errors].map(([k, v]) => `${v} x ${k}`).join('; ')}`);
for (const p of problems) console.log(`\nFAILED: ${p}`);
if (problems.length === 0)
  console.log(
    `\nno growth: RSS ${first.rss.toFixed(1)} -> ${last.rss.toFixed(1)} MiB, threads ${first.threads} -> ${last.threads}, descriptors ${first.descriptors} -> ${last.descriptors}; no call failed`,
  );
process.exit(problems.length ? 1 : 0);
