// The connection table: one entry per client flow that IPVS tracks, and the
// persistence templates. The addon reads /proc/net/ip_vs_conn of the client's
// namespace on threads of its own and hands over columnar batches; this module
// validates requests and turns columns into objects (connection-plan.ts plans
// parallel reads).
import { availableParallelism } from 'node:os';

import { afOf, familyOf, formatAddress, parseAddress, type Family } from './address.js';
import { K } from './constants.js';
import type { RawIpvs } from './raw.js';
import { AUTO_MIN_BYTES, entryBytes, rememberTableBytes, sliceBounds, tableBytes } from './connection-plan.js';
import { PROTOCOLS, protocolByKernel, protocolByName, type ProtocolName } from './vocabulary/protocols.js';
import { cancellable, signalOption } from './cancel.js';
import { abortError, closedError, fromNative, withOp } from './errors.js';
import {
  native,
  type NativeSocket,
  type RawConnectionBatch,
  type RawConnectionFilter,
  type RawConnectionMatch,
  type RawConnectionRead,
  type RawConnectionStats,
} from './native.js';
import { describe, integer, invalidType, knownKeys, object, oneOf, outOfRange } from './validate.js';

/**
 * The kernel's protocol name in lower case; `'ip'` for persistence templates;
 * any other name (`IP_<n>`) as the kernel prints it.
 */
export type ConnectionProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'ip' | (string & {});

/** The protocols a filter can name. */
export type KnownConnectionProtocol = ProtocolName;

/** One side of a connection. */
export interface Endpoint {
  /** IPv4 or IPv6. */
  family: Family;
  /** The address, as text. */
  address: string;
  /** The port. */
  port: number;
}

/** One entry of the connection table (`/proc/net/ip_vs_conn`). */
export interface Connection {
  /** The protocol (`'ip'`: a persistence template). */
  protocol: ConnectionProtocol;
  /** The client's address and port. */
  client: Endpoint;
  /** The virtual service's address and port (a persistence template of a fwmark service: the mark). */
  virtual: Endpoint;
  /** The real server; its family may differ from the client's (tunnels). */
  destination: Endpoint;
  /** As the kernel prints it: `ESTABLISHED`, `SYN_RECV`, `UDP`, `NONE`, `ASSURED`, ... */
  state: string;
  /** Seconds until the entry expires. */
  expires: number;
  /** The persistence engine (`'sip'`), for entries that carry its data. */
  persistenceEngine?: string;
  /** The engine's data for this entry (for sip, the Call-ID), as the kernel prints it. */
  persistenceData?: string;
}

/** An address, a port or both to match; a missing field matches anything. */
export interface EndpointFilter {
  /** A numeric IPv4 or IPv6 address. */
  address?: string;
  /** 0..65535. */
  port?: number;
}

/** Entries to keep: all given fields must match. Applied by the addon, before any object is made. */
export interface ConnectionFilter {
  /** The protocol (`'tcp'`; `'ip'` for persistence templates). */
  protocol?: KnownConnectionProtocol;
  /** A state as the kernel prints it (`'ESTABLISHED'`). */
  state?: string;
  /** The client's address and port. */
  client?: EndpointFilter;
  /** The virtual service's address and port. */
  virtual?: EndpointFilter;
  /** The real server's address and port. */
  destination?: EndpointFilter;
}

