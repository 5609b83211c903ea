// The same table through the library: what `ipvs -Ln --stats` and `ipvs -lnc`
// printed, as typed values (64-bit counters are bigints).
import { open } from 'ipvs';

const ipvs = await open(); // this process's network namespace; open({ netns }) for another
try {
  for (const service of await ipvs.listServices()) {
    console.log(
      `${service.protocol} ${service.address}:${service.port} ${service.scheduler}, ${service.stats.conns} connections`,
    );
    for (const d of await ipvs.listDestinations(service)) {
      console.log(
        `  -> ${d.address}:${d.port} ${d.forwarding} weight ${d.weight}: ${d.stats.conns} connections, ${d.stats.inBytes} bytes in`,
      );
    }
  }
  const byState = await ipvs.connectionStats({ by: 'state' });
  console.log('connection entries by state:', byState.map(({ key, count }) => `${key} ${count}`).join(', '));
} finally {
  await ipvs.close();
}
