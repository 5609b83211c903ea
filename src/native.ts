// The boundary with the C++ addon: every export and every shape that crosses
// it. Names here are the facade's method names and the `op` of errors.
// Numbers must be integers that fit the C type the kernel keeps each field in
// (u8, u16, u32; int for weight, timeouts, daemon state and sync id), strings
// must hold no NUL: the addon refuses anything else with a RangeError or
// TypeError naming the field, before anything is sent.
import { loadAddon } from './addon.js';

/** A socket handle made by `open`; opaque to TypeScript. */
export interface NativeSocket {
  readonly __brand: 'NativeSocket';
}

/** What identifies a service on the wire. `addr` is 16 bytes (IPv4 in the first 4). */
export interface RawServiceKey {
  /** The address family: AF_INET (2) or AF_INET6 (10). */
  af: number;
  /** IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP; 0 for a firewall-mark service. */
  protocol: number;
  /** The virtual address, 16 bytes in network order (IPv4 in the first 4); zeros for a firewall-mark service. */
  addr: Uint8Array;
  /** The virtual port; 0 for a firewall-mark service. */
  port: number;
  /** The firewall mark; 0 for an address service. */
  fwmark: number;
}

/** A service's settings as the kernel takes them (IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE). */
export interface RawServiceSpec extends RawServiceKey {
  /** The scheduler's name (`wlc`). */
  scheduler: string;
  /** Persistence engine, '' for none. */
  pe: string;
  /** IP_VS_SVC_F_* flags: persistence, one-packet scheduling, the scheduler's own flags. */
  flags: number;
  /** The persistence timeout, in seconds. */
  timeout: number;
  /** IPv4: the mask as a number (0xffffff00); IPv6: the prefix length. */
  netmask: number;
}

/** Counters and rates (from the kernel's 64-bit nest, or its 32-bit one on old kernels). */
export interface RawStats {
  /** Connections scheduled. */
  conns: bigint;
  /** Packets in (client to server). */
  inpkts: bigint;
  /** Packets out (server to client). */
  outpkts: bigint;
  /** Bytes in. */
  inbytes: bigint;
  /** Bytes out. */
  outbytes: bigint;
  /** The kernel's estimate of connections per second. */
  cps: bigint;
  /** The kernel's estimate of packets in per second. */
  inpps: bigint;
  /** The kernel's estimate of packets out per second. */
  outpps: bigint;
  /** The kernel's estimate of bytes in per second. */
  inbps: bigint;
  /** The kernel's estimate of bytes out per second. */
  outbps: bigint;
}

/** A service as the kernel reports it: its settings and its counters. */
export interface RawService extends RawServiceSpec {
  /** Its counters and rate estimates. */
  stats: RawStats;
}

/** What identifies a real server (destination) of a service on the wire. */
export interface RawDestKey {
  /** The address family: AF_INET (2) or AF_INET6 (10); may differ from the service's. */
  af: number;
  /** The address, 16 bytes in network order (IPv4 in the first 4). */
  addr: Uint8Array;
  /** The port. */
  port: number;
}

/** A real server's settings as the kernel takes them (IPVS_CMD_NEW_DEST, IPVS_CMD_SET_DEST). */
export interface RawDestSpec extends RawDestKey {
  /** IP_VS_CONN_F_* forwarding method: masquerading (0), local (1), tunnel (2), direct routing (3). */
  fwdMethod: number;
  /** The weight (0 takes no new connections). */
  weight: number;
  /** The upper connection threshold (0: none). */
  uThreshold: number;
  /** The lower connection threshold (0: none). */
  lThreshold: number;
  /** IP_VS_CONN_F_TUNNEL_TYPE_*: IPIP (0), GUE (1), GRE (2). */
  tunType: number;
  /** The GUE tunnel's port. */
  tunPort: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_*: the tunnel's checksum option. */
  tunFlags: number;
}

/** A real server as the kernel reports it: its settings, connection counts and counters. */
export interface RawDest extends RawDestSpec {
  /** Active connections (established, for TCP). */
  activeConns: number;
  /** Inactive connections (any other state). */
  inactConns: number;
  /** Persistence templates pointing at it. */
  persistConns: number;
  /** Its counters and rate estimates. */
  stats: RawStats;
}

/** IPVS's version and connection table size (IPVS_CMD_GET_INFO). */
export interface RawInfo {
  /** The version as one number: 0x010203 for 1.2.3. */
  version: number;
  /** The size of the connection hash table (buckets). */
  connTabSize: number;
}

/** Seconds; 0 in a request leaves that timeout unchanged. */
export interface RawTimeouts {
  /** TCP's established-state timeout. */
  tcp: number;
  /** TCP's timeout after a FIN. */
  tcpFin: number;
  /** UDP's timeout. */
  udp: number;
}