/** What the connection readers take (`connectionBatches`, `connections`, `listConnections`). */
export interface ConnectionReadOptions {
  /** The entries to keep; default all. */
  filter?: ConnectionFilter;
  /**
   * Reader threads, each reading its own slice of the table; `'auto'`: one per
   * CPU. Default 1. Worth it for large tables only: the kernel's cost of a read
   * grows with the position in the table, and several readers share it.
   * `'auto'` reads a table under 1 MiB (about 16,000 IPv4 entries) with one
   * reader; a number, one under 256 KiB. The size comes from the client's
   * last whole read within a minute, or else from the destinations'
   * connection counters.
   */
  parallel?: number | 'auto';
  /** Entries per batch at most (connectionBatches); default 4096. */
  batchSize?: number;
  /** Aborts the read: the reader threads stop, and the iteration rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What `connectionStats()` counts by: the state, the real server, or the virtual service. */
export type ConnectionStatsBy = 'state' | 'destination' | 'service';

/** A virtual service as connections name it: protocol, address and port. */
export interface ServiceEndpoint extends Endpoint {
  /** The protocol. */
  protocol: ConnectionProtocol;
}

/** What each kind of count is keyed by. */
export interface ConnectionStatsKeys {
  /** By state: the state, as the kernel prints it. */
  state: string;
  /** By destination: the real server's address and port. */
  destination: Endpoint;
  /** By service: the virtual service. */
  service: ServiceEndpoint;
}

/** How many entries of the connection table have one key. */
export interface ConnectionCount<Key> {
  /** The state, real server or service. */
  key: Key;
  /** Its entries. */
  count: number;
}

/** What `connectionStats()` takes. */
export interface ConnectionStatsOptions<By extends ConnectionStatsBy = ConnectionStatsBy> {
  /** What to count by. */
  by: By;
  /** The entries to count; default all. */
  filter?: ConnectionFilter;
  /** Reader threads, as ConnectionReadOptions' `parallel`; default 1. */
  parallel?: number | 'auto';
  /** Aborts the count: the reader threads stop, and the call rejects with an AbortError. */
  signal?: AbortSignal;
}

function protocolFromKernel(name: string): ConnectionProtocol {
  return protocolByKernel(name)?.name ?? name;
}

function endpoint(family: number, address: Uint8Array, port: number): Endpoint {
  const f = familyOf(family);
  return { family: f, address: formatAddress(f, address), port };
}

/**
 * Connections in columns, as the addon read them. Entry `i` has protocol
 * `protocols[protocolIndex[i]]`, the client address
 * `clientAddress(i)` (network order, `client.subarray(w * i, w * i + w)`
 * with `w = addressLength`) of family `family[i]` (K.AF_INET or
 * K.AF_INET6), and so on. A batch whose entries are all IPv4 keeps 4 bytes
 * per address; one with any IPv6 entry keeps 16 (IPv4 in the first 4).
 * `at(i)` and iteration make Connection objects.
 */
export class ConnectionBatch implements Iterable<Connection> {
  /** How many entries it holds. */
  readonly length: number;
  /** The protocols that `protocolIndex` indexes. */
  readonly protocols: readonly ConnectionProtocol[];
  /** Per entry: its protocol, an index into `protocols`. */
  readonly protocolIndex: Uint16Array;
  /** The states that `stateIndex` indexes, as the kernel prints them. */
  readonly states: readonly string[];
  /** Per entry: its state, an index into `states`. */
  readonly stateIndex: Uint16Array;
  /** Of the client and virtual addresses. */
  readonly family: Uint8Array;
  /** Bytes per address in `client` and `virtual`: 4 or 16. */
  readonly addressLength: 4 | 16;
  /** Bytes per address in `destination`: 4 or 16. */
  readonly destinationAddressLength: 4 | 16;
  /** The client addresses, `addressLength` bytes each (network order). */
  readonly client: Uint8Array;
  /** Per entry: the client's port. */
  readonly clientPort: Uint16Array;
  /** The virtual addresses, `addressLength` bytes each. */
  readonly virtual: Uint8Array;
  /** Per entry: the virtual port. */
  readonly virtualPort: Uint16Array;
  /** Per entry: the real server's family (K.AF_INET or K.AF_INET6). */
  readonly destinationFamily: Uint8Array;
  /** The real servers' addresses, `destinationAddressLength` bytes each. */
  readonly destination: Uint8Array;
  /** Per entry: the real server's port. */
  readonly destinationPort: Uint16Array;
  /** Seconds until each entry expires. */
  readonly expires: Uint32Array;
  /** Engine names; index 0 is '' and means none. */
  readonly persistenceEngines: readonly string[];
  /** Per entry: its engine, an index into `persistenceEngines`. */
  readonly persistenceEngineIndex: Uint16Array;
  /** Engine data; index 0 is '' and means none. */
  readonly persistenceData: readonly string[];
  /** Per entry: its engine data, an index into `persistenceData`. */
  readonly persistenceDataIndex: Uint32Array;

