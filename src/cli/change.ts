// The commands that change the table or the sync daemons (-A -E -D -a -e -d
// -Z -C, --set, --start-daemon, --stop-daemon): each sends one request, built
// as ipvsadm builds it. A refusal is printed as the kernel gave it and fails
// the command (exit 255) without ending a restore.
import type { RawIpvs } from '../client.js';
import { OK, refused, serviceKey, zeroKey } from './kernel.js';
import type { Command } from './options.js';
import type { Context, Entry, Outcome } from './types.js';

export type ChangeCommand = Exclude<Command, 'list' | 'save' | 'restore'>;

/** The one request each change command sends. */
const REQUESTS: Record<ChangeCommand, (raw: RawIpvs, e: Entry) => Promise<void>> = {
  flush: (raw) => raw.clear(),
  'add-service': (raw, e) => raw.addService(e.service),
  'edit-service': (raw, e) => raw.editService(e.service),
  'delete-service': (raw, e) => raw.deleteService(serviceKey(e)),
  zero: (raw, e) => raw.zero(zeroKey(e)),
  'add-server': (raw, e) => raw.addDestination(serviceKey(e), e.dest),
  'edit-server': (raw, e) => raw.editDestination(serviceKey(e), e.dest),
  'delete-server': (raw, e) => raw.deleteDestination(serviceKey(e), e.dest),
  set: (raw, e) => raw.setTimeouts(e.timeouts),
  'start-daemon': (raw, e) => raw.startDaemon(e.daemon),
  'stop-daemon': (raw, e) => raw.stopDaemon(e.daemon),
};

export function isChange(command: Command): command is ChangeCommand {
  return Object.hasOwn(REQUESTS, command);
}

/** Sends the command's request; rejects with the kernel's refusal. */
export async function send(command: ChangeCommand, e: Entry, raw: RawIpvs): Promise<void> {
  await REQUESTS[command](raw, e);
}

export async function change(command: ChangeCommand, e: Entry, ctx: Context): Promise<Outcome> {
  try {
    await send(command, e, ctx.raw);
    return OK;
  } catch (error) {
    return refused(ctx, error);
  }
}
