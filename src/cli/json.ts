// --json: every listing as one JSON document, with the field names of the
// library's info types (docs/cli.md). Every field is always present (null
// when it does not apply); 64-bit counters are written as exact integers
// (JSON numbers of any size, not strings); addresses are numeric.
import { familyOf, formatAddress } from '../address.js';
import type { ConnectionBatch } from '../connections.js';
import { K } from '../constants.js';
import { daemonFromRaw } from '../daemon.js';
import { tunnelFromRaw } from '../destination.js';
import { native, type RawDaemon } from '../native.js';
import { forwardingByValue } from '../vocabulary/forwarding.js';
import { dottedMask } from '../vocabulary/netmask.js';
import { protocolByNumber } from '../vocabulary/protocols.js';
import { schedulerFlagNames } from '../vocabulary/scheduler-flags.js';
import { LISTING_MODE, versionNumber } from './format.js';
import { listFailed, OK, Output, printNumeric, serviceKey, serviceTable, takeTable } from './kernel.js';
import type { Table } from './table.js';
import type { Context, Entry, Outcome } from './types.js';

export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

/** JSON text with bigints as exact integers. */
export function stringify(value: Json, indent = 2): string {
  const marked = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? `${BIGINT}${v}${BIGINT}` : v);
  const text = JSON.stringify(value, marked, indent);
  return text.replace(BIGINTS, '$1');
}
/** Marks a bigint's digits in a JSON string, to be unquoted; no field of ours can contain it. */
const BIGINT = '@@ipvs-bigint@@';
const BIGINTS = new RegExp(`"${BIGINT}(-?\\d+)${BIGINT}"`, 'g');

// The table and the connection table are written as they are read, a service
// or a batch at a time, as the text JSON.stringify(…, null, 2) makes of them.

/** JSON text of a string. */
const str = (s: string): string => JSON.stringify(s);
const nullable = (s: string | undefined): string => (s === undefined ? 'null' : str(s));
const INDENT = Array.from({ length: 12 }, (_, depth) => '  '.repeat(depth));

/** `{ "key": value, … }` at `depth`, the values already JSON text. */
function object(depth: number, fields: readonly (readonly [string, string])[]): string {
  if (fields.length === 0) return '{}';
  const inner = INDENT[depth + 1]!;
  let out = '{';
  for (let k = 0; k < fields.length; k++) out += `${k ? ',' : ''}\n${inner}"${fields[k]![0]}": ${fields[k]![1]}`;
  return `${out}\n${INDENT[depth]}}`;
}

/** `[ … ]` at `depth`, the items already JSON text. */
function array(depth: number, items: readonly string[]): string {
  if (items.length === 0) return '[]';
  const inner = INDENT[depth + 1]!;
  return `[\n${inner}${items.join(`,\n${inner}`)}\n${INDENT[depth]}]`;
}

const STATS = ['connections', 'inPackets', 'outPackets', 'inBytes', 'outBytes'];
const RATES = [
  'connectionsPerSecond',
  'inPacketsPerSecond',
  'outPacketsPerSecond',
  'inBytesPerSecond',
  'outBytesPerSecond',
];

/**
 * The `stats` and `rates` fields of an entry (a service, or `count + j`) in
 * an object at `depth`: each the JSON text of its object.
 */
function counters(t: Table, entry: number, depth: number): [string, string][] {
  const i1 = INDENT[depth + 1]!;
  const i2 = INDENT[depth + 2]!;
  let stats = '';
  let rates = '';
  for (let k = 0; k < 5; k++) {
    stats += `${k ? ',' : ''}\n${i2}"${STATS[k]}": ${t.counter(entry, k)}`;
    rates += `${k ? ',' : ''}\n${i2}"${RATES[k]}": ${t.counter(entry, 5 + k)}`;
  }
  return [
    ['stats', `{${stats}\n${i1}}`],
    ['rates', `{${rates}\n${i1}}`],
  ];
}