  /** @internal */
  constructor(raw: RawConnectionBatch) {
    this.length = raw.length;
    this.protocols = raw.protocols.map(protocolFromKernel);
    this.protocolIndex = raw.protocolIndex;
    this.states = raw.states;
    this.stateIndex = raw.stateIndex;
    this.family = raw.family;
    this.addressLength = raw.addressLength;
    this.destinationAddressLength = raw.destinationAddressLength;
    this.client = raw.client;
    this.clientPort = raw.clientPort;
    this.virtual = raw.virtual;
    this.virtualPort = raw.virtualPort;
    this.destinationFamily = raw.destinationFamily;
    this.destination = raw.destination;
    this.destinationPort = raw.destinationPort;
    this.expires = raw.expires;
    this.persistenceEngines = raw.persistenceEngines;
    this.persistenceEngineIndex = raw.persistenceEngineIndex;
    this.persistenceData = raw.persistenceData;
    this.persistenceDataIndex = raw.persistenceDataIndex;
  }

  /** Entry `i`'s client address, a view of `client` (4 or 16 bytes). */
  clientAddress(i: number): Uint8Array {
    return this.client.subarray(this.addressLength * i, this.addressLength * (i + 1));
  }

  /** Entry `i`'s virtual address, a view of `virtual` (4 or 16 bytes). */
  virtualAddress(i: number): Uint8Array {
    return this.virtual.subarray(this.addressLength * i, this.addressLength * (i + 1));
  }

  /** Entry `i`'s destination address, a view of `destination` (4 or 16 bytes). */
  destinationAddress(i: number): Uint8Array {
    return this.destination.subarray(this.destinationAddressLength * i, this.destinationAddressLength * (i + 1));
  }

  /** Entry `i` as an object; RangeError outside 0..length-1. */
  at(i: number): Connection {
    integer('index', i, 0, this.length - 1);
    const c: Connection = {
      protocol: this.protocols[this.protocolIndex[i]!]!,
      client: endpoint(this.family[i]!, this.clientAddress(i), this.clientPort[i]!),
      virtual: endpoint(this.family[i]!, this.virtualAddress(i), this.virtualPort[i]!),
      destination: endpoint(this.destinationFamily[i]!, this.destinationAddress(i), this.destinationPort[i]!),
      state: this.states[this.stateIndex[i]!]!,
      expires: this.expires[i]!,
    };
    const pe = this.persistenceEngineIndex[i]!;
    if (pe !== 0) {
      c.persistenceEngine = this.persistenceEngines[pe]!;
      c.persistenceData = this.persistenceData[this.persistenceDataIndex[i]!]!;
    }
    return c;
  }

