// -c: the connection table, read through the library's connection reader
// (the kernel's /proc/net/ip_vs_conn of the client's namespace, parsed in the
// addon) and printed as ipvsadm prints it: file order, never sorted; ports
// named for TCP, UDP and SCTP entries only; --persistent-conn adds the
// persistence engine columns, with row widths that differ from the title's.
import { connectionBatches, type ConnectionBatch } from '../connections.js';
import { K } from '../constants.js';
import { addrport, namer, NUMERIC, pad, type Namer } from './format.js';
import { OK } from './kernel.js';
import type { Context, Entry, Outcome } from './types.js';
import { protocolByName } from '../vocabulary/protocols.js';

/** Every batch of the table, in file order. */
export async function readConnections(ctx: Context): Promise<ConnectionBatch[]> {
  const batches: ConnectionBatch[] = [];
  for await (const batch of connectionBatches(ctx.raw)) batches.push(batch);
  return batches;
}

const two = (n: number): string => String(n).padStart(2, '0');

async function connectionNamer(batches: readonly ConnectionBatch[]): Promise<Namer> {
  const { HostNames, portToService } = await import('./names.js');
  const hosts = new HostNames();
  const seen: { family: 'inet' | 'inet6'; addr: Uint8Array }[] = [];
  const fam = (af: number) => (af === K.AF_INET6 ? 'inet6' : 'inet') as 'inet' | 'inet6';
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      seen.push({ family: fam(b.family[i]!), addr: b.clientAddress(i) });
      seen.push({ family: fam(b.family[i]!), addr: b.virtualAddress(i) });
      seen.push({ family: fam(b.destinationFamily[i]!), addr: b.destinationAddress(i) });
    }
  }
  await hosts.prepare(seen);
  return namer(hosts, portToService);
}

export async function listConnections(e: Entry, ctx: Context): Promise<Outcome> {
  let batches: ConnectionBatch[];
  try {
    batches = await readConnections(ctx);
  } catch {
    ctx.io.stderr('cannot open file /proc/net/ip_vs_conn\n');
    return { status: 1, fatal: true };
  }
  const withPe = e.options.has('persistent-conn');
  const names = e.options.has('numeric') ? NUMERIC : await connectionNamer(batches);
  const parts: string[] = ['IPVS connection entries\n'];
  const columns = `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)}`;
  parts.push(
    withPe ? `${columns} ${pad('destination', 18)} ${pad('pe name', 16)} pe_data\n` : `${columns} destination\n`,
  );
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      const lower = b.protocols[b.protocolIndex[i]!]!;
      // The kernel's protocol name, which ipvsadm prints as it reads it;
      // port names only for the protocols services have.
      const entry = protocolByName(lower);
      const proto = entry?.kernel ?? lower;
      const protocol = entry?.option !== undefined ? entry.number : 0;
      const af = b.family[i]!;
      const expires = b.expires[i]!;
      const client = addrport(af, b.clientAddress(i), b.clientPort[i]!, protocol, names);
      const virt = addrport(af, b.virtualAddress(i), b.virtualPort[i]!, protocol, names);
      const dest = addrport(b.destinationFamily[i]!, b.destinationAddress(i), b.destinationPort[i]!, protocol, names);
      const expire = `${two(Math.trunc(expires / 60))}:${two(expires % 60)}`;
      const state = b.states[b.stateIndex[i]!]!;
      const head = `${pad(proto, 3)} ${pad(expire, 6)} ${pad(state, 11)} ${pad(client, 18)} ${pad(virt, 18)}`;
      const pe = b.persistenceEngineIndex[i]!;
      // ipvsadm's sscanf must fill all 11 fields: an engine and its data.
      const data = pe === 0 ? '' : b.persistenceData[b.persistenceDataIndex[i]!]!.split(/\s/)[0]!;
      if (withPe && data !== '') {
        parts.push(`${head} ${pad(dest, 16)} ${pad(b.persistenceEngines[pe]!, 18)} ${data}\n`);
      } else {
        parts.push(`${head} ${dest}\n`);
      }
    }
  }
  ctx.io.stdout(parts.join(''));
  return OK;
}
