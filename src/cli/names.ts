// Host and service names, as ipvsadm looks them up: gethostbyname (IPv4 only,
// first address) for `-t host:port`, getservbyname/getservbyport on the
// service's protocol for ports, gethostbyaddr when listing without -n.
//
// Hosts follow the `hosts:` line of /etc/nsswitch.conf: `files` is read here
// from /etc/hosts, `dns` (and systemd's `resolve`, which answers the same) is
// asked through c-ares with a deadline, so a name server that never answers
// makes a name numeric instead of holding the listing, or the process at its
// exit (the C library's resolver would keep a thread busy for the whole
// resolv.conf timeout). Any other source (myhostname, mdns, nis...) is left to
// the C library (getaddrinfo/getnameinfo), with the same deadline for the
// answer. Services are read from /etc/services, the `files` source that
// nsswitch.conf names for them on Debian. Loaded only when a name is needed.
import { lookup, lookupService, Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';

import { formatAddress, parseAddress, type Family } from '../address.js';
import { protocolByNumber } from '../vocabulary/protocols.js';

/** How long one host lookup may take before it counts as failed. */
export const LOOKUP_DEADLINE_MS = 2000;

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

let sources: string[] | undefined;

/** The sources of the `hosts:` database, in order (actions such as [NOTFOUND=return] are ignored). */
function hostSources(): string[] {
  if (sources) return sources;
  const line = /^hosts:(.*)$/m.exec(readText('/etc/nsswitch.conf').replace(/#.*/g, ''));
  sources = line
    ? line[1]!
        .replace(/\[[^\]]*\]/g, ' ')
        .split(/\s+/)
        .filter((w) => w !== '')
    : ['files', 'dns'];
  return sources;
}

interface HostsLine {
  family: Family;
  /** The address as formatAddress prints it. */
  address: string;
  names: string[];
}

let hostsLines: HostsLine[] | undefined;

function hostsFile(): HostsLine[] {
  if (hostsLines) return hostsLines;
  hostsLines = [];
  for (const raw of readText('/etc/hosts').split('\n')) {
    const f = raw
      .replace(/#.*/, '')
      .split(/[ \t]+/)
      .filter((w) => w !== '');
    const parsed = f.length >= 2 ? parseAddress(f[0]!) : undefined;
    if (!parsed) continue;
    hostsLines.push({ family: parsed.family, address: formatAddress(parsed.family, parsed.bytes), names: f.slice(1) });
  }
  return hostsLines;
}

let dns: Resolver | undefined;

/**
 * c-ares, with one try per name server, each within the deadline:
 * resolv.conf's own (possibly long) timeout and attempts do not apply.
 */
function resolver(): Resolver {
  dns ??= new Resolver({ timeout: LOOKUP_DEADLINE_MS, tries: 1 });
  return dns;
}

/** One source's answer for a host name (IPv4), or undefined. */
async function forward(source: string, name: string): Promise<string | undefined> {
  if (source === 'files') {
    const lower = name.toLowerCase();
    return hostsFile().find((l) => l.family === 'inet' && l.names.some((n) => n.toLowerCase() === lower))?.address;
  }
  if (source === 'dns' || source === 'resolve') {
    return (await withDeadline(resolver().resolve4(name), LOOKUP_DEADLINE_MS))?.[0];
  }
  return (await withDeadline(lookup(name, { family: 4, verbatim: true }), LOOKUP_DEADLINE_MS))?.address;
}

/** gethostbyname: the first IPv4 address of a host name, 4 bytes. */
export async function hostToAddr(name: string): Promise<Uint8Array | undefined> {
  if (name === '') return undefined;
  for (const source of hostSources()) {
    const address = await forward(source, name);
    const parsed = address === undefined ? undefined : parseAddress(address);
    if (parsed?.family === 'inet') return parsed.bytes.slice(0, 4);
  }
  return undefined;
}

/** One source's name for an address, or undefined. */
async function reverse(source: string, family: Family, address: string): Promise<string | undefined> {
  if (source === 'files') return hostsFile().find((l) => l.family === family && l.address === address)?.names[0];
  if (source === 'dns' || source === 'resolve') {
    return (await withDeadline(resolver().reverse(address), LOOKUP_DEADLINE_MS))?.[0];
  }
  return (await withDeadline(lookupService(address, 0), LOOKUP_DEADLINE_MS))?.hostname;
}

/** gethostbyaddr's name for an address, or undefined. */
async function addrToHost(family: Family, address: string): Promise<string | undefined> {
  for (const source of hostSources()) {
    const name = await reverse(source, family, address);
    if (name !== undefined && name !== '') return name;
  }
  return undefined;
}

interface ServiceEntry {
  names: string[];
  port: number;
  proto: string;
}

let services: ServiceEntry[] | undefined;

function serviceTable(): ServiceEntry[] {
  if (services) return services;
  services = [];
  for (const raw of readText('/etc/services').split('\n')) {
    const f = raw
      .replace(/#.*/, '')
      .split(/[ \t]+/)
      .filter((w) => w !== '');
    const m = f[1] === undefined ? null : /^(\d+)\/(\S+)$/.exec(f[1]);
    if (!m) continue;
    services.push({ names: [f[0]!, ...f.slice(2)], port: Number(m[1]), proto: m[2]! });
  }
  return services;
}

/** /etc/services' name of a service protocol; undefined for any other. */
function protoName(protocol: number): string | undefined {
  const p = protocolByNumber(protocol);
  return p?.option !== undefined ? p.name : undefined;
}

/** getservbyname(name, proto of the service); undefined for other protocols or no match. */
export function serviceToPort(name: string, protocol: number): number | undefined {
  const proto = protoName(protocol);
  if (!proto) return undefined;
  const e = serviceTable().find((s) => s.proto === proto && s.names.includes(name));
  return e && e.port <= 65535 ? e.port : undefined;
}

/** getservbyport(port, proto)'s official name. */
export function portToService(port: number, protocol: number): string | undefined {
  const proto = protoName(protocol);
  if (!proto) return undefined;
  return serviceTable().find((s) => s.proto === proto && s.port === port)?.names[0];
}

/**
 * Reverse lookups for one listing: `prepare` resolves every address at once
 * (each within the deadline), then `host` answers from the cache.
 */
export class HostNames {
  readonly #cache = new Map<string, string | undefined>();

  async prepare(addresses: Iterable<{ family: Family; addr: Uint8Array }>): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const { family, addr } of addresses) {
      const text = formatAddress(family, addr);
      const key = `${family} ${text}`;
      if (this.#cache.has(key)) continue;
      this.#cache.set(key, undefined);
      pending.push(addrToHost(family, text).then((name) => void this.#cache.set(key, name)));
    }
    await Promise.all(pending);
  }

  /** gethostbyaddr's name, or undefined when there is none. */
  host(family: Family, addr: Uint8Array): string | undefined {
    return this.#cache.get(`${family} ${formatAddress(family, addr)}`);
  }
}