  /** Each entry as a Connection object, in order. */
  *[Symbol.iterator](): Iterator<Connection> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

// --- requests --------------------------------------------------------------

const ANY: RawConnectionMatch = { af: 0, addr: new Uint8Array(16), port: -1 };
const FILTER_FIELDS = ['protocol', 'state', 'client', 'virtual', 'destination'] as const;
const ENDPOINT_FIELDS = ['address', 'port'] as const;

function endpointFilterToRaw(field: string, value: unknown): RawConnectionMatch {
  if (value === undefined) return ANY;
  const e = object(field, value);
  knownKeys(field, e, ENDPOINT_FIELDS);
  const match = { ...ANY };
  if (e.address !== undefined) {
    const parsed = typeof e.address === 'string' ? parseAddress(e.address) : undefined;
    if (!parsed)
      throw invalidType(`${field}.address must be a numeric IPv4 or IPv6 address, got ${describe(e.address)}`);
    match.af = afOf(parsed.family);
    match.addr = parsed.bytes;
  }
  if (e.port !== undefined) match.port = integer(`${field}.port`, e.port, 0, 65535);
  return match;
}

/** Validates a filter and converts it for the addon; null keeps everything. */
export function connectionFilterToRaw(
  filter: ConnectionFilter | undefined,
  field = 'filter',
): RawConnectionFilter | null {
  if (filter === undefined) return null;
  const f = object(field, filter);
  knownKeys(field, f, FILTER_FIELDS);
  let state = '';
  if (f.state !== undefined) {
    if (typeof f.state !== 'string') throw invalidType(`${field}.state must be a string, got ${describe(f.state)}`);
    if (!/^\S{1,32}$/.test(f.state)) {
      throw outOfRange(
        `${field}.state must be a state name as the kernel prints it (such as 'ESTABLISHED'), got ${describe(f.state)}`,
      );
    }
    state = f.state;
  }
  const protocols = PROTOCOLS.map((p) => p.name);
  return {
    protocol: f.protocol === undefined ? '' : protocolByName(oneOf(`${field}.protocol`, f.protocol, protocols))!.kernel,
    state,
    client: endpointFilterToRaw(`${field}.client`, f.client),
    virtual: endpointFilterToRaw(`${field}.virtual`, f.virtual),
    destination: endpointFilterToRaw(`${field}.destination`, f.destination),
  };
}

// The kernel hands out at most one page per read() (4092 bytes of whole lines
// with 4 KiB pages, whatever the buffer: measured); where pages are larger
// (arm64, ppc64) it keeps the rest of its page for the next read, without a
// new walk. A read-ahead thread hands the parser chunks of this size: small
// enough that parsing starts soon after the first read and ends soon after the
// last (in the lab, 16 KiB chunks took a 10,000-entry read from 1.4x dd's
// time to 1.2x; 4 KiB ones, a wake-up per page, to 1.3x).
const READ_SIZE = 16384;
const DEFAULT_BATCH = 4096;
const MAX_READERS = 256;

interface ReadRequest {
  filter: RawConnectionFilter | null;
  readers: number;
  /** `parallel: 'auto'`: one reader for small tables (AUTO_MIN_BYTES). */
  auto: boolean;
  batchSize: number;
  signal: AbortSignal | undefined;
}

const READ_FIELDS = ['filter', 'parallel', 'batchSize', 'signal'] as const;
const STATS_FIELDS = ['by', 'filter', 'parallel', 'signal'] as const;

/**
 * Validates read options, of which `fields` are allowed (`by` is the
 * caller's to check); throws TypeError or RangeError naming the field.
 */
export function readRequest(
  options: ConnectionReadOptions | undefined,
  fields: readonly string[] = READ_FIELDS,
): ReadRequest {
  const field = 'options';
  const o = object(field, options ?? {});
  knownKeys(field, o, fields);
  const parallel = o.parallel === undefined ? 1 : o.parallel;
  return {
    filter: connectionFilterToRaw(o.filter as ConnectionFilter | undefined, `${field}.filter`),
    auto: parallel === 'auto',
    readers:
      parallel === 'auto'
        ? Math.min(availableParallelism(), MAX_READERS)
        : integer(`${field}.parallel`, parallel, 1, MAX_READERS),
    batchSize: o.batchSize === undefined ? DEFAULT_BATCH : integer(`${field}.batchSize`, o.batchSize, 1, 1 << 20),
    signal: signalOption(`${field}.signal`, o.signal),
  };
}

async function plan(raw: RawIpvs, request: ReadRequest, op: string): Promise<RawConnectionRead> {
  if (raw.closed) throw closedError(op);
  const size =
    request.readers > 1
      ? await tableBytes(raw, request.signal).catch((e: unknown) => Promise.reject(withOp(e, op)))
      : 0;
  const bounds =
    request.readers > 1 ? sliceBounds(size, request.readers, request.auto ? AUTO_MIN_BYTES : undefined) : [0];
  return { fd: -1, bounds, batchSize: request.batchSize, readSize: READ_SIZE, filter: request.filter };
}

// --- reading ---------------------------------------------------------------

/**
 * Reads a table in batches, in file order, stopping the addon's readers when
 * the loop ends early or `signal` aborts. `sock` null reads the process's own
 * namespace; `read.fd` is for tests, which read a file instead of the
 * kernel's table.
 */
export async function* readBatches(
  sock: NativeSocket | null,
  read: RawConnectionRead,
  signal?: AbortSignal,
): AsyncGenerator<ConnectionBatch, void, undefined> {
  if (signal?.aborted) throw abortError(signal);
  let reader;
  try {
    reader = native().connectionBatches(sock, read);
  } catch (e) {
    throw fromNative(e);
  }
  const onAbort = () => reader.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const raw = await reader.next().catch((e: unknown) => {
        throw signal?.aborted ? abortError(signal) : fromNative(e);
      });
      if (raw === null) {
        if (signal?.aborted) throw abortError(signal);
        return;
      }
      yield new ConnectionBatch(raw);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.close();
  }
}

/** The batches of a client's table; options are checked now, the read starts with the first next(). */
export function connectionBatches(
  raw: RawIpvs,
  options?: ConnectionReadOptions,
): AsyncGenerator<ConnectionBatch, void, undefined> {
  const request = readRequest(options);
  return (async function* () {
    const batches = readBatches(raw.socket, await plan(raw, request, 'connectionBatches'), request.signal);
    if (request.filter !== null) return yield* batches;
    // A whole read tells the next parallel one the table's size (connection-plan.ts).
    let bytes = 0;
    for await (const batch of batches) {
      bytes += batchBytes(batch);
      yield batch;
    }
    rememberTableBytes(raw, bytes);
  })();
}

/** The bytes a batch's entries take in the file (persistence data estimated). */
function batchBytes(b: ConnectionBatch): number {
  if (b.addressLength === 4 && b.destinationAddressLength === 4 && b.persistenceEngines.length === 1)
    return b.length * entryBytes(K.AF_INET, K.AF_INET);
  let bytes = 0;
  for (let i = 0; i < b.length; i++)
    bytes += entryBytes(b.family[i]!, b.destinationFamily[i]!, b.persistenceEngines[b.persistenceEngineIndex[i]!]);
  return bytes;
}

export function connections(
  raw: RawIpvs,
  options?: ConnectionReadOptions,
): AsyncGenerator<Connection, void, undefined> {
  const batches = connectionBatches(raw, options);
  return (async function* () {
    for await (const batch of batches) yield* batch;
  })();
}

export async function listConnections(raw: RawIpvs, options?: ConnectionReadOptions): Promise<Connection[]> {
  const out: Connection[] = [];
  for await (const batch of connectionBatches(raw, options)) for (const c of batch) out.push(c);
  return out;
}

function statsKey(by: ConnectionStatsBy, entries: ConnectionBatch, i: number): ConnectionStatsKeys[ConnectionStatsBy] {
  switch (by) {
    case 'state':
      return entries.states[entries.stateIndex[i]!]!;
    case 'destination':
      return endpoint(entries.destinationFamily[i]!, entries.destinationAddress(i), entries.destinationPort[i]!);
    case 'service':
      return {
        protocol: entries.protocols[entries.protocolIndex[i]!]!,
        ...endpoint(entries.family[i]!, entries.virtualAddress(i), entries.virtualPort[i]!),
      };
  }
}

/**
 * Counts the matching entries by state, destination or virtual service
 * (protocol, address, port: persistence templates count under `'ip'`),
 * in the addon: no object per entry. Most frequent first; equal counts in
 * the order their keys first appear in the table.
 */
export async function connectionStats<By extends ConnectionStatsBy>(
  raw: RawIpvs,
  options: ConnectionStatsOptions<By>,
): Promise<ConnectionCount<ConnectionStatsKeys[By]>[]> {
  const o = object('options', options);
  const by = oneOf('options.by', o.by, ['state', 'destination', 'service'] as const);
  const request = readRequest(options, STATS_FIELDS);
  const read = await plan(raw, request, 'connectionStats');
  const result = await cancellable(request.signal, (c) =>
    native().connectionStats(raw.socket, { ...read, by }, c),
  ).catch((e: unknown) => {
    throw fromNative(e);
  });
  return statsFromRaw(by as By, result);
}

/** The addon's counts as keys and counts, most frequent first (ties in table order). */
export function statsFromRaw<By extends ConnectionStatsBy>(
  by: By,
  raw: RawConnectionStats,
): ConnectionCount<ConnectionStatsKeys[By]>[] {
  const entries = new ConnectionBatch(raw.entries);
  const counts = Array.from(raw.counts, (count, i) => ({
    key: statsKey(by, entries, i) as ConnectionStatsKeys[By],
    count,
  }));
  return counts.sort((a, b) => b.count - a.count);
}