/** A sync daemon. Zero optional fields (maxLen, port, ttl, groupAf) are not sent. */
export interface RawDaemon {
  /** IP_VS_STATE_MASTER (1) or IP_VS_STATE_BACKUP (2). */
  state: number;
  /** The interface it sends or listens on. */
  ifname: string;
  /** The sync id its messages carry (0..255). */
  syncId: number;
  /** The largest sync message, in bytes (0: the kernel's default). */
  maxLen: number;
  /** AF_INET, AF_INET6, or 0 for no group. */
  groupAf: number;
  /** 16 bytes; IPv4 in the first 4. */
  group: Uint8Array;
  /** The multicast group's UDP port (0: the kernel's default). */
  port: number;
  /** The multicast TTL (0: the kernel's default). */
  ttl: number;
}

/**
 * Connections in columns, as read from /proc/net/ip_vs_conn. Entry i has
 * `protocols[protocolIndex[i]]`, its client and virtual addresses at
 * `addressLength * i` and its destination at `destinationAddressLength * i`
 * (network order), and so on.
 */
export interface RawConnectionBatch {
  length: number;
  /** The kernel's protocol names: TCP, UDP, SCTP, ICMP, ICMPv6, IP (templates), IP_<n>. */
  protocols: string[];
  protocolIndex: Uint16Array;
  /** State names as the kernel prints them. */
  states: string[];
  stateIndex: Uint16Array;
  /** AF_INET or AF_INET6 of the client and virtual addresses. */
  family: Uint8Array;
  /**
   * Bytes per address in `client` and `virtual`: 4 when every entry of the
   * batch is IPv4, else 16 (an IPv4 address in the first 4).
   */
  addressLength: 4 | 16;
  /** The same for `destination`. */
  destinationAddressLength: 4 | 16;
  client: Uint8Array;
  clientPort: Uint16Array;
  virtual: Uint8Array;
  virtualPort: Uint16Array;
  /** The destination's family, which may differ from `family`. */
  destinationFamily: Uint8Array;
  destination: Uint8Array;
  destinationPort: Uint16Array;
  /** Seconds until the entry expires. */
  expires: Uint32Array;
  /** Persistence engine names; index 0 is '' and means none. */
  persistenceEngines: string[];
  persistenceEngineIndex: Uint16Array;
  /** Persistence engine data (free text); index 0 is '' and means none. */
  persistenceData: string[];
  persistenceDataIndex: Uint32Array;
}

/** An address and port to match: af 0 matches any address, port -1 any port. */
/** The columns of a connection batch that connectionText reads (the protocols' texts come apart). */
export type ConnectionColumns = Omit<
  RawConnectionBatch,
  'protocols' | 'states' | 'persistenceEngines' | 'persistenceData'
> & {
  readonly states: readonly string[];
  readonly persistenceEngines: readonly string[];
  readonly persistenceData: readonly string[];
};

export interface RawConnectionMatch {
  af: number;
  addr: Uint8Array;
  port: number;
}

/** What to keep; empty strings and the matches' wildcards keep everything. */
export interface RawConnectionFilter {
  /** The kernel's protocol name (`'TCP'`). */
  protocol: string;
  state: string;
  client: RawConnectionMatch;
  virtual: RawConnectionMatch;
  destination: RawConnectionMatch;
}

export interface RawConnectionRead {
  /**
   * -1 for the table of the socket's namespace; a descriptor of a file to
   * read instead (tests), which each reader reopens through /proc/self/fd.
   */
  fd: number;
  /**
   * Where the slices start, in bytes, ascending from 0: one reader thread per
   * slice, each taking the lines that start in its slice.
   */
  bounds: number[];
  /** Entries per batch at most. */
  batchSize: number;
  /** Bytes asked of each read(). */
  readSize: number;
  filter: RawConnectionFilter | null;
  /**
   * Whether a thread of its own reads ahead of each slice's parser. Default:
   * where the machine has two CPUs per slice.
   */
  prefetch?: boolean;
}

/**
 * A read in progress; batches come in file order. The readers are threads of
 * the addon's; next() never holds a libuv thread.
 */
export interface NativeConnectionReader {
  /**
   * The next batch, or null at the end (or after close). Calls made before
   * the last one settled are answered in the order they were made. Rejects
   * with ECANCELED once closed while pending, EBADF once the client closed.
   */
  next(): Promise<RawConnectionBatch | null>;
  /** Stops the reader threads. Idempotent. */
  close(): void;
}

/** Stops the native work of the call it was passed to (ECANCELED). */
export interface NativeCanceller {
  cancel(): void;
}

/** What open() and openSockopt() take. */
export interface RawOpenOptions {
  /** A network namespace's path, or null for the caller's. */
  netns: string | null;
  /** The deadline of each kernel exchange, in ms. */
  timeout: number;
  /** Whether to run /sbin/modprobe ip_vs once when IPVS is missing. */
  modprobe: boolean;
}