function destinationJson(t: Table, j: number, depth: number): string {
  const fwdMethod = t.dest(j, 'fwdMethod');
  const forwarding = forwardingByValue(fwdMethod)?.name;
  if (!forwarding) throw new Error(`the kernel reported unknown forwarding method ${fwdMethod}`);
  const tunnel = tunnelFromRaw({
    fwdMethod,
    tunType: t.dest(j, 'tunType'),
    tunPort: t.dest(j, 'tunPort'),
    tunFlags: t.dest(j, 'tunFlags'),
  });
  const tunnelText = tunnel
    ? object(depth + 1, [
        ['type', str(tunnel.type)],
        ['port', tunnel.type === 'gue' ? String(tunnel.port) : 'null'],
        ['checksum', str(tunnel.checksum)],
      ])
    : 'null';
  const family = familyOf(t.dest(j, 'af'));
  // Every name and value here is ASCII that JSON writes as it is.
  const i1 = INDENT[depth + 1]!;
  return (
    `{\n${i1}"family": "${family}",\n${i1}"address": "${formatAddress(family, t.destAddr(j))}",` +
    `\n${i1}"port": ${t.dest(j, 'port')},\n${i1}"forwarding": "${forwarding}",` +
    `\n${i1}"weight": ${t.dest(j, 'weight') | 0},\n${i1}"upperThreshold": ${t.dest(j, 'uThreshold')},` +
    `\n${i1}"lowerThreshold": ${t.dest(j, 'lThreshold')},\n${i1}"tunnel": ${tunnelText},` +
    `\n${i1}"activeConnections": ${t.dest(j, 'activeConns')},` +
    `\n${i1}"inactiveConnections": ${t.dest(j, 'inactConns')},` +
    `\n${i1}"persistentConnections": ${t.dest(j, 'persistConns')}` +
    counters(t, t.count + j, depth)
      .map(([key, text]) => `,\n${i1}"${key}": ${text}`)
      .join('') +
    `\n${INDENT[depth]}}`
  );
}

/** Service `i` with its destinations (`order`), as JSON text at `depth`. */
export function serviceJson(t: Table, i: number, order: ArrayLike<number>, depth: number): string {
  const af = t.service(i, 'af');
  const family = familyOf(af);
  const fwmark = t.service(i, 'fwmark');
  const flags = t.service(i, 'flags') & ~K.IP_VS_SVC_F_HASHED;
  const scheduler = t.scheduler(i);
  const engine = t.engine(i);
  const netmask = t.service(i, 'netmask');
  let where: [string, string][];
  if (fwmark !== 0) {
    where = [
      ['protocol', 'null'],
      ['address', 'null'],
      ['port', 'null'],
      ['fwmark', String(fwmark)],
    ];
  } else {
    const protocol = protocolByNumber(t.service(i, 'protocol'));
    if (protocol?.option === undefined)
      throw new Error(`the kernel reported a service with unknown protocol ${t.service(i, 'protocol')}`);
    where = [
      ['protocol', str(protocol.name)],
      ['address', str(formatAddress(family, t.serviceAddr(i)))],
      ['port', String(t.service(i, 'port'))],
      ['fwmark', 'null'],
    ];
  }
  const i1 = INDENT[depth + 1]!;
  const i2 = INDENT[depth + 2]!;
  let dests = '';
  for (let k = 0; k < order.length; k++) dests += `${k ? ',' : ''}\n${i2}${destinationJson(t, order[k]!, depth + 2)}`;
  return object(depth, [
    ['family', str(family)],
    ...where,
    ['scheduler', str(scheduler)],
    ['schedulerFlags', array(depth + 1, schedulerFlagNames(scheduler, flags).map(str))],
    [
      'persistence',
      flags & K.IP_VS_SVC_F_PERSISTENT
        ? object(depth + 1, [
            ['timeout', String(t.service(i, 'timeout'))],
            ['netmask', family === 'inet6' ? String(netmask) : str(dottedMask(netmask))],
          ])
        : 'null',
    ],
    ['persistenceEngine', engine === '' ? 'null' : str(engine)],
    ['onePacket', String((flags & K.IP_VS_SVC_F_ONEPACKET) !== 0)],
    ...counters(t, i, depth),
    ['destinations', order.length ? `[${dests}\n${i1}]` : '[]'],
  ]);
}

