// A service and a destination as the addon returns them, for unit tests:
// TCP 192.0.2.1:80 with rr, and 198.51.100.1:80 masqueraded with weight 1,
// zero counters; `over` changes any field.
import { K } from '../../src/constants.js';
import type { RawDest, RawService } from '../../src/native.js';
import { ZERO_STATS } from './stats.js';

/** 16 address bytes: `b` first, zeros after. */
export const bytes = (...b: number[]): Uint8Array => {
  const out = new Uint8Array(16);
  out.set(b);
  return out;
};

export const rawService = (over: Partial<RawService> = {}): RawService => ({
  af: K.AF_INET,
  protocol: K.IPPROTO_TCP,
  addr: bytes(192, 0, 2, 1),
  port: 80,
  fwmark: 0,
  scheduler: 'rr',
  pe: '',
  flags: K.IP_VS_SVC_F_HASHED,
  timeout: 0,
  netmask: 0xffffffff,
  stats: ZERO_STATS,
  ...over,
});

export const rawDest = (over: Partial<RawDest> = {}): RawDest => ({
  af: K.AF_INET,
  addr: bytes(198, 51, 100, 1),
  port: 80,
  fwdMethod: K.IP_VS_CONN_F_MASQ,
  weight: 1,
  uThreshold: 0,
  lThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
  activeConns: 0,
  inactConns: 0,
  persistConns: 0,
  stats: ZERO_STATS,
  ...over,
});