/** Counts by key, in the order keys first appear; `entries` holds the first entry of each key. */
export interface RawConnectionStats {
  entries: RawConnectionBatch;
  counts: Uint32Array;
}

/** What became of each change of a batch. */
export interface RawBatchOutcome {
  /** Per change: 0 done, the kernel's errno, -1 not sent, -2 sent but its answer was lost (see `failure`). */
  status: Int32Array;
  /** The kernel's extended-ack text of refusals, by change index. */
  messages: Record<number, string>;
  /** The errno of the stop request (ECANCELED, EBADF) that ended the batch early, or 0. */
  stopped: number;
  /** A failure of the socket itself that ended the batch early. */
  failure: {
    /** Its errno. */
    errno: number;
    /** What failed. */
    message: string;
  } | null;
}

/** A statistics snapshot, packed; see PackedSnapshot in src/snapshot.ts for the layout. */
export interface RawSnapshot {
  /** CLOCK_MONOTONIC in nanoseconds when the last dump ended. */
  takenAt: bigint;
  /** 10 counters per entry (COUNTERS' order): the services', then the destinations'. */
  counters: BigUint64Array;
  /** A row of numbers per service (SERVICE_COLUMNS in src/snapshot.ts). */
  services: Uint32Array;
  /** 16 bytes per service: its address (IPv4 in the first 4). */
  serviceAddrs: Uint8Array;
  /** Service i's destinations are rows destOffsets[i] to destOffsets[i + 1] - 1. */
  destOffsets: Uint32Array;
  /** A row of numbers per destination (DEST_COLUMNS in src/snapshot.ts). */
  dests: Uint32Array;
  /** 16 bytes per destination: its address. */
  destAddrs: Uint8Array;
  /** The scheduler names that service rows index. */
  schedulers: string[];
  /** The persistence engine names that service rows index. */
  engines: string[];
}

/** The properties the addon sets on the Errors it rejects with. */
export interface NativeError extends Error {
  errno: number;
  op: string;
  /** True when the errno is IPVS's verdict on the request, not a local failure. */
  fromKernel: boolean;
  kernelMessage?: string;
}

/**
 * The kernel operations on one socket. Both back-ends implement them with the
 * same names, shapes and error `op`s: the addon's top level over generic
 * netlink, and `sockopt` over the legacy socket options (IPv4 only).
 */
export interface SocketOps {
  info(sock: NativeSocket): Promise<RawInfo>;
  listServices(sock: NativeSocket): Promise<RawService[]>;
  getService(sock: NativeSocket, key: RawServiceKey): Promise<RawService>;
  addService(sock: NativeSocket, spec: RawServiceSpec): Promise<void>;
  editService(sock: NativeSocket, spec: RawServiceSpec): Promise<void>;
  deleteService(sock: NativeSocket, key: RawServiceKey): Promise<void>;
  clear(sock: NativeSocket): Promise<void>;
  zero(sock: NativeSocket, key: RawServiceKey | null): Promise<void>;
  listDestinations(sock: NativeSocket, service: RawServiceKey): Promise<RawDest[]>;
  addDestination(sock: NativeSocket, service: RawServiceKey, dest: RawDestSpec): Promise<void>;
  editDestination(sock: NativeSocket, service: RawServiceKey, dest: RawDestSpec): Promise<void>;
  deleteDestination(sock: NativeSocket, service: RawServiceKey, dest: RawDestKey): Promise<void>;
  getTimeouts(sock: NativeSocket): Promise<RawTimeouts>;
  setTimeouts(sock: NativeSocket, timeouts: RawTimeouts): Promise<void>;
  listDaemons(sock: NativeSocket): Promise<RawDaemon[]>;
  startDaemon(sock: NativeSocket, daemon: RawDaemon): Promise<void>;
  /** Only `state` is read. */
  stopDaemon(sock: NativeSocket, daemon: Pick<RawDaemon, 'state'>): Promise<void>;
}

