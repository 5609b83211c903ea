// The library's first example: a virtual service with three real servers.
// Run as root where the kernel has IPVS (scripts/demo arranges that).
import { open } from 'ipvs';

await using ipvs = await open();

const web = { protocol: 'tcp', address: '192.0.2.10', port: 80 };
await ipvs.addService({ ...web, scheduler: 'wlc' });
await ipvs.editService({ ...web, scheduler: 'rr' });
for (const [i, weight] of [1, 2, 3].entries()) {
  await ipvs.addDestination(web, { address: `198.51.100.${i + 1}`, forwarding: 'masq', weight });
}
await ipvs.editDestination(web, { address: '198.51.100.3', forwarding: 'masq', weight: 0 }); // drain it

const { version, connectionTableSize } = await ipvs.info();
console.log(`IPVS ${version}, ${connectionTableSize} connection buckets`);
for (const service of await ipvs.listServices()) {
  console.log(`${service.protocol} ${service.address}:${service.port} ${service.scheduler}`);
  for (const d of await ipvs.listDestinations(service)) {
    console.log(`  -> ${d.address}:${d.port} ${d.forwarding} weight ${d.weight}, ${d.stats.conns} connections`);
  }
}
