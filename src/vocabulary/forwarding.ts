// Forwarding methods, as every layer names them: the kernel's value (the low
// bits of a destination's flags), the library's name, ipvsadm's listing word
// and its option.
import { K } from '../constants.js';

export const FORWARDING_METHODS = [
  { name: 'masq', value: K.IP_VS_CONN_F_MASQ, ipvsadm: 'Masq', option: '-m' },
  { name: 'local', value: K.IP_VS_CONN_F_LOCALNODE, ipvsadm: 'Local', option: undefined },
  { name: 'tunnel', value: K.IP_VS_CONN_F_TUNNEL, ipvsadm: 'Tunnel', option: '-i' },
  { name: 'route', value: K.IP_VS_CONN_F_DROUTE, ipvsadm: 'Route', option: '-g' },
] as const;

export type ForwardingEntry = (typeof FORWARDING_METHODS)[number];
/**
 * How packets reach a real server: `'masq'` (NAT, ipvsadm's -m), `'local'`,
 * `'tunnel'` (IP-in-IP, GUE or GRE, -i), `'route'` (direct routing, -g).
 */
export type Forwarding = ForwardingEntry['name'];
export const FORWARDING_NAMES = FORWARDING_METHODS.map((f) => f.name) as Forwarding[];

export const forwardingByName = (name: string): ForwardingEntry | undefined =>
  FORWARDING_METHODS.find((f) => f.name === name);
// By value: a snapshot looks one up for every destination.
const BY_VALUE: (ForwardingEntry | undefined)[] = [];
for (const f of FORWARDING_METHODS) BY_VALUE[f.value] = f;
/** The method in a destination's flag word (only its low bits count). */
export const forwardingByValue = (flags: number): ForwardingEntry | undefined =>
  BY_VALUE[flags & K.IP_VS_CONN_F_FWD_MASK];
