// What the command families share about the kernel: the service keys they
// send, the table as the listings take it (one snapshot) and print it (a
// service at a time, as it goes), and how a failed call is reported
// (ipvsadm's message for the operation, and its exit status).
import { familyOf, type Family } from '../address.js';
import { DEFAULT_POOL } from '../client.js';
import { IpvsError, withOp } from '../errors.js';
import { native, type RawServiceKey } from '../native.js';
import { packed } from '../snapshot.js';
import { namer, NUMERIC, type Namer } from './format.js';
import { Table } from './table.js';
import type { CliIo, Context, Entry, Outcome } from './types.js';

export const OK: Outcome = { status: 0, fatal: false };

/**
 * The text ipvsadm prints for a failed library call: an IpvsError's own
 * message, computed once by the error for its operation (which is the one
 * whose message ipvsadm prints).
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A kernel refusal of a change: message, and the -1 that main returns (exit 255). */
export function refused(ctx: Context, e: unknown): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e)}\n`);
  return { status: 255, fatal: false };
}

/** A listing that fails: message, exit(1). */
export function listFailed(ctx: Context, e: unknown): Outcome {
  if (!(e instanceof IpvsError)) throw e;
  ctx.io.stderr(`${errorText(e)}\n`);
  return { status: 1, fatal: true };
}

export function serviceKey(e: Entry): RawServiceKey {
  const { af, protocol, addr, port, fwmark } = e.service;
  return { af, protocol, addr, port, fwmark };
}

/** `-Z` with no service, or with the all-zero one, zeroes everything. */
export function zeroKey(e: Entry): RawServiceKey | null {
  const s = e.service;
  if (s.fwmark === 0 && s.port === 0 && s.addr.every((b) => b === 0)) return null;
  return serviceKey(e);
}

/** Names for a listing: none with -n, else every address of the table looked up at once. */
export async function namesFor(numeric: boolean, t: Table, services: ArrayLike<number>): Promise<Namer> {
  if (numeric) return NUMERIC;
  const { HostNames, portToService } = await import('./names.js');
  const hosts = new HostNames();
  const all: { family: Family; addr: Uint8Array }[] = [];
  for (let k = 0; k < services.length; k++) {
    const i = services[k]!;
    if (t.service(i, 'fwmark') === 0) all.push({ family: familyOf(t.service(i, 'af')), addr: t.serviceAddr(i) });
  }
  for (let k = 0; k < services.length; k++) {
    const i = services[k]!;
    for (let j = t.firstDest(i); j < t.endDest(i); j++) {
      all.push({ family: familyOf(t.dest(j, 'af')), addr: t.destAddr(j) });
    }
  }
  await hosts.prepare(all);
  return namer(hosts, portToService);
}

/**
 * The whole table in one packed snapshot (one call, its dumps on the addon's
 * threads). A failure is reported with the message ipvsadm prints for the
 * dump that failed: the only errno that differs by dump (ESRCH, a service
 * gone between the dumps) comes from a destination dump.
 */
export async function takeTable(ctx: Context): Promise<Table> {
  try {
    return new Table(packed(await ctx.raw.snapshot(DEFAULT_POOL)));
  } catch (e) {
    throw withOp(e, 'listDestinations');
  }
}

/** One service and its destinations, or which of the two calls failed first. */
export type ServiceTable =
  { table: Table; error?: undefined } | { table?: undefined; error: unknown; during: 'service' | 'destinations' };

/** The table of one service (-L -t …): its two calls made at once. */
export async function serviceTable(ctx: Context, key: RawServiceKey): Promise<ServiceTable> {
  const [service, dests] = await Promise.allSettled([ctx.raw.getService(key), ctx.raw.listDestinations(key)]);
  if (service.status === 'rejected') return { error: service.reason, during: 'service' };
  if (dests.status === 'rejected') return { error: dests.reason, during: 'destinations' };
  return { table: Table.of([service.value], [dests.value]) };
}

/** Text for stdout, written in chunks as it is made: a listing never holds all of its text. */
export class Output {
  static readonly CHUNK = 64 * 1024;
  #text = '';
  readonly #write: (text: string) => void;
  readonly #writeBytes: (bytes: Uint8Array) => void;
  /**
   * One buffer for every chunk of the addon's text, when the program owns
   * the process: its writes are done when they return, so the buffer is
   * free again (fresh memory for each chunk cost more than the formatting).
   */
  #scratch: Buffer | undefined;

  constructor(io: CliIo) {
    this.#write = (text) => io.stdout(text);
    this.#writeBytes = io.stdoutBytes ?? ((bytes) => io.stdout(Buffer.from(bytes).toString('utf8')));
    if (io.ownsProcess && io.stdoutBytes) this.#scratch = Buffer.allocUnsafeSlow(Output.SCRATCH);
  }

  static readonly SCRATCH = 1024 * 1024;

  /**
   * Text the addon makes: `make(into)` copies it into `into` and returns its
   * length when it fits, or returns it as a new Buffer.
   */
  addMade(make: (into?: Uint8Array) => Uint8Array | number): void {
    const made = make(this.#scratch);
    if (typeof made === 'number') {
      this.addBytes(this.#scratch!.subarray(0, made));
      return;
    }
    this.addBytes(made);
    // Larger next time: the chunks of one listing are about the same size.
    if (this.#scratch && made.length > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(made.length * 2);
  }

  /** Text already encoded (UTF-8), after what was added before. */
  addBytes(bytes: Uint8Array): void {
    this.flush();
    if (bytes.length !== 0) this.#writeBytes(bytes);
  }

  add(text: string): void {
    this.#text += text;
    if (this.#text.length >= Output.CHUNK) this.flush();
  }

  flush(): void {
    if (this.#text === '') return;
    const text = this.#text;
    this.#text = '';
    this.#write(text);
  }
}

/** Services per call of the addon's listing: about 64 KiB of text in a table mode. */
const SERVICES_PER_CHUNK = 128;

/**
 * Services `order` of `t` with their destinations, in a numeric listing
 * mode (LISTING_MODE), written as the addon makes their text, a chunk of
 * services at a time.
 */
export function printNumeric(
  out: Output,
  t: Table,
  order: Uint32Array,
  mode: number,
  sort: boolean,
  exact = false,
): void {
  const flags = (exact ? 1 : 0) | (sort ? 2 : 0);
  for (let from = 0; from < order.length; from += SERVICES_PER_CHUNK) {
    const to = Math.min(order.length, from + SERVICES_PER_CHUNK);
    out.addMade((into) => native().listingText(t.p, order, from, to, mode, flags, into));
  }
}

/**
 * The whole table printed a service at a time (-L, -S): `head` first, then
 * each service (in ipvsadm's order unless `sort` is false) with its
 * destinations. Numeric listings are written by the addon in `numericMode`
 * (LISTING_MODE); listings with names through `render`. Nothing but the
 * message when the snapshot fails.
 */
export async function printTable(
  ctx: Context,
  sort: boolean,
  numeric: boolean,
  head: string,
  render: (t: Table, i: number, dests: Uint32Array, names: Namer) => string,
  numericMode: { mode: number; exact?: boolean },
): Promise<Outcome> {
  let t: Table;
  try {
    t = await takeTable(ctx);
  } catch (error) {
    return listFailed(ctx, error);
  }
  const out = new Output(ctx.io);
  if (numeric) {
    out.add(head);
    printNumeric(out, t, native().listingOrder(t.p, sort), numericMode.mode, sort, numericMode.exact);
    out.flush();
    return OK;
  }
  const order = t.serviceOrder(sort);
  const names = await namesFor(numeric, t, order);
  out.add(head);
  const scratch = new Uint32Array(t.p.destinationCount);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    out.add(render(t, i, t.destOrder(i, sort, scratch), names));
  }
  out.flush();
  return OK;
}