function endpointJson(family: number, bytes: Uint8Array, at: number, width: number, port: number): string {
  const f = familyOf(family);
  const address = formatAddress(f, bytes.subarray(at, at + width));
  return `{\n      "family": "${f}",\n      "address": "${address}",\n      "port": ${port}\n    }`;
}

/** The entries of one batch, each as JSON text at depth 1 (in the top-level array). */
export function connectionsJson(b: ConnectionBatch): string[] {
  const out: string[] = [];
  const w = b.addressLength;
  const dw = b.destinationAddressLength;
  for (let i = 0; i < b.length; i++) {
    const pe = b.persistenceEngineIndex[i]!;
    const client = endpointJson(b.family[i]!, b.client, i * w, w, b.clientPort[i]!);
    const virt = endpointJson(b.family[i]!, b.virtual, i * w, w, b.virtualPort[i]!);
    const dest = endpointJson(b.destinationFamily[i]!, b.destination, i * dw, dw, b.destinationPort[i]!);
    const engine = pe === 0 ? 'null' : str(b.persistenceEngines[pe]!);
    const data = pe === 0 ? 'null' : nullable(b.persistenceData[b.persistenceDataIndex[i]!]);
    out.push(
      `{\n    "protocol": ${str(b.protocols[b.protocolIndex[i]!]!)},` +
        `\n    "client": ${client},\n    "virtual": ${virt},\n    "destination": ${dest},` +
        `\n    "state": ${str(b.states[b.stateIndex[i]!]!)},\n    "expires": ${b.expires[i]!},` +
        `\n    "persistenceEngine": ${engine},\n    "persistenceData": ${data}\n  }`,
    );
  }
  return out;
}

function daemonsJson(raws: readonly RawDaemon[]): Json {
  return raws.map((raw) => {
    const d = daemonFromRaw(raw);
    return {
      state: d.state,
      interface: d.interface,
      syncId: d.syncId,
      maxLength: d.maxLength,
      group: d.group ?? null,
      port: d.port,
      ttl: d.ttl,
    };
  });
}

/** `-L … --json`: the same selection as the table, as JSON. */
export async function listJson(e: Entry, ctx: Context): Promise<Outcome> {
  const out = (value: Json): Outcome => {
    ctx.io.stdout(`${stringify(value)}\n`);
    return OK;
  };
  const o = e.options;
  const sort = !o.has('nosort');
  try {
    if (o.has('connection')) return await connectionsDocument(ctx);
    if (o.has('timeout')) return out({ ...(await ctx.raw.getTimeouts()) });
    if (o.has('daemon')) return out(daemonsJson(await ctx.raw.listDaemons()));
  } catch (error) {
    return listFailed(ctx, error);
  }
  if (o.has('service-address')) {
    const r = await serviceTable(ctx, serviceKey(e));
    if (r.table === undefined) return listFailed(ctx, r.error);
    ctx.io.stdout(`${serviceJson(r.table, 0, r.table.destOrder(0, sort), 0)}\n`);
    return OK;
  }
  let t: Table;
  try {
    t = await takeTable(ctx);
  } catch (error) {
    return listFailed(ctx, error);
  }
  const w = new Output(ctx.io);
  w.add(`{\n  "version": ${str(versionNumber(ctx.info.version))},\n  "connectionTableSize": ${ctx.info.connTabSize},`);
  w.add('\n  "services": [');
  const order = native().listingOrder(t.p, sort);
  printNumeric(w, t, order, LISTING_MODE.json, sort);
  w.add(order.length ? '\n  ]\n}\n' : ']\n}\n');
  w.flush();
  return OK;
}

/** `-L -c --json`: the connection table as an array, written a batch at a time. */
async function connectionsDocument(ctx: Context): Promise<Outcome> {
  const { tableBatches } = await import('./connections.js');
  const w = new Output(ctx.io);
  let n = 0;
  w.add('[');
  for await (const batch of tableBatches(ctx)) {
    for (const entry of connectionsJson(batch)) w.add(`${n++ ? ',' : ''}\n  ${entry}`);
  }
  w.add(n ? '\n]\n' : ']\n');
  w.flush();
  return OK;
}
