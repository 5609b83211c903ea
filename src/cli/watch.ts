// `ipvs watch`: one line (or JSON object) per change of the table, as
// Ipvs.watch derives them from snapshots, until SIGINT or SIGTERM (or
// --count events, or --duration).
import { parseArgs } from 'node:util';

import { destinationKeyToRaw } from '../destination.js';
import { serviceKeyToRaw } from '../service.js';
import { destinationId, serviceId } from '../table.js';
import type { WatchEvent } from '../watch.js';
import { addedDestinationText, addedServiceText, destinationValue, fieldChanges, serviceValue } from './change-text.js';
import { UsageError, type Subcommand, type SubcommandContext } from './subcommand.js';

export const usage = `Usage:
  ipvs watch [--json] [--interval MS] [--initial] [--count N] [--duration MS]

Prints each change of the table as it is seen (the table is read every
--interval milliseconds, default 1000), until interrupted (SIGINT, SIGTERM;
exit status 0):
  + service TCP 192.0.2.1:80 scheduler rr
  ~ service TCP 192.0.2.1:80 scheduler rr -> wlc, persistence none -> 360s
  + destination TCP 192.0.2.1:80 -> 198.51.100.1:80 masq weight 1
  ~ destination TCP 192.0.2.1:80 -> 198.51.100.1:80 weight 1 -> 0
  - destination TCP 192.0.2.1:80 -> 198.51.100.1:80
  - service TCP 192.0.2.1:80
Counters and connection counts are not changes. The words are ipvs apply's.

Options:
  --json              one JSON object per line instead (the library's events)
  --interval MS       milliseconds between two reads of the table (default 1000)
  --initial           first print the table as it is, as additions
  --count N           stop after N changes
  --duration MS       stop after this many milliseconds
  --netns NAME|PATH   work in that network namespace
  -h, --help          this text
`;

export interface WatchArgs {
  json: boolean;
  interval: number;
  initial: boolean;
  count: number | undefined;
  duration: number | undefined;
}

function whole(option: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(v >= min && v < 2 ** 31)) throw new UsageError(`${option} takes a whole number from ${min}, not '${text}'`);
  return v;
}

export function parseWatchArgs(args: string[]): WatchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        json: { type: 'boolean' },
        interval: { type: 'string' },
        initial: { type: 'boolean' },
        count: { type: 'string' },
        duration: { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    json: values.json === true,
    interval: whole('--interval', values.interval, 1) ?? 1000,
    initial: values.initial === true,
    count: whole('--count', values.count, 1),
    duration: whole('--duration', values.duration, 0),
  };
}

// --- the lines -----------------------------------------------------------------

/** One event as a line of `ipvs watch` (docs/cli.md), newline included. */
export function eventLine(e: WatchEvent): string {
  const svc = serviceKeyToRaw(e.service);
  const service = serviceId(svc);
  switch (e.type) {
    case 'service-added':
      return `+ service ${service} ${addedServiceText(e.after)}\n`;
    case 'service-removed':
      return `- service ${service}\n`;
    case 'service-changed':
      return `~ service ${service} ${fieldChanges(e.fields, e.before, e.after, serviceValue)}\n`;
  }
  const destination = `${service} -> ${destinationId(destinationKeyToRaw(e.destination, svc))}`;
  switch (e.type) {
    case 'destination-added':
      return `+ destination ${destination} ${addedDestinationText(e.after)}\n`;
    case 'destination-removed':
      return `- destination ${destination}\n`;
    case 'destination-changed':
      return `~ destination ${destination} ${fieldChanges(e.fields, e.before, e.after, destinationValue)}\n`;
  }
}

// --- the command ---------------------------------------------------------------

async function run(args: string[], ctx: SubcommandContext): Promise<number> {
  const { io } = ctx;
  const o = parseWatchArgs(args);
  const ipvs = await ctx.ipvs();
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (io.ownsProcess) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  const timer = o.duration === undefined ? undefined : setTimeout(stop, o.duration);
  try {
    let seen = 0;
    for await (const event of ipvs.watch({ interval: o.interval, initial: o.initial, signal: controller.signal })) {
      io.stdout(o.json ? `${JSON.stringify(event)}\n` : eventLine(event));
      if (++seen === o.count) break;
    }
    return 0;
  } finally {
    clearTimeout(timer);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

export const watchCommand: Subcommand = { usage, run };
