// IPv4 and IPv6 addresses as the kernel carries them: 16 bytes (nf_inet_addr),
// IPv4 in the first four. Formatting matches glibc's inet_ntop, which ipvsadm
// prints with.
import { K } from './constants.js';
import { describe, invalidType, oneOf, outOfRange } from './validate.js';

/** An address family: IPv4 (`'inet'`) or IPv6 (`'inet6'`). */
export type Family = 'inet' | 'inet6';

/** An address as the kernel carries it. */
export interface ParsedAddress {
  /** IPv4 or IPv6. */
  family: Family;
  /** 16 bytes in network order; IPv4 in the first 4. */
  bytes: Uint8Array;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseIPv4(text: string, into: Uint8Array, at: number): boolean {
  if (!IPV4.test(text)) return false;
  text.split('.').forEach((part, i) => (into[at + i] = Number(part)));
  return true;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...head, ...tail];
  // A dotted IPv4 may end the address and stands for two groups.
  let words = all.length;
  const last = all[all.length - 1];
  const dotted = last !== undefined && last.includes('.');
  if (dotted) words += 1;
  if (halves.length === 1 ? words !== 8 : words > 7) return undefined;
  const put = (list: string[], start: number): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      const at = (start + i) * 2;
      if (g.includes('.')) {
        if (list !== (halves.length === 2 ? tail : head) || i !== list.length - 1) return false;
        if (!parseIPv4(g, bytes, at)) return false;
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      const v = parseInt(g, 16);
      bytes[at] = v >> 8;
      bytes[at + 1] = v & 0xff;
    }
    return true;
  };
  if (!put(head, 0)) return undefined;
  if (!put(tail, 8 - tail.length - (dotted && tail.length > 0 ? 1 : 0))) return undefined;
  return bytes;
}

/** Parses a numeric IPv4 or IPv6 address; undefined when it is neither. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = new Uint8Array(16);
  if (parseIPv4(text, v4, 0)) return { family: 'inet', bytes: v4 };
  const v6 = text.includes(':') ? parseIPv6(text) : undefined;
  return v6 ? { family: 'inet6', bytes: v6 } : undefined;
}

// Addresses parsed for keys and specs, shared: a desired state of tens of
// thousands of destinations names a few real servers again and again, and
// each parse allocates its bytes. The bytes are never written after a parse
// (they are copied into requests), so sharing them is safe; the public
// parseAddress still returns bytes of the caller's own. Bounded: cleared when full.
const parsedCache = new Map<string, SharedAddress | undefined>();

/** A shared parse, with its text as formatAddress writes it once asked for (canonicalAddress). */
interface SharedAddress extends ParsedAddress {
  text?: string;
}
const PARSED_CACHE_SIZE = 4096;

/**
 * A parse shared with every other of the same text (never write its bytes); undefined when
 * `text` is no numeric address.
 */
export function parseShared(text: string): SharedAddress | undefined {
  let parsed = parsedCache.get(text);
  if (parsed === undefined && !parsedCache.has(text)) {
    parsed = parseAddress(text);
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.clear();
    parsedCache.set(text, parsed);
  }
  return parsed;
}

/**
 * The text of a numeric address as formatAddress writes it (`2001:db8::1`
 * for `2001:DB8:0::1`); undefined when `text` is not one. Made once per
 * address: the keys of a desired state name a few real servers again and again.
 */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseShared(text);
  return parsed && (parsed.text ??= formatAddress(parsed.family, parsed.bytes));
}

/**
 * The `address` of a key or spec named `field`. An info's `family` beside it
 * is allowed (infos serve as keys) but may only repeat the address's own.
 */
export function addressField(field: string, record: Record<string, unknown>): ParsedAddress {
  const parsed = typeof record.address === 'string' ? parseShared(record.address) : undefined;
  if (!parsed)
    throw invalidType(`${field}.address must be a numeric IPv4 or IPv6 address, got ${describe(record.address)}`);
  if (
    record.family !== undefined &&
    oneOf(`${field}.family`, record.family, ['inet', 'inet6'] as const) !== parsed.family
  ) {
    const [family, address] = [String(record.family), String(record.address)];
    throw outOfRange(
      `${field}.family '${family}' does not match ${field}.address ${address}, which is ${parsed.family}`,
    );
  }
  return parsed;
}

/**
 * The text of an address of `family` whose bytes are `bytes` (network order,
 * IPv4 in the first 4), as inet_ntop writes it: `192.0.2.1`, `2001:db8::1`.
 */
export function formatAddress(family: Family, bytes: Uint8Array): string {
  if (family === 'inet') return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero words (the first of equals) becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  // glibc prints ::a.b.c.d and ::ffff:a.b.c.d with the IPv4 part dotted.
  const embedded = best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    if (embedded && i === 6) {
      out += `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      break;
    }
    out += words[i]!.toString(16) + (i < 7 ? ':' : '');
  }
  return out;
}

export function familyOf(af: number): Family {
  return af === K.AF_INET6 ? 'inet6' : 'inet';
}

export function afOf(family: Family): number {
  return family === 'inet6' ? K.AF_INET6 : K.AF_INET;
}
