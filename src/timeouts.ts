// Connection timeouts (what `ipvsadm --set` and `--timeout` handle).
import type { RawTimeouts } from './native.js';
import { integer, knownKeys, object, type FieldOf } from './validate.js';
import { MAX_TIMEOUT } from './vocabulary/limits.js';

/** Seconds for TCP established, TCP after FIN, and UDP entries. */
export interface Timeouts {
  /** TCP established connections, in seconds (ipvsadm's `tcp`). */
  tcp: number;
  /** TCP connections after a FIN, in seconds (ipvsadm's `tcpfin`). */
  tcpFin: number;
  /** UDP entries, in seconds (ipvsadm's `udp`). */
  udp: number;
}

// The kernel keeps timeouts in jiffies in an int: above INT_MAX/HZ it refuses
// with EINVAL, and HZ may be 1000; ipvsadm's own bound is 31 days (MAX_TIMEOUT).
const TIMEOUT_FIELDS = Object.keys({ tcp: true, tcpFin: true, udp: true } satisfies Record<FieldOf<Timeouts>, true>);

/** Validates; a missing or 0 field leaves that timeout as it is. */
export function timeoutsToRaw(timeouts: Partial<Timeouts>): RawTimeouts {
  const t = object('timeouts', timeouts);
  knownKeys('timeouts', t, TIMEOUT_FIELDS);
  const field = (name: keyof Timeouts) =>
    t[name] === undefined ? 0 : integer(`timeouts.${name}`, t[name], 0, MAX_TIMEOUT);
  return { tcp: field('tcp'), tcpFin: field('tcpFin'), udp: field('udp') };
}
