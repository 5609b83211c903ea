// `ipvs drain`: a real server's weight to 0, a wait until the connection
// table holds nothing for it, then its removal (Ipvs.drain). The service and
// the server are named as ipvsadm's `-d` names them, read by ipvsadm's own
// grammar (parse.ts), so every spelling ipvsadm takes works here too.
import { parseArgs } from 'node:util';

import { familyOf, formatAddress } from '../address.js';
import type { DestinationKey } from '../destination.js';
import type { DrainProgress } from '../drain.js';
import { IpvsError } from '../errors.js';
import type { RawDestKey, RawServiceKey } from '../native.js';
import type { Protocol, ServiceKey } from '../service.js';
import { destinationId, serviceId } from '../table.js';
import { protocolByNumber } from '../vocabulary/protocols.js';
import { Failure } from './failure.js';
import { parse } from './parse.js';
import { UsageError, type Subcommand, type SubcommandContext } from './subcommand.js';

export const usage = `Usage:
  ipvs drain -t|-u|--sctp-service service-address -r server-address [options]
  ipvs drain -f fwmark [-6] -r server-address [options]

Sets the real server's weight to 0 (no new connections), waits until the
connection table holds no entry for it (connections and persistence
templates), then deletes it. Addresses as ipvsadm takes them.

Options:
  --timeout SECONDS   give up after this long (default 300), leaving the weight at 0
  --keep              only quiesce and wait: keep the server, with weight 0
  --interval MS       how often to read the server's connection counts (default 1000)
  --netns NAME|PATH   work in that network namespace
  -h, --help          this text

Prints the counts as they change and a final line on stdout. Exit status: 0
drained (and deleted unless --keep), 1 when it timed out or the kernel
refused (the weight stays 0), 2 for a usage error.
`;

/** ipvsadm's options that name the service and the server, passed on to its grammar as given. */
const ADDRESS_OPTIONS = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service', 'ipv6', 'real-server'];

export interface DrainArgs {
  /** The ipvsadm words that name the service and the server, in their order. */
  words: string[];
  /** Milliseconds. */
  timeout: number;
  keep: boolean;
  interval: number;
}

/** Reads the command's own options; the service and server words are checked by parseTarget. */
export function parseDrainArgs(args: string[]): DrainArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        'tcp-service': { type: 'string', short: 't', multiple: true },
        'udp-service': { type: 'string', short: 'u', multiple: true },
        'sctp-service': { type: 'string', multiple: true },
        'fwmark-service': { type: 'string', short: 'f', multiple: true },
        ipv6: { type: 'boolean', short: '6', multiple: true },
        'real-server': { type: 'string', short: 'r', multiple: true },
        timeout: { type: 'string' },
        keep: { type: 'boolean' },
        interval: { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const words: string[] = [];
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || !ADDRESS_OPTIONS.includes(t.name)) continue;
    words.push(`--${t.name}`);
    if (t.value !== undefined) words.push(t.value);
  }
  const { timeout, interval, keep } = parsed.values;
  return {
    words,
    timeout: timeout === undefined ? 300_000 : seconds('--timeout', timeout),
    keep: keep === true,
    interval: interval === undefined ? 1000 : milliseconds('--interval', interval),
  };
}

/** A number of seconds (decimals allowed) as milliseconds. */
function seconds(option: string, text: string): number {
  const v = /^\d+(\.\d{1,3})?$/.test(text) ? Number(text) : NaN;
  if (!(v <= 2 ** 31 / 1000)) throw new UsageError(`${option} takes a number of seconds, not '${text}'`);
  return Math.round(v * 1000);
}

function milliseconds(option: string, text: string): number {
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(v >= 1 && v < 2 ** 31)) {
    throw new UsageError(`${option} takes milliseconds from 1 to 2147483647, not '${text}'`);
  }
  return v;
}

/** The service and server that ipvsadm's `-d` with these words would name, as raw keys. */
export async function parseTarget(words: string[]): Promise<{ service: RawServiceKey; dest: RawDestKey }> {
  let parsed;
  try {
    parsed = await parse(['ipvs', '--delete-server', ...words]);
  } catch (e) {
    if (e instanceof Failure) throw new UsageError(e.stderr.trim().replace('delete-server', 'drain'));
    throw e;
  }
  if (parsed.kind !== 'run') throw new UsageError('give a service and a real server');
  const { service, dest } = parsed.entry;
  return { service, dest };
}

/** The facade's key of a raw service key. */
function serviceKeyOf(k: RawServiceKey): ServiceKey {
  if (k.fwmark !== 0) return { fwmark: k.fwmark, family: familyOf(k.af) };
  const protocol = protocolByNumber(k.protocol)!.name as Protocol;
  return { protocol, address: formatAddress(familyOf(k.af), k.addr), port: k.port };
}

const destinationKeyOf = (k: RawDestKey): DestinationKey => ({
  address: formatAddress(familyOf(k.af), k.addr),
  port: k.port,
});

const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A progress line: `2 active, 1 inactive, 0 persistent after 3.0 s`. */
export function progressLine(p: DrainProgress): string {
  return `${p.active} active, ${p.inactive} inactive, ${p.persistent} persistent after ${secondsText(p.elapsed)}\n`;
}

async function run(args: string[], ctx: SubcommandContext): Promise<number> {
  const { io, argv0 } = ctx;
  const options = parseDrainArgs(args);
  const { service, dest } = await parseTarget(options.words);
  const ipvs = await ctx.ipvs();
  const name = `${serviceId(service)} -> ${destinationId(dest)}`;
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(new Error(`${signal} received`));
  if (io.ownsProcess) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  let started = false;
  try {
    const result = await ipvs.drain(serviceKeyOf(service), destinationKeyOf(dest), {
      timeout: options.timeout,
      interval: options.interval,
      remove: !options.keep,
      signal: controller.signal,
      onProgress: (p) => {
        if (!started) {
          started = true;
          io.stdout(`draining ${name}: weight 0\n`);
        }
        io.stdout(progressLine(p));
      },
    });
    const weight = `its weight was ${result.previousWeight}`;
    if (result.vanished) io.stdout(`${name} was deleted by another process after ${secondsText(result.waited)}\n`);
    else if (result.removed) io.stdout(`removed ${name} after ${secondsText(result.waited)} (${weight})\n`);
    else io.stdout(`drained ${name} after ${secondsText(result.waited)}; kept with weight 0 (${weight})\n`);
    return 0;
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') {
      io.stderr(`${argv0} ${ctx.name}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof IpvsError && e.op === 'editDestination') {
      // No such destination or service (ipvsadm's words), or the weight refused: name it.
      io.stderr(`${argv0} ${ctx.name}: ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

export const drainCommand: Subcommand = { usage, run };
