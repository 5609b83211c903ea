// -c: the connection table, read through the library's columnar reader (the
// kernel's /proc/net/ip_vs_conn of the client's namespace, parsed in the
// addon, in parallel slices where that is faster) and printed as ipvsadm
// prints it, a batch at a time as it is read: file order, never sorted;
// ports named for TCP, UDP and SCTP entries only; --persistent-conn adds the
// persistence engine columns, with row widths that differ from the title's.
import { familyOf, type Family } from '../address.js';
import { connectionBatches, type ConnectionBatch } from '../connections.js';
import { addrport, namer, NUMERIC, pad, type Namer } from './format.js';
import { errorText, OK, Output } from './kernel.js';
import { native } from '../native.js';
import type { Context, Entry, Outcome } from './types.js';
import { protocolByName } from '../vocabulary/protocols.js';

/** Every batch of the table, in file order. */
export function tableBatches(ctx: Context): AsyncIterable<ConnectionBatch> {
  return connectionBatches(ctx.raw, { parallel: 'auto' });
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Names for the batches of one listing: each batch's addresses looked up at once, the answers kept. */
async function batchNamer(): Promise<(b: ConnectionBatch) => Promise<Namer>> {
  const { HostNames, portToService } = await import('./names.js');
  const hosts = new HostNames();
  const names = namer(hosts, portToService);
  return async (b) => {
    const seen: { family: Family; addr: Uint8Array }[] = [];
    for (let i = 0; i < b.length; i++) {
      seen.push({ family: familyOf(b.family[i]!), addr: b.clientAddress(i) });
      seen.push({ family: familyOf(b.family[i]!), addr: b.virtualAddress(i) });
      seen.push({ family: familyOf(b.destinationFamily[i]!), addr: b.destinationAddress(i) });
    }
    await hosts.prepare(seen);
    return names;
  };
}

/** What each of a batch's protocols prints as, and the protocol its ports are named for (0: none). */
function protocolColumns(b: ConnectionBatch): { text: string; named: number }[] {
  return b.protocols.map((lower) => {
    // The kernel's protocol name, which ipvsadm prints as it reads it; port
    // names only for the protocols services have.
    const entry = protocolByName(lower);
    return { text: pad(entry?.kernel ?? lower, 3), named: entry?.option !== undefined ? entry.number : 0 };
  });
}

/** The lines of one batch. */
export function batchLines(b: ConnectionBatch, withPe: boolean, names: Namer): string {
  const protocols = protocolColumns(b);
  const states = b.states.map((s) => pad(s, 11));
  const w = b.addressLength;
  const dw = b.destinationAddressLength;
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const protocol = protocols[b.protocolIndex[i]!]!;
    const af = b.family[i]!;
    const expires = b.expires[i]!;
    const client = addrport(af, b.client, b.clientPort[i]!, protocol.named, names, i * w);
    const virt = addrport(af, b.virtual, b.virtualPort[i]!, protocol.named, names, i * w);
    const dest = addrport(b.destinationFamily[i]!, b.destination, b.destinationPort[i]!, protocol.named, names, i * dw);
    const expire = pad(`${two(Math.trunc(expires / 60))}:${two(expires % 60)}`, 6);
    const head = `${protocol.text} ${expire} ${states[b.stateIndex[i]!]!} ${pad(client, 18)} ${pad(virt, 18)}`;
    const pe = b.persistenceEngineIndex[i]!;
    // ipvsadm's sscanf must fill all 11 fields: an engine and its data.
    const data = pe === 0 ? '' : b.persistenceData[b.persistenceDataIndex[i]!]!.split(/\s/)[0]!;
    if (withPe && data !== '') out += `${head} ${pad(dest, 16)} ${pad(b.persistenceEngines[pe]!, 18)} ${data}\n`;
    else out += `${head} ${dest}\n`;
  }
  return out;
}

/** The lines of one batch with numbers only (-n), written by the addon as batchLines writes them. */
export function numericLines(b: ConnectionBatch, withPe: boolean): Uint8Array;
/** The same lines copied into `into` when they fit (their length returned), or a new Buffer. */
export function numericLines(b: ConnectionBatch, withPe: boolean, into: Uint8Array | undefined): Uint8Array | number;
export function numericLines(b: ConnectionBatch, withPe: boolean, into?: Uint8Array): Uint8Array | number {
  return native().connectionText(
    b,
    protocolColumns(b).map((p) => p.text),
    withPe,
    into,
  );
}

export async function listConnections(e: Entry, ctx: Context): Promise<Outcome> {
  const withPe = e.options.has('persistent-conn');
  const numeric = e.options.has('numeric');
  const namesOf = numeric ? async () => NUMERIC : await batchNamer();
  const out = new Output(ctx.io);
  const batches = tableBatches(ctx)[Symbol.asyncIterator]();
  // The first batch, or the end, before anything is printed: a table that
  // cannot be read prints only ipvsadm's message.
  let next: IteratorResult<ConnectionBatch>;
  try {
    next = await batches.next();
  } catch {
    ctx.io.stderr('cannot open file /proc/net/ip_vs_conn\n');
    return { status: 1, fatal: true };
  }
  out.add('IPVS connection entries\n');
  const columns = `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)}`;
  out.add(withPe ? `${columns} ${pad('destination', 18)} ${pad('pe name', 16)} pe_data\n` : `${columns} destination\n`);
  try {
    while (!next.done) {
      const b = next.value;
      if (numeric) out.addMade((into) => numericLines(b, withPe, into));
      else out.add(batchLines(b, withPe, await namesOf(b)));
      next = await batches.next();
    }
  } catch (error) {
    // The table could not be read to its end: what was read is out, then why.
    out.flush();
    ctx.io.stderr(`${errorText(error)}\n`);
    return { status: 1, fatal: true };
  } finally {
    await batches.return?.();
  }
  out.flush();
  return OK;
}
