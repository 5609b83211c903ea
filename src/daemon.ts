// The connection synchronisation daemons (master and backup).
import { afOf, familyOf, formatAddress, parseAddress } from './address.js';
import { K } from './constants.js';
import type { RawDaemon } from './native.js';
import {
  describe,
  type FieldOf,
  integer,
  invalidType,
  knownKeys,
  name,
  object,
  oneOf,
  outOfRange,
} from './validate.js';

/** A sync daemon's role: the master sends the connection table's changes, a backup receives them. */
export type DaemonState = 'master' | 'backup';

/** What is asked of a daemon; options left out take the kernel's defaults. */
export interface DaemonSpec {
  /** Master or backup. */
  state: DaemonState;
  /** The multicast interface, such as `'eth0'` (required). */
  interface: string;
  /** 0..255, default 0; a backup only accepts messages with its own id. */
  syncId?: number;
  /** Largest sync message payload, 1..65507; default from the interface MTU. */
  maxLength?: number;
  /** A multicast group, IPv4 or IPv6; default 224.0.0.81. */
  group?: string;
  /** UDP port, 1..65535; default 8848. */
  port?: number;
  /** Multicast TTL, 1..255; default 1. */
  ttl?: number;
}

/** What the kernel reports about a running daemon. */
export interface DaemonInfo {
  /** Master or backup. */
  state: DaemonState;
  /** The multicast interface. */
  interface: string;
  /** The sync id of its messages (0..255). */
  syncId: number;
  /** The largest sync message payload, in bytes. */
  maxLength: number;
  /** The group, when the kernel reports one. */
  group: string | undefined;
  /** The UDP port. */
  port: number;
  /** The multicast TTL. */
  ttl: number;
}

const STATES: Record<DaemonState, number> = { master: K.IP_VS_STATE_MASTER, backup: K.IP_VS_STATE_BACKUP };
// A spec's fields, which are an info's too.
const DAEMON_FIELDS = Object.keys({
  state: true,
  interface: true,
  syncId: true,
  maxLength: true,
  group: true,
  port: true,
  ttl: true,
} satisfies Record<FieldOf<DaemonSpec | DaemonInfo>, true>);

export function daemonStateToRaw(state: unknown): number {
  return STATES[oneOf('state', state, ['master', 'backup'] as const)];
}

export function daemonSpecToRaw(spec: DaemonSpec): RawDaemon {
  const d = object('daemon', spec);
  knownKeys('daemon', d, DAEMON_FIELDS);
  const state = daemonStateToRaw(d.state);
  const ifname = name('interface', d.interface, K.IP_VS_IFNAME_MAXLEN - 1);
  let groupAf = 0;
  let group: Uint8Array = new Uint8Array(16);
  if (d.group !== undefined) {
    const parsed = typeof d.group === 'string' ? parseAddress(d.group) : undefined;
    if (!parsed) throw invalidType(`group must be a numeric IPv4 or IPv6 multicast address, got ${describe(d.group)}`);
    const multicast = parsed.family === 'inet' ? (parsed.bytes[0]! & 0xf0) === 0xe0 : parsed.bytes[0] === 0xff;
    if (!multicast) throw outOfRange(`group must be a multicast address (224.0.0.0/4 or ff00::/8), got ${d.group}`);
    groupAf = afOf(parsed.family);
    group = parsed.bytes;
  }
  return {
    state,
    ifname,
    syncId: d.syncId === undefined ? 0 : integer('syncId', d.syncId, 0, 255),
    maxLen: d.maxLength === undefined ? 0 : integer('maxLength', d.maxLength, 1, 65507),
    groupAf,
    group,
    port: d.port === undefined ? 0 : integer('port', d.port, 1, 65535),
    ttl: d.ttl === undefined ? 0 : integer('ttl', d.ttl, 1, 255),
  };
}

export function daemonFromRaw(raw: RawDaemon): DaemonInfo {
  return {
    state: raw.state & K.IP_VS_STATE_BACKUP ? 'backup' : 'master',
    interface: raw.ifname,
    syncId: raw.syncId,
    maxLength: raw.maxLen,
    group: raw.groupAf === 0 ? undefined : formatAddress(familyOf(raw.groupAf), raw.group),
    port: raw.port,
    ttl: raw.ttl,
  };
}
