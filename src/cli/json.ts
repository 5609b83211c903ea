// --json: every listing as one JSON document, with the field names of the
// library's info types (docs/cli.md). Every field is always present (null
// when it does not apply); 64-bit counters are written as exact integers
// (JSON numbers of any size, not strings); addresses are numeric.
import type { ConnectionBatch } from '../connections.js';
import { daemonFromRaw } from '../daemon.js';
import { destinationFromRaw } from '../destination.js';
import type { RawDaemon, RawDest, RawService } from '../native.js';
import { serviceFromRaw } from '../service.js';
import type { Stats } from '../stats.js';
import { compareDests, msort, versionNumber } from './format.js';
import { fetchTable, listFailed, OK, serviceKey } from './kernel.js';
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

function stats(s: Stats): Json {
  return {
    connections: s.conns,
    inPackets: s.inPackets,
    outPackets: s.outPackets,
    inBytes: s.inBytes,
    outBytes: s.outBytes,
  };
}

function rates(s: Stats): Json {
  return {
    connectionsPerSecond: s.cps,
    inPacketsPerSecond: s.inPps,
    outPacketsPerSecond: s.outPps,
    inBytesPerSecond: s.inBps,
    outBytesPerSecond: s.outBps,
  };
}

export function destinationJson(raw: RawDest): Json {
  const d = destinationFromRaw(raw);
  const t = d.tunnel;
  return {
    family: d.family,
    address: d.address,
    port: d.port,
    forwarding: d.forwarding,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    tunnel: t ? { type: t.type, port: t.type === 'gue' ? t.port : null, checksum: t.checksum } : null,
    activeConnections: d.activeConnections,
    inactiveConnections: d.inactiveConnections,
    persistentConnections: d.persistentConnections,
    stats: stats(d.stats),
    rates: rates(d.stats),
  };
}

export function serviceJson(raw: RawService, dests: readonly RawDest[]): Json {
  const s = serviceFromRaw(raw);
  return {
    family: s.family,
    protocol: s.protocol ?? null,
    address: s.address ?? null,
    port: s.port ?? null,
    fwmark: s.fwmark ?? null,
    scheduler: s.scheduler,
    schedulerFlags: s.schedulerFlags,
    persistence: s.persistence ? { timeout: s.persistence.timeout, netmask: s.persistence.netmask } : null,
    persistenceEngine: s.persistenceEngine ?? null,
    onePacket: s.onePacket,
    stats: stats(s.stats),
    rates: rates(s.stats),
    destinations: dests.map(destinationJson),
  };
}

export function connectionsJson(batches: readonly ConnectionBatch[]): Json {
  const out: Json[] = [];
  for (const batch of batches) {
    for (const c of batch) {
      out.push({
        protocol: c.protocol,
        client: { ...c.client },
        virtual: { ...c.virtual },
        destination: { ...c.destination },
        state: c.state,
        expires: c.expires,
        persistenceEngine: c.persistenceEngine ?? null,
        persistenceData: c.persistenceData ?? null,
      });
    }
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
  try {
    if (o.has('connection')) {
      const { readConnections } = await import('./connections.js');
      return out(connectionsJson(await readConnections(ctx)));
    }
    if (o.has('timeout')) return out({ ...(await ctx.raw.getTimeouts()) });
    if (o.has('daemon')) return out(daemonsJson(await ctx.raw.listDaemons()));
    if (o.has('service-address')) {
      const svc = await ctx.raw.getService(serviceKey(e));
      let dests = await ctx.raw.listDestinations(svc);
      if (!o.has('nosort')) dests = msort(dests, compareDests);
      return out(serviceJson(svc, dests));
    }
  } catch (error) {
    return listFailed(ctx, error);
  }
  const table = await fetchTable(ctx, !o.has('nosort'));
  if (table.failure) return listFailed(ctx, table.failure.error);
  return out({
    version: versionNumber(ctx.info.version),
    connectionTableSize: ctx.info.connTabSize,
    services: table.services.map((s, i) => serviceJson(s, table.dests[i]!)),
  });
}