export interface NativeBinding extends SocketOps {
  constants: Record<string, number>;
  /** Opens a generic netlink socket (in the namespace at `netns`, or the caller's) and resolves IPVS. */
  open(options: RawOpenOptions): Promise<NativeSocket>;
  /** Opens a raw IPv4 socket for the legacy socket options (root only) and checks IPVS answers. */
  openSockopt(options: RawOpenOptions): Promise<NativeSocket>;
  /**
   * Closes at once, without waiting: an exchange in progress fails with
   * EBADF, and so do reads and snapshots of this socket. Idempotent.
   */
  close(sock: NativeSocket): void;
  /** The names of a snapshot's packed columns, in order (src/snapshot.ts reads them so). */
  snapshotColumns: { counters: string[]; services: string[]; dests: string[] };
  /** A canceller to pass to one long call. */
  canceller(): NativeCanceller;
  /** The names of a batch row's numbers, in order (src/batch.ts lays rows out so). */
  batchColumns: string[];
  /**
   * Service and destination commands sent pipelined (native/batch.h): one
   * row of `batchColumns.length` numbers per change, addresses as the rows'
   * raw bytes, scheduler and engine names as indices into `strings`. Windows
   * of `window` requests go in one datagram each; after a window with a
   * refusal no other is sent when `stopOnError`.
   */
  batch(
    sock: NativeSocket,
    rows: Uint32Array,
    strings: string[],
    options: { stopOnError: boolean; window: number },
    canceller?: NativeCanceller | null,
  ): Promise<RawBatchOutcome>;
  /**
   * Whether this environment's calls run on the calling thread, settled
   * before they return (native/task.h): for a program that waits for each
   * call anyway and owns its process (the `ipvs` command). Not for a host.
   */
  setInline(on: boolean): void;
  /** The legacy back-end's operations, for sockets made by openSockopt. */
  sockopt: SocketOps;
  /**
   * Every service and its destinations on a thread of the addon's,
   * destination dumps spread over `poolSize` sockets (1..16).
   */
  snapshot(sock: NativeSocket, poolSize: number, canceller?: NativeCanceller | null): Promise<RawSnapshot>;
  /**
   * A whole IPVS /proc file (at most 16 MiB, else EFBIG), opened inside the
   * socket's network namespace: /proc/net/ip_vs* (or /proc/thread-self/net/ip_vs*)
   * and /proc/sys/net/ipv4/vs/NAME only; any other path throws TypeError at once.
   */
  readProcFile(sock: NativeSocket, path: string): Promise<Buffer>;
  /**
   * One write() of all of `text` (EIO when the kernel takes less) to an IPVS
   * sysctl, /proc/sys/net/ipv4/vs/NAME, opened inside the socket's network
   * namespace; any other path throws TypeError at once.
   */
  writeProcFile(sock: NativeSocket, path: string, text: string): Promise<void>;
  /** Starts reading the connection table (of the socket's namespace; null: the process's). */
  connectionBatches(sock: NativeSocket | null, read: RawConnectionRead): NativeConnectionReader;
  /** Reads the whole connection table (threads of the addon's) and counts the matching entries by one key. */
  connectionStats(
    sock: NativeSocket | null,
    read: RawConnectionRead & { by: 'state' | 'destination' | 'service' },
    canceller?: NativeCanceller | null,
  ): Promise<RawConnectionStats>;
  /**
   * The command line's numeric listings (native/listing.h): the service
   * indices of a packed snapshot in ipvsadm's order (or as dumped).
   */
  listingOrder(snapshot: RawSnapshot, sort: boolean): Uint32Array;
  /**
   * The text of the services order[from, to) with their destinations, in
   * listing `mode` (LISTING_MODE in src/cli/format.ts) with `flags` (1: exact
   * numbers, 2: destinations sorted).
   */
  listingText(snapshot: RawSnapshot, order: Uint32Array, from: number, to: number, mode: number, flags: number): Buffer;
  /** The same text copied into `into` when it fits (its length returned), or a new Buffer (always without `into`). */
  listingText(
    snapshot: RawSnapshot,
    order: Uint32Array,
    from: number,
    to: number,
    mode: number,
    flags: number,
    into: Uint8Array | undefined,
  ): Buffer | number;
  /**
   * The -Lnc lines of a connection batch (src/connections.ts's
   * ConnectionBatch, or the raw batch): `protocols` are the texts its
   * protocols print as; `withPe` adds --persistent-conn's engine columns.
   */
  connectionText(batch: ConnectionColumns, protocols: readonly string[], withPe: boolean): Buffer;
  /** The same text copied into `into` when it fits (its length returned), or a new Buffer (always without `into`). */
  connectionText(
    batch: ConnectionColumns,
    protocols: readonly string[],
    withPe: boolean,
    into: Uint8Array | undefined,
  ): Buffer | number;
  /** Parses the text of /proc/net/ip_vs_conn (header line first), synchronously: tests and small texts. */
  parseConnections(text: Uint8Array, filter: RawConnectionFilter | null): RawConnectionBatch;
}

let binding: NativeBinding | undefined;

export { addonPath } from './addon.js';

/**
 * Loads the addon on first use, so that importing the package (for its types,
 * or on another OS) never fails; using it where it cannot work does, clearly:
 * an Error with code `ERR_IPVS_ADDON` whose message names the cause and the
 * remedy (src/addon.ts).
 */
export function native(): NativeBinding {
  binding ??= loadAddon<NativeBinding>();
  return binding;
}
