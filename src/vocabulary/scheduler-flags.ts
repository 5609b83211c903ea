// Scheduler flags: three bits of a service's flag word that each scheduler
// reads its own way. The generic names are `flag-1..3`; sh and mh name the
// first two (ipvsadm's `-b` words), and ignore the third.
import { K } from '../constants.js';

export const SCHEDULER_FLAGS = [
  { name: 'flag-1', bit: K.IP_VS_SVC_F_SCHED1, scheduler: undefined },
  { name: 'flag-2', bit: K.IP_VS_SVC_F_SCHED2, scheduler: undefined },
  { name: 'flag-3', bit: K.IP_VS_SVC_F_SCHED3, scheduler: undefined },
  { name: 'sh-fallback', bit: K.IP_VS_SVC_F_SCHED1, scheduler: 'sh' },
  { name: 'sh-port', bit: K.IP_VS_SVC_F_SCHED2, scheduler: 'sh' },
  { name: 'mh-fallback', bit: K.IP_VS_SVC_F_SCHED1, scheduler: 'mh' },
  { name: 'mh-port', bit: K.IP_VS_SVC_F_SCHED2, scheduler: 'mh' },
] as const;

/**
 * A scheduler's flag: `sh-fallback`, `sh-port` (the source-hashing
 * scheduler), `mh-fallback`, `mh-port` (maglev hashing), or `flag-1`..`flag-3`
 * for any scheduler (ipvsadm's `-b`).
 */
export type SchedulerFlag = (typeof SCHEDULER_FLAGS)[number]['name'];
export const SCHEDULER_FLAG_NAMES = SCHEDULER_FLAGS.map((f) => f.name) as SchedulerFlag[];
/** Every scheduler-flag bit. */
export const SCHEDULER_FLAG_BITS = K.IP_VS_SVC_F_SCHED1 | K.IP_VS_SVC_F_SCHED2 | K.IP_VS_SVC_F_SCHED3;

export const schedulerFlagBit = (name: SchedulerFlag): number => SCHEDULER_FLAGS.find((f) => f.name === name)!.bit;

/**
 * The names of the flags set in `flags` for `scheduler`: sh and mh name
 * their first two bits their own way. Their third bit means nothing to them:
 * the library still shows it (`flag-3`, so that a service reads back as it
 * was made); ipvsadm's listings (`ipvsadm: true`) leave it out.
 */
export function schedulerFlagNames(
  scheduler: string,
  flags: number,
  options: { ipvsadm?: boolean } = {},
): SchedulerFlag[] {
  if ((flags & SCHEDULER_FLAG_BITS) === 0) return [];
  const owns = SCHEDULER_FLAGS.some((f) => f.scheduler === scheduler);
  const out: SchedulerFlag[] = [];
  for (const generic of SCHEDULER_FLAGS.filter((f) => f.scheduler === undefined)) {
    if ((flags & generic.bit) === 0) continue;
    const own = owns ? SCHEDULER_FLAGS.find((f) => f.scheduler === scheduler && f.bit === generic.bit) : undefined;
    if (own) out.push(own.name);
    else if (!(owns && options.ipvsadm)) out.push(generic.name);
  }
  return out;
}
