// How ipvsadm reads numbers and addresses: the C library's strtol (base 10,
// leading white space and a sign allowed, the whole word a number), inet_aton
// (1 to 4 parts, each decimal, octal or hex, anything after white space
// ignored) and inet_pton, and on top of them `host[:port]` and -M's netmask.
// Names (hosts, services) are looked up in names.ts, loaded when one is given.
import { parseAddress } from '../address.js';
import { K } from '../constants.js';

const SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * strtol(s, &end, 10) where `*end` must be `\0` and something was read:
 * the value, or undefined (also when it overflows a 64-bit long).
 */
export function strtol(s: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  if (v > LONG_MAX + (m[1] === '-' ? 1n : 0n)) return undefined;
  return m[1] === '-' ? -v : v;
}

/** ipvsadm's string_to_number: an integer within min..max, or undefined. */
export function toNumber(s: string, min: number, max: number): number | undefined {
  const v = strtol(s);
  if (v === undefined || v < BigInt(min) || v > BigInt(max)) return undefined;
  return Number(v);
}

/** C's atoi: leading white space, a sign, the digits that follow; 0 when none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  return Number(BigInt.asIntN(32, BigInt(m[1]!)));
}

/** strtoul(s, &end, 0) from `at`, where s[at] is a digit: the value and where it stopped. */
function strtoulBase0(s: string, at: number): { value: bigint; end: number } {
  let base = 10;
  let i = at;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  const digits = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
  let value = 0n;
  const start = i;
  while (i < s.length && digits.test(s[i]!)) {
    value = value * BigInt(base) + BigInt(parseInt(s[i]!, 16));
    i++;
  }
  // "0" alone read as octal: the 0 itself is the number.
  if (i === start && base === 8) return { value: 0n, end: at + 1 };
  return { value, end: i };
}

/** inet_aton: the address as 4 bytes, or undefined. */
export function inetAton(s: string): Uint8Array | undefined {
  const parts: number[] = [];
  let i = 0;
  let value: bigint;
  for (;;) {
    if (!/[0-9]/.test(s[i] ?? '')) return undefined;
    const r = strtoulBase0(s, i);
    value = r.value;
    if (value > 0xffffffffn) return undefined;
    i = r.end;
    if (s[i] === '.') {
      if (parts.length > 2 || value > 0xffn) return undefined;
      parts.push(Number(value));
      i++;
      continue;
    }
    break;
  }
  const c = s[i];
  if (c !== undefined && !SPACE.has(c)) return undefined;
  const max = [0xffffffffn, 0xffffffn, 0xffffn, 0xffn][parts.length]!;
  if (value > max) return undefined;
  const out = new Uint8Array(4);
  parts.forEach((p, k) => (out[k] = p));
  const last = Number(value);
  for (let k = 3; k >= parts.length; k--) out[k] = (last >>> ((3 - k) * 8)) & 0xff;
  return out;
}

/** inet_pton(AF_INET6): 16 bytes or undefined. */
export function inetPton6(s: string): Uint8Array | undefined {
  if (!s.includes(':')) return undefined;
  const parsed = parseAddress(s);
  return parsed?.family === 'inet6' ? parsed.bytes : undefined;
}

/** inet_pton(AF_INET): strict dotted quad, 4 bytes or undefined. */
export function inetPton4(s: string): Uint8Array | undefined {
  const parsed = parseAddress(s);
  return parsed?.family === 'inet' ? parsed.bytes.slice(0, 4) : undefined;
}

/** The first `max` bytes of a string, as strncpy into a fixed buffer keeps them. */
export function truncateBytes(s: string, max: number): string {
  const b = Buffer.from(s);
  return b.length <= max ? s : b.subarray(0, max).toString();
}

interface HostPort {
  af: number;
  addr: Uint8Array;
  port: number | undefined;
}

/**
 * ipvsadm's `host[:port]`, `[v6]:port` or bare IPv6, on top of `base` (the
 * 16 bytes an IPv4 address only partly overwrites). Ports by number or by
 * the service name of `protocol`. Undefined when it does not parse.
 */
export async function parseHostPort(text: string, base: Uint8Array, protocol: number): Promise<HostPort | undefined> {
  if (/^\d*$/.test(text)) return undefined;
  let host = text;
  let portText: string | undefined;
  if (host.startsWith('[')) {
    host = host.slice(1);
    const close = host.indexOf(']');
    if (close < 0 || host[close + 1] !== ':') return undefined;
    portText = host.slice(close + 2);
    host = host.slice(0, close);
  }
  const addr = base.slice();
  let af: number;
  const v6 = inetPton6(host);
  if (v6) {
    af = K.AF_INET6;
    addr.set(v6);
  } else {
    // ipvsadm looks for the port again inside the host part: `[1.2.3.4]:80` has none.
    const colon = host.lastIndexOf(':');
    portText = colon < 0 ? undefined : host.slice(colon + 1);
    if (colon >= 0) host = host.slice(0, colon);
    const v4 = inetAton(host) ?? (await (await import('./names.js')).hostToAddr(host));
    if (!v4) return undefined;
    af = K.AF_INET;
    addr.set(v4);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = toNumber(portText, 0, 65535) ?? (await import('./names.js')).serviceToPort(portText, protocol);
    if (port === undefined) return undefined;
  }
  return { af, addr, port };
}

/** `-M` for an IPv4 service: inet_aton, else a host name's address; as a host-order number. */
export async function parseNetmask(text: string): Promise<number | undefined> {
  const b = inetAton(text) ?? (await (await import('./names.js')).hostToAddr(text));
  if (!b) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
